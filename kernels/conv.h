#pragma once
// Convolution family: 2-D convolution forward, its data gradient and its filter gradient,
// plus the per-channel bias add / bias gradient. conv_transpose2d is the adjoint of conv2d and
// reuses the same three kernels with the roles swapped (see tensor/ops/conv.cpp):
//   conv_transpose2d forward      = conv2d_backward_data
//   conv_transpose2d input grad   = conv2d_forward
//   conv_transpose2d weight grad  = conv2d_backward_filter (x ↔ gy swapped)
//
// Layouts (all contiguous NCHW):
//   x  (n, c_in,  h,  w)          — the conv2d input
//   w  (c_out, c_in/groups, kh, kw)
//   y  (n, c_out, ho, wo)         — the conv2d output
//   ho = (h + 2·pad_h − dil_h·(kh − 1) − 1) / stride_h + 1   (same for wo)
// CPU: im2col + GEMM (OpenBLAS) per group, col2im for the data gradient.
// CUDA: cuDNN, algorithm chosen once per (geometry, dtype, direction, precision, determinism).
#include "kernels/common.h"

namespace sakuga::kernels {

struct ConvGeometry {
  int64_t n = 0;                   // batch
  int64_t c_in = 0, h = 0, w = 0;  // conv2d input
  int64_t c_out = 0, ho = 0, wo = 0;  // conv2d output
  int64_t kh = 0, kw = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t groups = 1;

  int64_t c_in_g() const { return c_in / groups; }
  int64_t c_out_g() const { return c_out / groups; }
  // Output size of a conv2d along one dim (may be ≤ 0 when the kernel does not fit).
  static int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
    int64_t span = in + 2 * pad - dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
  }
};

namespace cpu {
// y = conv2d(x, w) (+ bias[c_out] when bias != nullptr). y is overwritten.
template <class T>
void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);
// gx = dL/dx given gy = dL/dy. gx is overwritten.
template <class T>
void conv2d_backward_data(const ConvGeometry& g, const T* gy, const T* w, T* gx);
// gw = dL/dw given x and gy. gw is overwritten.
template <class T>
void conv2d_backward_filter(const ConvGeometry& g, const T* x, const T* gy, T* gw);
// y[n, c, :] += bias[c] for y (n, c, hw).
template <class T>
void bias_add(T* y, const T* bias, int64_t n, int64_t c, int64_t hw);
// gb[c] = Σ_{n, hw} gy[n, c, hw] (fixed summation order). gb is overwritten.
template <class T>
void bias_grad(const T* gy, T* gb, int64_t n, int64_t c, int64_t hw);
}  // namespace cpu

namespace cuda {
// dtype: f32 or bf16 (bf16 storage, f32 accumulation). Math per device::precision():
// fp32 → FMA only, tf32 / bf16 → tensor cores allowed. Deterministic algorithms only while
// device::deterministic() is on. Same semantics as the CPU functions above.
void conv2d_forward(const ConvGeometry& g, DType dtype, const void* x, const void* w, const void* bias,
                    void* y, Stream s);
void conv2d_backward_data(const ConvGeometry& g, DType dtype, const void* gy, const void* w, void* gx,
                          Stream s);
void conv2d_backward_filter(const ConvGeometry& g, DType dtype, const void* x, const void* gy, void* gw,
                            Stream s);
void bias_add(DType dtype, void* y, const void* bias, int64_t n, int64_t c, int64_t hw, Stream s);
// Deterministic: one block per channel, fixed-order tree reduction, no atomics.
void bias_grad(DType dtype, const void* gy, void* gb, int64_t n, int64_t c, int64_t hw, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
