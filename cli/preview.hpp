// `swinunetr segment --preview FILE.png`: a picture to check a segmentation at a glance.
// Axial, coronal and sagittal slices through the centre of the organs found (the mean
// position of their voxels), in patient orientation whatever the volume's axes
// (radiological convention: the patient's right on the picture's left; axial seen from
// the feet, coronal from the front, sagittal from the patient's left), square
// millimetres per pixel, the CT in the abdominal window (W400/L40), each organ as a
// semi-transparent fill in its display colour (swu_label_color) with an opaque outline,
// orientation letters on the panels' edges, and a legend naming every organ present with
// its volume.
#pragma once

#include <array>
#include <string>

#include "picture.hpp"
#include "swinunetr/swinunetr.h"

namespace swu_cli {

// The largest panel side, in pixels.
constexpr int kPreviewPanelPixels = 420;

// Where a panel lies in the picture, in pixels.
struct PanelBox {
    int x = 0, y = 0, width = 0, height = 0;
};

// `labels` (classes 0..13) lies on `image`'s grid. Throws std::runtime_error when not.
// `panels`, when given, receives the axial, coronal and sagittal panels' places.
Picture render_preview(const swu_volume_info& image, const swu_volume_info& labels, std::array<PanelBox, 3>* panels = nullptr);

// render_preview, written as PNG (atomically). Throws std::runtime_error naming the file.
void write_preview(const std::string& path, const swu_volume* image, const swu_volume* labels);

}  // namespace swu_cli
