"""Decodes each file's frames with pydicom (GDCM for JPEG, JPEG-LS and JPEG 2000; pydicom's own decoders for RLE and native ones),
warnings as errors, and prints per file the SHA-256 of each frame's samples, interleaved and
little-endian, as JSON: the reference our decoder (src/pixels/) is compared with."""
import hashlib, json, sys, warnings

warnings.simplefilter('error')
import numpy as np
import pydicom
from pydicom.pixel_data_handlers import gdcm_handler, numpy_handler, rle_handler

NATIVE = {'1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2'}
out = {}
for path in sys.argv[1:]:
    try:
        ds = pydicom.dcmread(path)
        uid = str(ds.file_meta.TransferSyntaxUID)
        # GDCM for what pydicom's GDCM handler takes; RLE (which it does not) by pydicom's own RLE decoder.
        pydicom.config.pixel_data_handlers = [numpy_handler] if uid in NATIVE else [rle_handler] if uid == '1.2.840.10008.1.2.5' else [gdcm_handler]
        arr = ds.pixel_array
        frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
        spp = int(ds.SamplesPerPixel)
        if frames == 1:
            arr = arr[np.newaxis, ...]
        hashes = []
        for f in arr:
            f = np.ascontiguousarray(f)
            f = f.astype(f.dtype.newbyteorder('<'), copy=False)
            hashes.append(hashlib.sha256(f.tobytes()).hexdigest())
        out[path] = {'frames': hashes, 'photometric': str(ds.PhotometricInterpretation), 'spp': spp}
    except Exception as e:  # noqa: BLE001 - reported, compared as "no reference"
        out[path] = {'error': f'{type(e).__name__}: {e}'[:200]}
print(json.dumps(out))
