"""Burned-in text corpus: real images (pydicom's corpus, Debian packages' test data) with text
drawn in the way modalities and workstations draw it, each beside its clean twin and a
look-alike without text (ruler ticks, a caliper cross).

    python3 scripts/make-text-corpus.py OUT_DIR [VENDOR_DIR]

Writes OUT_DIR/*.dcm (explicit VR little endian, native) and OUT_DIR/manifest.json:
{file: {"text": bool, "strings": [...], "base": name, "variant": name, "real_text": bool}}
("real_text": the base image carries text of its own, which the drawn text may overlap). Deterministic: the
same fonts (Debian's fonts-dejavu-core) and inputs give the same files. The test compresses
some of them with dcmtk to cover encapsulated syntaxes."""
import json, os, sys

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'
MONO_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf'
PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files'
# What an overlay says: a name, a record number and a date, as modalities print them.
LINES = ['DOE^JANE', 'MRN 12345678', '2024-03-15']
# Bases that carry real burned-in text from their own scanner (the ankle CT: date, site, technique).
REAL_TEXT = {'ankle'}


def bases(vendor):
    out = [('ct', os.path.join(PYDICOM, 'CT_small.dcm')), ('mr', os.path.join(PYDICOM, 'MR_small.dcm')),
           ('nm12', os.path.join(PYDICOM, 'JPGExtended.dcm')), ('rgb', os.path.join(PYDICOM, 'SC_rgb_jpeg_gdcm.dcm'))]
    for name, file in [('ankle', 'octave-dicom-CT-MONO2-16-ankle.dcm'), ('mprage', 'nibabel-philips_mprage.dcm')]:
        if vendor and os.path.exists(os.path.join(vendor, file)):
            out.append((name, os.path.join(vendor, file)))
    return out


def load(path):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    if int(getattr(ds, 'NumberOfFrames', 1) or 1) > 1:
        arr = arr[len(arr) // 2]  # a middle frame: a volume's first is often empty
    if str(ds.PhotometricInterpretation).startswith('YBR'):
        from pydicom.pixel_data_handlers.util import convert_color_space
        arr = convert_color_space(arr, str(ds.PhotometricInterpretation), 'RGB')
    return ds, arr


def draw(arr, lines, font_px, where, dark_on_label=False, font=FONT):
    """Draws `lines` in a corner of a copy of `arr` at full scale (the stored range's top)."""
    colour = arr.ndim == 3
    top = int(arr.max()) if not colour else 255
    bottom = int(arr.min()) if not colour else 0
    h, w = arr.shape[:2]
    f = ImageFont.truetype(font, font_px)
    layer = Image.new('L', (w, h), 0)
    label = Image.new('L', (w, h), 0)
    d, dl = ImageDraw.Draw(layer), ImageDraw.Draw(label)
    step = int(font_px * 1.25)
    y0 = 2 if where in ('tl', 'tr') else h - 2 - step * len(lines)
    for i, text in enumerate(lines):
        tw = int(d.textlength(text, font=f))
        x = 2 if where in ('tl', 'bl') else w - 2 - tw
        y = y0 + i * step
        if dark_on_label:
            dl.rectangle([x - 2, y - 1, x + tw + 2, y + step - 1], fill=255)
        d.text((x, y), text, font=f, fill=255)
    text_mask = np.array(layer) > 127
    label_mask = np.array(label) > 127
    out = arr.copy()
    if dark_on_label:
        out[label_mask] = top
        out[text_mask] = bottom
    else:
        out[text_mask] = top
    return out


def lookalike(arr):
    """Ruler ticks along the bottom edge and a caliper cross: bright lines, no characters."""
    out = arr.copy()
    colour = arr.ndim == 3
    top = 255 if colour else int(arr.max())
    h, w = arr.shape[:2]
    y = h - 4
    out[y, 4:w - 4] = top
    for x in range(4, w - 4, max(4, w // 16)):
        out[y - (4 if (x // max(4, w // 16)) % 4 == 0 else 2):y, x] = top
    cx, cy = w // 2, h // 2
    out[cy, max(0, cx - 5):cx + 6] = top
    out[max(0, cy - 5):cy + 6, cx] = top
    return out


def save(ds, arr, path, photometric=None):
    ds = ds.copy()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[path])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    colour = arr.ndim == 3
    if colour:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, photometric or 'RGB', 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        arr = arr.astype(np.uint8)
    else:
        ds.PhotometricInterpretation = photometric or 'MONOCHROME2'
        arr = arr.astype(np.int16 if ds.PixelRepresentation == 1 else np.uint16 if ds.BitsAllocated == 16 else np.uint8)
    for tag in ('NumberOfFrames', 'FrameIncrementPointer'):
        if tag in ds:
            delattr(ds, tag)
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.PixelData = np.ascontiguousarray(arr).tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def main():
    out_dir, vendor = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    for name, path in bases(vendor):
        ds, arr = load(path)
        if int(arr.max()) == int(arr.min()):
            continue  # a blank frame: nothing to draw against
        h, w = arr.shape[:2]
        # Font size for the image: overlays are 9-28 px on the screen a modality draws.
        font_px = max(9, min(28, h // 14))
        lines = LINES if w >= 110 else ['DOE^JANE', '12345678']
        variants = [
            ('white-tl', draw(arr, lines, font_px, 'tl'), True),
            ('label-br', draw(arr, lines, font_px, 'br', dark_on_label=True), True),
            ('mono-tr', draw(arr, lines[-1:], font_px, 'tr', font=MONO_FONT), True),
            ('clean', arr, False),
            ('ruler', lookalike(arr), False),
        ]
        for variant, pixels, has_text in variants:
            file = f'{name}-{variant}.dcm'
            save(ds, pixels, os.path.join(out_dir, file))
            manifest[file] = {'text': has_text or name in REAL_TEXT, 'strings': (lines[-1:] if variant == 'mono-tr' else lines) if has_text else [], 'base': name, 'variant': variant, 'real_text': name in REAL_TEXT}
        if arr.ndim == 2:
            # MONOCHROME1: the same picture stored inverted (a CR's convention), text dark in storage.
            lo, hi = int(arr.min()), int(arr.max())
            inv = lambda a: (hi + lo - a.astype(np.int64))
            for variant, pixels, has_text in [('m1-text', draw(arr, lines, font_px, 'bl'), True), ('m1-clean', arr, False)]:
                file = f'{name}-{variant}.dcm'
                save(ds, inv(pixels), os.path.join(out_dir, file), photometric='MONOCHROME1')
                manifest[file] = {'text': has_text or name in REAL_TEXT, 'strings': lines if has_text else [], 'base': name, 'variant': variant, 'real_text': name in REAL_TEXT}
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
