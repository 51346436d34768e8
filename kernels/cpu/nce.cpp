// CPU reference of the contrastive row losses (formulas in kernels/nce.h): per row, the logits,
// their log-sum-exp, the loss and the derivative, in plain loops.
#include "kernels/nce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

template <class T>
void nce_rows_forward(const T* S, const T* W, int64_t B, int64_t P, double tau, bool decoupled, T* loss, T* dS) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;  // accumulation type
  const A inv_tau = A(1.0 / tau);
  const A masked = A(kNceMaskedDiagonal) * inv_tau;
  parallel_for(B * P, 16, [=](int64_t r0, int64_t r1) {
    std::vector<A> neg(static_cast<size_t>(P));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t i = r % P;
      const T* s = S + r * P;
      const T* w = W ? W + r * P : nullptr;
      const A pos = A(s[i]) * inv_tau;
      // Negatives N_ij/τ with the diagonal masked; their max and the positive's.
      A m_neg = -std::numeric_limits<A>::infinity();
      for (int64_t j = 0; j < P; ++j) {
        const A v = j == i ? masked : (w ? A(w[j]) : A(1)) * A(s[j]) * inv_tau;
        neg[size_t(j)] = v;
        m_neg = std::max(m_neg, v);
      }
      A sum_neg = 0;  // relative to the negatives' own max (the decoupled softmax needs it alone)
      for (int64_t j = 0; j < P; ++j) sum_neg += std::exp(neg[size_t(j)] - m_neg);
      const A lse_neg = m_neg + std::log(sum_neg);
      // loss = log(e^pos + e^lse_neg) − pos = softplus(lse_neg − pos): no cancellation when the
      // positive dominates (the trained regime), and 1 − p_pos = e^(lse_neg − lse) likewise.
      const A gap = lse_neg - pos;
      const A l = gap > 0 ? gap + std::log1p(std::exp(-gap)) : std::log1p(std::exp(gap));
      const A lse = pos + l;
      loss[r] = T(l);
      if (!dS) continue;
      T* d = dS + r * P;
      if (decoupled) {  // softmax over the negatives alone
        for (int64_t j = 0; j < P; ++j)
          d[j] = j == i ? T(-inv_tau) : T(std::exp(neg[size_t(j)] - lse_neg) * (w ? A(w[j]) : A(1)) * inv_tau);
      } else {
        for (int64_t j = 0; j < P; ++j)
          d[j] = j == i ? T(-std::exp(lse_neg - lse) * inv_tau)
                        : T(std::exp(neg[size_t(j)] - lse) * (w ? A(w[j]) : A(1)) * inv_tau);
      }
    }
  });
}

template <class T>
void src_rows_forward(const T* Aq, const T* Ak, int64_t B, int64_t P, T* jsd, T* dAq) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const A ln2 = A(std::log(2.0));
  parallel_for(B * P, 16, [=](int64_t r0, int64_t r1) {
    std::vector<A> lp(static_cast<size_t>(P)), g(static_cast<size_t>(P));
    for (int64_t r = r0; r < r1; ++r) {
      const T* q = Aq + r * P;
      const T* k = Ak + r * P;
      auto lse = [P](const T* a) {
        A m = -std::numeric_limits<A>::infinity();
        for (int64_t j = 0; j < P; ++j) m = std::max(m, A(a[j]));
        A s = 0;
        for (int64_t j = 0; j < P; ++j) s += std::exp(A(a[j]) - m);
        return m + std::log(s);
      };
      const A lq = lse(q), lk = lse(k);
      A value = 0, mean_g = 0;
      for (int64_t j = 0; j < P; ++j) {
        const A a = A(q[j]) - lq, b = A(k[j]) - lk;  // log p_j, log r_j
        const A hi = std::max(a, b);
        const A lm = hi + std::log(std::exp(a - hi) + std::exp(b - hi)) - ln2;  // log m_j
        const A p = std::exp(a), rk = std::exp(b);
        value += A(0.5) * (p * (a - lm) + rk * (b - lm));
        lp[size_t(j)] = p;
        g[size_t(j)] = A(0.5) * (a - lm);
        mean_g += p * g[size_t(j)];
      }
      jsd[r] = T(value);
      if (!dAq) continue;
      T* d = dAq + r * P;
      for (int64_t j = 0; j < P; ++j) d[j] = T(lp[size_t(j)] * (g[size_t(j)] - mean_g));
    }
  });
}

template void src_rows_forward<float>(const float*, const float*, int64_t, int64_t, float*, float*);
template void src_rows_forward<double>(const double*, const double*, int64_t, int64_t, double*, double*);

template void nce_rows_forward<float>(const float*, const float*, int64_t, int64_t, double, bool, float*, float*);
template void nce_rows_forward<double>(const double*, const double*, int64_t, int64_t, double, bool, double*,
                                       double*);

}  // namespace sakuga::kernels::cpu
