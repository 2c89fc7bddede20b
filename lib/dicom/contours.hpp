// Tracing the outlines of a binary mask on one slice as closed polygons, for a DICOM RT
// Structure Set (CLOSED_PLANAR contours).
//
// The polygons run along the pixels' borders (vertices on pixel corners), so that a
// reader which fills them by the even-odd rule, testing pixel centres, gets back exactly
// the mask: no pixel centre lies on an edge, and the enclosed area is the mask's area.
// Outer borders and the borders of holes are separate polygons (a hole is a polygon
// inside its organ's polygon, an island in the hole a polygon inside that, and so on);
// pixels that touch only at a corner belong to separate polygons. Each polygon is
// simple: no vertex appears twice (a border that pinches at a corner is cut there into
// two polygons, which leaves the even-odd fill unchanged). Collinear vertices are dropped.
#pragma once

#include <cstdint>
#include <vector>

namespace swu {

struct ContourPoint {
    int32_t x, y;  // pixel corner: pixel (i, j) spans corners (i, j) .. (i + 1, j + 1)
    bool operator==(const ContourPoint& o) const { return x == o.x && y == o.y; }
};

using Contour = std::vector<ContourPoint>;  // closed: the last point joins the first

// The borders of the pixels where mask[i + columns * j] != 0 (i < columns, j < rows).
// Outer borders run clockwise as seen with j pointing down, holes counterclockwise.
std::vector<Contour> trace_contours(const uint8_t* mask, int64_t columns, int64_t rows);

}  // namespace swu
