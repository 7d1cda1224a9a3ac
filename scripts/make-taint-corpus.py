#!/usr/bin/python3
"""Writes a small synthetic corpus for the taint test: identifiers hidden in nested places.

Every file carries fake PHI (names, MRNs, dates, UIDs, URLs, phone numbers) in sequences nested
several levels deep, SR and acquisition-context content items, presentation-state text,
waveform annotations, private blocks and private sequences, unknown standard tags, URL values,
an embedded overlay in the pixel data's high bit, and two files whose VRs must be inferred
(one mislabelled as explicit VR while written implicit). UIDs are cross-referenced between files.
Deterministic: fixed UIDs and values, so re-running gives identical files.

usage: /usr/bin/python3 scripts/make-taint-corpus.py OUTDIR
"""
import os
import struct
import sys

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

if len(sys.argv) != 2:
    sys.exit('usage: /usr/bin/python3 scripts/make-taint-corpus.py OUTDIR')
OUT = sys.argv[1]

ROOT = '1.2.826.0.1.3680043.10.1137.77'  # a fixed test root; these UIDs identify nothing real
CT = '1.2.840.10008.5.1.4.1.1.2'
MR = '1.2.840.10008.5.1.4.1.1.4'
COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33'
GSPS = '1.2.840.10008.5.1.4.1.1.11.1'
ECG_12_LEAD = '1.2.840.10008.5.1.4.1.1.9.1.1'
MPPS = '1.2.840.10008.3.1.2.3.3'

STUDY = ROOT + '.1'
CT_SERIES = STUDY + '.1'
CT_SOP = CT_SERIES + '.1'
CT_LOCALIZER_SOP = CT_SERIES + '.2'  # referenced, never written
CT_SOURCE_SOP = ROOT + '.9.1.1'  # an original the CT was derived from
MPPS_SOP = ROOT + '.8.1'

NAME = 'DOE^JANE'
MRN = '12345678'
PHONE = '555-867-5309'
EMAIL = 'jane.doe@example.com'


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def sop_ref(sop_class, sop_uid):
    return item(ReferencedSOPClassUID=sop_class, ReferencedSOPInstanceUID=sop_uid)


def base(sop_class, sop_uid, series, modality, series_number):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = ROOT + '.0'
    meta.ImplementationVersionName = 'TAINT_1'
    meta.SourceApplicationEntityTitle = 'MERCY_PACS'
    ds = FileDataset(None, {}, file_meta=meta, preamble=b'\0' * 128)
    ds.is_implicit_VR, ds.is_little_endian = False, True
    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.InstanceCreationDate, ds.InstanceCreationTime = '20240315', '101800'
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyDate, ds.SeriesDate, ds.ContentDate = '20240315', '20240315', '20240315'
    ds.StudyTime, ds.SeriesTime, ds.ContentTime = '101500', '101700', '101702'
    ds.AccessionNumber = 'ACC2403150001'
    ds.Modality = modality
    ds.Manufacturer = 'ACME'
    ds.InstitutionName = 'Mercy General Hospital'
    ds.InstitutionAddress = '1 Mercy Way, Springfield'
    ds.ReferringPhysicianName = 'House^Gregory^^Dr.'
    ds.StationName = 'MERCY-CT2'
    if modality not in ('SR', 'ECG'):
        ds.Laterality = ''
    ds.PatientName = NAME
    ds.PatientID = MRN
    ds.IssuerOfPatientID = 'MERCY'
    ds.PatientBirthDate = '19770412'
    ds.PatientSex = 'F'
    ds.PatientAddress = '742 Evergreen Terrace, Springfield'
    ds.PatientTelephoneNumbers = PHONE
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series
    ds.StudyID = 'MGH7781'
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    return ds


def image(ds, rows, cols, pixels, signed=False, bits_stored=16):
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = struct.pack('<%d%s' % (len(pixels), 'h' if signed else 'H'), *pixels)


def save(ds, name):
    ds.save_as(os.path.join(OUT, name), write_like_original=False)


def private(ds, tag, vr, value):
    ds.add_new(tag, vr, value)


