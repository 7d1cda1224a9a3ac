#!/usr/bin/python3
"""Writes the synthetic sample studies in samples/ with pydicom (Debian python3-pydicom).

The samples carry fake PHI in every place the de-identifier must reach: nested sequences,
private blocks, overlays, curves, SR text, elements after the pixel data. They are written by an
independent library so that tests exercise deid-agent's reader on files it did not write.
Deterministic: fixed UIDs and values, so re-running gives identical files.

usage: /usr/bin/python3 scripts/make-samples.py [OUTDIR]   (default: samples/)
"""
import os
import sys

import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'samples')
ROOT = '1.2.826.0.1.3680043.10.1137'  # a fixed test root; these UIDs identify nothing real
CT = '1.2.840.10008.5.1.4.1.1.2'
US = '1.2.840.10008.5.1.4.1.1.6.1'
SC = '1.2.840.10008.5.1.4.1.1.7'


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def base(sop_class, sop_uid, study, series, patient, modality, rows=16, cols=16, accession='ACC20240315001'):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = ROOT + '.0'
    meta.SourceApplicationEntityTitle = 'HOSPITAL_PACS'
    ds = FileDataset(None, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.FrameOfReferenceUID = study + '.9'
    ds.PatientName, ds.PatientID = patient['name'], patient.get('id', '')
    if 'issuer' in patient:
        ds.IssuerOfPatientID = patient['issuer']
    ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = patient['birth'], 'F', '047Y'
    ds.Modality = modality
    ds.StudyDate, ds.SeriesDate, ds.ContentDate = '20240315', '20240315', '20240315'
    ds.StudyTime, ds.SeriesTime, ds.ContentTime = '101500', '101700', '101702.123'
    ds.AcquisitionDateTime = '20240315101705.250000+0100'
    ds.AccessionNumber = accession
    ds.StudyID = 'S7781'
    ds.ReferringPhysicianName = 'House^Gregory^^Dr.'
    ds.InstitutionName = 'Princeton Plainsboro Teaching Hospital'
    ds.InstitutionAddress = '1 Hospital Road, Plainsboro NJ'
    ds.StationName = 'CT-ROOM-3'
    ds.Manufacturer, ds.ManufacturerModelName, ds.DeviceSerialNumber = 'ACME', 'Scanatron 9000', 'SN-44511'
    ds.StudyDescription = 'CT abdomen for Jane Doe follow-up'
    ds.SeriesDescription = 'Axial 5mm'
    ds.OperatorsName = 'Tech^Tina'
    ds.PatientAddress = '221B Baker Street'
    ds.PatientTelephoneNumbers = '555-0100'
    ds.AdditionalPatientHistory = 'Patient Jane Doe reports pain'
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.ImageType = ['ORIGINAL', 'PRIMARY', 'AXIAL']
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes((i * 7) % 256 for i in range(rows * cols * 2))
    if modality in ('CT', 'MR'):
        ds.PatientPosition, ds.PositionReferenceIndicator = 'HFS', ''
        ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], '5'
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0, 0, ds.InstanceNumber * 5]
    if modality == 'CT':
        ds.KVP, ds.AcquisitionNumber = '120', 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = '-1024', '1', 'HU'
    if modality == 'MR':
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = 'SE', 'NONE', '', '2D'
        ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength, ds.MagneticFieldStrength = '500', '20', '1', '1.5'
    if 'issuer' in patient:
        ds.add_new(0x00100022, 'CS', 'TEXT')  # Type of Patient ID
    return ds


