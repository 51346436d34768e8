#pragma once
// Area (box-filter) resampling of planar images on the CPU: every output pixel is the average of
// the source pixels it covers, each weighted by the covered fraction of its area (PIL's BOX
// filter, OpenCV's INTER_AREA when shrinking). Used to bring dataset images of any size to a
// network's input size and to anti-alias supersampled drawings. Not differentiable: data only.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data {

// The planar image (C, h, w) in `src` (row-major per channel) resampled to (C, out_h, out_w).
// Output pixel (x, y) covers the source rectangle [x·w/out_w, (x+1)·w/out_w) ×
// [y·h/out_h, (y+1)·h/out_h); the weights are separable, so the 2-D overlap is exact.
std::vector<float> resize_area(const std::vector<float>& src, int64_t channels, int64_t h, int64_t w, int64_t out_h,
                               int64_t out_w);
// The same on a CPU f32 tensor (C, h, w) → (C, out_h, out_w).
Tensor resize_area(const Tensor& chw, int64_t out_h, int64_t out_w);

// The central square of (C, h, w), side min(h, w), at offset ((w − side)/2, (h − side)/2)
// rounded down, area-resampled to (C, size, size): "resize the short side to `size`, then crop
// the centre", without an intermediate image.
Tensor center_crop_resize_area(const Tensor& chw, int64_t size);

}  // namespace sakuga::data
