#pragma once
// Focal loss family (Lin et al. 2017), fused: one pass over the logits computes each item's loss
// AND its derivative with respect to the logits, so the backward is a scaling of the saved
// derivative (no second pass over log-softmax). gcn.md "Losses".
//
// Binary (sigmoid), per element, logit z, target t in [0, 1] (torchvision.ops.sigmoid_focal_loss):
//   p = σ(z);  ce = BCE-with-logits(z, t);  p_t = p·t + (1 − p)(1 − t)
//   loss = α_t · ce · (1 − p_t)^γ,  α_t = α·t + (1 − α)(1 − t) when α ≥ 0, else 1
// Softmax, per item (n, :, i) of logits (n, c, inner), class y = target[n, i]:
//   loss = −w_y (1 − p_y)^γ log p_y   (w_y = weight[y], or 1 without weights)
//   items with y == ignore_index have loss 0 and derivative 0 and are not counted.
// γ = 0 reduces both to (weighted) BCE / CE per item.
#include "kernels/common.h"

namespace sakuga::kernels {

namespace cpu {
// loss[i], dlogits[i] = d loss[i] / d logits[i], for i < count. dlogits may be null.
template <class T>
void binary_focal_forward(const T* logits, const T* target, int64_t count, double gamma, double alpha, T* loss,
                          T* dlogits);
// loss (n·inner), dlogits (n, c, inner) = d loss[n,i] / d logits[n,:,i] (may be null);
// valid (n·inner) = 1 for counted items, 0 for ignored ones (may be null).
// weight (c) may be null. A target outside [0, c) other than ignore_index throws naming it.
template <class T>
void softmax_focal_forward(const T* logits, const int32_t* target, const T* weight, int64_t n, int64_t c,
                           int64_t inner, double gamma, int64_t ignore_index, T* loss, T* dlogits, T* valid);
}  // namespace cpu

namespace cuda {
// dtype f32 or bf16 for logits/target/weight/outputs (f32 math). Out-of-range targets give NaN
// loss (no host sync) and set *bad (a deferred error flag, may be null), like the CE kernels.
void binary_focal_forward(DType dtype, const void* logits, const void* target, int64_t count, double gamma,
                          double alpha, void* loss, void* dlogits, Stream s);
void softmax_focal_forward(DType dtype, const void* logits, const int32_t* target, const void* weight, int64_t n,
                           int64_t c, int64_t inner, double gamma, int64_t ignore_index, void* loss, void* dlogits,
                           void* valid, int32_t* bad, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
