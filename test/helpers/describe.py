"""Describes DICOM files as JSON with pydicom, the independent reader the tests check outputs with.

usage: /usr/bin/python3 describe.py FILE...   prints {path: description}
A description: meta (transfer syntax, media storage UIDs), every element at every depth as
[path, vr, text] (pixel data excluded), the SHA-256 of the raw pixel data bytes, and whether every
text value decodes under the file's Specific Character Set.
"""
import hashlib
import json
import sys
import warnings

import pydicom
from pydicom.multival import MultiValue

warnings.simplefilter('ignore')
PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


def text_of(elem):
    v = elem.value
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, (list, MultiValue)):
        return '\\'.join(str(x) for x in v)
    return str(v)


def walk(ds, prefix, out):
    for elem in ds:
        tag = '%08X' % int(elem.tag)
        path = prefix + tag
        if elem.VR == 'SQ':
            out.append([path, 'SQ', str(len(elem.value))])
            for i, item in enumerate(elem.value):
                walk(item, path + '[%d].' % i, out)
        elif int(elem.tag) not in PIXEL_TAGS:
            out.append([path, elem.VR, text_of(elem)])


def describe(path):
    try:
        ds = pydicom.dcmread(path, force=True)
        elements = []
        walk(ds, '', elements)
        pixels = ds.get((0x7FE0, 0x0010))
        meta = ds.file_meta
        decodes = True
        try:
            ds.decode()
        except Exception:
            decodes = False
        return {
            'transferSyntax': str(meta.get('TransferSyntaxUID', '')),
            'mediaStorageSOPInstanceUID': str(meta.get('MediaStorageSOPInstanceUID', '')),
            'mediaStorageSOPClassUID': str(meta.get('MediaStorageSOPClassUID', '')),
            'preamble': ds.preamble is not None,
            'elements': elements,
            'pixelSha256': hashlib.sha256(pixels.value).hexdigest() if pixels is not None else None,
            'decodes': decodes,
        }
    except Exception as e:  # reported, so a test can say which file pydicom could not read
        return {'error': type(e).__name__ + ': ' + str(e)}


print(json.dumps({p: describe(p) for p in sys.argv[1:]}))
