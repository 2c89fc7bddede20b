#!/usr/bin/python3
"""Checks a DICOM SEG written by swinunetr with pydicom, independently of DCMTK.

usage: check_seg.py SEG.dcm SOURCE_DIR SERIES_UID LABELS.raw COLUMNS ROWS SLICES
  LABELS.raw: the label map that was written, uint8, column index fastest, then row,
  then slice (slices ascending along the normal, as the library orders them).
Checks the SOP class, the references to the source series, each segment's codes and
algorithm, that every frame lies on (and references) its source slice, and that the
label map rebuilt from the frames equals LABELS.raw. Prints "OK ..." and exits 0, or
prints what differs and exits 1.
"""
import sys

import numpy as np
import pydicom

from source_series import EXPECTED, arguments

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"

errors = []


def expect(condition, message):
    if not condition:
        errors.append(message)


def main():
    seg_path, expected, src = arguments(sys.argv)
    slices, rows, cols = expected.shape
    series_uid, source, first, slice_of = src.series_uid, src.positions, src.first, src.slice_of
    iop = np.concatenate([src.row_dir, src.col_dir])

    seg = pydicom.dcmread(seg_path)
    expect(seg.SOPClassUID == SEG_STORAGE, f"SOP class {seg.SOPClassUID}")
    expect(seg.Modality == "SEG", f"modality {seg.Modality}")
    expect(seg.SegmentationType == "BINARY", f"segmentation type {seg.SegmentationType}")
    for key in ("StudyInstanceUID", "PatientID", "FrameOfReferenceUID"):
        expect(seg.get(key) == first.get(key), f"{key} {seg.get(key)} differs from the source's {first.get(key)}")
    expect(seg.SeriesInstanceUID != series_uid, "the SEG reuses the source's SeriesInstanceUID")
    expect(int(seg.Rows) == rows and int(seg.Columns) == cols, f"frame size {seg.Columns} x {seg.Rows}")
    refs = seg.ReferencedSeriesSequence
    expect(len(refs) == 1 and refs[0].SeriesInstanceUID == series_uid, "ReferencedSeriesSequence does not name the source series")
    referenced = {item.ReferencedSOPInstanceUID for item in refs[0].ReferencedInstanceSequence}
    expect(referenced == set(source), "ReferencedInstanceSequence is not the source series' slices")
    shared = seg.SharedFunctionalGroupsSequence[0]
    seg_iop = np.array([float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient])
    expect(np.allclose(seg_iop, iop, atol=1e-6), f"orientation {seg_iop} differs from the source's {iop}")
    spacing = [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing]
    expect(np.allclose(spacing, [float(v) for v in first.PixelSpacing], atol=1e-6), f"pixel spacing {spacing}")

    label_of_segment = {}
    names = []
    for item in seg.SegmentSequence:
        name = item.SegmentLabel
        names.append(name)
        if name not in EXPECTED:
            errors.append(f"unexpected segment label '{name}'")
            continue
        label, type_code, laterality = EXPECTED[name]
        label_of_segment[int(item.SegmentNumber)] = label
        category = item.SegmentedPropertyCategoryCodeSequence[0]
        expect((category.CodeValue, category.CodingSchemeDesignator) == ("123037004", "SCT"), f"{name}: category {category.CodeValue}")
        t = item.SegmentedPropertyTypeCodeSequence[0]
        expect((t.CodeValue, t.CodingSchemeDesignator) == (type_code, "SCT"), f"{name}: type {t.CodeValue}")
        modifiers = [m.CodeValue for m in t.get("SegmentedPropertyTypeModifierCodeSequence", [])]
        expect(modifiers == ([laterality] if laterality else []), f"{name}: modifiers {modifiers}")
        expect(item.SegmentAlgorithmType == "AUTOMATIC", f"{name}: algorithm type {item.SegmentAlgorithmType}")
        expect(item.SegmentAlgorithmName == "swinunetr", f"{name}: algorithm name {item.SegmentAlgorithmName}")
        algo = item.SegmentationAlgorithmIdentificationSequence[0]
        expect(algo.AlgorithmName == "swinunetr" and algo.AlgorithmVersion, f"{name}: algorithm identification")
        expect(len(item.RecommendedDisplayCIELabValue) == 3, f"{name}: no display colour")

    frames = seg.pixel_array.reshape(int(seg.NumberOfFrames), rows, cols)
    rebuilt = np.zeros_like(expected)
    for f, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        source_uid = fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        if source_uid not in slice_of:
            errors.append(f"frame {f + 1} references {source_uid}, not a slice of the source series")
            continue
        k = slice_of[source_uid]
        position = np.array([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient])
        expect(np.allclose(position, source[source_uid], atol=1e-4),
               f"frame {f + 1} at {position}, its source slice at {source[source_uid]}")
        mask = frames[f] != 0
        expect(mask.any(), f"frame {f + 1} is empty")
        expect(not (rebuilt[k][mask] != 0).any(), f"frame {f + 1} overlaps another segment")
        rebuilt[k][mask] = label_of_segment.get(number, 255)
    pairs = sum(int((expected[k] == label).any()) for label in range(1, 14) for k in range(slices))
    expect(int(seg.NumberOfFrames) == pairs, f"{seg.NumberOfFrames} frames, expected {pairs} (one per organ and slice it touches)")
    expect(sorted(set(label_of_segment.values())) == sorted(set(np.unique(expected)) - {0}), f"segments {names}")
    if not np.array_equal(rebuilt, expected):
        errors.append(f"the rebuilt label map differs in {int((rebuilt != expected).sum())} voxels")
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"OK {len(names)} segments, {int(seg.NumberOfFrames)} frames: {', '.join(names)}")


if __name__ == "__main__":
    main()
