"""What check_seg.py and check_rtstruct.py share: the organs' expected names and codes, the
label map the test wrote, and the source series (its slices in the library's order)."""
import os
import sys

import numpy as np
import pydicom

KIDNEY, ADRENAL = "64033007", "23451007"
EXPECTED = {  # organ name -> (label value, SNOMED CT type code, laterality code or None)
    "spleen": (1, "78961009", None),
    "right kidney": (2, KIDNEY, "24028007"),
    "left kidney": (3, KIDNEY, "7771000"),
    "gallbladder": (4, "28231008", None),
    "esophagus": (5, "32849002", None),
    "liver": (6, "10200004", None),
    "stomach": (7, "69695003", None),
    "aorta": (8, "15825003", None),
    "inferior vena cava": (9, "64131007", None),
    "portal and splenic veins": (10, "32764006", None),
    "pancreas": (11, "15776009", None),
    "right adrenal gland": (12, ADRENAL, "24028007"),
    "left adrenal gland": (13, ADRENAL, "7771000"),
}


class Source:
    """The slices of `series_uid` in `folder`: positions by SOPInstanceUID, the first
    dataset read, the orientation and the slices' order along the normal."""

    def __init__(self, folder, series_uid):
        self.series_uid, self.positions, self.first = series_uid, {}, None
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:
                continue
            if ds.get("SeriesInstanceUID") != series_uid:
                continue
            self.positions[ds.SOPInstanceUID] = np.array([float(v) for v in ds.ImagePositionPatient])
            self.first = self.first or ds
        iop = np.array([float(v) for v in self.first.ImageOrientationPatient])
        self.row_dir, self.col_dir = iop[:3], iop[3:]
        self.normal = np.cross(self.row_dir, self.col_dir)
        order = sorted(self.positions, key=lambda uid: float(np.dot(self.positions[uid], self.normal)))
        self.slice_of = {uid: k for k, uid in enumerate(order)}


def arguments(argv):
    """OBJECT.dcm SOURCE_DIR SERIES_UID LABELS.raw COLUMNS ROWS SLICES: the object's path,
    the label map the test wrote (uint8, column fastest, then row, then slice) and the
    source series, which must have SLICES slices (else the check ends here, failed)."""
    path, folder, series_uid, raw = argv[1:5]
    cols, rows, slices = (int(v) for v in argv[5:8])
    src = Source(folder, series_uid)
    if len(src.positions) != slices:
        print(f"source series has {len(src.positions)} slices, expected {slices}")
        sys.exit(1)
    return path, np.fromfile(raw, dtype=np.uint8).reshape(slices, rows, cols), src
