// CPU reference of the resampling family: per-axis source taps computed once, then straight
// loops over each plane. Backward passes scatter each output gradient onto the inputs it read.
#include "kernels/resize.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

// Planes go to threads in chunks of about this many input pixels.
constexpr int64_t kPlaneWork = 1 << 14;

namespace {

template <class T>
std::vector<LinearTap<T>> taps(int64_t in, int64_t out, bool align_corners) {
  T scale = linear_scale<T>(in, out, align_corners);
  std::vector<LinearTap<T>> t(size_t(out > 0 ? out : 0));
  for (int64_t o = 0; o < out; ++o) t[size_t(o)] = linear_tap<T>(o, scale, align_corners, in);
  return t;
}

std::vector<int64_t> nearest_taps(int64_t in, int64_t out) {
  float scale = nearest_scale(in, out);
  std::vector<int64_t> t(size_t(out > 0 ? out : 0));
  for (int64_t o = 0; o < out; ++o) t[size_t(o)] = nearest_src(o, scale, in);
  return t;
}

}  // namespace

template <class T>
void resize_bilinear_forward(const T* x, T* y, const ResizeGeom& g) {
  auto th = taps<T>(g.H, g.OH, g.align_corners), tw = taps<T>(g.W, g.OW, g.align_corners);
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.H * g.W;
      T* yp = y + p * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const LinearTap<T>& a = th[size_t(oh)];
        const T* r0 = xp + a.i0 * g.W;
        const T* r1 = xp + a.i1 * g.W;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const LinearTap<T>& b = tw[size_t(ow)];
          yp[oh * g.OW + ow] = a.l0 * (b.l0 * r0[b.i0] + b.l1 * r0[b.i1]) + a.l1 * (b.l0 * r1[b.i0] + b.l1 * r1[b.i1]);
        }
      }
    }
  });
}

template <class T>
void resize_bilinear_backward(const T* gy, T* gx, const ResizeGeom& g) {
  auto th = taps<T>(g.H, g.OH, g.align_corners), tw = taps<T>(g.W, g.OW, g.align_corners);
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gp = gx + p * g.H * g.W;
      const T* gyp = gy + p * g.OH * g.OW;
      std::fill(gp, gp + g.H * g.W, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const LinearTap<T>& a = th[size_t(oh)];
        T* r0 = gp + a.i0 * g.W;
        T* r1 = gp + a.i1 * g.W;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const LinearTap<T>& b = tw[size_t(ow)];
          T v = gyp[oh * g.OW + ow];
          r0[b.i0] += a.l0 * b.l0 * v;
          r0[b.i1] += a.l0 * b.l1 * v;
          r1[b.i0] += a.l1 * b.l0 * v;
          r1[b.i1] += a.l1 * b.l1 * v;
        }
      }
    }
  });
}

template <class T>
void resize_nearest_forward(const T* x, T* y, const ResizeGeom& g) {
  auto th = nearest_taps(g.H, g.OH), tw = nearest_taps(g.W, g.OW);
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.H * g.W;
      T* yp = y + p * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) yp[oh * g.OW + ow] = xp[th[size_t(oh)] * g.W + tw[size_t(ow)]];
    }
  });
}

template <class T>
void resize_nearest_backward(const T* gy, T* gx, const ResizeGeom& g) {
  auto th = nearest_taps(g.H, g.OH), tw = nearest_taps(g.W, g.OW);
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gp = gx + p * g.H * g.W;
      const T* gyp = gy + p * g.OH * g.OW;
      std::fill(gp, gp + g.H * g.W, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) gp[th[size_t(oh)] * g.W + tw[size_t(ow)]] += gyp[oh * g.OW + ow];
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                  \
  template void resize_bilinear_forward<T>(const T*, T*, const ResizeGeom&);   \
  template void resize_bilinear_backward<T>(const T*, T*, const ResizeGeom&);  \
  template void resize_nearest_forward<T>(const T*, T*, const ResizeGeom&);    \
  template void resize_nearest_backward<T>(const T*, T*, const ResizeGeom&);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
