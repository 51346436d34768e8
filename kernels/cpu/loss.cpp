// CPU reference of the loss family (per-item cross entropy, NLL, BCE with logits).
#include "kernels/loss.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

template <class T>
constexpr T nan_v() {
  return std::numeric_limits<T>::quiet_NaN();
}

inline bool valid_label(int32_t y, int64_t C) { return y >= 0 && int64_t(y) < C; }

}  // namespace

template <class T>
void cross_entropy_forward(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight, T* lse,
                           int64_t N, int64_t C, int64_t inner, int64_t ignore_index) {
  parallel_for(N * inner, grain_for(C, kParallelMin), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t n = j / inner, i = j % inner;
      const T* xb = x + n * C * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t c = 0; c < C; ++c) {
        const T v = xb[c * inner];
        if (std::isnan(v) || v > m) m = std::isnan(m) ? m : v;
      }
      T s = T(0);
      for (int64_t c = 0; c < C; ++c) s += std::exp(xb[c * inner] - m);
      const T l = std::isinf(m) ? m : m + std::log(s);
      lse[j] = l;
      const int32_t y = target[j];
      if (int64_t(y) == ignore_index) {
        loss[j] = T(0);
        item_weight[j] = T(0);
      } else if (!valid_label(y, C)) {
        loss[j] = nan_v<T>();
        item_weight[j] = nan_v<T>();
      } else {
        const T w = weight ? weight[y] : T(1);
        loss[j] = w * (l - xb[int64_t(y) * inner]);
        item_weight[j] = w;
      }
    }
  });
}

template <class T>
void cross_entropy_backward(const T* x, const int32_t* target, const T* weight, const T* lse, const T* gloss, T* gx,
                            int64_t N, int64_t C, int64_t inner, int64_t ignore_index) {
  const int64_t total = N * C * inner;
  parallel_for(total, kParallelMin / 2, [=](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t i = e % inner, c = (e / inner) % C, n = e / (inner * C);
      const int64_t j = n * inner + i;
      const int32_t y = target[j];
      if (int64_t(y) == ignore_index) {
        gx[e] = T(0);
      } else if (!valid_label(y, C)) {
        gx[e] = nan_v<T>();
      } else {
        const T w = weight ? weight[y] : T(1);
        const T p = std::exp(x[e] - lse[j]);
        gx[e] = gloss[j] * w * (p - (c == int64_t(y) ? T(1) : T(0)));
      }
    }
  });
}

template <class T>
void nll_forward(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight, int64_t N, int64_t C,
                 int64_t inner, int64_t ignore_index) {
  parallel_for(N * inner, kParallelMin, [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t n = j / inner, i = j % inner;
      const int32_t y = target[j];
      if (int64_t(y) == ignore_index) {
        loss[j] = T(0);
        item_weight[j] = T(0);
      } else if (!valid_label(y, C)) {
        loss[j] = nan_v<T>();
        item_weight[j] = nan_v<T>();
      } else {
        const T w = weight ? weight[y] : T(1);
        loss[j] = -w * x[(n * C + y) * inner + i];
        item_weight[j] = w;
      }
    }
  });
}

template <class T>
void nll_backward(const int32_t* target, const T* weight, const T* gloss, T* gx, int64_t N, int64_t C, int64_t inner,
                  int64_t ignore_index) {
  const int64_t total = N * C * inner;
  parallel_for(total, kParallelMin / 2, [=](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t i = e % inner, c = (e / inner) % C, n = e / (inner * C);
      const int64_t j = n * inner + i;
      const int32_t y = target[j];
      if (int64_t(y) == ignore_index) {
        gx[e] = T(0);
      } else if (!valid_label(y, C)) {
        gx[e] = nan_v<T>();
      } else {
        const T w = weight ? weight[y] : T(1);
        gx[e] = c == int64_t(y) ? -w * gloss[j] : T(0);
      }
    }
  });
}

template <class T>
void bce_logits_forward(const T* x, const T* t, const T* pos_weight, T* loss, int64_t n) {
  parallel_for(n, kParallelMin / 2, [=](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const T lw = pos_weight ? T(1) + (pos_weight[k] - T(1)) * t[k] : T(1);
      loss[k] = (T(1) - t[k]) * x[k] + lw * softplus_neg(x[k]);
    }
  });
}

template <class T>
void bce_logits_backward(const T* x, const T* t, const T* pos_weight, const T* g, T* gx, T* gt, T* gp, int64_t n) {
  parallel_for(n, kParallelMin / 2, [=](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const T p = pos_weight ? pos_weight[k] : T(1);
      if (gx) gx[k] = g[k] * ((T(1) - t[k]) - (T(1) + (p - T(1)) * t[k]) * sigmoid_neg(x[k]));
      if (gt) gt[k] = g[k] * (-x[k] + (p - T(1)) * softplus_neg(x[k]));
      if (gp) gp[k] = g[k] * t[k] * softplus_neg(x[k]);
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                                  \
  template void cross_entropy_forward<T>(const T*, const int32_t*, const T*, T*, T*, T*, int64_t, int64_t,     \
                                         int64_t, int64_t);                                                    \
  template void cross_entropy_backward<T>(const T*, const int32_t*, const T*, const T*, const T*, T*, int64_t, \
                                          int64_t, int64_t, int64_t);                                          \
  template void nll_forward<T>(const T*, const int32_t*, const T*, T*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void nll_backward<T>(const int32_t*, const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t);   \
  template void bce_logits_forward<T>(const T*, const T*, const T*, T*, int64_t);                              \
  template void bce_logits_backward<T>(const T*, const T*, const T*, const T*, T*, T*, T*, int64_t);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
