#pragma once
// Pooling family on NCHW planes (PyTorch semantics): max_pool2d (with the argmax saved for the
// backward), avg_pool2d (count_include_pad, ceil_mode divisor rules) and adaptive_avg_pool2d.
// A tensor (N, C, H, W) is seen as N·C independent planes of H×W. The window arithmetic below
// is shared by the CPU reference and the CUDA kernels, so both use the same formulas.
//
// Backward passes are gathers: every input-gradient element sums, in a fixed order, the
// output gradients of the windows that cover it (no atomics on the GPU).
#include "kernels/common.h"

namespace sakuga::kernels {

// Geometry of max/avg pooling (dilation 1).
struct Pool2dGeom {
  int64_t planes = 0;       // N·C
  int64_t H = 0, W = 0;     // input plane
  int64_t OH = 0, OW = 0;   // output plane (from pool_out_size)
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  bool count_include_pad = true;  // avg only
};

// Geometry of adaptive pooling: window i covers [floor(i·in/out), ceil((i+1)·in/out)).
struct AdaptivePoolGeom {
  int64_t planes = 0;
  int64_t H = 0, W = 0, OH = 0, OW = 0;
};

// PyTorch's pooling_output_shape (dilation 1): floor or ceil of (in + 2p − k)/s, plus one; in
// ceil mode the last window must start inside the input or the left padding.
SAKUGA_HD int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  int64_t num = in + 2 * p - k + (ceil_mode ? s - 1 : 0);
  // floor division (num may be negative for too-small inputs)
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

// Range [lo, hi] of output indices whose pooling window (start o·s − p, length k) covers input
// index i. Empty when lo > hi.
SAKUGA_HD void pool_cover(int64_t i, int64_t k, int64_t s, int64_t p, int64_t out, int64_t& lo, int64_t& hi) {
  int64_t a = i + p - (k - 1);  // o·s ≥ a
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = (i + p) / s;  // o·s ≤ i + p  (i + p ≥ 0)
  if (hi > out - 1) hi = out - 1;
}

// avg_pool2d divisor of output (oh, ow), PyTorch's rule: the window is first clipped to the
// padded input (this is where ceil_mode windows lose their overhang), which gives the
// count_include_pad size; otherwise the count of real input elements in the window.
SAKUGA_HD int64_t avg_pool_divisor(const Pool2dGeom& g, int64_t oh, int64_t ow) {
  int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  int64_t h1 = h0 + g.kh < g.H + g.ph ? h0 + g.kh : g.H + g.ph;
  int64_t w1 = w0 + g.kw < g.W + g.pw ? w0 + g.kw : g.W + g.pw;
  if (g.count_include_pad) return (h1 - h0) * (w1 - w0);
  h0 = h0 < 0 ? 0 : h0;
  w0 = w0 < 0 ? 0 : w0;
  h1 = h1 < g.H ? h1 : g.H;
  w1 = w1 < g.W ? w1 : g.W;
  return (h1 - h0) * (w1 - w0);
}

// Adaptive window [start, end) of output index o.
SAKUGA_HD int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
SAKUGA_HD int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }
// Output range [lo, hi) whose adaptive windows contain input index i.
SAKUGA_HD void adaptive_cover(int64_t i, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
  lo = (i * out) / in;                     // end(o) > i  ⟺  o ≥ floor(i·out/in)
  hi = ((i + 1) * out + in - 1) / in;      // start(o) ≤ i  ⟺  o < ceil((i+1)·out/in)
  if (hi > out) hi = out;
}

namespace cpu {
// x (planes, H, W) → y (planes, OH, OW); idx holds the plane-local index h·W + w of the first
// maximal element in window scan order (padding counts as −inf; NaN wins, as in PyTorch).
template <class T>
void max_pool2d_forward(const T* x, T* y, int32_t* idx, const Pool2dGeom& g);
// gx = Σ gy over the outputs whose argmax is the element (gx is fully written).
template <class T>
void max_pool2d_backward(const T* gy, const int32_t* idx, T* gx, const Pool2dGeom& g);
template <class T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g);
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g);
template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, const AdaptivePoolGeom& g);
template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, const AdaptivePoolGeom& g);
}  // namespace cpu

namespace cuda {
// dtype: f32 or bf16 (math in f32).
void max_pool2d_forward(DType dtype, const void* x, void* y, int32_t* idx, const Pool2dGeom& g, Stream s);
void max_pool2d_backward(DType dtype, const void* gy, const int32_t* idx, void* gx, const Pool2dGeom& g, Stream s);
void avg_pool2d_forward(DType dtype, const void* x, void* y, const Pool2dGeom& g, Stream s);
void avg_pool2d_backward(DType dtype, const void* gy, void* gx, const Pool2dGeom& g, Stream s);
void adaptive_avg_pool2d_forward(DType dtype, const void* x, void* y, const AdaptivePoolGeom& g, Stream s);
void adaptive_avg_pool2d_backward(DType dtype, const void* gy, void* gx, const AdaptivePoolGeom& g, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
