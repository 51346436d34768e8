#pragma once
// Axial convolution family: the factorised k×1 / 1×k convolutions of the GCN head
// (shared/specs/gcn.md, GlobalConv). They are conv2d with stride 1, dilation 1, groups 1, an odd
// kernel k along one axis (1 along the other) and "same" padding k/2 on that axis only, so the
// output has the input's size. At thesis shapes one side has tiny channel counts
// (2048 → 10, 10 → 10 with k = 49), where im2col (CPU) and cuDNN's generic algorithms are a
// poor fit: these kernels exploit the structure instead.
//
//   x  (n, c_in,  h, w)
//   w  (c_out, c_in, k, 1)  when vertical (k×1),  (c_out, c_in, 1, k) otherwise (1×k)
//   y  (n, c_out, h, w)
//   y[n,o,i,j] = bias[o] + Σ_c Σ_t w[o,c,t] · x[n, c, i + t − k/2, j]   (vertical; zero outside)
//
// CPU: a sum of k shifted 1×1 convolutions, each one GEMM over a zero-padded copy of the input
// (no im2col buffer k times the input's size).
// CUDA: hand-written direct kernels (shared-memory tiles with a halo along the long axis,
// all output channels of a tile per block), f32 accumulation, deterministic (no atomics).
//
// conv2d (tensor/ops/conv.cpp) routes every geometry for which axial_conv_applies() holds to
// these kernels, on both devices, unless disabled with set_axial_conv_enabled(false) or the
// environment variable SAKUGA_AXIAL_CONV=0 (benchmarks compare against cuDNN / im2col that way).
#include "kernels/common.h"
#include "kernels/conv.h"

namespace sakuga::kernels {

struct AxialGeometry {
  int64_t n = 0, c_in = 0, c_out = 0, h = 0, w = 0;
  int64_t k = 1;          // odd
  bool vertical = true;   // true: k×1 (along h), false: 1×k (along w)
  int64_t pad() const { return k / 2; }
};

// True when g is a stride-1, dilation-1, groups-1 conv with an odd k×1 or 1×k kernel (k ≥ 3)
// and padding exactly (k/2, 0) or (0, k/2); fills *out (may be null) with the axial geometry.
bool axial_conv_applies(const ConvGeometry& g, AxialGeometry* out = nullptr);
// Process-wide switch (default on unless SAKUGA_AXIAL_CONV=0 is set at start-up).
bool axial_conv_enabled();
void set_axial_conv_enabled(bool on);

namespace cpu {
// y = conv(x, w) (+ bias when not null). y overwritten.
template <class T>
void axial_conv_forward(const AxialGeometry& g, const T* x, const T* w, const T* bias, T* y);
// gx = dL/dx from gy. gx overwritten.
template <class T>
void axial_conv_backward_data(const AxialGeometry& g, const T* gy, const T* w, T* gx);
// gw = dL/dw from x and gy. gw overwritten. (The bias gradient is conv's bias_grad.)
template <class T>
void axial_conv_backward_filter(const AxialGeometry& g, const T* x, const T* gy, T* gw);
}  // namespace cpu

namespace cuda {
// dtype f32 or bf16 (bf16 storage, f32 accumulation). Same semantics as the CPU functions.
void axial_conv_forward(const AxialGeometry& g, DType dtype, const void* x, const void* w, const void* bias,
                        void* y, Stream s);
void axial_conv_backward_data(const AxialGeometry& g, DType dtype, const void* gy, const void* w, void* gx,
                              Stream s);
void axial_conv_backward_filter(const AxialGeometry& g, DType dtype, const void* x, const void* gy, void* gw,
                                Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
