#pragma once
// Redraw's dual-discriminator step (redraw.md 4, docs/redraw.md "Redrawer"): two fused passes.
//
// Discriminator inputs. g, l (B, C, P) (P = H·W pixels), m, band (B, P), masks in [0, 1]:
//   t = m·g + (1 − m)·l        the redrawn crop: G's pixels inside the mask, the input's outside
//   q = m·t                    D_q's input: the interior only
//   v = max(1 − m, band)       what D_c may see: the exterior and the boundary band
//   c = v·t                    D_c's input: the crop with the interior masked out, band kept
// backward, upstream gt, gq, gc (any may be absent = 0):
//   u = gt + m·gq + v·gc;   ∂/∂g = m·u;   ∂/∂l = (1 − m)·u
// One read of (g, l, m, band) writes all three; one read of the upstream gradients both input
// gradients.
//
// Patch class losses of both discriminators. Logits a (B, K, P) per discriminator (a PatchGAN
// map of K = classes + 1 logits per patch), one label y_b ∈ [0, K) per image:
//   loss = (1/(B·P)) Σ_b Σ_p [logsumexp_k a_bkp − a_{b,y_b,p}]      (mean patch cross-entropy)
//   d_bkp = ∂loss/∂a_bkp = (softmax_k(a_bp)_k − [k = y_b]) / (B·P)
// out = (loss_q, loss_c); the forward writes d for each (the backward is two scalings). A label
// outside [0, K) is an error on the CPU and gives a NaN loss on CUDA (no host check there).
//
// Sums are deterministic: CPU adds fixed chunks in double in a fixed order (independent of the
// thread count); CUDA adds fixed chunks per block with a fixed tree and the chunk sums in order
// in double (kernels/cuda/group_reduce.cuh). No atomics.
#include <cstdint>

#include "kernels/common.h"

namespace sakuga::kernels {

namespace cpu {
template <class T>
void redraw_d_inputs_forward(const T* g, const T* l, const T* m, const T* band, int64_t B, int64_t C, int64_t P, T* t,
                             T* q, T* c);
// gt, gq, gc may be null (zero); gg, gl may be null (not wanted).
template <class T>
void redraw_d_inputs_backward(const T* m, const T* band, int64_t B, int64_t C, int64_t P, const T* gt, const T* gq,
                              const T* gc, T* gg, T* gl);
// loss2: two values (loss_q, loss_c); dq (B, Kq, Pq) and dc (B, Kc, Pc) may be null.
template <class T>
void patch_ce_pair_forward(const T* aq, const int32_t* yq, int64_t Kq, int64_t Pq, const T* ac, const int32_t* yc,
                           int64_t Kc, int64_t Pc, int64_t B, T* loss2, T* dq, T* dc);
}  // namespace cpu

namespace cuda {
// Same contracts; dtype f32 or bf16 for every float tensor (math in f32). Device pointers.
void redraw_d_inputs_forward(DType dtype, const void* g, const void* l, const void* m, const void* band, int64_t B,
                             int64_t C, int64_t P, void* t, void* q, void* c, Stream s);
void redraw_d_inputs_backward(DType dtype, const void* m, const void* band, int64_t B, int64_t C, int64_t P,
                              const void* gt, const void* gq, const void* gc, void* gg, void* gl, Stream s);
void patch_ce_pair_forward(DType dtype, const void* aq, const int32_t* yq, int64_t Kq, int64_t Pq, const void* ac,
                           const int32_t* yc, int64_t Kc, int64_t Pc, int64_t B, void* loss2, void* dq, void* dc,
                           Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
