// CPU reference of the GEMM family: OpenBLAS cblas_sgemm / cblas_dgemm on row-major data
// (the convention of kernels/gemm.h is cblas's CblasRowMajor one, so arguments pass through),
// split over the CPU thread pool (kernels/cpu/parallel.h).
#include "kernels/gemm.h"

#include <climits>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

void check_args(const char* fn, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                int64_t ldb, int64_t ldc) {
  SAKUGA_CHECK(M >= 0 && N >= 0 && K >= 0, fn, ": negative size M=", M, " N=", N, " K=", K);
  SAKUGA_CHECK(M <= INT_MAX && N <= INT_MAX && K <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX,
               fn, ": sizes exceed the 32-bit range of cblas (M=", M, " N=", N, " K=", K, ")");
  const int64_t a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  SAKUGA_CHECK(lda >= (a_cols > 1 ? a_cols : 1), fn, ": lda ", lda, " < ", a_cols);
  SAKUGA_CHECK(ldb >= (b_cols > 1 ? b_cols : 1), fn, ": ldb ", ldb, " < ", b_cols);
  SAKUGA_CHECK(ldc >= (N > 1 ? N : 1), fn, ": ldc ", ldc, " < ", N);
}

// C = alpha·op(A)·op(B) + beta·C for one matrix; arguments already checked.
template <class T>
void gemm_one(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
              const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    // No product to add: C = beta·C, with beta == 0 writing zeros (never reading C).
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == T(0) ? T(0) : beta * C[m * ldc + n];
    return;
  }
  parallel_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const T* bias) {
  check_args("cpu::gemm", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  gemm_one(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (bias && M > 0 && N > 0) {
    parallel_for(M, grain_for(N), [=](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m)
        for (int64_t n = 0; n < N; ++n) C[m * ldc + n] += bias[n];
    });
  }
}

template <class T>
void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                          int64_t lda, int64_t stride_a, const T* B, int64_t ldb, int64_t stride_b, T beta,
                          T* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  check_args("cpu::gemm_strided_batched", trans_a, trans_b, M, N, K, lda, ldb, ldc);
  SAKUGA_CHECK(batch >= 0 && stride_a >= 0 && stride_b >= 0 && stride_c >= 0,
               "cpu::gemm_strided_batched: negative batch or stride");
  // Products big enough to split run one after another, each split over the pool; small ones
  // run several at a time, one product per chunk item.
  const int64_t per_product = M * N * (K > 0 ? K : 1);
  parallel_for(batch, per_product >= (int64_t(1) << 19) ? batch : grain_for(per_product, int64_t(1) << 20),
               [=](int64_t i0, int64_t i1) {
                 for (int64_t i = i0; i < i1; ++i)
                   gemm_one(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta,
                            C + i * stride_c, ldc);
               });
}

template <class T>
void gemm_bias_grad(const T* dC, T* db, int64_t M, int64_t N, int64_t ldc) {
  parallel_for(N, grain_for(M), [=](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T s = T(0);
      for (int64_t m = 0; m < M; ++m) s += dC[m * ldc + n];
      db[n] = s;
    }
  });
}

#define SAKUGA_GEMM_INSTANTIATE(T)                                                                               \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*,  \
                        int64_t, const T*);                                                                      \
  template void gemm_strided_batched<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t,    \
                                        const T*, int64_t, int64_t, T, T*, int64_t, int64_t, int64_t);           \
  template void gemm_bias_grad<T>(const T*, T*, int64_t, int64_t, int64_t);
SAKUGA_GEMM_INSTANTIATE(float)
SAKUGA_GEMM_INSTANTIATE(double)
#undef SAKUGA_GEMM_INSTANTIATE

}  // namespace sakuga::kernels::cpu
