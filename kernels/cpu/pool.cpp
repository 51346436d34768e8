// CPU reference of the pooling family: straight loops over each plane, PyTorch's window rules.
// Backward passes scatter each output gradient into its window (planes in parallel).
#include "kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

// Planes go to threads in chunks of about this many input pixels.
constexpr int64_t kPlaneWork = 1 << 14;

template <class T>
void max_pool2d_forward(const T* x, T* y, int32_t* idx, const Pool2dGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.H * g.W;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
          int64_t h1 = std::min(h0 + g.kh, g.H), w1 = std::min(w0 + g.kw, g.W);
          h0 = std::max<int64_t>(h0, 0);
          w0 = std::max<int64_t>(w0, 0);
          int64_t best = h0 * g.W + w0;  // PyTorch's start value (kept when all are −inf)
          T mx = -std::numeric_limits<T>::infinity();
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) {
              T v = xp[h * g.W + w];
              if (v > mx || std::isnan(v)) {
                mx = v;
                best = h * g.W + w;
              }
            }
          int64_t o = (p * g.OH + oh) * g.OW + ow;
          y[o] = mx;
          idx[o] = int32_t(best);
        }
      }
    }
  });
}

template <class T>
void max_pool2d_backward(const T* gy, const int32_t* idx, T* gx, const Pool2dGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gxp = gx + p * g.H * g.W;
      std::fill(gxp, gxp + g.H * g.W, T(0));
      for (int64_t o = p * g.OH * g.OW; o < (p + 1) * g.OH * g.OW; ++o) gxp[idx[o]] += gy[o];
    }
  });
}

template <class T>
void avg_pool2d_forward(const T* x, T* y, const Pool2dGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.H * g.W;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t h0 = std::max<int64_t>(oh * g.sh - g.ph, 0), w0 = std::max<int64_t>(ow * g.sw - g.pw, 0);
          int64_t h1 = std::min(oh * g.sh - g.ph + g.kh, g.H), w1 = std::min(ow * g.sw - g.pw + g.kw, g.W);
          T s = T(0);
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) s += xp[h * g.W + w];
          int64_t div = avg_pool_divisor(g, oh, ow);
          y[(p * g.OH + oh) * g.OW + ow] = (h0 < h1 && w0 < w1 && div > 0) ? s / T(div) : T(0);
        }
      }
    }
  });
}

template <class T>
void avg_pool2d_backward(const T* gy, T* gx, const Pool2dGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gxp = gx + p * g.H * g.W;
      std::fill(gxp, gxp + g.H * g.W, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t h0 = std::max<int64_t>(oh * g.sh - g.ph, 0), w0 = std::max<int64_t>(ow * g.sw - g.pw, 0);
          int64_t h1 = std::min(oh * g.sh - g.ph + g.kh, g.H), w1 = std::min(ow * g.sw - g.pw + g.kw, g.W);
          int64_t div = avg_pool_divisor(g, oh, ow);
          if (div <= 0) continue;
          T v = gy[(p * g.OH + oh) * g.OW + ow] / T(div);
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) gxp[h * g.W + w] += v;
        }
      }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_forward(const T* x, T* y, const AdaptivePoolGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * g.H * g.W;
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          T s = T(0);
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) s += xp[h * g.W + w];
          y[(p * g.OH + oh) * g.OW + ow] = s / T((h1 - h0) * (w1 - w0));
        }
      }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_backward(const T* gy, T* gx, const AdaptivePoolGeom& g) {
  parallel_for(g.planes, grain_for(g.H * g.W, kPlaneWork), [=](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* gxp = gx + p * g.H * g.W;
      std::fill(gxp, gxp + g.H * g.W, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        int64_t h0 = adaptive_start(oh, g.H, g.OH), h1 = adaptive_end(oh, g.H, g.OH);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t w0 = adaptive_start(ow, g.W, g.OW), w1 = adaptive_end(ow, g.W, g.OW);
          T v = gy[(p * g.OH + oh) * g.OW + ow] / T((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) gxp[h * g.W + w] += v;
        }
      }
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                  \
  template void max_pool2d_forward<T>(const T*, T*, int32_t*, const Pool2dGeom&);              \
  template void max_pool2d_backward<T>(const T*, const int32_t*, T*, const Pool2dGeom&);       \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dGeom&);                        \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dGeom&);                       \
  template void adaptive_avg_pool2d_forward<T>(const T*, T*, const AdaptivePoolGeom&);         \
  template void adaptive_avg_pool2d_backward<T>(const T*, T*, const AdaptivePoolGeom&);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
