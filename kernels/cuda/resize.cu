// CUDA resampling family: one thread per output element in the forward passes; the backward
// passes are gathers (one thread per input element; the outputs that read it are found by a
// binary search over their monotone source index, then summed in a fixed order), so they are
// deterministic without atomics. bf16 storage computes in f32.
#include "kernels/cuda/check.cuh"
#include "kernels/resize.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;
using sakuga::cuda::cp;
using sakuga::cuda::mp;

namespace {

template <class T>
__global__ void bilinear_fwd_kernel(const T* x, T* y, ResizeGeom g, float sh, float sw, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    LinearTap<float> a = linear_tap<float>(oh, sh, g.align_corners, g.H);
    LinearTap<float> b = linear_tap<float>(ow, sw, g.align_corners, g.W);
    const T* r0 = xp + a.i0 * g.W;
    const T* r1 = xp + a.i1 * g.W;
    float v = a.l0 * (b.l0 * load(r0, b.i0) + b.l1 * load(r0, b.i1)) +
              a.l1 * (b.l0 * load(r1, b.i0) + b.l1 * load(r1, b.i1));
    store(y, i, v);
  }
}

template <class T>
__global__ void bilinear_bwd_kernel(const T* gy, T* gx, ResizeGeom g, float sh, float sw, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    linear_cover<float>(h, sh, g.align_corners, g.H, g.OH, oh0, oh1);
    linear_cover<float>(w, sw, g.align_corners, g.W, g.OW, ow0, ow1);
    const T* gyp = gy + p * g.OH * g.OW;
    float s = 0.f;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      float wy = linear_weight(linear_tap<float>(oh, sh, g.align_corners, g.H), h);
      float row = 0.f;
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        float wx = linear_weight(linear_tap<float>(ow, sw, g.align_corners, g.W), w);
        row += wx * load(gyp, oh * g.OW + ow);
      }
      s += wy * row;
    }
    store(gx, i, s);
  }
}

template <class T>
__global__ void nearest_fwd_kernel(const T* x, T* y, ResizeGeom g, float sh, float sw, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    int64_t h = nearest_src(oh, sh, g.H), w = nearest_src(ow, sw, g.W);
    store(y, i, load(x, (p * g.H + h) * g.W + w));
  }
}

template <class T>
__global__ void nearest_bwd_kernel(const T* gy, T* gx, ResizeGeom g, float sh, float sw, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    nearest_cover(h, sh, g.H, g.OH, oh0, oh1);
    nearest_cover(w, sw, g.W, g.OW, ow0, ow1);
    const T* gyp = gy + p * g.OH * g.OW;
    float s = 0.f;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) s += load(gyp, oh * g.OW + ow);
    store(gx, i, s);
  }
}

}  // namespace

void resize_bilinear_forward(DType dtype, const void* x, void* y, const ResizeGeom& g, Stream s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n == 0) return;
  float sh = linear_scale<float>(g.H, g.OH, g.align_corners), sw = linear_scale<float>(g.W, g.OW, g.align_corners);
  sakuga::cuda::dispatch_float_bf16("resize_bilinear", dtype, [&](auto t) {
    using T = decltype(t);
    bilinear_fwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(x), mp<T>(y), g, sh, sw, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void resize_bilinear_backward(DType dtype, const void* gy, void* gx, const ResizeGeom& g, Stream s) {
  int64_t n = g.planes * g.H * g.W;
  if (n == 0) return;
  float sh = linear_scale<float>(g.H, g.OH, g.align_corners), sw = linear_scale<float>(g.W, g.OW, g.align_corners);
  sakuga::cuda::dispatch_float_bf16("resize_bilinear_backward", dtype, [&](auto t) {
    using T = decltype(t);
    bilinear_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(gy), mp<T>(gx), g, sh, sw, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void resize_nearest_forward(DType dtype, const void* x, void* y, const ResizeGeom& g, Stream s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n == 0) return;
  float sh = nearest_scale(g.H, g.OH), sw = nearest_scale(g.W, g.OW);
  sakuga::cuda::dispatch_float_bf16("resize_nearest", dtype, [&](auto t) {
    using T = decltype(t);
    nearest_fwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(x), mp<T>(y), g, sh, sw, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void resize_nearest_backward(DType dtype, const void* gy, void* gx, const ResizeGeom& g, Stream s) {
  int64_t n = g.planes * g.H * g.W;
  if (n == 0) return;
  float sh = nearest_scale(g.H, g.OH), sw = nearest_scale(g.W, g.OW);
  sakuga::cuda::dispatch_float_bf16("resize_nearest_backward", dtype, [&](auto t) {
    using T = decltype(t);
    nearest_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(gy), mp<T>(gx), g, sh, sw, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
