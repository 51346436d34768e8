// CPU reference of the reduction and softmax family: straight loops over (outer, n, inner).
// Each output is computed by one thread in increasing r, so results do not depend on the
// number of OpenMP threads.
#include "kernels/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// b replaces a as the running extremum (a is an earlier element): NaN wins, ties keep a.
template <class T>
inline bool better(T b, T a, bool is_min) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return is_min ? b < a : b > a;
}

}  // namespace

template <class T>
void sum_dim(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, double scale) {
  const T sc = T(scale);
  if (inner == 1) {
    parallel_for(outer, grain_for(n, kParallelMin), [=](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* row = x + o * n;
        T acc = T(0);
        for (int64_t r = 0; r < n; ++r) acc += row[r];
        y[o] = acc * sc;
      }
    });
    return;
  }
  parallel_for(outer, grain_for(n * inner, kParallelMin), [=](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      T* out = y + o * inner;
      for (int64_t i = 0; i < inner; ++i) out[i] = T(0);
      for (int64_t r = 0; r < n; ++r) {
        const T* row = x + (o * n + r) * inner;
        for (int64_t i = 0; i < inner; ++i) out[i] += row[i];
      }
      for (int64_t i = 0; i < inner; ++i) out[i] *= sc;
    }
  });
}

template <class T>
void extremum_dim(const T* x, T* values, int32_t* index, int64_t outer, int64_t n, int64_t inner, bool is_min) {
  parallel_for(outer * inner, grain_for(n, kParallelMin), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / inner, i = j % inner;
      const T* base = x + o * n * inner + i;
      T best = base[0];
      int64_t arg = 0;
      for (int64_t r = 1; r < n; ++r) {
        T v = base[r * inner];
        if (better(v, best, is_min)) {
          best = v;
          arg = r;
        }
      }
      if (values) values[j] = best;
      index[j] = int32_t(arg);
    }
  });
}

template <class T>
void index_backward(const T* gy, const int32_t* index, T* gx, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * n * inner;
  parallel_for(total, kParallelMin / 2, [=](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t i = e % inner, r = (e / inner) % n, o = e / (inner * n);
      const int64_t j = o * inner + i;
      gx[e] = index[j] == r ? gy[j] : T(0);
    }
  });
}

template <class T>
void softmax_forward(SoftmaxKind kind, const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  parallel_for(outer * inner, grain_for(n, kParallelMin), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / inner, i = j % inner;
      const T* xb = x + o * n * inner + i;
      T* yb = y + o * n * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t r = 0; r < n; ++r) m = better(xb[r * inner], m, false) ? xb[r * inner] : m;
      T s = T(0);
      for (int64_t r = 0; r < n; ++r) s += std::exp(xb[r * inner] - m);
      if (kind == SoftmaxKind::softmax) {
        const T inv = T(1) / s;
        for (int64_t r = 0; r < n; ++r) yb[r * inner] = std::exp(xb[r * inner] - m) * inv;
      } else {
        const T shift = m + std::log(s);
        for (int64_t r = 0; r < n; ++r) yb[r * inner] = xb[r * inner] - shift;
      }
    }
  });
}

template <class T>
void softmax_backward(SoftmaxKind kind, const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner) {
  parallel_for(outer * inner, grain_for(n, kParallelMin), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / inner, i = j % inner;
      const int64_t base = o * n * inner + i;
      T dot = T(0);
      if (kind == SoftmaxKind::softmax) {
        for (int64_t r = 0; r < n; ++r) dot += gy[base + r * inner] * y[base + r * inner];
        for (int64_t r = 0; r < n; ++r) {
          const int64_t e = base + r * inner;
          gx[e] = y[e] * (gy[e] - dot);
        }
      } else {
        for (int64_t r = 0; r < n; ++r) dot += gy[base + r * inner];
        for (int64_t r = 0; r < n; ++r) {
          const int64_t e = base + r * inner;
          gx[e] = gy[e] - std::exp(y[e]) * dot;
        }
      }
    }
  });
}

template <class T>
void logsumexp_forward(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  parallel_for(outer * inner, grain_for(n, kParallelMin), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / inner, i = j % inner;
      const T* xb = x + o * n * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t r = 0; r < n; ++r) m = better(xb[r * inner], m, false) ? xb[r * inner] : m;
      T s = T(0);
      for (int64_t r = 0; r < n; ++r) s += std::exp(xb[r * inner] - m);
      y[j] = std::isinf(m) ? m : m + std::log(s);
    }
  });
}

template <class T>
void logsumexp_backward(const T* x, const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * n * inner;
  parallel_for(total, kParallelMin / 2, [=](int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1; ++e) {
      const int64_t i = e % inner, o = e / (inner * n);
      const int64_t j = o * inner + i;
      gx[e] = gy[j] * std::exp(x[e] - y[j]);
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                             \
  template void sum_dim<T>(const T*, T*, int64_t, int64_t, int64_t, double);                              \
  template void extremum_dim<T>(const T*, T*, int32_t*, int64_t, int64_t, int64_t, bool);                 \
  template void index_backward<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t);               \
  template void softmax_forward<T>(SoftmaxKind, const T*, T*, int64_t, int64_t, int64_t);                 \
  template void softmax_backward<T>(SoftmaxKind, const T*, const T*, T*, int64_t, int64_t, int64_t);      \
  template void logsumexp_forward<T>(const T*, T*, int64_t, int64_t, int64_t);                            \
  template void logsumexp_backward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
