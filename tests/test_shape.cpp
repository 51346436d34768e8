// Unit tests of the shape ops: exact values on small hand-made inputs, gradients by hand,
// dtypes the harness does not cover, and error messages.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"

using namespace sakuga;
using ops::PadMode;

namespace {

Tensor T(std::vector<float> v, Shape s) { return Tensor::from_vector(v, s); }
Tensor I(std::vector<int32_t> v, Shape s) { return Tensor::from_vector_i32(v, s); }

// The message of the sakuga::Error thrown by f ("" when none).
// dL/dx for L = Σ f(x)·w (w = ones when empty).
std::vector<float> grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0,
                           std::vector<float> w = {}) {
  Tensor x = x0.clone().detach();
  x.set_requires_grad(true);
  Tensor y = f(x);
  if (w.empty()) w.assign(size_t(y.numel()), 1.f);
  y.backward(Tensor::from_vector(w, y.shape()));
  return x.grad().to_vector();
}

using V = std::vector<float>;
using VI = std::vector<int32_t>;

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("concat: values, gradient slices, non-contiguous input") {
  Tensor a = T({1, 2, 3, 4}, {2, 2}), b = T({5, 6}, {1, 2}), c = T({7, 8}, {2, 1});
  Tensor r0 = ops::concat({a, b}, 0);
  CHECK(r0.shape() == Shape{3, 2});
  CHECK(r0.to_vector() == V{1, 2, 3, 4, 5, 6});
  Tensor r1 = ops::concat({a, c}, -1);
  CHECK(r1.shape() == Shape{2, 3});
  CHECK(r1.to_vector() == V{1, 2, 7, 3, 4, 8});
  // a transposed view goes in as its logical values
  CHECK(ops::concat({ops::transpose(a, 0, 1), b}, 0).to_vector() == V{1, 3, 2, 4, 5, 6});
  // gradient of each input is its slice of the output gradient
  Tensor ga = a.clone().detach(), gc = c.clone().detach();
  ga.set_requires_grad(true);
  gc.set_requires_grad(true);
  ops::concat({ga, gc}, 1).backward(T({10, 20, 30, 40, 50, 60}, {2, 3}));
  CHECK(ga.grad().to_vector() == V{10, 20, 40, 50});
  CHECK(gc.grad().to_vector() == V{30, 60});
  // i32 and u8 concatenate too
  CHECK(ops::concat({I({1, 2}, {2}), I({3}, {1})}, 0).to_vector_i32() == VI{1, 2, 3});
}

TEST_CASE("concat: errors") {
  Tensor a = T({1, 2, 3, 4}, {2, 2});
  CHECK_ERROR(ops::concat({}, 0), "concat: needs at least one tensor");
  CHECK_ERROR(ops::concat({a, T({1, 2, 3}, {1, 3})}, 0),
              "concat: tensor 1 has shape (1, 3) but tensor 0 has (2, 2); they may differ only in dim 0");
  CHECK_ERROR(ops::concat({a, T({1, 2}, {2})}, 0), "ranks differ");
  CHECK_ERROR(ops::concat({a, I({1, 2}, {1, 2})}, 0), "concat: tensor 1 is i32 but tensor 0 is f32");
  CHECK_ERROR(ops::concat({a, a}, 2), "concat: dim 2 out of range for rank 2");
}

TEST_CASE("stack: values and errors") {
  Tensor a = T({1, 2, 3}, {3}), b = T({4, 5, 6}, {3});
  Tensor s0 = ops::stack({a, b}, 0);
  CHECK(s0.shape() == Shape{2, 3});
  CHECK(s0.to_vector() == V{1, 2, 3, 4, 5, 6});
  Tensor s1 = ops::stack({a, b}, -1);
  CHECK(s1.shape() == Shape{3, 2});
  CHECK(s1.to_vector() == V{1, 4, 2, 5, 3, 6});
  CHECK(grad_of([&](const Tensor& x) { return ops::stack({x, b, x}, 1); }, a, {1, 2, 3, 4, 5, 6, 7, 8, 9}) ==
        V{1 + 3, 4 + 6, 7 + 9});
  CHECK_ERROR(ops::stack({a, T({1, 2}, {2})}, 0),
              "stack: tensor 1 has shape (2,) but tensor 0 has shape (3,); all must be equal");
  CHECK_ERROR(ops::stack({a, b}, 2), "stack: dim 2 out of range for rank 2");
}

