#pragma once
// GEMM family: OpenBLAS (cblas) on CPU, cuBLASLt on CUDA. Raw pointers, no Tensor.
//
// Convention: every matrix is ROW-MAJOR, with a leading dimension `ld` = the distance in
// elements between the starts of two consecutive stored rows.
//
//   C (M×N, ldc ≥ N) = alpha · op(A) · op(B) + beta · C  [+ bias[n] on every row, if bias]
//
//   op(A) is M×K:  trans_a = false → A is stored M×K (lda ≥ K), op(A) = A
//                  trans_a = true  → A is stored K×M (lda ≥ M), op(A) = Aᵀ
//   op(B) is K×N:  trans_b = false → B is stored K×N (ldb ≥ N), op(B) = B
//                  trans_b = true  → B is stored N×K (ldb ≥ K), op(B) = Bᵀ
//
// So a transposed operand is never copied: the backward of C = A·B is
//   dA = dC·Bᵀ → gemm(false, true,  M, K, N, 1, dC, N, B, N, 0, dA, K)
//   dB = Aᵀ·dC → gemm(true,  false, K, N, M, 1, A, K, dC, N, 0, dB, N)
// and linear (y = x·Wᵀ + b, W stored (out, in)) is gemm(false, true, rows, out, in, ..., bias).
//
// `bias` (length N, optional) is added to every row after the product: the row broadcast of
// torch.nn.functional.linear. When beta == 0, C is write-only (NaNs in it are not read).
// K == 0 is allowed: C = beta·C (+ bias). M == 0 or N == 0 does nothing.
//
// Strided batched: batch independent products; matrix i of X starts at X + i·stride_x.
// A stride of 0 reuses the same A (or B) matrix for every batch (C must not overlap).
#include "kernels/common.h"

namespace sakuga::kernels {

namespace cpu {
// T = float (cblas_sgemm) or double (cblas_dgemm). Sizes must fit in a 32-bit int (cblas).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias = nullptr);

template <class T>
void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                          int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta,
                          T* C, int64_t ldc, int64_t stride_c, int64_t batch);

// Bias gradient of a row-broadcast bias: db[n] = Σ_m dC[m·ldc + n] (fixed order over m).
template <class T>
void gemm_bias_grad(const T* dC, T* db, int64_t M, int64_t N, int64_t ldc);
}  // namespace cpu

namespace cuda {
// dtype: f32 or bf16 (A, B, C and bias all of that dtype; alpha/beta and accumulation in f32).
// Compute mode follows sakuga::device::precision() for f32 storage:
//   fp32 → CUBLAS_COMPUTE_32F, tf32 → CUBLAS_COMPUTE_32F_FAST_TF32,
//   bf16 → CUBLAS_COMPUTE_32F_FAST_16BF (operands rounded to bf16, f32 accumulation);
// bf16 storage always computes with bf16 inputs and f32 accumulation (CUBLAS_COMPUTE_32F).
// The bias add is fused into the cuBLASLt epilogue (CUBLASLT_EPILOGUE_BIAS) when an algorithm
// supports it, else applied by a separate kernel. The algorithm is chosen once per problem
// (shapes, lds, strides, alignment, dtype, compute type, device) and cached.
void gemm(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
          int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc, Stream s,
          const void* bias = nullptr);

void gemm_strided_batched(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb,
                          int64_t stride_b, float beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch,
                          Stream s);

// db[n] = Σ_m dC[m·ldc + n]; one thread per column, f32 accumulation, fixed order (no atomics).
void gemm_bias_grad(DType dtype, const void* dC, void* db, int64_t M, int64_t N, int64_t ldc, Stream s);

// Number of cached cuBLASLt plans (for tests/diagnostics).
size_t gemm_plan_cache_size();
}  // namespace cuda

}  // namespace sakuga::kernels
