// Harness cases: elementwise and view ops.
#include "tensor/ops/elementwise.h"
#include "tensor/ops/view.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

SAKUGA_OP_CASES(elementwise) {
  auto unary = [](const char* op, std::function<Tensor(const Tensor&)> f, InputSpec x, bool bf16 = true) {
    OpCase c{op, std::string(op) + " " + shape_str(x.shape), {x}, [f](const Inputs& v) { return f(v[0]); }};
    c.bf16 = bf16;
    add_case(c);
  };
  unary("neg", [](const Tensor& x) { return ops::neg(x); }, in({3, 5}));
  unary("exp", [](const Tensor& x) { return ops::exp(x); }, in({4, 7}));
  unary("log", [](const Tensor& x) { return ops::log(x); }, uniform({4, 7}, 0.2, 3.0));
  unary("sqrt", [](const Tensor& x) { return ops::sqrt(x); }, uniform({33}, 0.2, 3.0));
  unary("abs", [](const Tensor& x) { return ops::abs(x); }, in({2, 3, 4}));
  unary("square", [](const Tensor& x) { return ops::square(x); }, in({2, 3, 4}));
  unary("pow", [](const Tensor& x) { return ops::pow(x, 2.5); }, uniform({5, 6}, 0.2, 2.0));
  unary("clamp", [](const Tensor& x) { return ops::clamp(x, -0.5, 0.7); }, in({6, 6}));
  unary("relu", [](const Tensor& x) { return ops::relu(x); }, in({2, 3, 5, 5}));
  unary("leaky_relu", [](const Tensor& x) { return ops::leaky_relu(x, 0.2); }, in({2, 3, 5, 5}));
  unary("sigmoid", [](const Tensor& x) { return ops::sigmoid(x); }, in({4, 9}, 3.0));
  unary("tanh", [](const Tensor& x) { return ops::tanh(x); }, in({4, 9}, 2.0));
  unary("softplus", [](const Tensor& x) { return ops::softplus(x); }, in({4, 9}, 3.0));
  unary("softplus", [](const Tensor& x) { return ops::softplus(x, 2.0, 3.0); }, in({50}, 3.0));
  unary("add_scalar", [](const Tensor& x) { return ops::add(x, 1.5); }, in({7}));
  unary("mul_scalar", [](const Tensor& x) { return ops::mul(x, -2.5); }, in({7}));
  // CUDA layouts: 16-byte packs with a tail (1003 = 125·8 + 3), and an operand one element
  // into its storage (a slice: not 16-byte aligned, element by element).
  unary("relu", [](const Tensor& x) { return ops::relu(x); }, in({1003}));
  unary("sigmoid", [](const Tensor& x) { return ops::sigmoid(x); }, in({4, 251}));
  unary("relu", [](const Tensor& x) { return ops::relu(ops::slice(x, 0, 1, 1004)); }, in({1004}));
  unary("tanh", [](const Tensor& x) { return ops::tanh(ops::slice(x, 0, 3, 64)); }, in({64}));

  auto binary = [](const char* op, std::function<Tensor(const Tensor&, const Tensor&)> f, InputSpec a, InputSpec b) {
    OpCase c{op, std::string(op) + " " + shape_str(a.shape) + " " + shape_str(b.shape), {a, b},
             [f](const Inputs& v) { return f(v[0], v[1]); }};
    c.bf16 = true;
    add_case(c);
  };
  for (auto [sa, sb] : std::vector<std::pair<Shape, Shape>>{
           {{3, 4}, {3, 4}}, {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{4, 1}, {1, 5}}, {{3, 4}, {}}, {{6}, {2, 1, 6}}}) {
    binary("add", [](const Tensor& a, const Tensor& b) { return ops::add(a, b); }, in(sa), in(sb));
    binary("sub", [](const Tensor& a, const Tensor& b) { return ops::sub(a, b); }, in(sa), in(sb));
    binary("mul", [](const Tensor& a, const Tensor& b) { return ops::mul(a, b); }, in(sa), in(sb));
    binary("div", [](const Tensor& a, const Tensor& b) { return ops::div(a, b); }, in(sa), uniform(sb, 0.5, 2.0));
  }
  // CUDA layouts: flat packs with a tail, a broadcast scalar on either side, operands off
  // 16-byte alignment, a GCN-head-like channel broadcast (merged to (N, C, H·W)), and
  // broadcasts that merge to one and to three dims.
  for (auto [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{1003}, {1003}},
                                                            {{5, 201}, {}},
                                                            {{}, {3, 335}},
                                                            {{2, 10, 40, 48}, {1, 10, 1, 1}},
                                                            {{2, 5, 7}, {5, 7}},
                                                            {{3, 1, 4, 1}, {1, 5, 1, 6}}}) {
    binary("add", [](const Tensor& a, const Tensor& b) { return ops::add(a, b); }, in(sa), in(sb));
    binary("mul", [](const Tensor& a, const Tensor& b) { return ops::mul(a, b); }, in(sa), in(sb));
  }
  binary("sub", [](const Tensor& a, const Tensor& b) { return ops::sub(ops::slice(a, 0, 1, 1004), b); },
         in({1004}), in({1003}));
  binary("div", [](const Tensor& a, const Tensor& b) { return ops::div(a, ops::slice(b, 0, 2, 1005)); },
         in({1003}), uniform({1005}, 0.5, 2.0));

  binary("prelu", [](const Tensor& x, const Tensor& w) { return ops::prelu(x, w); }, in({2, 3, 4, 4}),
         uniform({3}, 0.05, 0.5));
  binary("prelu", [](const Tensor& x, const Tensor& w) { return ops::prelu(x, w); }, in({5, 7}), uniform({1}, 0.05, 0.5));

  add_case({"sum_to", "sum_to (2,3,4,5)->(3,1,1)", {in({2, 3, 4, 5})},
            [](const Inputs& v) { return ops::sum_to(v[0], {3, 1, 1}); }});
  // Each CUDA reduction layout: (reduced, kept, reduced) → chunked per-group sums (a bias-like
  // gradient of a 4×96×96 map with 10 channels), (kept, reduced, kept) and its one-sided forms
  // → the reduce family's sum over the middle dim, and an interleaved pattern → the generic
  // kernel. Parity only for the large ones (the small ones are grad-checked).
  auto sum_to_case = [](Shape from, Shape to, bool grad) {
    OpCase c{"sum_to", "sum_to " + shape_str(from) + "->" + shape_str(to), {in(from)},
             [to](const Inputs& v) { return ops::sum_to(v[0], to); }};
    c.grad = grad;
    c.bf16 = true;
    add_case(c);
  };
  sum_to_case({4, 10, 96, 96}, {10, 1, 1}, false);
  sum_to_case({3, 40, 50}, {3, 1, 50}, true);
  sum_to_case({300, 7}, {7}, true);
  sum_to_case({7, 3000}, {7, 1}, false);
  sum_to_case({20000}, {1}, false);
  sum_to_case({2, 3, 4, 5}, {2, 1, 4, 1}, true);
}

