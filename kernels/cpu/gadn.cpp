// CPU reference of the GADN fused losses (kernels/gadn.h has the formulas).
//
// Each sum is cut into fixed chunks of kChunk elements; a chunk is summed in double in
// increasing index order and the chunk sums are added in chunk order, so the result depends on
// the shape only, not on the number of threads (kernels/cpu/parallel.h).
#include "kernels/gadn.h"
#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kChunk = 4096;  // terms per chunk of chunked_sum (kernels/cpu/parallel.h)

}  // namespace

template <class T>
void pixel_l2_forward(const T* g, const T* x, const T* w, int64_t B, int64_t C, int64_t P, T* loss, T* d) {
  const double inv_b = 1.0 / double(B), uniform_w = 1.0 / double(P);
  // k = b·P + p runs over the pixels of the batch.
  const double total = chunked_sum(B * P, kChunk, [&](int64_t k) {
    const int64_t b = k / P, p = k - b * P;
    const T* gp = g + b * C * P + p;
    const T* xp = x + b * C * P + p;
    T sq = T(0);
    for (int64_t c = 0; c < C; ++c) {
      const T diff = gp[c * P] - xp[c * P];
      sq += diff * diff;
    }
    const T norm = std::sqrt(sq);
    const double wk = w ? double(w[k]) : uniform_w;
    if (d) {
      T* dp = d + b * C * P + p;
      // (w / B) / n, applied to each channel's difference; 0 where the norm is 0.
      const T scale = norm > T(0) ? T(wk * inv_b) / norm : T(0);
      for (int64_t c = 0; c < C; ++c) dp[c * P] = scale * (gp[c * P] - xp[c * P]);
    }
    return wk * double(norm);
  });
  loss[0] = T(total * inv_b);
}

template <class T>
void gaussian_kl_forward(const T* mu, const T* sigma, const T* eps, const T* w, int64_t B, int64_t Z, T* z, T* kl) {
  const double total = chunked_sum(B * Z, kChunk, [&](int64_t k) {
    const T m = mu[k], s = sigma[k];
    z[k] = eps ? m + s * eps[k] : m;
    const T term = (m * m + s * s) * T(0.5) - std::log(s) - T(0.5);
    return w ? double(w[k % Z]) * double(term) : double(term);
  });
  kl[0] = T(total / double(B));
}

template <class T>
void gaussian_kl_backward(const T* mu, const T* sigma, const T* eps, const T* w, int64_t B, int64_t Z, const T* gz,
                          const T* gkl, T* gmu, T* gsigma) {
  const T gk = gkl[0] / T(B);
  const int64_t n = B * Z;
  parallel_for(n, 1 << 15, [=](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const T s = sigma[k];
      const T wk = w ? w[k % Z] * gk : gk;
      if (gmu) gmu[k] = gz[k] + wk * mu[k];
      if (gsigma) gsigma[k] = (eps ? gz[k] * eps[k] : T(0)) + wk * (s - T(1) / s);
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                                         \
  template void pixel_l2_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t, T*, T*);                 \
  template void gaussian_kl_forward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t, T*, T*);             \
  template void gaussian_kl_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t, const T*, const T*, \
                                        T*, T*);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
