"""Reads DICOM files the strictest way pydicom can: warnings are errors, values are validated as
they are read (pydicom's RAISE mode), no `force`, and every value at every depth is converted.

usage: /usr/bin/python3 strict_read.py FILE...   prints {path: error} for the files that fail
"""
import json
import sys
import warnings

import pydicom
from pydicom import config

warnings.simplefilter('error')
config.settings.reading_validation_mode = config.RAISE


def walk(ds):
    for elem in ds:
        if elem.VR == 'SQ':
            for item in elem.value:
                walk(item)
        else:
            str(elem.value)


errors = {}
for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        walk(ds)
        ds.decode()
    except Exception as e:  # reported per file, so the test names each one
        errors[path] = type(e).__name__ + ': ' + str(e)[:300]
print(json.dumps(errors))