SAKUGA_OP_CASES(view) {
  add_case({"reshape", "reshape (2,3,4)->(4,-1)", {in({2, 3, 4})},
            [](const Inputs& v) { return ops::reshape(v[0], {4, -1}); }});
  add_case({"permute", "permute (2,3,4,5) 0,2,3,1", {in({2, 3, 4, 5})},
            [](const Inputs& v) { return ops::permute(v[0], {0, 2, 3, 1}).contiguous(); }});
  add_case({"transpose", "transpose then mul", {in({3, 5}), in({5, 3})},
            [](const Inputs& v) { return ops::mul(ops::transpose(v[0], 0, 1), v[1]); }});
  add_case({"expand", "expand (3,1)->(2,3,4)", {in({3, 1})},
            [](const Inputs& v) { return ops::expand(v[0], {2, 3, 4}).contiguous(); }});
  add_case({"slice", "slice dim1 1:7:2", {in({3, 8, 2})},
            [](const Inputs& v) { return ops::slice(v[0], 1, 1, 7, 2).contiguous(); }});
  add_case({"select", "select dim0 -1", {in({3, 4})}, [](const Inputs& v) { return ops::select(v[0], 0, -1); }});
  add_case({"clone", "clone of a permuted view", {in({2, 3, 4})},
            [](const Inputs& v) { return ops::permute(v[0], {2, 0, 1}).clone(); }});
}