def nested_ct():
    ds = base(CT, CT_SOP, CT_SERIES, 'CT', 1)
    ds.ImageType = ['DERIVED', 'SECONDARY', 'AXIAL']
    ds.TimezoneOffsetFromUTC = '+0100'
    ds.RetrieveURL = 'https://pacs.mercy.example/wado?studyUID=' + STUDY
    ds.InstitutionCodeSequence = Sequence([code('MGH01', 'L', 'Mercy General Hospital')])
    ds.StudyDescription = 'CT chest for DOE^JANE MRN 12345678 on 03/15/2024'
    ds.SeriesDescription = 'Chest w/o contrast for Jane Doe'
    ds.ProtocolName = 'Chest per Dr. Gregory House'
    ds.OperatorsName = 'Ratched^Mildred'
    ds.OperatorIdentificationSequence = Sequence([item(
        PersonIdentificationCodeSequence=Sequence([code('EMP778812', 'L', 'Nurse Ratched')]),
        PersonAddress='12 Cuckoo Nest Lane, Salem',
        PersonTelephoneNumbers='555-201-7788',
        InstitutionName='Mercy General Hospital',
        InstitutionCodeSequence=Sequence([code('MGH01', 'L', 'Mercy General Hospital')]),
    )])
    ds.ReferencedPerformedProcedureStepSequence = Sequence([sop_ref(MPPS, MPPS_SOP)])
    ds.ReferencedImageSequence = Sequence([sop_ref(CT, CT_LOCALIZER_SOP)])
    ds.DerivationDescription = 'Reformatted by Dr. House for Jane Doe'
    ds.SourceImageSequence = Sequence([sop_ref(CT, CT_SOURCE_SOP)])
    ds.OtherPatientIDsSequence = Sequence([
        item(PatientID='MRN-OLD-998877', IssuerOfPatientID='St Elsewhere', TypeOfPatientID='TEXT'),
        item(PatientID='SSN-078-05-1120', IssuerOfPatientID='SSA', TypeOfPatientID='TEXT'),
    ])
    ds.RequestAttributesSequence = Sequence([item(
        RequestedProcedureID='RP-55123',
        ScheduledProcedureStepID='SPS-55123-1',
        ScheduledProcedureStepDescription='CT chest for Jane Doe',
        RequestedProcedureDescription='Chest CT, requested by Dr. House',
        ReasonForRequestedProcedureCodeSequence=Sequence([code('R07.9', 'I10', 'Chest pain, DOE^JANE')]),
        AccessionNumber='ACC2403150001',
    )])
    ds.ImageComments = ('Jane Doe (DOE^JANE) MRN 12345678, call %s or mail %s; study %s; '
                        'scanned 2024-03-15' % (PHONE, EMAIL, STUDY))
    ds.PatientPosition, ds.PositionReferenceIndicator = 'HFS', ''
    ds.FrameOfReferenceUID = STUDY + '.9'
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], '5'
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0, 0, 5]
    ds.KVP, ds.AcquisitionNumber = '120', 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = '-1024', '1', 'HU'

    # Private block 'ACME PRIVATE' in (0009): a name, a copy of the SOP Instance UID, a sequence.
    private(ds, 0x00090010, 'LO', 'ACME PRIVATE')
    private(ds, 0x00091001, 'LO', 'Jane Doe')
    private(ds, 0x00091002, 'UI', CT_SOP)
    inner = Dataset()
    inner.add_new(0x00080090, 'PN', 'House^Gregory')
    inner.add_new(0x00090010, 'LO', 'ACME PRIVATE')
    inner.add_new(0x00091010, 'PN', 'Doe^Jane')
    private(ds, 0x00091003, 'SQ', Sequence([inner]))
    # A safe-private-like b-value (PS3.15 Table E.3.10-1 lists SIEMENS MR HEADER (0019,xx0C)).
    private(ds, 0x00190010, 'LO', 'SIEMENS MR HEADER')
    private(ds, 0x0019100C, 'IS', '1000')

    # 8x8 pixels, 12 bits stored, with an overlay embedded in bit 15 (no (6000,3000)): a frame.
    pixels = []
    for r in range(8):
        for c in range(8):
            v = (r * 8 + c) * 61 + 7  # < 4096, distinct
            if r in (0, 7) or c in (0, 7):
                v |= 0x8000
            pixels.append(v)
    image(ds, 8, 8, pixels, bits_stored=12)
    ds.add_new(0x60000010, 'US', 8)  # Overlay Rows
    ds.add_new(0x60000011, 'US', 8)  # Overlay Columns
    ds.add_new(0x60000022, 'LO', 'Frame drawn for Jane Doe')  # Overlay Description
    ds.add_new(0x60000040, 'CS', 'G')  # Overlay Type
    ds.add_new(0x60000050, 'SS', [1, 1])  # Overlay Origin
    ds.add_new(0x60000100, 'US', 16)  # Overlay Bits Allocated
    ds.add_new(0x60000102, 'US', 15)  # Overlay Bit Position
    save(ds, 'nested-ct.dcm')


