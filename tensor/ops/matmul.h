#pragma once
// GEMM family: OpenBLAS on CPU, cuBLASLt on CUDA (tf32/bf16 per the precision setting).
#include "tensor/tensor.h"

namespace sakuga::ops {

// (M, K) @ (K, N) → (M, N); (B, M, K) @ (B, K, N) → (B, M, N).
Tensor matmul(const Tensor& a, const Tensor& b);
// Batched matmul, both operands rank 3 with equal batch.
Tensor bmm(const Tensor& a, const Tensor& b);
// x (..., in) · weightᵀ + bias; weight (out, in), bias (out) optional — torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace sakuga::ops
