// Contrastive losses: checks, the batched GEMM for S, device dispatch of the fused row kernel
// (kernels/nce.h) and its backward on the tape (the saved derivative times g / rows).
#include "tensor/ops/nce.h"

#include <cmath>
#include <vector>

#include "kernels/nce.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

void check_tau(const char* op, double tau) {
  SAKUGA_CHECK(std::isfinite(tau) && tau > 0, op, ": the temperature must be finite and > 0, got ", tau);
}

void check_features(const char* op, const Tensor& q, const Tensor& k) {
  check_defined(op, q, "q");
  check_defined(op, k, "k");
  check_float(op, q, "q");
  check_same_device(op, q, k);
  check_same_dtype(op, q, k);
  SAKUGA_CHECK(q.dim() == 3 && q.shape() == k.shape(), op, ": q and k must be (B, P, C) of one shape, got ",
               shape_str(q.shape()), " and ", shape_str(k.shape()));
  SAKUGA_CHECK(q.size(1) >= 1, op, ": expected at least one patch, got ", shape_str(q.shape()));
}

// q·kᵀ per image: (B, P, C) × (B, C, P) → (B, P, P), one batched GEMM.
Tensor similarities(const Tensor& q, const Tensor& k) { return bmm(q, transpose(k, 1, 2)); }

}  // namespace

Tensor nce_rows_loss(const Tensor& S_in, const Tensor& weights, double tau, bool decoupled) {
  const char* op = decoupled ? "hdce_rows_loss" : "nce_rows_loss";
  check_defined(op, S_in, "S");
  check_float(op, S_in, "S");
  check_tau(op, tau);
  SAKUGA_CHECK(S_in.dim() == 3 && S_in.size(1) == S_in.size(2), op, ": S must be (B, P, P), got ",
               shape_str(S_in.shape()));
  if (weights.defined()) {
    check_same_device(op, S_in, weights);
    check_same_dtype(op, S_in, weights);
    SAKUGA_CHECK(weights.shape() == S_in.shape(), op, ": weights must have S's shape ", shape_str(S_in.shape()),
                 ", got ", shape_str(weights.shape()));
    SAKUGA_CHECK(!(grad_enabled() && weights.requires_grad()), op,
                 ": the weights get no gradient (pass weights.detach())");
  }
  const Tensor S = S_in.contiguous();
  const Tensor W = weights.defined() ? weights.detach().contiguous() : Tensor();
  const int64_t B = S.size(0), P = S.size(1), rows = B * P;
  const bool need = grad_enabled() && S.requires_grad();
  Tensor loss = Tensor::empty({rows}, S.dtype(), S.device());
  Tensor dS = need ? Tensor::empty(S.shape(), S.dtype(), S.device()) : Tensor();
  if (S.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::nce_rows_forward(S.dtype(), S.raw(), W.defined() ? W.raw() : nullptr, B, P, tau,
                                                     decoupled, loss.raw(), dS.defined() ? dS.raw() : nullptr,
                                                     stream_of(S)));
  } else {
    dispatch_cpu_float(op, S.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::nce_rows_forward<T>(S.data<T>(), W.defined() ? W.data<T>() : nullptr, B, P, tau, decoupled,
                                        loss.data<T>(), dS.defined() ? dS.data<T>() : nullptr);
    });
  }
  Tensor out;
  {
    NoGradGuard ng;
    out = mul(sum(loss), 1.0 / double(rows));
  }
  if (!need) return out;
  const double inv_rows = 1.0 / double(rows);
  return record(op, out, {S}, [dS, inv_rows](const Tensor& g, const Needs&) -> Grads {
    return {mul(dS, mul(g, inv_rows))};
  });
}

Tensor patch_nce_loss(const Tensor& q, const Tensor& k, double tau) {
  check_features("patch_nce_loss", q, k);
  return nce_rows_loss(similarities(q, k), Tensor(), tau, false);
}

Tensor hdce_loss(const Tensor& q, const Tensor& k, const Tensor& weights, double tau) {
  check_features("hdce_loss", q, k);
  SAKUGA_CHECK(weights.defined(), "hdce_loss: weights are required (ops::hdce_weights)");
  return nce_rows_loss(similarities(q, k), weights, tau, true);
}

Tensor src_rows_loss(const Tensor& Aq_in, const Tensor& Ak_in) {
  const char* op = "src_rows_loss";
  check_defined(op, Aq_in, "Aq");
  check_defined(op, Ak_in, "Ak");
  check_float(op, Aq_in, "Aq");
  check_same_device(op, Aq_in, Ak_in);
  check_same_dtype(op, Aq_in, Ak_in);
  SAKUGA_CHECK(Aq_in.dim() == 3 && Aq_in.size(1) == Aq_in.size(2) && Ak_in.shape() == Aq_in.shape(), op,
               ": Aq and Ak must be (B, P, P) of one shape, got ", shape_str(Aq_in.shape()), " and ",
               shape_str(Ak_in.shape()));
  const Tensor Aq = Aq_in.contiguous(), Ak = Ak_in.detach().contiguous();
  const int64_t B = Aq.size(0), P = Aq.size(1);
  const bool need = grad_enabled() && Aq.requires_grad();
  Tensor jsd = Tensor::empty({B * P}, Aq.dtype(), Aq.device());
  Tensor dA = need ? Tensor::empty(Aq.shape(), Aq.dtype(), Aq.device()) : Tensor();
  if (Aq.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::src_rows_forward(Aq.dtype(), Aq.raw(), Ak.raw(), B, P, jsd.raw(),
                                                     dA.defined() ? dA.raw() : nullptr, stream_of(Aq)));
  } else {
    dispatch_cpu_float(op, Aq.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::src_rows_forward<T>(Aq.data<T>(), Ak.data<T>(), B, P, jsd.data<T>(),
                                        dA.defined() ? dA.data<T>() : nullptr);
    });
  }
  const double inv_images = B > 0 ? 1.0 / double(B) : 0.0;
  Tensor out;
  {
    NoGradGuard ng;
    out = mul(sum(jsd), inv_images);  // per image the sum over its P×P entries, mean over images
  }
  if (!need) return out;
  return record(op, out, {Aq}, [dA, inv_images](const Tensor& g, const Needs&) -> Grads {
    return {mul(dA, mul(g, inv_images))};
  });
}

Tensor src_loss(const Tensor& q, const Tensor& k) {
  check_features("src_loss", q, k);
  Tensor Ak;
  {
    NoGradGuard ng;
    Ak = similarities(k.detach(), k.detach());
  }
  return src_rows_loss(similarities(q, q), Ak);
}

Tensor hdce_weights(const Tensor& k, double gamma) {
  check_features("hdce_weights", k, k);
  SAKUGA_CHECK(std::isfinite(gamma) && gamma > 0, "hdce_weights: gamma must be finite and > 0, got ", gamma);
  NoGradGuard ng;
  const Tensor kd = k.detach();
  const int64_t P = k.size(1);
  Tensor a = similarities(kd, kd);
  // The diagonal → −10: a + eye·(−10 − a).
  std::vector<float> diag(size_t(P * P), 0.f);
  for (int64_t i = 0; i < P; ++i) diag[size_t(i * P + i)] = 1.f;
  const Tensor eye = Tensor::from_vector(diag, {P, P}).to(k.dtype()).to(k.device());
  a = a + eye * add(neg(a), kernels::kNceMaskedDiagonal);
  Tensor w = softmax(mul(a, 1.0 / gamma), 2);
  return div(w, max(w, 2, true));
}

}  // namespace sakuga::ops