TEST_CASE("pad: 1-D values in every mode (torch F.pad semantics)") {
  Tensor x = T({1, 2, 3, 4}, {4});
  CHECK(ops::pad(x, {2, 1}, PadMode::reflect).to_vector() == V{3, 2, 1, 2, 3, 4, 3});
  CHECK(ops::pad(x, {3, 3}, PadMode::reflect).to_vector() == V{4, 3, 2, 1, 2, 3, 4, 3, 2, 1});
  CHECK(ops::pad(x, {2, 1}, PadMode::replicate).to_vector() == V{1, 1, 1, 2, 3, 4, 4});
  CHECK(ops::pad(x, {1, 2}, PadMode::zeros, 9).to_vector() == V{9, 1, 2, 3, 4, 9, 9});
  CHECK(ops::pad(x, {1, 2}).to_vector() == V{0, 1, 2, 3, 4, 0, 0});
  CHECK(ops::pad(x, {-1, 1}).to_vector() == V{2, 3, 4, 0});  // negative pads crop (zeros mode)
  CHECK(ops::pad(x, {0, 0}, PadMode::reflect).to_vector() == V{1, 2, 3, 4});
}

TEST_CASE("pad: 2-D values (reflect/replicate on the last two dims)") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {1, 2, 3});
  // torch.nn.functional.pad(x, (1, 1, 1, 0), mode="reflect")
  Tensor r = ops::pad(x, {1, 1, 1, 0}, PadMode::reflect);
  CHECK(r.shape() == Shape{1, 3, 5});
  CHECK(r.to_vector() == V{5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5});
  Tensor p = ops::pad(x, {0, 2, 1, 1}, PadMode::replicate);
  CHECK(p.shape() == Shape{1, 4, 5});
  CHECK(p.to_vector() == V{1, 2, 3, 3, 3, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6, 4, 5, 6, 6, 6});
  // zeros mode pads any dim, including the batch dim
  Tensor z = ops::pad(x, {0, 0, 0, 0, 1, 0}, PadMode::zeros, -1);
  CHECK(z.shape() == Shape{2, 2, 3});
  CHECK(z.to_vector() == V{-1, -1, -1, -1, -1, -1, 1, 2, 3, 4, 5, 6});
  // u8 masks pad too (bytes move, value converted)
  Tensor m = Tensor::from_vector({1, 0, 1}, {3}, DType::u8);
  CHECK(ops::pad(m, {1, 1}, PadMode::zeros, 7).to_vector() == V{7, 1, 0, 1, 7});
}

TEST_CASE("pad: gradients accumulate into the border") {
  Tensor x = T({1, 2, 3, 4}, {4});
  // reflect (2, 1): out reads x[2,1,0,1,2,3,2] → counts 1,2,3,1
  CHECK(grad_of([](const Tensor& t) { return ops::pad(t, {2, 1}, PadMode::reflect); }, x) == V{1, 2, 3, 1});
  // replicate (2, 1): out reads x[0,0,0,1,2,3,3] → counts 3,1,1,2
  CHECK(grad_of([](const Tensor& t) { return ops::pad(t, {2, 1}, PadMode::replicate); }, x) == V{3, 1, 1, 2});
  // weighted: reflect (1, 2) reads x[1,0,1,2,3,2,1] with weights 1..7
  CHECK(grad_of([](const Tensor& t) { return ops::pad(t, {1, 2}, PadMode::reflect); }, x, {1, 2, 3, 4, 5, 6, 7}) ==
        V{2, 1 + 3 + 7, 4 + 6, 5});
  // zeros with a crop: the cropped element gets no gradient
  CHECK(grad_of([](const Tensor& t) { return ops::pad(t, {-1, 1}); }, x, {1, 2, 3, 4}) == V{0, 1, 2, 3});
  // 2-D replicate: the corner element collects the whole corner block
  Tensor x2 = T({1, 2, 3, 4}, {2, 2});
  CHECK(grad_of([](const Tensor& t) { return ops::pad(t, {1, 0, 2, 0}, PadMode::replicate); }, x2) ==
        V{3 * 2, 3, 2, 1});
}

