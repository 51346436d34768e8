// Unit tests of the GEMM family: exact products and gradients on small hand-made inputs,
// transposed/strided views, the raw kernels' conventions (trans flags, lds, beta, bias, K = 0)
// and error messages on bad input.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/gemm.h"
#include "tensor/autograd.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/view.h"

using namespace sakuga;

namespace {

Tensor T(std::vector<float> v, Shape s, DType dt = DType::f32) { return Tensor::from_vector(v, s, dt); }

void check_equal(const Tensor& got, const std::vector<float>& want, const Shape& shape) {
  REQUIRE(got.defined());
  CHECK(got.shape() == shape);
  std::vector<float> g = got.to_vector();
  REQUIRE(g.size() == want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element ", i);
    CHECK(g[i] == want[i]);
  }
}

// Deterministic small integers in [-4, 4]: every product below is exact in f32.
std::vector<float> ints(size_t n, int seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(int((i * 7 + size_t(seed) * 13) % 9) - 4);
  return v;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("matmul: exact 2x3 @ 3x2 and its gradients") {
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad(true);
  Tensor b = T({7, 8, 9, 10, 11, 12}, {3, 2}).set_requires_grad(true);
  Tensor c = ops::matmul(a, b);
  check_equal(c, {58, 64, 139, 154}, {2, 2});
  c.backward(T({1, 0, 0, 2}, {2, 2}));
  check_equal(a.grad(), {7, 9, 11, 16, 20, 24}, {2, 3});  // dC·Bᵀ
  check_equal(b.grad(), {1, 8, 2, 10, 3, 12}, {3, 2});    // Aᵀ·dC
}

TEST_CASE("matmul: f64 on CPU") {
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}, DType::f64);
  Tensor b = T({7, 8, 9, 10, 11, 12}, {3, 2}, DType::f64);
  Tensor c = ops::matmul(a, b);
  CHECK(c.dtype() == DType::f64);
  check_equal(c, {58, 64, 139, 154}, {2, 2});
}

