#pragma once
// Loss family: the per-item parts of cross entropy, NLL and BCE-with-logits. Reductions over
// items (sum, weighted mean) are done by tensor/ops with the reduce kernels.
//
// Class losses see logits / log-probabilities as (N, C, inner) (inner = d1·d2·…, 1 for (N, C))
// and targets as (N, inner) int32. An item (n, i) with target == ignore_index contributes 0
// and weight 0. `weight` (C) may be nullptr (every class weight 1). A target outside [0, C)
// that is not ignore_index gives NaN loss and NaN gradient for its item (tensor/ops checks
// labels on the CPU and throws a clear error before calling these; on CUDA the NaN reaches
// the loss without a host synchronisation, and the forward kernels set *bad — a deferred
// error flag, see device::raise_deferred_errors — when `bad` is not null).
#include <cmath>

#include "kernels/common.h"

namespace sakuga::kernels {

namespace cpu {
// loss[n,i] = w_y · (logsumexp_c x[n,c,i] − x[n,y,i]);  item_weight[n,i] = w_y;  lse[n,i] saved.
template <class T>
void cross_entropy_forward(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight, T* lse,
                           int64_t N, int64_t C, int64_t inner, int64_t ignore_index);
// gx[n,c,i] = gloss[n,i] · w_y · (exp(x[n,c,i] − lse[n,i]) − [c == y]); 0 for ignored items.
template <class T>
void cross_entropy_backward(const T* x, const int32_t* target, const T* weight, const T* lse, const T* gloss, T* gx,
                            int64_t N, int64_t C, int64_t inner, int64_t ignore_index);
// loss[n,i] = −w_y · x[n,y,i];  item_weight[n,i] = w_y.
template <class T>
void nll_forward(const T* x, const int32_t* target, const T* weight, T* loss, T* item_weight, int64_t N, int64_t C,
                 int64_t inner, int64_t ignore_index);
// gx[n,c,i] = [c == y] · (−w_y · gloss[n,i]); 0 for ignored items.
template <class T>
void nll_backward(const int32_t* target, const T* weight, const T* gloss, T* gx, int64_t N, int64_t C, int64_t inner,
                  int64_t ignore_index);
// ℓ = (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), softplus(−x) = log1p(exp(−|x|)) + max(−x, 0);
// p = pos_weight[k] (pos_weight may be nullptr: p = 1; else already broadcast to n elements).
template <class T>
void bce_logits_forward(const T* x, const T* t, const T* pos_weight, T* loss, int64_t n);
// dℓ/dx = (1 − t) − (1 + (p − 1)·t)·σ(−x);  dℓ/dt = −x + (p − 1)·softplus(−x);
// dℓ/dp = t·softplus(−x). Each times g; gx / gt / gp may be nullptr (not needed).
template <class T>
void bce_logits_backward(const T* x, const T* t, const T* pos_weight, const T* g, T* gx, T* gt, T* gp, int64_t n);
}  // namespace cpu

namespace cuda {
// Same contracts; dtype f32 or bf16 (math in f32); lse is f32 whatever the dtype.
void cross_entropy_forward(DType dtype, const void* x, const int32_t* target, const void* weight, void* loss,
                           void* item_weight, float* lse, int64_t N, int64_t C, int64_t inner, int64_t ignore_index,
                           int32_t* bad, Stream s);
void cross_entropy_backward(DType dtype, const void* x, const int32_t* target, const void* weight, const float* lse,
                            const void* gloss, void* gx, int64_t N, int64_t C, int64_t inner, int64_t ignore_index,
                            Stream s);
void nll_forward(DType dtype, const void* x, const int32_t* target, const void* weight, void* loss, void* item_weight,
                 int64_t N, int64_t C, int64_t inner, int64_t ignore_index, int32_t* bad, Stream s);
void nll_backward(DType dtype, const int32_t* target, const void* weight, const void* gloss, void* gx, int64_t N,
                  int64_t C, int64_t inner, int64_t ignore_index, Stream s);
void bce_logits_forward(DType dtype, const void* x, const void* t, const void* pos_weight, void* loss, int64_t n,
                        Stream s);
void bce_logits_backward(DType dtype, const void* x, const void* t, const void* pos_weight, const void* g, void* gx,
                         void* gt, void* gp, int64_t n, Stream s);
}  // namespace cuda

// The scalar math shared by both backends.
template <class T>
SAKUGA_HD T softplus_neg(T x) {  // softplus(−x) = log(1 + e^{−x}), stable
  using std::exp;
  using std::fabs;
  using std::log1p;
  return log1p(exp(-fabs(x))) + (x < T(0) ? -x : T(0));
}
template <class T>
SAKUGA_HD T sigmoid_neg(T x) {  // σ(−x), stable
  using std::exp;
  if (x >= T(0)) {
    T e = exp(-x);
    return e / (T(1) + e);
  }
  return T(1) / (T(1) + exp(x));
}

}  // namespace sakuga::kernels
