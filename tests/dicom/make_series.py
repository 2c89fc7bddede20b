#!/usr/bin/python3
"""Writes small synthetic DICOM CT series for the DICOM tests (pydicom, numpy).

usage: make_series.py OUT_DIR CASE
  oblique     one CT series of 6 slices of 20 x 16 (columns x rows), oblique orientation,
              files named in an order unrelated to position; next to it a smaller CT
              series and a larger MR series (the reader must pick the CT with most slices)
  duplicate   a slice position appears twice
  missing     one slice of the regular grid is absent
  uneven      one gap differs from the others, not a whole number of slices
  tilt        slices shifted within their plane (gantry tilt)
  mr          an MR series only
  contours    one oblique CT series of 5 slices of 64 x 48 (room for shapes to contour)
Voxel (i, j, k) of the main series stores 10 * k + j + 100 * i (mod 1000) with
RescaleIntercept -1024, so HU = that - 1024. Prints the SeriesInstanceUIDs written.
"""
import math
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ROOT = "1.2.826.0.1.3680043.8.498."  # pydicom's UID root


def orientation(oblique):
    if not oblique:
        return np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    # Rotate the axial frame by 30 degrees about z and 20 degrees about x.
    a, b = math.radians(30), math.radians(20)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    r = rx @ rz
    return r[:, 0], r[:, 1]


def write_series(folder, prefix, modality, study, frame_of_ref, series_number, cols, rows, offsets,
                 oblique=False, shift=None, name_order=None):
    row_dir, col_dir = orientation(oblique)
    normal = np.cross(row_dir, col_dir)
    origin = np.array([-40.0, -30.0, 12.5])
    series_uid = generate_uid(prefix=ROOT)
    order = name_order or list(range(len(offsets)))
    for k, off in enumerate(offsets):
        pos = origin + off * normal
        if shift is not None and k >= len(offsets) // 2:
            pos = pos + shift * row_dir
        meta = FileMetaDataset()
        sop_class = CT_STORAGE if modality == "CT" else MR_STORAGE
        sop_uid = generate_uid(prefix=ROOT)
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = ROOT + "1"
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate = "20240101"
        ds.StudyTime = "120000"
        ds.AccessionNumber = "A1"
        ds.Modality = modality
        ds.Manufacturer = "synthetic"
        ds.ReferringPhysicianName = ""
        ds.PatientName = "Test^Phantom"
        ds.PatientID = "SWU0001"
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "1"
        ds.SeriesNumber = series_number
        ds.InstanceNumber = k + 1
        ds.FrameOfReferenceUID = frame_of_ref
        ds.PositionReferenceIndicator = ""
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.ImageOrientationPatient = [f"{v:.8f}" for v in list(row_dir) + list(col_dir)]
        ds.SliceThickness = "2.5"
        ds.PixelSpacing = ["0.8", "0.7"]  # between rows, between columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = cols
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        if modality == "CT":
            ds.KVP = "120"
        else:
            ds.ScanningSequence = "SE"
            ds.SequenceVariant = "NONE"
            ds.ScanOptions = ""
            ds.MRAcquisitionType = "2D"
            ds.EchoTrainLength = "1"
        j, i = np.mgrid[0:rows, 0:cols]
        pixels = ((10 * k + j + 100 * i) % 1000).astype(np.uint16)
        ds.PixelData = pixels.tobytes()
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        name = os.path.join(folder, f"{prefix}{order[k]:03d}.dcm")
        pydicom.dcmwrite(name, ds, write_like_original=False)
    return series_uid


def main():
    folder, case = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    study = generate_uid(prefix=ROOT)
    frame_of_ref = generate_uid(prefix=ROOT)
    step = 2.5
    regular = [k * step for k in range(6)]
    uids = []
    if case == "oblique":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 20, 16, regular, oblique=True,
                                 name_order=[4, 1, 5, 0, 3, 2]))
        uids.append(write_series(folder, "b", "CT", study, frame_of_ref, 2, 8, 8, regular[:3]))
        uids.append(write_series(folder, "c", "MR", study, frame_of_ref, 4, 8, 8, [k * 1.0 for k in range(9)]))
    elif case == "duplicate":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 8, 8, regular[:3] + regular[2:5]))
    elif case == "missing":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 8, 8, regular[:2] + regular[3:]))
    elif case == "uneven":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 8, 8, regular[:3] + [v + 0.9 for v in regular[3:]]))
    elif case == "tilt":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 8, 8, regular, shift=1.5))
    elif case == "contours":
        uids.append(write_series(folder, "a", "CT", study, frame_of_ref, 3, 64, 48, regular[:5], oblique=True))
    elif case == "mr":
        uids.append(write_series(folder, "a", "MR", study, frame_of_ref, 3, 8, 8, regular))
    else:
        sys.exit("unknown case " + case)
    print("\n".join(uids))


if __name__ == "__main__":
    main()