def content(rel, value_type, concept, **kw):
    d = item(RelationshipType=rel, ValueType=value_type, ConceptNameCodeSequence=Sequence([concept]))
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def image_item(rel, sop_uid):
    return content(rel, 'IMAGE', code('121191', 'DCM', 'Referenced Segment'),
                   ReferencedSOPSequence=Sequence([sop_ref(CT, sop_uid)]))


def sr_content():
    series = STUDY + '.2'
    ds = base(COMPREHENSIVE_SR, series + '.1', series, 'SR', 2)
    ds.SeriesDescription = 'Report for Jane Doe'
    ds.ReferencedPerformedProcedureStepSequence = Sequence([sop_ref(MPPS, MPPS_SOP)])
    ds.ValueType = 'CONTAINER'
    ds.ConceptNameCodeSequence = Sequence([code('18748-4', 'LN', 'Diagnostic Imaging Report')])
    ds.ContinuityOfContent = 'SEPARATE'
    ds.CompletionFlag, ds.VerificationFlag = 'COMPLETE', 'VERIFIED'
    ds.VerifyingObserverSequence = Sequence([item(
        VerifyingObserverName='Kildare^James^^Dr.',
        VerifyingOrganization='Mercy General Hospital',
        VerificationDateTime='20240316093000+0100',
        VerifyingObserverIdentificationCodeSequence=Sequence([code('EMP445566', 'L', 'Dr James Kildare')]),
    )])
    ds.AuthorObserverSequence = Sequence([item(
        ObserverType='PSN',
        PersonName='Quinn^Michaela^^Dr.',
        PersonIdentificationCodeSequence=Sequence([code('EMP990011', 'L', 'Dr Michaela Quinn')]),
        InstitutionName='Mercy General Hospital',
        InstitutionCodeSequence=Sequence([code('MGH01', 'L', 'Mercy General Hospital')]),
        InstitutionalDepartmentName='Radiology, Mercy General',
    )])
    ds.ParticipantSequence = Sequence([item(
        ParticipationType='ENT',
        ParticipationDateTime='20240315120000',
        ObserverType='PSN',
        PersonName='Ratched^Mildred',
        PersonIdentificationCodeSequence=Sequence([code('EMP778812', 'L', 'Nurse Ratched')]),
        InstitutionName='Mercy General Hospital',
        InstitutionCodeSequence=Sequence([code('MGH01', 'L', 'Mercy General Hospital')]),
    )])
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence([item(
        StudyInstanceUID=STUDY,
        ReferencedSeriesSequence=Sequence([item(
            SeriesInstanceUID=CT_SERIES,
            ReferencedSOPSequence=Sequence([sop_ref(CT, CT_SOP), sop_ref(CT, CT_LOCALIZER_SOP)]),
        )]),
    )])
    ds.PerformedProcedureCodeSequence = Sequence([code('24627-2', 'LN', 'CT Chest')])

    level3 = [
        content('CONTAINS', 'TEXT', code('121071', 'DCM', 'Finding'),
                TextValue='Nodule in DOE^JANE (MRN 12345678), compare 2023-09-01 study'),
        content('HAS OBS CONTEXT', 'PNAME', code('121008', 'DCM', 'Person Observer Name'),
                PersonName='Kildare^James^^Dr.'),
        content('HAS OBS CONTEXT', 'DATE', code('111060', 'DCM', 'Study Date'), Date='20230901'),
        content('HAS OBS CONTEXT', 'UIDREF', code('121018', 'DCM', 'Procedure Study Instance UID'),
                UID=STUDY),
        image_item('INFERRED FROM', CT_SOP),
    ]
    level2 = [
        content('CONTAINS', 'TEXT', code('121073', 'DCM', 'Impression'),
                TextValue='Jane Doe, 12345678: see Dr. House, phone ' + PHONE),
        content('CONTAINS', 'CODE', code('121071', 'DCM', 'Finding'),
                ConceptCodeSequence=Sequence([code('R91.1', 'I10', 'Nodule, per Dr. Quinn')])),
        content('HAS OBS CONTEXT', 'DATETIME', code('111526', 'DCM', 'DateTime Started'),
                DateTime='20240315101500.000000+0100'),
        image_item('INFERRED FROM', CT_SOP),
        content('CONTAINS', 'CONTAINER', code('121070', 'DCM', 'Findings'),
                ContinuityOfContent='SEPARATE', ContentSequence=Sequence(level3)),
    ]
    ds.ContentSequence = Sequence([
        content('HAS OBS CONTEXT', 'PNAME', code('121029', 'DCM', 'Subject Name'), PersonName=NAME),
        content('HAS OBS CONTEXT', 'TEXT', code('121030', 'DCM', 'Subject ID'), TextValue=MRN),
        content('HAS OBS CONTEXT', 'DATE', code('121031', 'DCM', 'Subject Birth Date'), Date='19770412'),
        content('HAS OBS CONTEXT', 'UIDREF', code('121018', 'DCM', 'Procedure Study Instance UID'),
                UID=STUDY),
        content('CONTAINS', 'TEXT', code('121060', 'DCM', 'History'),
                TextValue='Patient Jane Doe, MRN 12345678, reports cough since 2024-02-01'),
        content('CONTAINS', 'CONTAINER', code('121064', 'DCM', 'Current Procedure Descriptions'),
                ContinuityOfContent='SEPARATE', ContentSequence=Sequence(level2)),
    ])
    save(ds, 'sr-content.dcm')