def phi_everywhere(ds, patient):
    other = Dataset()
    other.PatientID, other.IssuerOfPatientID = 'OLD-' + patient.get('id', 'X'), 'OTHER HOSPITAL'
    ds.OtherPatientIDsSequence = Sequence([other])
    req = Dataset()
    req.AccessionNumber = 'ACC20240315001'
    req.RequestedProcedureID = 'RP-99'
    req.ScheduledProcedureStepStartDate = '20240314'
    req.ReasonForTheRequestedProcedure = 'Jane Doe abdominal pain'
    ds.RequestAttributesSequence = Sequence([req])
    # A kept sequence (not in E.1-1) holding PHI two levels down: rules must reach it.
    proc = Dataset()
    proc.CodeValue, proc.CodingSchemeDesignator, proc.CodeMeaning = 'CTABD', '99LOCAL', 'CT Abdomen'
    inner = Dataset()
    inner.PatientName = 'Doe^Jane'
    inner.PersonName = 'Doe^Jane'
    inner.ObservationDateTime = '20240315093000'
    proc.ContentSequence = Sequence([inner])
    ds.ProcedureCodeSequence = Sequence([proc])
    # Private block with PHI, and a private sequence hiding a name.
    ds.add_new(0x00090010, 'LO', 'ACME_PRIVATE')
    ds.add_new(0x00091001, 'LO', 'Jane Doe MRN12345')
    priv = Dataset()
    priv.PatientName = 'Doe^Jane'
    ds.add_new(0x00091002, 'SQ', Sequence([priv]))
    # Safe-private attribute (Table E.3.10-1: GEMS_ACQU_01 (0019,xx23) Table Speed).
    ds.add_new(0x00190010, 'LO', 'GEMS_ACQU_01')
    ds.add_new(0x00191023, 'DS', '27.5')
    # Overlay plane and curve data: removed whole.
    ds.add_new(0x60000010, 'US', 16)
    ds.add_new(0x60000011, 'US', 16)
    ds.add_new(0x60000040, 'CS', 'G')
    ds.add_new(0x60000050, 'SS', [1, 1])
    ds.add_new(0x60000100, 'US', 1)
    ds.add_new(0x60000102, 'US', 0)
    ds.add_new(0x60003000, 'OW', b'\x00' * 32)
    ds.add_new(0x50000005, 'US', 1)
    ds.add_new(0x50003000, 'OW', b'JD' * 4)
    # After the pixel data: a signature sequence and trailing padding still go through the rules.
    sig = Dataset()
    sig.DigitalSignatureDateTime = '20240315110000'
    sig.CertificateOfSigner = b'Jane Doe cert'
    ds.add_new(0xFFFAFFFA, 'SQ', Sequence([sig]))
    ds.add_new(0xFFFCFFFC, 'OB', b'\0' * 8)
    return ds


def referenced(sop_class, sop_uid):
    r = Dataset()
    r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID = sop_class, sop_uid
    return r


def save(ds, name, syntax=ExplicitVRLittleEndian):
    ds.file_meta.TransferSyntaxUID = syntax
    little = syntax != ExplicitVRBigEndian
    implicit = syntax == ImplicitVRLittleEndian
    if not little:
        # pydicom writes pixel bytes as given: swap 16-bit words for big endian.
        b = bytearray(ds.PixelData)
        b[0::2], b[1::2] = b[1::2], b[0::2]
        ds.PixelData = bytes(b)
    path = os.path.join(OUT, name)
    # pydicom 2.x encodes by is_little_endian/is_implicit_VR on the dataset.
    ds.is_little_endian, ds.is_implicit_VR = little, implicit
    ds.save_as(path, write_like_original=False)
    print('wrote', path)


def main():
    os.makedirs(OUT, exist_ok=True)
    jane = {'name': 'Doe^Jane', 'id': 'MRN12345', 'issuer': 'PPTH', 'birth': '19770412'}
    john = {'name': 'Roe^John', 'birth': '19600101'}  # no Patient ID: keyed on name + birth date
    study = ROOT + '.1'

    ct1 = phi_everywhere(base(CT, ROOT + '.1.1.1', study, ROOT + '.1.1', jane, 'CT'), jane)
    save(ct1, 'study-a-ct-1.dcm')

    ct2 = phi_everywhere(base(CT, ROOT + '.1.1.2', study, ROOT + '.1.1', jane, 'CT'), jane)
    ct2.InstanceNumber = 2
    ct2.ContentDate = '20240316'  # the next day: the interval must survive the shift
    ct2.ReferencedImageSequence = Sequence([referenced(CT, ROOT + '.1.1.1')])
    save(ct2, 'study-a-ct-2-implicit.dcm', ImplicitVRLittleEndian)

    ct3 = phi_everywhere(base(CT, ROOT + '.1.1.3', study, ROOT + '.1.1', jane, 'CT'), jane)
    ct3.InstanceNumber = 3
    save(ct3, 'study-a-ct-3-bigendian.dcm', ExplicitVRBigEndian)

    mr = base('1.2.840.10008.5.1.4.1.1.4', ROOT + '.2.1.1', ROOT + '.2', ROOT + '.2.1', john, 'MR', accession='ACC20240316002')
    save(mr, 'study-b-mr-no-patient-id.dcm')

    us = base(US, ROOT + '.3.1.1', ROOT + '.3', ROOT + '.3.1', jane, 'US', accession='ACC20240317003')
    save(us, 'study-c-us.dcm')

    sc = base(SC, ROOT + '.4.1.1', ROOT + '.4', ROOT + '.4.1', jane, 'OT', accession='ACC20240318004')
    sc.BurnedInAnnotation = 'YES'
    save(sc, 'study-d-sc-burned-in.dcm')

    with open(os.path.join(OUT, 'not-dicom.txt'), 'w') as f:
        f.write('This is a note about Doe^Jane, not an image.\n')
    print('wrote', os.path.join(OUT, 'not-dicom.txt'))


if __name__ == '__main__':
    main()
