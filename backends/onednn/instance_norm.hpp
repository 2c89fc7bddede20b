// InstanceNorm3d(affine=False, eps 1e-5) fused with what follows it in MONAI's
// UnetResBlock (the residual add, LeakyReLU 0.01): per item one pass over the data for
// the statistics (in float over 16 voxels, then in double, shifted by each channel's first
// value, so no cancellation) and one pass that normalises, adds and activates. oneDNN 2.6 has no
// instance norm; its batch norm sums in float (~1e-5 relative at 96^3 voxels) and would
// take three more passes for the add and the activation.
#pragma once

#include "tensor.hpp"

namespace swu_onednn {

// x = LeakyReLU(IN(x)), in place, in either layout. With bf16_out (x.size() values), the
// result also goes there, rounded to bf16 (to nearest even): a bf16 convolution's input,
// which would otherwise be rounded by a reorder pass of its own.
void instance_norm_lrelu(Act& x, uint16_t* bf16_out = nullptr);

// out = LeakyReLU(IN(out) + IN(shortcut)) when normalise_shortcut, else
// LeakyReLU(IN(out) + shortcut); out and shortcut in the same layout and shape.
void instance_norm_add_lrelu(Act& out, const Act& shortcut, bool normalise_shortcut);

}  // namespace swu_onednn
