#pragma once
// Resampling family on NCHW planes to an exact output size, PyTorch semantics:
//   bilinear — F.interpolate(x, (OH, OW), mode='bilinear', align_corners=…): with a size given
//              the scale is in/out (align_corners=False, source (dst + ½)·scale − ½ clamped at
//              0) or (in−1)/(out−1) (align_corners=True, source dst·scale; 0 when out = 1);
//   nearest  — mode='nearest': source floor(dst · scale) with scale = in/out in f32, capped at
//              in − 1 (the same f32 arithmetic as PyTorch, so indices agree exactly).
// The source-index math below is shared by the CPU reference and the CUDA kernels. Backward
// passes are gathers: each input-gradient element sums the outputs that read it, found by a
// binary search over the (monotone) source index of the outputs — exact, no atomics.
#include <cmath>

#include "kernels/common.h"

namespace sakuga::kernels {

struct ResizeGeom {
  int64_t planes = 0;  // N·C
  int64_t H = 0, W = 0, OH = 0, OW = 0;
  bool align_corners = false;  // bilinear only
};

// ---- bilinear ---------------------------------------------------------------------------
// A is the arithmetic type of the source coordinate (T on the CPU, f32 on the GPU).
template <class A>
SAKUGA_HD A linear_scale(int64_t in, int64_t out, bool align_corners) {
  if (align_corners) return out > 1 ? A(in - 1) / A(out - 1) : A(0);
  return A(in) / A(out);
}

// Products and sums rounded separately (no fused multiply-add on the GPU), so that the CPU and
// the CUDA kernels, and the forward and the backward, agree on every source index.
SAKUGA_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SAKUGA_HD double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

template <class A>
SAKUGA_HD A linear_src(int64_t o, A scale, bool align_corners) {
  if (align_corners) return mul_rn(scale, A(o));
  A src = mul_rn(scale, A(o) + A(0.5)) - A(0.5);
  return src < A(0) ? A(0) : src;
}

// Output o reads inputs i0 (weight l0) and i1 = i0 + 1, or i0 again at the last row (weight l1).
template <class A>
struct LinearTap {
  int64_t i0, i1;
  A l0, l1;
};

template <class A>
SAKUGA_HD int64_t linear_i0(int64_t o, A scale, bool align_corners, int64_t in) {
  int64_t i0 = int64_t(linear_src(o, scale, align_corners));
  return i0 < in - 1 ? i0 : in - 1;
}

template <class A>
SAKUGA_HD LinearTap<A> linear_tap(int64_t o, A scale, bool align_corners, int64_t in) {
  A src = linear_src(o, scale, align_corners);
  int64_t i0 = int64_t(src);
  if (i0 > in - 1) i0 = in - 1;
  LinearTap<A> t;
  t.i0 = i0;
  t.i1 = i0 < in - 1 ? i0 + 1 : i0;
  t.l1 = src - A(i0);
  t.l0 = A(1) - t.l1;
  return t;
}

// Weight with which output o reads input i (0 when it does not read it).
template <class A>
SAKUGA_HD A linear_weight(const LinearTap<A>& t, int64_t i) {
  return (t.i0 == i ? t.l0 : A(0)) + (t.i1 == i ? t.l1 : A(0));
}

// First output o in [0, out] with linear_i0(o) ≥ target (out when none). i0 is monotone in o.
template <class A>
SAKUGA_HD int64_t linear_first_at_least(int64_t target, A scale, bool align_corners, int64_t in, int64_t out) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (linear_i0(mid, scale, align_corners, in) >= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// Outputs [lo, hi) that read input i: those with i0 ∈ {i − 1, i}.
template <class A>
SAKUGA_HD void linear_cover(int64_t i, A scale, bool align_corners, int64_t in, int64_t out, int64_t& lo,
                            int64_t& hi) {
  lo = linear_first_at_least(i - 1, scale, align_corners, in, out);
  hi = linear_first_at_least(i + 1, scale, align_corners, in, out);
}

// ---- nearest ----------------------------------------------------------------------------
SAKUGA_HD float nearest_scale(int64_t in, int64_t out) { return float(in) / float(out); }

SAKUGA_HD int64_t nearest_src(int64_t o, float scale, int64_t in) {
  int64_t s = int64_t(floorf(mul_rn(float(o), scale)));
  return s < in - 1 ? s : in - 1;
}

// Outputs [lo, hi) whose source is input i.
SAKUGA_HD void nearest_cover(int64_t i, float scale, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
  int64_t a = 0, b = out;
  while (a < b) {
    int64_t m = a + (b - a) / 2;
    if (nearest_src(m, scale, in) >= i) b = m;
    else a = m + 1;
  }
  lo = a;
  b = out;
  while (a < b) {
    int64_t m = a + (b - a) / 2;
    if (nearest_src(m, scale, in) >= i + 1) b = m;
    else a = m + 1;
  }
  hi = a;
}

namespace cpu {
template <class T>
void resize_bilinear_forward(const T* x, T* y, const ResizeGeom& g);
template <class T>
void resize_bilinear_backward(const T* gy, T* gx, const ResizeGeom& g);
template <class T>
void resize_nearest_forward(const T* x, T* y, const ResizeGeom& g);
template <class T>
void resize_nearest_backward(const T* gy, T* gx, const ResizeGeom& g);
}  // namespace cpu

namespace cuda {
// dtype: f32 or bf16 (math in f32).
void resize_bilinear_forward(DType dtype, const void* x, void* y, const ResizeGeom& g, Stream s);
void resize_bilinear_backward(DType dtype, const void* gy, void* gx, const ResizeGeom& g, Stream s);
void resize_nearest_forward(DType dtype, const void* x, void* y, const ResizeGeom& g, Stream s);
void resize_nearest_backward(DType dtype, const void* gy, void* gx, const ResizeGeom& g, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