TEST_CASE("pad: errors") {
  Tensor x = T({1, 2, 3, 4}, {1, 4});
  CHECK_ERROR(ops::pad(x, {4, 0}, PadMode::reflect),
              "pad: reflect padding (4, 0) of dim 1 must be smaller than its size 4");
  CHECK_ERROR(ops::pad(x, {0, 1, 1, 0}, PadMode::reflect),
              "pad: reflect padding (1, 0) of dim 0 must be smaller than its size 1");
  CHECK_ERROR(ops::pad(x, {1}), "pad: 'pads' must hold (before, after) pairs, got 1 values");
  CHECK_ERROR(ops::pad(x, {1, 1, 1, 1, 1, 1}), "pad: 6 pads for 3 dims but x has shape (1, 4)");
  CHECK_ERROR(ops::pad(T({1}, {1, 1, 1}), {1, 1, 1, 1, 1, 1}, PadMode::replicate),
              "pad: replicate mode pads the last 1 or 2 dims (2 or 4 pads), got 6 pads");
  CHECK_ERROR(ops::pad(x, {1, 1}, PadMode::reflect, 2.0), "pad: 'value' is only used with PadMode::zeros");
  CHECK_ERROR(ops::pad(x, {-1, 0}, PadMode::replicate), "pad: replicate pads must be >= 0, got (-1, 0) for dim 1");
  CHECK_ERROR(ops::pad(x, {-3, -2}), "pad: pads (-3, -2) make dim 1 of size 4 negative");
}

TEST_CASE("flip: values, gradient, dtypes, errors") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(ops::flip(x, {1}).to_vector() == V{3, 2, 1, 6, 5, 4});
  CHECK(ops::flip(x, {0}).to_vector() == V{4, 5, 6, 1, 2, 3});
  CHECK(ops::flip(x, {-1, 0}).to_vector() == V{6, 5, 4, 3, 2, 1});
  CHECK(ops::flip(x, {}).to_vector() == V{1, 2, 3, 4, 5, 6});
  CHECK(ops::flip(ops::transpose(x, 0, 1), {0}).to_vector() == V{3, 6, 2, 5, 1, 4});
  CHECK(ops::flip(I({1, 2, 3}, {3}), {0}).to_vector_i32() == VI{3, 2, 1});
  CHECK(grad_of([](const Tensor& t) { return ops::flip(t, {1}); }, x, {10, 20, 30, 40, 50, 60}) ==
        V{30, 20, 10, 60, 50, 40});
  CHECK_ERROR(ops::flip(x, {1, -1}), "flip: dim 1 appears more than once in dims");
  CHECK_ERROR(ops::flip(x, {2}), "flip: dim 2 out of range for rank 2");
}

TEST_CASE("gather: torch example, repeated indices, gradient") {
  Tensor t = T({1, 2, 3, 4}, {2, 2});
  Tensor idx = I({0, 0, 1, 0}, {2, 2});
  CHECK(ops::gather(t, 1, idx).to_vector() == V{1, 1, 4, 3});
  // dL/dt: scatter-add of the weights → t[0][0] gets 1+2, t[1][1] gets 3, t[1][0] gets 4
  CHECK(grad_of([&](const Tensor& x) { return ops::gather(x, 1, idx); }, t, {1, 2, 3, 4}) == V{3, 0, 4, 3});
  // dim 0, index taller than x, narrower off-dim
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor i0 = I({1, 0, 1, 1}, {4, 1});
  CHECK(ops::gather(x, 0, i0).to_vector() == V{4, 1, 4, 4});
  CHECK(grad_of([&](const Tensor& a) { return ops::gather(a, 0, i0); }, x, {1, 2, 3, 4}) == V{2, 0, 0, 8, 0, 0});
  // i32 data
  CHECK(ops::gather(I({7, 8, 9}, {3}), 0, I({2, 2, 0}, {3})).to_vector_i32() == VI{9, 9, 7});
}

