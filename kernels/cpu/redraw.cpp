// CPU reference of redraw's dual-discriminator passes (kernels/redraw.h has the formulas).
//
// The loss sums are cut into fixed chunks of kChunk patches; a chunk is summed in double in
// increasing index order and the chunk sums are added in chunk order, so the result depends on
// the shape only, not on the number of threads (kernels/cpu/parallel.h).
#include "kernels/redraw.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kChunk = 2048;

// The patch cross-entropy of one discriminator: Σ over its B·P patches (d written when set).
template <class T>
double patch_ce_sum(const T* a, const int32_t* y, int64_t B, int64_t K, int64_t P, T* d) {
  for (int64_t b = 0; b < B; ++b)
    SAKUGA_CHECK(y[b] >= 0 && y[b] < K, "patch_ce_pair: label ", y[b], " of image ", b, " is outside [0, ", K, ")");
  const double scale = 1.0 / double(B * P);
  return chunked_sum(B * P, kChunk, [&](int64_t k) {
    const int64_t b = k / P, p = k - b * P;
    const T* ap = a + b * K * P + p;
    T mx = ap[0];
    for (int64_t j = 1; j < K; ++j) mx = std::max(mx, ap[j * P]);
    double z = 0;
    for (int64_t j = 0; j < K; ++j) z += std::exp(double(ap[j * P] - mx));
    const double lse = double(mx) + std::log(z);
    const int64_t yb = y[b];
    if (d) {
      T* dp = d + b * K * P + p;
      for (int64_t j = 0; j < K; ++j)
        dp[j * P] = T((std::exp(double(ap[j * P] - mx)) / z - (j == yb ? 1.0 : 0.0)) * scale);
    }
    return lse - double(ap[yb * P]);
  });
}

}  // namespace

template <class T>
void redraw_d_inputs_forward(const T* g, const T* l, const T* m, const T* band, int64_t B, int64_t C, int64_t P, T* t,
                             T* q, T* c) {
  parallel_for(B * C * P, 1 << 14, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / (C * P), k = b * P + i % P;  // the pixel's mask entry
      const T mk = m[k], v = std::max(T(1) - mk, band[k]);
      const T ti = mk * g[i] + (T(1) - mk) * l[i];
      t[i] = ti;
      q[i] = mk * ti;
      c[i] = v * ti;
    }
  });
}

template <class T>
void redraw_d_inputs_backward(const T* m, const T* band, int64_t B, int64_t C, int64_t P, const T* gt, const T* gq,
                              const T* gc, T* gg, T* gl) {
  if (!gg && !gl) return;
  parallel_for(B * C * P, 1 << 14, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t b = i / (C * P), k = b * P + i % P;
      const T mk = m[k], v = std::max(T(1) - mk, band[k]);
      const T u = (gt ? gt[i] : T(0)) + (gq ? mk * gq[i] : T(0)) + (gc ? v * gc[i] : T(0));
      if (gg) gg[i] = mk * u;
      if (gl) gl[i] = (T(1) - mk) * u;
    }
  });
}

template <class T>
void patch_ce_pair_forward(const T* aq, const int32_t* yq, int64_t Kq, int64_t Pq, const T* ac, const int32_t* yc,
                           int64_t Kc, int64_t Pc, int64_t B, T* loss2, T* dq, T* dc) {
  loss2[0] = T(patch_ce_sum(aq, yq, B, Kq, Pq, dq) / double(B * Pq));
  loss2[1] = T(patch_ce_sum(ac, yc, B, Kc, Pc, dc) / double(B * Pc));
}

#define SAKUGA_REDRAW_INSTANTIATE(T)                                                                                \
  template void redraw_d_inputs_forward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t, int64_t, T*,   \
                                           T*, T*);                                                                 \
  template void redraw_d_inputs_backward<T>(const T*, const T*, int64_t, int64_t, int64_t, const T*, const T*,      \
                                            const T*, T*, T*);                                                      \
  template void patch_ce_pair_forward<T>(const T*, const int32_t*, int64_t, int64_t, const T*, const int32_t*,      \
                                         int64_t, int64_t, int64_t, T*, T*, T*);
SAKUGA_REDRAW_INSTANTIATE(float)
SAKUGA_REDRAW_INSTANTIATE(double)
#undef SAKUGA_REDRAW_INSTANTIATE

}  // namespace sakuga::kernels::cpu
