// CPU reference of the normalisation family (see kernels/norm.h): per-group loops, sums in
// double, groups in parallel.
#include "kernels/norm.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// Calls f(index) for every element of group `grp`, in order (n major, s minor).
template <class F>
inline void for_group(const NormGeom& g, int64_t grp, F&& f) {
  for (int64_t n = 0; n < g.N; ++n) {
    const int64_t base = (n * g.G + grp) * g.S;
    for (int64_t s = 0; s < g.S; ++s) f(base + s);
  }
}

}  // namespace

template <class T>
void norm_forward_train(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, T* running_mean,
                        T* running_var, const NormGeom& g, double eps, double momentum) {
  const double M = double(g.count());
  parallel_for(g.G, grain_for(g.numel() / (g.G > 0 ? g.G : 1), kParallelMin), [=](int64_t grp0, int64_t grp1) {
    for (int64_t grp = grp0; grp < grp1; ++grp) {
      double sum = 0;
      for_group(g, grp, [&](int64_t i) { sum += double(x[i]); });
      const double m = sum / M;
      double sq = 0;
      for_group(g, grp, [&](int64_t i) {
        double d = double(x[i]) - m;
        sq += d * d;
      });
      const double var = sq / M;
      const double is = 1.0 / std::sqrt(var + eps);
      mean[grp] = T(m);
      invstd[grp] = T(is);
      const double wv = w ? double(w[grp % g.C]) : 1.0, bv = b ? double(b[grp % g.C]) : 0.0;
      for_group(g, grp, [&](int64_t i) { y[i] = T((double(x[i]) - m) * is * wv + bv); });
      if (running_mean) running_mean[grp] = T((1.0 - momentum) * double(running_mean[grp]) + momentum * m);
      if (running_var) {
        const double unbiased = M > 1 ? var * M / (M - 1) : var;
        running_var[grp] = T((1.0 - momentum) * double(running_var[grp]) + momentum * unbiased);
      }
    }
  });
}

template <class T>
void norm_forward_eval(const T* x, const T* w, const T* b, const T* stat_mean, const T* stat_var, T* y, T* mean,
                       T* invstd, const NormGeom& g, double eps) {
  parallel_for(g.G, grain_for(g.numel() / (g.G > 0 ? g.G : 1), kParallelMin), [=](int64_t grp0, int64_t grp1) {
    for (int64_t grp = grp0; grp < grp1; ++grp) {
      const double m = double(stat_mean[grp]);
      const double is = 1.0 / std::sqrt(double(stat_var[grp]) + eps);
      if (mean) mean[grp] = T(m);
      if (invstd) invstd[grp] = T(is);
      const double wv = w ? double(w[grp % g.C]) : 1.0, bv = b ? double(b[grp % g.C]) : 0.0;
      for_group(g, grp, [&](int64_t i) { y[i] = T((double(x[i]) - m) * is * wv + bv); });
    }
  });
}

template <class T>
void norm_backward(const T* dy, const T* x, const T* mean, const T* invstd, const T* w, T* dx, T* dw, T* db,
                   const NormGeom& g, bool batch_stats) {
  const double M = double(g.count());
  std::vector<double> sum_dy(size_t(g.G)), sum_dy_xhat(size_t(g.G));
  parallel_for(g.G, grain_for(g.numel() / (g.G > 0 ? g.G : 1), kParallelMin), [&](int64_t grp0, int64_t grp1) {
    for (int64_t grp = grp0; grp < grp1; ++grp) {
      const double m = double(mean[grp]), is = double(invstd[grp]);
      double a = 0, c = 0;
      for_group(g, grp, [&](int64_t i) {
        const double d = double(dy[i]);
        a += d;
        c += d * (double(x[i]) - m) * is;
      });
      sum_dy[size_t(grp)] = a;
      sum_dy_xhat[size_t(grp)] = c;
      if (!dx) continue;
      const double k = (w ? double(w[grp % g.C]) : 1.0) * is;
      if (batch_stats) {
        const double mean_dy = a / M, mean_dy_xhat = c / M;
        for_group(g, grp, [&](int64_t i) {
          const double xh = (double(x[i]) - m) * is;
          dx[i] = T(k * (double(dy[i]) - mean_dy - xh * mean_dy_xhat));
        });
      } else {
        for_group(g, grp, [&](int64_t i) { dx[i] = T(k * double(dy[i])); });
      }
    }
  });
  // Affine gradients: groups of one channel summed in group order.
  for (int64_t ch = 0; ch < g.C; ++ch) {
    double sw = 0, sb = 0;
    for (int64_t grp = ch; grp < g.G; grp += g.C) {
      sw += sum_dy_xhat[size_t(grp)];
      sb += sum_dy[size_t(grp)];
    }
    if (dw) dw[ch] = T(sw);
    if (db) db[ch] = T(sb);
  }
}

#define SAKUGA_INSTANTIATE(T)                                                                                \
  template void norm_forward_train<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*, const NormGeom&,    \
                                      double, double);                                                       \
  template void norm_forward_eval<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*,           \
                                     const NormGeom&, double);                                               \
  template void norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, const NormGeom&, \
                                 bool);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
