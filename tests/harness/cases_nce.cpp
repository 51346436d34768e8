// Harness cases: the fused contrastive row losses (kernels/nce.h) on similarity matrices, with and
// without HDCE weights, P from 1 to 300 (more than one CUDA block-stride), τ 0.07 and 1, and the
// feature-level PatchNCE / HDCE (the batched GEMM in front). HDCE's gradient is not the gradient
// of its reported value (the CE) but of logsumexp_j((N_ij − S_ii)/τ): its cases add that value's
// difference from the CE as a constant, so the finite differences see the function whose
// gradient the op records. SRC's cases differentiate Aq (q) only: the source side is a constant.
#include "tensor/ops.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

// The eye (P, P) in x's dtype and device.
Tensor eye_like(const Tensor& x, int64_t P) {
  std::vector<float> d(size_t(P * P), 0.f);
  for (int64_t i = 0; i < P; ++i) d[size_t(i * P + i)] = 1.f;
  return Tensor::from_vector(d, {P, P}).to(x.dtype()).to(x.device());
}

// mean over rows of logsumexp_j((N_ij − S_ii)/τ), N = W·S with the diagonal −10, from plain ops.
Tensor decoupled_value(const Tensor& S, const Tensor& W, double tau) {
  const int64_t P = S.size(1);
  const Tensor eye = eye_like(S, P);
  Tensor n = W.defined() ? S * W : S;
  n = n * (ops::add(ops::neg(eye), 1.0)) + eye * -10.0;
  const Tensor pos = ops::sum(S * eye, {2}, true);  // (B, P, 1)
  return ops::mean(ops::logsumexp((n - pos) * (1.0 / tau), 2));
}

// HDCE as the harness must see it: the value of the decoupled function, the op's gradient.
Tensor hdce_checked(const Tensor& S, const Tensor& W, double tau) {
  Tensor op = ops::nce_rows_loss(S, W, tau, true);
  Tensor shift;
  {
    NoGradGuard ng;
    shift = decoupled_value(S, W, tau) - op;
  }
  return op + shift;
}

std::string shape_name(int64_t B, int64_t P) { return "(" + std::to_string(B) + "," + std::to_string(P) + ")"; }

}  // namespace

SAKUGA_OP_CASES(nce) {
  struct Size {
    int64_t B, P;
  };
  for (Size s : {Size{1, 1}, Size{2, 5}, Size{3, 17}, Size{1, 64}, Size{2, 300}}) {
    for (double tau : {0.07, 1.0}) {
      const std::string tag = " " + shape_name(s.B, s.P) + " tau=" + (tau == 1.0 ? "1" : "0.07");
      const Shape sh{s.B, s.P, s.P};
      add_case({"nce_rows_loss", "patch_nce rows" + tag, {in(sh, 0.5)},
                [=](const Inputs& v) { return ops::nce_rows_loss(v[0], Tensor(), tau, false); }});
      add_case({"nce_rows_loss", "weighted rows" + tag, {in(sh, 0.5), constant(uniform(sh, 0.0, 1.0))},
                [=](const Inputs& v) { return ops::nce_rows_loss(v[0], v[1], tau, false); }});
      add_case({"hdce_rows_loss", "hdce rows (decoupled gradient)" + tag,
                {in(sh, 0.5), constant(uniform(sh, 0.0, 1.0))},
                [=](const Inputs& v) { return hdce_checked(v[0], v[1], tau); }});
    }
  }
  // SRC on relation matrices (any Aq: the op does not assume symmetry) and from features.
  for (Size s : {Size{1, 1}, Size{2, 5}, Size{1, 64}, Size{2, 300}}) {
    const Shape sh{s.B, s.P, s.P};
    add_case({"src_rows_loss", "src rows " + shape_name(s.B, s.P), {in(sh, 2.0), constant(in(sh, 2.0))},
              [](const Inputs& v) { return ops::src_rows_loss(v[0], v[1]); }});
  }
  add_case({"src_loss", "src_loss (2,9)x8", {in({2, 9, 8}, 0.5), constant(in({2, 9, 8}, 0.5))},
            [](const Inputs& v) { return ops::src_loss(v[0], v[1]); }});
  // Feature level: q, k (B, P, C), the GEMM then the rows (both sides differentiated).
  for (Size s : {Size{2, 6}, Size{1, 33}}) {
    const Shape f{s.B, s.P, 8};
    add_case({"patch_nce_loss", "patch_nce_loss " + shape_name(s.B, s.P) + "x8", {in(f, 0.4), in(f, 0.4)},
              [](const Inputs& v) { return ops::patch_nce_loss(v[0], v[1], 0.07); }});
    // The weights from a constant third feature set (the loss treats them as constants; from k
    // itself the finite differences would also see the weights move).
    add_case({"hdce_loss", "hdce_loss " + shape_name(s.B, s.P) + "x8", {in(f, 0.4), in(f, 0.4), constant(in(f, 0.4))},
              [](const Inputs& v) {
                const Tensor w = ops::hdce_weights(v[2], 10.0);
                Tensor op = ops::hdce_loss(v[0], v[1], w, 0.07), shift;
                {
                  NoGradGuard ng;
                  shift = decoupled_value(ops::bmm(v[0], ops::transpose(v[1], 1, 2)), w, 0.07) - op;
                }
                return op + shift;
              }});
  }
}
