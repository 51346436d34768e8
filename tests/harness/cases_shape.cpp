// Harness cases: shape ops that move data (concat, stack, pad, flip, gather, index_select,
// one_hot). All are linear in x, so finite differences are exact up to rounding.
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

std::string dims_str(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

void add(OpCase c) {
  c.bf16 = true;  // data movers: bf16 moves exactly, gradients sum in f32
  add_case(std::move(c));
}

}  // namespace

SAKUGA_OP_CASES(shape) {
  // ---- concat: three tensors along dims 0 / 1 / -1 (and a non-contiguous input) ----
  for (auto [dim, a, b, c] : std::vector<std::tuple<int64_t, Shape, Shape, Shape>>{
           {0, {2, 3, 4}, {1, 3, 4}, {3, 3, 4}},
           {1, {2, 1, 4}, {2, 3, 4}, {2, 2, 4}},
           {-1, {2, 3, 1}, {2, 3, 5}, {2, 3, 2}},
           {1, {3, 2}, {3, 1}, {3, 4}}}) {
    add({"concat", "concat dim " + std::to_string(dim) + " " + shape_str(a) + shape_str(b) + shape_str(c),
         {in(a), in(b), in(c)}, [dim = dim](const Inputs& v) { return ops::concat({v[0], v[1], v[2]}, dim); }});
  }
  add({"concat", "concat of a transposed view and a plain tensor dim 0", {in({4, 3}), in({2, 4})},
       [](const Inputs& v) { return ops::concat({ops::transpose(v[0], 0, 1), v[1]}, 0); }});
  add({"concat", "concat of one tensor", {in({2, 5})}, [](const Inputs& v) { return ops::concat({v[0]}, 1); }});

  // ---- stack ----
  for (int64_t dim : {0, 1, -1})
    add({"stack", "stack 3x(2,3) dim " + std::to_string(dim), {in({2, 3}), in({2, 3}), in({2, 3})},
         [dim](const Inputs& v) { return ops::stack({v[0], v[1], v[2]}, dim); }});

  // ---- pad: all modes on 3D and 4D inputs, asymmetric pads ----
  struct PadCase {
    Shape shape;
    std::vector<int64_t> pads;
  };
  const std::vector<PadCase> pad_cases{
      {{2, 3, 5}, {2, 1}},              // 3D, last dim
      {{2, 4, 5}, {1, 3, 2, 0}},        // 3D, last two dims
      {{2, 3, 4, 5}, {3, 1, 0, 2}},     // 4D, last two dims
      {{1, 2, 3, 4}, {0, 3, 2, 1}},     // 4D, odd sizes, pads up to size − 1
      {{2, 1, 5, 1}, {0, 0, 4, 4}},     // size-1 last dim left alone, big pads on H
  };
  const std::pair<ops::PadMode, const char*> modes[] = {
      {ops::PadMode::zeros, "zeros"}, {ops::PadMode::reflect, "reflect"}, {ops::PadMode::replicate, "replicate"}};
  for (const auto& [mode, mname] : modes)
    for (const PadCase& pc : pad_cases) {
      if (mode == ops::PadMode::reflect) {  // reflect needs pad < size
        bool ok = true;
        for (size_t k = 0; k < pc.pads.size(); ++k) ok = ok && pc.pads[k] < pc.shape[pc.shape.size() - 1 - k / 2];
        if (!ok) continue;
      }
      add({"pad", std::string("pad ") + mname + " " + shape_str(pc.shape) + " " + dims_str(pc.pads), {in(pc.shape)},
           [mode = mode, pads = pc.pads](const Inputs& v) { return ops::pad(v[0], pads, mode); }});
    }
  add({"pad", "pad replicate size-1 dims (2,1,1) {2,3,1,2}", {in({2, 1, 1})},
       [](const Inputs& v) { return ops::pad(v[0], {2, 3, 1, 2}, ops::PadMode::replicate); }});
  add({"pad", "pad reflect 1D (6) {5,4}", {in({6})},
       [](const Inputs& v) { return ops::pad(v[0], {5, 4}, ops::PadMode::reflect); }});
  add({"pad", "pad zeros value 0.5 three dims (2,3,4,5) {1,0,2,2,0,1}", {in({2, 3, 4, 5})},
       [](const Inputs& v) { return ops::pad(v[0], {1, 0, 2, 2, 0, 1}, ops::PadMode::zeros, 0.5); }});
  add({"pad", "pad zeros negative pads crop (2,3,6,5) {-1,2,1,-2}", {in({2, 3, 6, 5})},
       [](const Inputs& v) { return ops::pad(v[0], {-1, 2, 1, -2}); }});

  // ---- flip ----
  for (auto [shape, dims] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
           {{2, 3, 4}, {0, 2}}, {{2, 3, 4, 5}, {-1, 1, 0}}, {{7}, {0}}, {{3, 1, 4}, {1}}, {{2, 3}, {}}}) {
    add({"flip", "flip " + shape_str(shape) + " " + dims_str(dims), {in(shape)},
         [dims = dims](const Inputs& v) { return ops::flip(v[0], dims); }});
  }

  // ---- gather: dims 0 / 1 / -1, repeated indices, index smaller than x off-dim ----
  add({"gather", "gather dim 0 x(4,5,6) index(6,5,6)", {in({4, 5, 6}), labels({6, 5, 6}, 4)},
       [](const Inputs& v) { return ops::gather(v[0], 0, v[1]); }});
  add({"gather", "gather dim 1 x(3,4,5) index(2,7,3)", {in({3, 4, 5}), labels({2, 7, 3}, 4)},
       [](const Inputs& v) { return ops::gather(v[0], 1, v[1]); }});
  add({"gather", "gather dim -1 x(3,4,5) index(3,4,9)", {in({3, 4, 5}), labels({3, 4, 9}, 5)},
       [](const Inputs& v) { return ops::gather(v[0], -1, v[1]); }});
  add({"gather", "gather dim -1 x(6,10) index(6,1) (class pick)", {in({6, 10}), labels({6, 1}, 10)},
       [](const Inputs& v) { return ops::gather(v[0], -1, v[1]); }});

  // ---- index_select with repeats ----
  add({"index_select", "index_select dim 1 x(4,6,3) index(9)", {in({4, 6, 3}), labels({9}, 6)},
       [](const Inputs& v) { return ops::index_select(v[0], 1, v[1]); }});
  add({"index_select", "index_select dim 0 x(4,5) index(7)", {in({4, 5}), labels({7}, 4)},
       [](const Inputs& v) { return ops::index_select(v[0], 0, v[1]); }});
  add({"index_select", "index_select dim -1 x(2,3,5) index(8)", {in({2, 3, 5}), labels({8}, 5)},
       [](const Inputs& v) { return ops::index_select(v[0], -1, v[1]); }});

  // ---- one_hot: not differentiable; parity only ----
  OpCase oh{"one_hot", "one_hot (3,5) classes 7", {labels({3, 5}, 7)},
            [](const Inputs& v) { return ops::one_hot(v[0], 7); }};
  oh.grad = false;
  add_case(oh);
}
