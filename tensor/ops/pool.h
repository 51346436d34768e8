#pragma once
// Pooling and resampling on NCHW tensors, PyTorch semantics.
#include "tensor/tensor.h"

namespace sakuga::ops {

struct Pool2dParams {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg_pool2d only
};

Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// Resize to an exact size: F.interpolate(x, (out_h, out_w), mode='bilinear', align_corners=…)
Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);
// F.interpolate(x, (out_h, out_w), mode='nearest'): src = floor(dst · in / out).
Tensor resize_nearest(const Tensor& x, int64_t out_h, int64_t out_w);

}  // namespace sakuga::ops
