"""Writes the synthetic CT series in tests/data/dicom_j2k/: 6 axial slices of 64 x 64, int16 HU, a
body ellipse with a liver-like and a kidney-like blob, encoded as JPEG 2000 lossless
(1.2.840.10008.1.2.4.90). The DICOM node's test (tests/node/node_test.py) pushes it to
`swinunetr serve`, whose reader must decode JPEG 2000. Fixed UIDs: the files are data.

Needs pydicom >= 3 and pylibjpeg-openjpeg (PyPI), only to regenerate:
    python3 -m venv /tmp/v && /tmp/v/bin/pip install "pydicom>=3" pylibjpeg pylibjpeg-openjpeg numpy
    /tmp/v/bin/python tests/data/make_dicom_j2k.py
"""
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless

ROOT = "1.2.826.0.1.3680043.10.1409"  # a fixed prefix; every UID below derives from it
STUDY, SERIES, FRAME = ROOT + ".1", ROOT + ".2", ROOT + ".3"
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dicom_j2k")
n, slices = 64, 6
y, x = np.mgrid[0:n, 0:n]
for k in range(slices):
    hu = np.full((n, n), -1000, np.int16)
    body = ((x - 32) / 28.0) ** 2 + ((y - 32) / 22.0) ** 2 <= 1
    hu[body] = 30
    hu[((x - 22) / 9.0) ** 2 + ((y - 30) / 8.0) ** 2 <= 1] = 60 + k  # liver-like
    hu[((x - 44) / 4.0) ** 2 + ((y - 36) / 5.0) ** 2 <= 1] = 150     # kidney-like
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = "%s.4.%d" % (ROOT, k + 1)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName, ds.PatientID = "CT", "Phantom^JPEG2000", "SWU-J2K"
    ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "", "O", "20260101", "120000"
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "", "", "1", 1, k + 1
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = STUDY, SERIES, FRAME
    ds.Manufacturer, ds.PositionReferenceIndicator = "swinunetr tests", ""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [-48.0, -48.0, 3.0 * k]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [1.5, 1.5], 3.0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = n
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.KVP = 0, 1, 120
    ds.PixelData = hu.tobytes()
    ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    ds.save_as(os.path.join(here, "slice%d.dcm" % (k + 1)), enforce_file_format=True)
print("wrote %d JPEG 2000 lossless slices into %s" % (slices, here))
