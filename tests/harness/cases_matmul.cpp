// Harness cases: the GEMM family (matmul, bmm, linear).
//
// Parity tolerance: the harness runs CUDA in the precision of its pass (SAKUGA_HARNESS_PRECISION,
// default tf32 as on the GPU), and under tf32 the cuBLASLt products round their f32 operands to
// tf32 (10-bit mantissa, relative ≈ 5e-4 per operand). The cases are marked `tf32`: the
// architecture's tf32 bound 1e-3 in the tf32 pass, the f32 bound 1e-5 in the fp32 pass. bf16
// runs use the harness's 1e-2.
#include "tensor/ops/matmul.h"
#include "tensor/ops/view.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

void gemm_case(const char* op, std::string name, std::vector<InputSpec> inputs, std::function<Tensor(const Inputs&)> f) {
  OpCase c{op, std::move(name), std::move(inputs), std::move(f)};
  c.bf16 = true;
  c.tf32 = true;
  add_case(c);
}

}  // namespace

SAKUGA_OP_CASES(matmul) {
  auto mm = [](const Inputs& v) { return ops::matmul(v[0], v[1]); };
  // 2-D: square, rectangular, odd (M=7, K=13, N=5), size-1 dims.
  gemm_case("matmul", "matmul (8,8)@(8,8)", {in({8, 8}), in({8, 8})}, mm);
  gemm_case("matmul", "matmul (5,3)@(3,6)", {in({5, 3}), in({3, 6})}, mm);
  gemm_case("matmul", "matmul (7,13)@(13,5)", {in({7, 13}), in({13, 5})}, mm);
  gemm_case("matmul", "matmul (1,9)@(9,1)", {in({1, 9}), in({9, 1})}, mm);
  gemm_case("matmul", "matmul (6,1)@(1,4)", {in({6, 1}), in({1, 4})}, mm);
  // Views passed to the GEMM without copies: transposed operands and a row-strided slice.
  gemm_case("matmul", "matmul a@transpose(b)", {in({6, 4}), in({5, 4})},
            [](const Inputs& v) { return ops::matmul(v[0], ops::transpose(v[1], 0, 1)); });
  gemm_case("matmul", "matmul transpose(a)@b", {in({4, 6}), in({4, 3})},
            [](const Inputs& v) { return ops::matmul(ops::transpose(v[0], 0, 1), v[1]); });
  gemm_case("matmul", "matmul slice(a)@b (ld > cols)", {in({4, 8}), in({5, 3})},
            [](const Inputs& v) { return ops::matmul(ops::slice(v[0], 1, 2, 7), v[1]); });
  // Output consumed through a transposed view: the incoming gradient is not contiguous.
  gemm_case("matmul", "transpose(matmul) grad layout", {in({3, 5}), in({5, 4})},
            [](const Inputs& v) { return ops::transpose(ops::matmul(v[0], v[1]), 0, 1).contiguous(); });
  // 3-D (batched) matmul.
  gemm_case("matmul", "matmul (2,4,3)@(2,3,5)", {in({2, 4, 3}), in({2, 3, 5})}, mm);
}

SAKUGA_OP_CASES(bmm) {
  auto bmm = [](const Inputs& v) { return ops::bmm(v[0], v[1]); };
  gemm_case("bmm", "bmm (3,4,5)@(3,5,2)", {in({3, 4, 5}), in({3, 5, 2})}, bmm);
  gemm_case("bmm", "bmm (3,7,13)@(3,13,5)", {in({3, 7, 13}), in({3, 13, 5})}, bmm);
  gemm_case("bmm", "bmm (1,6,4)@(1,4,3)", {in({1, 6, 4}), in({1, 4, 3})}, bmm);
  // b as a per-batch transposed view (PatchNCE-style q·kᵀ).
  gemm_case("bmm", "bmm a@permute(b)", {in({3, 4, 6}), in({3, 5, 6})},
            [](const Inputs& v) { return ops::bmm(v[0], ops::permute(v[1], {0, 2, 1})); });
  // A non-contiguous batch layout (batch dim moved): falls back to a contiguous copy.
  gemm_case("bmm", "bmm permute(a) batch-minor", {in({4, 3, 5}), in({3, 5, 2})},
            [](const Inputs& v) { return ops::bmm(ops::permute(v[0], {1, 0, 2}), v[1]); });
}

SAKUGA_OP_CASES(linear) {
  auto lin_b = [](const Inputs& v) { return ops::linear(v[0], v[1], v[2]); };
  auto lin = [](const Inputs& v) { return ops::linear(v[0], v[1]); };
  gemm_case("linear", "linear 2-D bias (5,7)·(4,7)ᵀ", {in({5, 7}), in({4, 7}), in({4})}, lin_b);
  gemm_case("linear", "linear 2-D no bias (5,7)·(4,7)ᵀ", {in({5, 7}), in({4, 7})}, lin);
  gemm_case("linear", "linear 3-D bias (2,3,7)·(4,7)ᵀ", {in({2, 3, 7}), in({4, 7}), in({4})}, lin_b);
  gemm_case("linear", "linear 3-D no bias (2,3,7)·(4,7)ᵀ", {in({2, 3, 7}), in({4, 7})}, lin);
  gemm_case("linear", "linear 1-D input bias", {in({7}), in({3, 7}), in({3})}, lin_b);
  gemm_case("linear", "linear odd (13,5)·(7,5)ᵀ bias", {in({13, 5}), in({7, 5}), in({7})}, lin_b);
  gemm_case("linear", "linear 4-D (2,2,3,6) bias", {in({2, 2, 3, 6}), in({5, 6}), in({5})}, lin_b);
  // Tied weights: the weight is a transposed view of a (in, out) parameter.
  gemm_case("linear", "linear transpose(w) bias", {in({5, 6}), in({6, 4}), in({4})},
            [](const Inputs& v) { return ops::linear(v[0], ops::transpose(v[1], 0, 1), v[2]); });
  // Transposed 2-D input, and a non-contiguous 3-D input (copied).
  gemm_case("linear", "linear transpose(x)", {in({7, 5}), in({4, 7}), in({4})},
            [](const Inputs& v) { return ops::linear(ops::transpose(v[0], 0, 1), v[1], v[2]); });
  gemm_case("linear", "linear permute(x) 3-D", {in({2, 7, 3}), in({4, 7}), in({4})},
            [](const Inputs& v) { return ops::linear(ops::permute(v[0], {0, 2, 1}), v[1], v[2]); });
}