def gsps():
    series = STUDY + '.3'
    ds = base(GSPS, series + '.1', series, 'PR', 3)
    ds.SeriesDescription = 'Annotations for Jane Doe'
    ds.ContentLabel = 'DOE_JANE_NOTES'
    ds.ContentDescription = 'Measurements for Jane Doe by Dr. House'
    ds.ContentCreatorName = 'House^Gregory^^Dr.'
    ds.PresentationCreationDate, ds.PresentationCreationTime = '20240315', '113000'
    image_ref = Sequence([sop_ref(CT, CT_SOP)])
    ds.ReferencedSeriesSequence = Sequence([item(
        SeriesInstanceUID=CT_SERIES, ReferencedImageSequence=Sequence([sop_ref(CT, CT_SOP)]))])
    ds.GraphicLayerSequence = Sequence([item(
        GraphicLayer='NOTES', GraphicLayerOrder=1, GraphicLayerDescription='Notes by Dr. House')])
    ds.GraphicAnnotationSequence = Sequence([
        item(ReferencedImageSequence=image_ref, GraphicLayer='NOTES', TextObjectSequence=Sequence([item(
            BoundingBoxAnnotationUnits='PIXEL',
            UnformattedTextValue='DOE, JANE 12345678',
            BoundingBoxTopLeftHandCorner=[1.0, 1.0],
            BoundingBoxBottomRightHandCorner=[7.0, 3.0],
            BoundingBoxTextHorizontalJustification='LEFT',
        )])),
        item(ReferencedImageSequence=Sequence([sop_ref(CT, CT_SOP)]), GraphicLayer='NOTES',
             GraphicObjectSequence=Sequence([item(
                 GraphicAnnotationUnits='PIXEL', GraphicDimensions=2, NumberOfGraphicPoints=3,
                 GraphicData=[2.0, 2.0, 5.0, 2.0, 5.0, 6.0], GraphicType='POLYLINE', GraphicFilled='N',
             )]),
             TextObjectSequence=Sequence([item(
                 AnchorPointAnnotationUnits='PIXEL', AnchorPoint=[5.0, 6.0], AnchorPointVisibility='Y',
                 UnformattedTextValue='Lesion, Jane Doe, seen 2024-03-15 by Dr. House',
             )])),
    ])
    ds.DisplayedAreaSelectionSequence = Sequence([item(
        ReferencedImageSequence=Sequence([sop_ref(CT, CT_SOP)]),
        DisplayedAreaTopLeftHandCorner=[1, 1], DisplayedAreaBottomRightHandCorner=[8, 8],
        PresentationSizeMode='SCALE TO FIT', PresentationPixelSpacing=[0.5, 0.5])])
    ds.PresentationLUTShape = 'IDENTITY'
    save(ds, 'gsps.dcm')


