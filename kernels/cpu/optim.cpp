// CPU reference of the optimizer family: one loop per tensor over the scalar math of
// kernels/optim.h.
#include "kernels/optim.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 15;

// The element loops over one chunk, as functions of their own (never inlined into the
// parallel_for closure): there GCC keeps the loop-invariant tests (weight decay, AMSGrad,
// momentum) inside the loop and does not vectorise it (3-4x slower Adam); compiled alone, the
// loop is unswitched and vectorised as before.
template <class T>
__attribute__((noinline)) void sgd_range(T* p, const T* g, T* buf, int64_t n, T lr, T wd, T mu, T damp, bool nesterov, bool first) {
  for (int64_t i = 0; i < n; ++i) sgd_elem<T>(p[i], g[i], buf ? buf + i : nullptr, lr, wd, mu, damp, nesterov, first);
}

template <class T>
__attribute__((noinline)) void adam_range(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, T step_size, T b2s, T decay, T wd, T b1, T b2,
                T eps) {
  for (int64_t i = 0; i < n; ++i)
    adam_elem<T>(p[i], g[i], m[i], v[i], vmax ? vmax + i : nullptr, step_size, b2s, decay, wd, b1, b2, eps);
}

template <class T>
__attribute__((noinline)) void rmsprop_range(T* p, const T* g, T* sq, T* buf, T* ga, int64_t n, T lr, T wd, T alpha, T eps, T mu) {
  for (int64_t i = 0; i < n; ++i)
    rmsprop_elem<T>(p[i], g[i], sq[i], buf ? buf + i : nullptr, ga ? ga + i : nullptr, lr, wd, alpha, eps, mu);
}
}  // namespace

template <class T>
void sgd_step(const OptimTensor* ts, int64_t count, const SgdHyper& h) {
  for (int64_t k = 0; k < count; ++k) {
    const OptimTensor& t = ts[k];
    T* p = static_cast<T*>(t.param);
    const T* g = static_cast<const T*>(t.grad);
    T* buf = static_cast<T*>(t.s0);
    const T lr = T(t.lr), wd = T(t.weight_decay), mu = T(h.momentum), damp = T(h.dampening);
    const bool first = t.step <= 1, nesterov = h.nesterov;
    const int64_t n = t.n;
    parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
      sgd_range<T>(p + i0, g + i0, buf ? buf + i0 : nullptr, i1 - i0, lr, wd, mu, damp, nesterov, first);
    });
  }
}

template <class T>
void adam_step(const OptimTensor* ts, int64_t count, const AdamHyper& h) {
  for (int64_t k = 0; k < count; ++k) {
    const OptimTensor& t = ts[k];
    const AdamScalars s = adam_scalars(h, t);
    T* p = static_cast<T*>(t.param);
    const T* g = static_cast<const T*>(t.grad);
    T* m = static_cast<T*>(t.s0);
    T* v = static_cast<T*>(t.s1);
    T* vmax = static_cast<T*>(t.s2);
    const T step_size = T(s.step_size), b2s = T(s.bias2_sqrt), decay = T(s.decay), wd = T(s.wd);
    const T b1 = T(h.beta1), b2 = T(h.beta2), eps = T(h.eps);
    const int64_t n = t.n;
    parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
      adam_range<T>(p + i0, g + i0, m + i0, v + i0, vmax ? vmax + i0 : nullptr, i1 - i0, step_size, b2s, decay, wd, b1,
                    b2, eps);
    });
  }
}

template <class T>
void rmsprop_step(const OptimTensor* ts, int64_t count, const RmspropHyper& h) {
  for (int64_t k = 0; k < count; ++k) {
    const OptimTensor& t = ts[k];
    T* p = static_cast<T*>(t.param);
    const T* g = static_cast<const T*>(t.grad);
    T* sq = static_cast<T*>(t.s0);
    T* buf = static_cast<T*>(t.s1);
    T* ga = static_cast<T*>(t.s2);
    const T lr = T(t.lr), wd = T(t.weight_decay), alpha = T(h.alpha), eps = T(h.eps), mu = T(h.momentum);
    const int64_t n = t.n;
    parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
      rmsprop_range<T>(p + i0, g + i0, sq + i0, buf ? buf + i0 : nullptr, ga ? ga + i0 : nullptr, i1 - i0, lr, wd, alpha,
                       eps, mu);
    });
  }
}

template <class T>
double total_norm(const T* const* grads, const int64_t* sizes, int64_t count, bool inf_norm) {
  double acc = 0;
  for (int64_t k = 0; k < count; ++k) {
    const T* g = grads[k];
    for (int64_t i = 0; i < sizes[k]; ++i) {
      double v = double(g[i]);
      if (inf_norm) {
        double a = std::fabs(v);
        if (a > acc || std::isnan(a)) acc = a;
      } else {
        acc += v * v;
      }
    }
  }
  return inf_norm ? acc : std::sqrt(acc);
}

template <class T>
void scale(T* const* grads, const int64_t* sizes, int64_t count, double coef) {
  const T c = T(coef);
  for (int64_t k = 0; k < count; ++k) {
    T* g = grads[k];
    const int64_t n = sizes[k];
    parallel_for(n, kParallelMin, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) g[i] = g[i] * c;
    });
  }
}

template <class T>
void clamp(T* const* grads, const int64_t* sizes, int64_t count, double clip) {
  const T hi = T(clip), lo = T(-clip);
  for (int64_t k = 0; k < count; ++k) {
    T* g = grads[k];
    const int64_t n = sizes[k];
    parallel_for(n, kParallelMin, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) g[i] = g[i] < lo ? lo : (g[i] > hi ? hi : g[i]);
    });
  }
}

#define SAKUGA_INSTANTIATE(T)                                                                       \
  template void sgd_step<T>(const OptimTensor*, int64_t, const SgdHyper&);                         \
  template void adam_step<T>(const OptimTensor*, int64_t, const AdamHyper&);                       \
  template void rmsprop_step<T>(const OptimTensor*, int64_t, const RmspropHyper&);                 \
  template double total_norm<T>(const T* const*, const int64_t*, int64_t, bool);                   \
  template void scale<T>(T* const*, const int64_t*, int64_t, double);                              \
  template void clamp<T>(T* const*, const int64_t*, int64_t, double);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
