#!/usr/bin/python3
"""Checks a DICOM RT Structure Set written by swinunetr with pydicom, independently of DCMTK.

usage: check_rtstruct.py RTSTRUCT.dcm SOURCE_DIR SERIES_UID LABELS.raw COLUMNS ROWS SLICES
  LABELS.raw: the label map that was written, uint8, column index fastest, then row,
  then slice (slices ascending along the normal, as the library orders them).
Checks the SOP class, the references to the frame of reference, study, series and
slices, each ROI's name, number, codes and colour, that every contour is closed planar
and lies on the slice it references; then fills each organ's contours again on their
slices (even-odd rule at the pixel centres) and compares with the organ's voxels there:
at least 98 % of them covered, and at most 2 % of them added. Prints "OK ..." with the
coverage and exits 0, or prints what differs and exits 1.
"""
import sys

import numpy as np
import pydicom

from source_series import EXPECTED, arguments

RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"

errors = []


def expect(condition, message):
    if not condition:
        errors.append(message)


def fill(polygons, cols, rows):
    """Even-odd fill of polygons (arrays of (u, v) in pixel units) at pixel centres (i, j)."""
    out = np.zeros((rows, cols), dtype=bool)
    if not polygons:
        return out
    a = np.concatenate(polygons)
    b = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    columns = np.arange(cols)
    for j in range(rows):
        crossing = (a[:, 1] > j) != (b[:, 1] > j)
        if not crossing.any():
            continue
        a0, b0 = a[crossing], b[crossing]
        xs = np.sort(a0[:, 0] + (j - a0[:, 1]) * (b0[:, 0] - a0[:, 0]) / (b0[:, 1] - a0[:, 1]))
        out[j] = np.searchsorted(xs, columns) % 2 == 1  # crossings left of the centre
    return out


def main():
    path, expected, src = arguments(sys.argv)
    slices, rows, cols = expected.shape
    series_uid, source, first, slice_of = src.series_uid, src.positions, src.first, src.slice_of
    row_dir, col_dir, normal = src.row_dir, src.col_dir, src.normal
    row_spacing, col_spacing = (float(v) for v in first.PixelSpacing)

    rt = pydicom.dcmread(path)
    expect(rt.SOPClassUID == RTSTRUCT_STORAGE, f"SOP class {rt.SOPClassUID}")
    expect(rt.file_meta.MediaStorageSOPClassUID == RTSTRUCT_STORAGE, "meta header SOP class")
    expect(rt.Modality == "RTSTRUCT", f"modality {rt.Modality}")
    for key in ("StudyInstanceUID", "PatientID", "PatientName"):
        expect(rt.get(key) == first.get(key), f"{key} {rt.get(key)} differs from the source's {first.get(key)}")
    expect(rt.SeriesInstanceUID != series_uid, "the RTSTRUCT reuses the source's SeriesInstanceUID")
    frame_uid = first.FrameOfReferenceUID
    frames = rt.ReferencedFrameOfReferenceSequence
    expect(len(frames) == 1 and frames[0].FrameOfReferenceUID == frame_uid, "ReferencedFrameOfReferenceSequence")
    study = frames[0].RTReferencedStudySequence[0]
    expect(study.ReferencedSOPInstanceUID == first.StudyInstanceUID, "RTReferencedStudySequence names another study")
    series = study.RTReferencedSeriesSequence
    expect(len(series) == 1 and series[0].SeriesInstanceUID == series_uid, "RTReferencedSeriesSequence")
    images = {item.ReferencedSOPInstanceUID for item in series[0].ContourImageSequence}
    expect(images == set(source), "ContourImageSequence is not the source series' slices")

    label_of_roi, names = {}, []
    for item in rt.StructureSetROISequence:
        name = str(item.ROIName)
        names.append(name)
        if name not in EXPECTED:
            errors.append(f"unexpected ROI name '{name}'")
            continue
        label_of_roi[int(item.ROINumber)] = EXPECTED[name][0]
        expect(int(item.ROINumber) == EXPECTED[name][0], f"{name}: ROI number {item.ROINumber}")
        expect(item.ReferencedFrameOfReferenceUID == frame_uid, f"{name}: frame of reference")
        expect(item.ROIGenerationAlgorithm == "AUTOMATIC", f"{name}: generation algorithm {item.ROIGenerationAlgorithm}")
    present = sorted(set(np.unique(expected)) - {0})
    expect(sorted(label_of_roi.values()) == present, f"ROIs {names}, organs present {present}")

    for obs in rt.RTROIObservationsSequence:
        label = label_of_roi.get(int(obs.ReferencedROINumber))
        name = next((n for n, v in EXPECTED.items() if v[0] == label), None)
        if name is None:
            errors.append(f"observation of unknown ROI {obs.ReferencedROINumber}")
            continue
        expect(obs.RTROIInterpretedType == "ORGAN", f"{name}: interpreted type {obs.RTROIInterpretedType}")
        code = obs.RTROIIdentificationCodeSequence[0]
        _, type_code, laterality = EXPECTED[name]
        expect((code.CodeValue, code.CodingSchemeDesignator) == (type_code, "SCT"), f"{name}: code {code.CodeValue}")
        modifiers = [m.CodeValue for m in code.get("SegmentedPropertyTypeModifierCodeSequence", [])]
        expect(modifiers == ([laterality] if laterality else []), f"{name}: modifiers {modifiers}")
    expect(len(rt.RTROIObservationsSequence) == len(label_of_roi), "one observation per ROI")

    rebuilt = np.zeros_like(expected)
    contours = points = 0
    coverage = []
    for roi in rt.ROIContourSequence:
        label = label_of_roi.get(int(roi.ReferencedROINumber))
        if label is None:
            errors.append(f"contours of unknown ROI {roi.ReferencedROINumber}")
            continue
        expect(len(roi.ROIDisplayColor) == 3, f"label {label}: ROIDisplayColor")
        per_slice = {}
        for c in roi.get("ContourSequence", []):
            contours += 1
            expect(c.ContourGeometricType == "CLOSED_PLANAR", f"label {label}: geometric type {c.ContourGeometricType}")
            data = np.array([float(v) for v in c.ContourData]).reshape(-1, 3)
            points += len(data)
            expect(int(c.NumberOfContourPoints) == len(data), f"label {label}: NumberOfContourPoints")
            uid = c.ContourImageSequence[0].ReferencedSOPInstanceUID
            if uid not in slice_of:
                errors.append(f"label {label}: a contour references {uid}, not a source slice")
                continue
            d = data - source[uid]
            expect(np.abs(d @ normal).max() < 1e-3, f"label {label}: a contour leaves the plane of its slice")
            per_slice.setdefault(slice_of[uid], []).append(np.stack([d @ row_dir / col_spacing, d @ col_dir / row_spacing], 1))
        organ = expected == label
        covered = added = 0
        for k in range(slices):
            filled = fill(per_slice.get(k, []), cols, rows)
            covered += int((filled & organ[k]).sum())
            added += int((filled & ~organ[k]).sum())
            rebuilt[k][filled] = label
        total = int(organ.sum())
        coverage.append(f"{label}: {covered / total:.4f}")
        expect(covered >= 0.98 * total, f"label {label}: contours cover {covered} of its {total} voxels")
        expect(added <= 0.02 * total, f"label {label}: contours add {added} voxels to its {total}")
    exact = np.array_equal(rebuilt, expected)
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"OK {len(names)} ROIs, {contours} contours, {points} points; coverage {', '.join(coverage)}; "
          f"{'the label map exactly' if exact else 'not the exact label map'}")


if __name__ == "__main__":
    main()
