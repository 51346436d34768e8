// CPU reference of the fused focal losses (kernels/focal.h): per item, the loss and its
// derivative with respect to the logits in one pass.
//
// Notation: γ ≥ 0, q^γ with q^0 = 1 (also for q = 0).
//
// Binary (sigmoid), logit z, target t ∈ [0, 1]:
//   p = σ(z), 1 − p = σ(−z)                       (both computed directly, no 1 − p cancellation)
//   ce = t·softplus(−z) + (1 − t)·softplus(z)     (= BCE-with-logits, exact at t ∈ {0, 1})
//   q  = 1 − p_t = p(1 − t) + (1 − p)t            (a convex combination of p and 1 − p)
//   loss = a_t · ce · q^γ
// Derivatives: dp/dz = p(1 − p);  dce/dz = p − t = p(1 − t) − (1 − p)t;
//   dq/dz = p(1 − p)(1 − 2t);  d(q^γ)/dz = γ q^(γ−1) p(1 − p)(1 − 2t) = γ q^γ (1 − 2t) r,
//   with r = p(1 − p) / q ∈ [0, 1] (q ≥ min(p, 1 − p) ≥ p(1 − p)); r → 1 as q → 0.
//   d loss/dz = a_t · q^γ · [(p − t) + γ (1 − 2t) · ce · r]
// Written with r, no q^(γ−1) appears: no 0·∞ at q = 0 for 0 < γ < 1.
//
// Softmax, logits x_c of one item, class y, weight w = w_y:
//   lse = m + log Σ_c exp(x_c − m)  (m = max_c x_c);  ℓ = log p_y = x_y − lse ≤ 0;
//   p_c = exp(x_c − lse);  q = 1 − p_y = −expm1(ℓ)  (accurate when p_y → 1)
//   loss = −w q^γ ℓ
// Derivatives: dℓ/dx_c = δ_cy − p_c;  dq/dx_c = −p_y (δ_cy − p_c);
//   d loss/dx_c = −w [γ q^(γ−1) ℓ dq/dx_c + q^γ (δ_cy − p_c)]
//               = w (p_c − δ_cy) [q^γ + γ p_y (−ℓ) q^(γ−1)]
//               = w (p_c − δ_cy) · q^γ · [1 + γ p_y s],  s = −ℓ / q ∈ [1, ∞), s → 1 as q → 0.
// γ = 0 gives CE: loss = −w ℓ, d = w (p_c − δ_cy).
#include "kernels/focal.h"

#include <cmath>
#include <limits>

#include "kernels/loss.h"  // softplus_neg, sigmoid_neg
#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// q^γ with 0^0 = 1.
template <class T>
inline T pow_gamma(T q, T gamma) {
  if (gamma == T(0)) return T(1);
  if (gamma == T(1)) return q;
  if (gamma == T(2)) return q * q;
  return std::pow(q, gamma);
}

}  // namespace

template <class T>
void binary_focal_forward(const T* logits, const T* target, int64_t count, double gamma, double alpha, T* loss,
                          T* dlogits) {
  const T g = T(gamma), a = T(alpha);
  const bool use_alpha = alpha >= 0;
  parallel_for(count, kParallelMin / 4, [=](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const T z = logits[k], t = target[k];
      const T p = sigmoid_neg(-z), pm = sigmoid_neg(z);        // σ(z), 1 − σ(z)
      const T ce = t * softplus_neg(z) + (T(1) - t) * softplus_neg(-z);
      const T q = p * (T(1) - t) + pm * t;
      const T qg = pow_gamma(q, g);
      const T at = use_alpha ? a * t + (T(1) - a) * (T(1) - t) : T(1);
      loss[k] = at * ce * qg;
      if (dlogits) {
        T d = p * (T(1) - t) - pm * t;  // p − t
        if (g != T(0)) {
          const T r = q > T(0) ? p * pm / q : T(1);
          d += g * (T(1) - T(2) * t) * ce * r;
        }
        dlogits[k] = at * qg * d;
      }
    }
  });
}

template <class T>
void softmax_focal_forward(const T* logits, const int32_t* target, const T* weight, int64_t n, int64_t c,
                           int64_t inner, double gamma, int64_t ignore_index, T* loss, T* dlogits, T* valid) {
  const int64_t items = n * inner;
  // Labels first (serially: no exception may leave the parallel loop).
  for (int64_t j = 0; j < items; ++j) {
    const int64_t y = target[j];
    if (y == ignore_index) continue;
    SAKUGA_CHECK(y >= 0 && y < c, "softmax_focal_forward: target value ", y, " at flat index ", j,
                 " is out of range [0, ", c, ") (and is not ignore_index ", ignore_index, ")");
  }
  const T g = T(gamma);
  parallel_for(items, grain_for(c, kParallelMin / 4), [=](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t b = j / inner, i = j % inner;
      const T* xb = logits + b * c * inner + i;
      T* db = dlogits ? dlogits + b * c * inner + i : nullptr;
      const int64_t y = target[j];
      if (y == ignore_index) {
        loss[j] = T(0);
        if (valid) valid[j] = T(0);
        if (db)
          for (int64_t k = 0; k < c; ++k) db[k * inner] = T(0);
        continue;
      }
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < c; ++k) m = std::max(m, xb[k * inner]);
      T s = T(0);
      for (int64_t k = 0; k < c; ++k) s += std::exp(xb[k * inner] - m);
      const T lse = m + std::log(s);
      const T l = xb[y * inner] - lse;  // log p_y ≤ 0
      const T w = weight ? weight[y] : T(1);
      const T q = -std::expm1(l);
      const T qg = pow_gamma(q, g);
      loss[j] = -w * qg * l;
      if (valid) valid[j] = T(1);
      if (db) {
        T f = qg;
        if (g != T(0)) {
          const T py = std::exp(l);
          const T sr = q > T(0) ? -l / q : T(1);
          f = qg * (T(1) + g * py * sr);
        }
        const T wf = w * f;
        for (int64_t k = 0; k < c; ++k) db[k * inner] = wf * std::exp(xb[k * inner] - lse);
        db[y * inner] = -wf * q;  // p_y − 1 = −q, without the cancellation
      }
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                                    \
  template void binary_focal_forward<T>(const T*, const T*, int64_t, double, double, T*, T*);                    \
  template void softmax_focal_forward<T>(const T*, const int32_t*, const T*, int64_t, int64_t, int64_t, double, \
                                         int64_t, T*, T*, T*);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