TEST_CASE("gather: errors") {
  Tensor t = T({1, 2, 3, 4}, {2, 2});
  CHECK_ERROR(ops::gather(t, 1, I({0, 2, 1, 0}, {2, 2})),
              "gather: index 2 at position 1 is out of range [0, 2) along dim 1 of x shape (2, 2)");
  CHECK_ERROR(ops::gather(t, 1, I({0, -1}, {1, 2})), "gather: index -1 at position 1 is out of range");
  CHECK_ERROR(ops::gather(t, 1, I({0, 1}, {2})), "gather: 'index' must have the rank of 'x' (2)");
  CHECK_ERROR(ops::gather(t, 1, T({0, 1}, {1, 2})), "gather: 'index' must be i32, got f32");
  CHECK_ERROR(ops::gather(t, 1, I({0, 0, 0}, {3, 1})),
              "gather: index shape (3, 1) exceeds x shape (2, 2) in dim 0 (only dim 1 may be larger)");
  CHECK_ERROR(ops::gather(t, -3, I({0}, {1, 1})), "gather: dim -3 out of range for rank 2");
}

TEST_CASE("index_select: values with repeats, gradient, errors") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor idx = I({2, 0, 2}, {3});
  Tensor r = ops::index_select(x, 0, idx);
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.to_vector() == V{5, 6, 1, 2, 5, 6});
  CHECK(ops::index_select(x, -1, I({1}, {1})).to_vector() == V{2, 4, 6});
  CHECK(ops::index_select(x, 1, I({}, {0})).shape() == Shape{3, 0});
  CHECK(grad_of([&](const Tensor& a) { return ops::index_select(a, 0, idx); }, x, {1, 2, 3, 4, 5, 6}) ==
        V{3, 4, 0, 0, 1 + 5, 2 + 6});
  CHECK(ops::index_select(I({4, 5, 6}, {3}), 0, I({1, 1}, {2})).to_vector_i32() == VI{5, 5});
  CHECK_ERROR(ops::index_select(x, 0, I({0, 1}, {1, 2})), "index_select: 'index' must be 1-D, got shape (1, 2)");
  CHECK_ERROR(ops::index_select(x, 0, I({0, 3}, {2})),
              "index_select: index 3 at position 1 is out of range [0, 3) along dim 0 of x shape (3, 2)");
  CHECK_ERROR(ops::index_select(x, 1, T({0}, {1})), "index_select: 'index' must be i32, got f32");
}

TEST_CASE("one_hot: values, dtypes, errors") {
  Tensor l = I({0, 2, 1, 1}, {2, 2});
  Tensor o = ops::one_hot(l, 3);
  CHECK(o.shape() == Shape{2, 2, 3});
  CHECK(o.dtype() == DType::f32);
  CHECK(o.to_vector() == V{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0});
  CHECK(ops::one_hot(I({1}, {1}), 2, DType::i32).to_vector_i32() == VI{0, 1});
  CHECK(ops::one_hot(I({0, 1}, {2}), 2, DType::u8).to_vector() == V{1, 0, 0, 1});
  CHECK(ops::one_hot(I({0, 1}, {2}), 2, DType::f64).to_vector_f64() == std::vector<double>{1, 0, 0, 1});
  CHECK_FALSE(ops::one_hot(l, 3).requires_grad());
  CHECK_ERROR(ops::one_hot(I({0, 3}, {2}), 3), "one_hot: label 3 at position 1 is out of range [0, 3) (classes = 3)");
  CHECK_ERROR(ops::one_hot(I({-1}, {1}), 3), "one_hot: label -1 at position 0 is out of range [0, 3)");
  CHECK_ERROR(ops::one_hot(T({0}, {1}), 3), "one_hot: 'labels' must be i32, got f32");
  CHECK_ERROR(ops::one_hot(l, 0), "one_hot: 'classes' must be > 0, got 0");
}

}  // TEST_SUITE