def scpecg(value, meaning):
    c = code(value, 'SCPECG', meaning)
    c.CodingSchemeVersion = '1.3'
    return c


def waveform():
    series = STUDY + '.4'
    ds = base(ECG_12_LEAD, series + '.1', series, 'ECG', 4)
    ds.SeriesDescription = 'Resting ECG, Jane Doe'
    ds.AcquisitionDateTime = '20240315100000.000000+0100'
    ds.AcquisitionContextSequence = Sequence([
        item(ValueType='TEXT', ConceptNameCodeSequence=Sequence([code('121106', 'DCM', 'Comment')]),
             TextValue='DOE^JANE (12345678) anxious during recording'),
        item(ValueType='PNAME', ConceptNameCodeSequence=Sequence([code('121008', 'DCM', 'Person Observer Name')]),
             PersonName='Ratched^Mildred'),
    ])
    leads = [('5.6.3-9-1', 'Lead I'), ('5.6.3-9-2', 'Lead II'), ('5.6.3-9-61', 'Lead III')]
    samples = 10
    channels = Sequence()
    for value, meaning in leads:
        channels.append(item(
            ChannelSourceSequence=Sequence([scpecg(value, meaning)]),
            ChannelSensitivity='1', ChannelSensitivityUnitsSequence=Sequence([code('uV', 'UCUM', 'microvolt')]),
            ChannelSensitivityCorrectionFactor='1', ChannelBaseline='0', ChannelSampleSkew='0',
            WaveformBitsStored=16))
    data = [(s * 37 - ch * 101) for s in range(samples) for ch in range(len(leads))]
    group = item(
        WaveformOriginality='ORIGINAL',
        NumberOfWaveformChannels=len(leads), NumberOfWaveformSamples=samples, SamplingFrequency='500',
        MultiplexGroupLabel='RHYTHM', ChannelDefinitionSequence=channels,
        WaveformBitsAllocated=16, WaveformSampleInterpretation='SS')
    group.add_new(0x54001010, 'OW', struct.pack('<%dh' % len(data), *data))
    ds.WaveformSequence = Sequence([group])
    ds.WaveformAnnotationSequence = Sequence([
        item(UnformattedTextValue='Read by Dr. James Kildare for Jane Doe on 2024-03-15',
             ReferencedWaveformChannels=[1, 1], AnnotationGroupNumber=1),
        item(ConceptNameCodeSequence=Sequence([code('8867-4', 'LN', 'Heart rate')]),
             NumericValue='72', MeasurementUnitsCodeSequence=Sequence([code('/min', 'UCUM', 'per minute')]),
             ReferencedWaveformChannels=[1, 0], AnnotationGroupNumber=1),
        item(UnformattedTextValue='Call DOE^JANE at ' + PHONE, ReferencedWaveformChannels=[1, 2],
             AnnotationGroupNumber=2),
    ])
    save(ds, 'waveform.dcm')


def small_mr(sop_uid, series, series_number, pixels, signed):
    ds = base(MR, sop_uid, series, 'MR', series_number)
    ds.ImageType = ['ORIGINAL', 'PRIMARY', 'M']
    ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = 'SE', 'NONE', '', '2D'
    ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = '500', '15', 1
    ds.PatientPosition, ds.PositionReferenceIndicator = 'HFS', ''
    ds.FrameOfReferenceUID = STUDY + '.9'
    ds.SeriesDescription = 'T1 for Jane Doe'
    ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], '3'
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageComments = 'Jane Doe %s' % MRN
    image(ds, 4, 4, pixels, signed=signed)
    ds.SmallestImagePixelValue = min(pixels)  # (0028,0106) 'US or SS'
    ds.LargestImagePixelValue = max(pixels)
    return ds


def implicit_bytes(ds, transfer_syntax):
    """The file as pydicom writes an Implicit VR Little Endian dataset, under the given meta."""
    ds.is_implicit_VR, ds.is_little_endian = True, True
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    meta = DicomBytesIO()
    meta.is_implicit_VR, meta.is_little_endian = False, True
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_implicit_VR, body.is_little_endian = True, True
    write_dataset(body, ds)
    return b'\0' * 128 + b'DICM' + meta.getvalue() + body.getvalue()


