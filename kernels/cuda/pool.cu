// CUDA pooling family: one thread per output element in the forward passes; the backward
// passes are gathers (one thread per input element summing, in a fixed order, the output
// gradients of the windows that cover it), so they are deterministic without atomics.
// bf16 storage computes in f32.
#include <cfloat>

#include "kernels/cuda/check.cuh"
#include "kernels/pool.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;
using sakuga::cuda::cp;
using sakuga::cuda::mp;

namespace {

template <class T>
__global__ void max_pool_fwd_kernel(const T* x, T* y, int32_t* idx, Pool2dGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
    int64_t h1 = min(h0 + g.kh, g.H), w1 = min(w0 + g.kw, g.W);
    h0 = max(h0, int64_t(0));
    w0 = max(w0, int64_t(0));
    int64_t best = h0 * g.W + w0;
    float mx = -INFINITY;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) {
        float v = load(xp, h * g.W + w);
        if (v > mx || isnan(v)) {
          mx = v;
          best = h * g.W + w;
        }
      }
    store(y, i, mx);
    idx[i] = int32_t(best);
  }
}

template <class T>
__global__ void max_pool_bwd_kernel(const T* gy, const int32_t* idx, T* gx, Pool2dGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    pool_cover(h, g.kh, g.sh, g.ph, g.OH, oh0, oh1);
    pool_cover(w, g.kw, g.sw, g.pw, g.OW, ow0, ow1);
    const int64_t base = p * g.OH * g.OW;
    const int32_t self = int32_t(h * g.W + w);
    float s = 0.f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        int64_t o = base + oh * g.OW + ow;
        if (idx[o] == self) s += load(gy, o);
      }
    store(gx, i, s);
  }
}

template <class T>
__global__ void avg_pool_fwd_kernel(const T* x, T* y, Pool2dGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    int64_t h0 = max(oh * g.sh - g.ph, int64_t(0)), w0 = max(ow * g.sw - g.pw, int64_t(0));
    int64_t h1 = min(oh * g.sh - g.ph + g.kh, g.H), w1 = min(ow * g.sw - g.pw + g.kw, g.W);
    float s = 0.f;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) s += load(xp, h * g.W + w);
    int64_t div = avg_pool_divisor(g, oh, ow);
    store(y, i, (h0 < h1 && w0 < w1 && div > 0) ? s / float(div) : 0.f);
  }
}

template <class T>
__global__ void avg_pool_bwd_kernel(const T* gy, T* gx, Pool2dGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    pool_cover(h, g.kh, g.sh, g.ph, g.OH, oh0, oh1);
    pool_cover(w, g.kw, g.sw, g.pw, g.OW, ow0, ow1);
    const int64_t base = p * g.OH * g.OW;
    float s = 0.f;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        int64_t div = avg_pool_divisor(g, oh, ow);
        if (div > 0) s += load(gy, base + oh * g.OW + ow) / float(div);
      }
    store(gx, i, s);
  }
}

template <class T>
__global__ void adaptive_fwd_kernel(const T* x, T* y, AdaptivePoolGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
    int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
    float s = 0.f;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) s += load(xp, h * g.W + w);
    store(y, i, s / float((h1 - h0) * (w1 - w0)));
  }
}

// Large windows (global average pooling): one warp per output, lanes stride over the window
// and combine with a fixed shuffle tree (deterministic).
template <class T>
__global__ void adaptive_fwd_warp_kernel(const T* x, T* y, AdaptivePoolGeom g, int64_t n) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; i < n; i += warps) {
    int64_t ow = i % g.OW, oh = (i / g.OW) % g.OH, p = i / (g.OW * g.OH);
    const T* xp = x + p * g.H * g.W;
    int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
    int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
    int64_t wn = w1 - w0, cnt = (h1 - h0) * wn;
    float s = 0.f;
    for (int64_t k = lane; k < cnt; k += 32) s += load(xp, (h0 + k / wn) * g.W + w0 + k % wn);
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) store(y, i, s / float(cnt));
  }
}

template <class T>
__global__ void adaptive_bwd_kernel(const T* gy, T* gx, AdaptivePoolGeom g, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    int64_t w = i % g.W, h = (i / g.W) % g.H, p = i / (g.W * g.H);
    int64_t oh0, oh1, ow0, ow1;
    adaptive_cover(h, g.H, g.OH, oh0, oh1);
    adaptive_cover(w, g.W, g.OW, ow0, ow1);
    const int64_t base = p * g.OH * g.OW;
    float s = 0.f;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      int64_t hn = adaptive_end(oh, g.H, g.OH) - adaptive_start(oh, g.H, g.OH);
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        int64_t wn = adaptive_end(ow, g.W, g.OW) - adaptive_start(ow, g.W, g.OW);
        s += load(gy, base + oh * g.OW + ow) / float(hn * wn);
      }
    }
    store(gx, i, s);
  }
}

}  // namespace

void max_pool2d_forward(DType dtype, const void* x, void* y, int32_t* idx, const Pool2dGeom& g, Stream s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("max_pool2d", dtype, [&](auto t) {
    using T = decltype(t);
    max_pool_fwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(x), mp<T>(y), idx, g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void max_pool2d_backward(DType dtype, const void* gy, const int32_t* idx, void* gx, const Pool2dGeom& g, Stream s) {
  int64_t n = g.planes * g.H * g.W;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("max_pool2d_backward", dtype, [&](auto t) {
    using T = decltype(t);
    max_pool_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(gy), idx, mp<T>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void avg_pool2d_forward(DType dtype, const void* x, void* y, const Pool2dGeom& g, Stream s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("avg_pool2d", dtype, [&](auto t) {
    using T = decltype(t);
    avg_pool_fwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(x), mp<T>(y), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void avg_pool2d_backward(DType dtype, const void* gy, void* gx, const Pool2dGeom& g, Stream s) {
  int64_t n = g.planes * g.H * g.W;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("avg_pool2d_backward", dtype, [&](auto t) {
    using T = decltype(t);
    avg_pool_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(gy), mp<T>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void adaptive_avg_pool2d_forward(DType dtype, const void* x, void* y, const AdaptivePoolGeom& g, Stream s) {
  int64_t n = g.planes * g.OH * g.OW;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("adaptive_avg_pool2d", dtype, [&](auto t) {
    using T = decltype(t);
    // Windows of at least 64 elements: a warp per output; else a thread per output.
    int64_t win = ((g.H + g.OH - 1) / g.OH) * ((g.W + g.OW - 1) / g.OW);
    if (win >= 64)
      adaptive_fwd_warp_kernel<T><<<grid_for(n * 32), 256, 0, s>>>(cp<T>(x), mp<T>(y), g, n);
    else
      adaptive_fwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(x), mp<T>(y), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void adaptive_avg_pool2d_backward(DType dtype, const void* gy, void* gx, const AdaptivePoolGeom& g, Stream s) {
  int64_t n = g.planes * g.H * g.W;
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("adaptive_avg_pool2d_backward", dtype, [&](auto t) {
    using T = decltype(t);
    adaptive_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(cp<T>(gy), mp<T>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
