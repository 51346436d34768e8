// Harness cases: reductions (sum, mean, max, min, argmax) and the softmax family.
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "}";
}

}  // namespace

SAKUGA_OP_CASES(reduce) {
  // sum / mean over dim sets: all, last, middle, leading, non-adjacent, size-1 dims.
  struct Red {
    Shape shape;
    std::vector<int64_t> dims;
    bool keepdim;
  };
  const std::vector<Red> reds = {
      {{3, 5}, {}, false},         {{3, 5}, {-1}, false},      {{3, 5}, {0}, true},
      {{2, 3, 4, 5}, {1}, false},  {{2, 3, 4, 5}, {1}, true},  {{2, 3, 4, 5}, {0, 2, 3}, true},
      {{2, 3, 4, 5}, {0, 2}, false}, {{2, 1, 3, 1, 4}, {0, 2, 4}, false}, {{7}, {0}, false},
      {{}, {}, false},             {{4, 1, 6}, {1}, false},    {{3, 70, 2}, {1}, false},
  };
  for (const Red& r : reds) {
    const std::string suffix = shape_str(r.shape) + " dims " + dims_str(r.dims) + (r.keepdim ? " keepdim" : "");
    for (bool is_mean : {false, true}) {
      OpCase c{is_mean ? "mean" : "sum", std::string(is_mean ? "mean " : "sum ") + suffix, {in(r.shape)},
               [r, is_mean](const Inputs& v) {
                 return is_mean ? ops::mean(v[0], r.dims, r.keepdim) : ops::sum(v[0], r.dims, r.keepdim);
               }};
      // bf16 parity only where several outputs set the scale of the max-norm error (a lone
      // sum near 0 would make bf16 input rounding look like a large relative error).
      int64_t count = 1;
      for (size_t d = 0; d < r.shape.size(); ++d) {
        bool reduced = r.dims.empty();
        for (int64_t k : r.dims) reduced = reduced || (k < 0 ? k + int64_t(r.shape.size()) : k) == int64_t(d);
        if (reduced) count *= r.shape[d];
      }
      c.bf16 = shape_numel(r.shape) / count >= 3;
      add_case(c);
    }
  }
  // Long rows and few outputs: the CUDA path splits r into chunks (two passes).
  for (auto [shape, dims] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
           {{3, 20000}, {1}}, {{20000, 3}, {0}}, {{2, 9000, 5}, {1}}, {{50000}, {}}}) {
    // Positive inputs: the sums do not cancel, so the f32 round-off of the CPU's sequential
    // sum (~1e-5 relative for 5·10⁴ terms) stays well inside the bound, while a lost or
    // doubled chunk (≥ 2048 terms) would be off by percents.
    OpCase c{"sum", "sum long " + shape_str(shape) + " dims " + dims_str(dims), {uniform(shape, 0.5, 1.5)},
             [dims = dims](const Inputs& v) { return ops::sum(v[0], dims); }};
    c.max_probe = 12;
    c.grad_eps = 1e-2;  // sum is linear: no truncation error, and a wide step beats round-off
    c.parity_tol = 1e-4;
    add_case(c);
  }
  add_case({"mean", "mean (2,3,33,17) dims {2,3}", {in({2, 3, 33, 17})},
            [](const Inputs& v) { return ops::mean(v[0], {2, 3}); }});

  // max / min along a dim (gradient to the first extremum) and argmax (parity only).
  struct Ext {
    Shape shape;
    int64_t dim;
    bool keepdim;
  };
  const std::vector<Ext> exts = {{{4, 7}, -1, false}, {{4, 7}, 0, true},  {{2, 5, 3, 3}, 1, false},
                                 {{2, 5, 3, 3}, 1, true}, {{9}, 0, false}, {{3, 3000}, 1, false},
                                 {{2, 3, 1}, 2, false}};
  for (const Ext& e : exts) {
    const std::string suffix = shape_str(e.shape) + " dim " + std::to_string(e.dim) + (e.keepdim ? " keepdim" : "");
    OpCase mx{"max", "max " + suffix, {in(e.shape)}, [e](const Inputs& v) { return ops::max(v[0], e.dim, e.keepdim); }};
    mx.max_probe = 24;  // no bf16 parity: rounding can create ties and move the argmax
    add_case(mx);
    OpCase mn{"min", "min " + suffix, {in(e.shape)}, [e](const Inputs& v) { return ops::min(v[0], e.dim, e.keepdim); }};
    mn.max_probe = 24;
    add_case(mn);
    OpCase am{"argmax", "argmax " + suffix, {in(e.shape)},
              [e](const Inputs& v) { return ops::argmax(v[0], e.dim, e.keepdim); }};
    am.grad = false;  // integer output
    add_case(am);
  }

  // softmax / log_softmax / logsumexp along the last dim, a middle dim (dim 1 of 4-D: the
  // strided path), the first dim, and long rows (the block-per-row path on CUDA).
  struct Soft {
    Shape shape;
    int64_t dim;
  };
  const std::vector<Soft> softs = {{{4, 7}, -1},       {{4, 7}, 0},         {{2, 5, 3, 3}, 1}, {{2, 3, 4, 5}, -1},
                                   {{3, 1}, 1},        {{1, 6, 1, 2}, 1},   {{2, 3000}, -1},   {{5}, 0}};
  for (const Soft& s : softs) {
    const std::string suffix = shape_str(s.shape) + " dim " + std::to_string(s.dim);
    // Long rows: L = Σ out·R is large, so a wider finite-difference step keeps the f64
    // round-off of the numeric gradient below the tolerance.
    auto add = [&](OpCase c) {
      if (shape_numel(s.shape) > 1000) c.grad_eps = 1e-4;
      add_case(c);
    };
    add({"softmax", "softmax " + suffix, {in(s.shape, 2.0)},
         [s](const Inputs& v) { return ops::softmax(v[0], s.dim); }});
    add({"log_softmax", "log_softmax " + suffix, {in(s.shape, 2.0)},
         [s](const Inputs& v) { return ops::log_softmax(v[0], s.dim); }});
    for (bool keep : {false, true})
      add({"logsumexp", "logsumexp " + suffix + (keep ? " keepdim" : ""), {in(s.shape, 2.0)},
           [s, keep](const Inputs& v) { return ops::logsumexp(v[0], s.dim, keep); }});
  }
  // Large logits: the max shift must keep everything finite.
  add_case({"softmax", "softmax large logits (3,6)", {in({3, 6}, 40.0)},
            [](const Inputs& v) { return ops::softmax(v[0], 1); }});
  add_case({"log_softmax", "log_softmax large logits (3,6)", {in({3, 6}, 40.0)},
            [](const Inputs& v) { return ops::log_softmax(v[0], 1); }});
  // A non-contiguous input (permuted view).
  add_case({"softmax", "softmax of a permuted view", {in({3, 4, 5})},
            [](const Inputs& v) { return ops::softmax(ops::permute(v[0], {2, 0, 1}), 1); }});
  add_case({"sum", "sum of a permuted view dims {0,2}", {in({3, 4, 5})},
            [](const Inputs& v) { return ops::sum(ops::permute(v[0], {2, 0, 1}), {0, 2}); }});
}