TEST_CASE("bmm: exact batch of 2 and its gradients") {
  // batch 0: [[1,2],[3,4]]·I = itself; batch 1: [[1,0],[0,1]]·[[5,6],[7,8]]
  Tensor a = T({1, 2, 3, 4, 1, 0, 0, 1}, {2, 2, 2}).set_requires_grad(true);
  Tensor b = T({1, 0, 0, 1, 5, 6, 7, 8}, {2, 2, 2}).set_requires_grad(true);
  Tensor c = ops::bmm(a, b);
  check_equal(c, {1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  c.backward(Tensor::ones({2, 2, 2}));
  // dA_i = 1·B_iᵀ: row sums of B_i; dB_i = A_iᵀ·1: column sums of A_i.
  check_equal(a.grad(), {1, 1, 1, 1, 11, 15, 11, 15}, {2, 2, 2});
  check_equal(b.grad(), {4, 4, 6, 6, 1, 1, 1, 1}, {2, 2, 2});
  // matmul on rank-3 operands is the same product.
  check_equal(ops::matmul(a.detach(), b.detach()), {1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
}

TEST_CASE("linear: exact with bias, and all three gradients") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {3, 2}).set_requires_grad(true);
  Tensor w = T({1, 0, 0, 1, 1, 1}, {3, 2}).set_requires_grad(true);
  Tensor b = T({10, 20, 30}, {3}).set_requires_grad(true);
  Tensor y = ops::linear(x, w, b);
  check_equal(y, {11, 22, 33, 13, 24, 37, 15, 26, 41}, {3, 3});
  y.backward(T({1, 0, 0, 0, 1, 0, 0, 0, 2}, {3, 3}));
  check_equal(x.grad(), {1, 0, 0, 1, 2, 2}, {3, 2});     // dy·W
  check_equal(w.grad(), {1, 2, 3, 4, 10, 12}, {3, 2});   // dyᵀ·x
  check_equal(b.grad(), {1, 1, 2}, {3});                 // Σ_rows dy
}

TEST_CASE("linear: 1-D, 3-D and no-bias inputs agree with the 2-D product") {
  Tensor w = T(ints(12, 1), {3, 4});
  Tensor b = T({1, -2, 3}, {3});
  Tensor x3 = T(ints(24, 2), {2, 3, 4});
  Tensor y3 = ops::linear(x3, w, b);
  Tensor y2 = ops::linear(ops::reshape(x3, {6, 4}), w, b);
  CHECK(y3.shape() == Shape{2, 3, 3});
  check_equal(y3, y2.to_vector(), {2, 3, 3});
  Tensor y1 = ops::linear(ops::select(ops::reshape(x3, {6, 4}), 0, 4), w, b);
  CHECK(y1.shape() == Shape{3});
  std::vector<float> all = y2.to_vector();
  std::vector<float> row4(all.begin() + 12, all.begin() + 15);
  check_equal(y1, row4, {3});
  // Without bias = matmul(x, wᵀ).
  check_equal(ops::linear(x3, w), ops::matmul(ops::reshape(x3, {6, 4}), ops::transpose(w, 0, 1)).to_vector(),
              {2, 3, 3});
}

TEST_CASE("matmul: transposed and sliced views give the contiguous result (no copy needed)") {
  Tensor a = T(ints(20, 3), {4, 5});
  Tensor bt = T(ints(30, 4), {6, 5});  // b = btᵀ (5×6), a column-major view
  Tensor want = ops::matmul(a, ops::transpose(bt, 0, 1).contiguous());
  check_equal(ops::matmul(a, ops::transpose(bt, 0, 1)), want.to_vector(), {4, 6});
  Tensor at = T(ints(20, 3), {5, 4});
  check_equal(ops::matmul(ops::transpose(at, 0, 1), ops::transpose(bt, 0, 1)),
              ops::matmul(ops::transpose(at, 0, 1).contiguous(), ops::transpose(bt, 0, 1).contiguous()).to_vector(),
              {4, 6});
  // A column slice keeps the row stride (ld 8 > 5 columns).
  Tensor wide = T(ints(32, 5), {4, 8});
  Tensor s = ops::slice(wide, 1, 3, 8);
  Tensor b = T(ints(30, 6), {5, 6});
  check_equal(ops::matmul(s, b), ops::matmul(s.contiguous(), b).to_vector(), {4, 6});
  // Gradients through the views equal those through the copies.
  Tensor bt1 = bt.clone().detach().set_requires_grad(true), bt2 = bt.clone().detach().set_requires_grad(true);
  ops::matmul(a, ops::transpose(bt1, 0, 1)).backward(Tensor::ones({4, 6}));
  ops::matmul(a, ops::transpose(bt2, 0, 1).contiguous()).backward(Tensor::ones({4, 6}));
  check_equal(bt1.grad(), bt2.grad().to_vector(), {6, 5});
}

TEST_CASE("matmul: empty and K = 0 shapes") {
  Tensor z = ops::matmul(Tensor::ones({3, 0}), Tensor::ones({0, 2}));
  check_equal(z, {0, 0, 0, 0, 0, 0}, {3, 2});
  CHECK(ops::matmul(Tensor::ones({0, 4}), Tensor::ones({4, 2})).shape() == Shape{0, 2});
  Tensor y = ops::linear(Tensor::ones({0, 4}), Tensor::ones({3, 4}), Tensor::ones({3}));
  CHECK(y.shape() == Shape{0, 3});
  // K = 0 with a bias: the output is the bias on every row.
  check_equal(ops::linear(Tensor::ones({2, 0}), Tensor::ones({3, 0}), T({1, 2, 3}, {3})), {1, 2, 3, 1, 2, 3}, {2, 3});
}

TEST_CASE("gemm kernel: row-major convention, trans flags, lds, beta and bias") {
  // A stored 2×3 with ld 4 (one padding column), op(A) = A.
  std::vector<float> A = {1, 2, 3, -1, 4, 5, 6, -1};
  // B stored transposed: N×K = 2×3, op(B) = Bᵀ (3×2).
  std::vector<float> B = {7, 9, 11, 8, 10, 12};
  std::vector<float> C = {1, 1, -9, 1, 1, -9};  // ldc 3, last column untouched
  std::vector<float> bias = {100, 200};
  kernels::cpu::gemm<float>(false, true, 2, 2, 3, 2.f, A.data(), 4, B.data(), 3, 0.5f, C.data(), 3, bias.data());
  // 2·[[58,64],[139,154]] + 0.5·1 + bias
  CHECK(C == std::vector<float>{216.5f, 328.5f, -9, 378.5f, 508.5f, -9});

  // op(A) = Aᵀ: A stored K×M = 3×2.
  std::vector<float> At = {1, 4, 2, 5, 3, 6};
  std::vector<float> Bn = {7, 8, 9, 10, 11, 12};
  std::vector<float> D(4, 123.f);  // beta = 0: never read
  kernels::cpu::gemm<float>(true, false, 2, 2, 3, 1.f, At.data(), 2, Bn.data(), 2, 0.f, D.data(), 2);
  CHECK(D == std::vector<float>{58, 64, 139, 154});

  // K = 0: C = beta·C + bias.
  std::vector<double> E = {1, 2, 3, 4};
  std::vector<double> eb = {10, 20};
  kernels::cpu::gemm<double>(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 3.0, E.data(), 2, eb.data());
  CHECK(E == std::vector<double>{13, 26, 19, 32});

  // Strided batch with a shared (stride 0) B.
  std::vector<float> Ab = {1, 2, 3, 4, 5, 6, 7, 8};  // two 2×2
  std::vector<float> I2 = {0, 1, 1, 0};              // swaps columns
  std::vector<float> Cb(8);
  kernels::cpu::gemm_strided_batched<float>(false, false, 2, 2, 2, 1.f, Ab.data(), 2, 4, I2.data(), 2, 0, 0.f,
                                            Cb.data(), 2, 4, 2);
  CHECK(Cb == std::vector<float>{2, 1, 4, 3, 6, 5, 8, 7});

  std::vector<float> db(3);
  std::vector<float> dC = {1, 2, 3, -1, 4, 5, 6, -1};  // 2×3, ld 4
  kernels::cpu::gemm_bias_grad<float>(dC.data(), db.data(), 2, 3, 4);
  CHECK(db == std::vector<float>{5, 7, 9});

  CHECK_ERROR(kernels::cpu::gemm<float>(false, false, 2, 3, 2, 1.f, A.data(), 1, B.data(), 3, 0.f, C.data(), 3),
              "lda");
}

TEST_CASE("matmul/bmm/linear: shape, rank and dtype errors") {
  Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4, 5});
  CHECK_ERROR(ops::matmul(a, b), "matmul: inner dimensions differ");
  CHECK_ERROR(ops::matmul(a, Tensor::ones({3})), "matmul: expected (M, K) @ (K, N)");
  CHECK_ERROR(ops::matmul(Tensor::ones({2, 2, 3}), Tensor::ones({3, 2})), "matmul: expected");
  CHECK_ERROR(ops::matmul(Tensor::ones({2, 2, 3}), Tensor::ones({3, 3, 2})), "matmul: batch sizes differ");
  CHECK_ERROR(ops::matmul(a, Tensor::ones({3, 2}, DType::f64)), "matmul: dtype mismatch");
  CHECK_ERROR(ops::matmul(Tensor::from_vector_i32({1, 2}, {1, 2}), Tensor::from_vector_i32({1, 2}, {2, 1})),
              "must be a float tensor");
  CHECK_ERROR(ops::matmul(Tensor(), a), "argument 'a' is undefined");
  CHECK_ERROR(ops::matmul(a.to(DType::bf16), Tensor::ones({3, 2}, DType::bf16)), "CPU supports f32 and f64");

  CHECK_ERROR(ops::bmm(a, Tensor::ones({3, 2})), "bmm: expected (B, M, K) @ (B, K, N)");
  CHECK_ERROR(ops::bmm(Tensor::ones({2, 2, 3}), Tensor::ones({3, 3, 2})), "bmm: batch sizes differ");
  CHECK_ERROR(ops::bmm(Tensor::ones({2, 2, 3}), Tensor::ones({2, 4, 2})), "bmm: inner dimensions differ");

  Tensor w = Tensor::ones({4, 3});
  CHECK_ERROR(ops::linear(Tensor::ones({5, 2}), w), "linear: input (5, 2) has 2 features");
  CHECK_ERROR(ops::linear(Tensor::ones({5, 3}), Tensor::ones({4, 3, 1})), "linear: weight must be (out_features");
  CHECK_ERROR(ops::linear(Tensor::ones({5, 3}), w, Tensor::ones({3})), "linear: bias must be (4)");
  CHECK_ERROR(ops::linear(Tensor::ones({5, 3}), w, Tensor::ones({4, 1})), "linear: bias must be (4)");
  CHECK_ERROR(ops::linear(Tensor::ones({5, 3}), w, Tensor::ones({4}, DType::f64)), "linear: dtype mismatch");
  CHECK_ERROR(ops::linear(Tensor::scalar(1.0), w), "linear: input must have at least 1 dimension");
}

#ifdef SAKUGA_WITH_CUDA
TEST_CASE("matmul: CUDA fp32 mode matches the CPU, and plans are cached per shape") {
  if (device::cuda_device_count() == 0) return;
  struct PrecisionGuard {
    device::Precision prev = device::precision();
    ~PrecisionGuard() { device::set_precision(prev); }
  } guard;
  device::set_precision(device::Precision::fp32);
  Tensor x = T(ints(35, 7), {5, 7}), w = T(ints(28, 8), {4, 7}), b = T({1, 2, 3, 4}, {4});
  Tensor want = ops::linear(x, w, b);
  Tensor got = ops::linear(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()));
  check_equal(got.cpu(), want.to_vector(), {5, 4});  // small integers: exact in fp32 mode
  size_t n = kernels::cuda::gemm_plan_cache_size();
  ops::linear(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()));
  CHECK(kernels::cuda::gemm_plan_cache_size() == n);  // same problem: no new heuristic query
}
#endif

}  // TEST_SUITE