def mislabelled_implicit():
    series = STUDY + '.5'
    pixels = [101 + 257 * i for i in range(16)]  # distinct, low and high bytes differ
    ds = small_mr(series + '.1', series, 5, pixels, signed=False)
    # Meta says Explicit VR Little Endian; the dataset is Implicit VR Little Endian.
    with open(os.path.join(OUT, 'mislabelled-implicit.dcm'), 'wb') as f:
        f.write(implicit_bytes(ds, ExplicitVRLittleEndian))


def implicit_obow():
    series = STUDY + '.6'
    pixels = [-1200 + 263 * i for i in range(16)]  # distinct, signed, some negative
    ds = small_mr(series + '.1', series, 6, pixels, signed=True)
    with open(os.path.join(OUT, 'implicit-obow.dcm'), 'wb') as f:
        f.write(implicit_bytes(ds, ImplicitVRLittleEndian))


def small_ct_image(ds):
    """The CT image module and a 4x4 12-bit image, so a synthetic CT validates."""
    ds.PatientPosition, ds.PositionReferenceIndicator = 'HFS', ''
    ds.FrameOfReferenceUID = STUDY + '.9'
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], '5'
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0, 0, 10]
    ds.KVP, ds.AcquisitionNumber = '120', 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = '-1024', '1', 'HU'
    image(ds, 4, 4, [100 * i + 3 for i in range(16)], bits_stored=12)


def unknown_and_urls():
    series = STUDY + '.7'
    ds = base(CT, series + '.1', series, 'CT', 7)
    ds.ImageType = ['DERIVED', 'SECONDARY', 'AXIAL']
    ds.SeriesDescription = 'Derived'
    ds.ContentDate = '20240315'
    ds.add_new(0x00189FFF, 'LO', 'Jane Doe')  # a standard group, not in the DICOM dictionary
    ds.RetrieveURI = 'http://pacs.mercy.example/wado-rs/studies/%s?patient=%s' % (STUDY, MRN)
    ds.PixelDataProviderURL = 'https://jpip.mercy.example/jpip?target=%s&name=Jane+Doe' % STUDY
    ds.MultiFrameSourceSOPInstanceUID = CT_SOURCE_SOP
    anatomy = Dataset()
    anatomy.URNCodeValue = 'urn:oid:1.2.3'
    anatomy.CodingSchemeDesignator = 'L'
    anatomy.CodeMeaning = 'Chest of Jane Doe'
    ds.AnatomicRegionSequence = Sequence([anatomy])
    small_ct_image(ds)
    save(ds, 'unknown-and-urls.dcm')


def vr_mismatch():
    """Attributes written with a VR the dictionary does not give them, and a standard sequence sent as
    UN whose bytes do not parse as implicit VR (its item is explicit VR): the engine must classify
    by the dictionary and drop what it cannot read."""
    series = STUDY + '.8'
    ds = base(CT, series + '.1', series, 'CT', 8)
    ds.add_new(0x0040A067, 'LO', 'Doe^Jane^Author')  # Document Author (Trial): PN written as LO
    ds.add_new(0x00080108, 'LO', 'Extended code meaning for Jane Doe')  # LT written as LO
    ds.add_new(0x00140102, 'SH', '20240315')  # a DA written as SH
    ds.add_new(0x00081167, 'LO', series + '.1')  # an unlisted UID attribute written as LO
    raw = bytes.fromhex('feff00e01a000000') + b'\x10\x00\x10\x00PN\x0a\x00DOE^JANE^X' + b'\x08\x00\x00\x01SH\x02\x00X1'
    # Performed Protocol Code Sequence as raw UN bytes (pydicom would otherwise parse it)
    ds[0x00400260] = RawDataElement(Tag(0x00400260), 'UN', len(raw), raw, 0, False, True)
    ds.ManufacturerModelName = 'v1.' + series + '.1'  # a dotted number ending in an original UID
    small_ct_image(ds)
    save(ds, 'vr-mismatch.dcm')


os.makedirs(OUT, exist_ok=True)
nested_ct()
sr_content()
gsps()
waveform()
mislabelled_implicit()
implicit_obow()
unknown_and_urls()
vr_mismatch()
