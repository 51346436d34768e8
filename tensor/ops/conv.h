#pragma once
// Convolution family. CPU: im2col + GEMM (OpenBLAS). CUDA: cuDNN, algorithm chosen once per
// shape and cached (deterministic algorithms unless deterministic mode is off).
#include "tensor/tensor.h"

namespace sakuga::ops {

struct Conv2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

// x (N, Cin, H, W), weight (Cout, Cin/groups, kh, kw), bias (Cout) optional → (N, Cout, Ho, Wo).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);

struct ConvTranspose2dParams {
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int output_pad_h = 0, output_pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

// x (N, Cin, H, W), weight (Cin, Cout/groups, kh, kw) (PyTorch layout), bias (Cout) optional.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvTranspose2dParams& p);

}  // namespace sakuga::ops
