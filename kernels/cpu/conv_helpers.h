#pragma once
// Helpers shared by the CPU convolution kernels (conv.cpp, axial_conv.cpp):
// - scratch<T, Slot>(n): host buffers that live across calls, one per (thread, element type,
//   slot), reused instead of page-faulting a fresh multi-MiB buffer on every call. A kernel that
//   needs several buffers at once takes them from different slots; contents are garbage.
// - blas::gemm: row-major cblas_sgemm / cblas_dgemm by element type, unchecked (the callers
//   build the shapes themselves; kernels/gemm.h is the checked family API).
#include <cblas.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sakuga::kernels::cpu {

namespace blas {
// Row-major C (m×n) = alpha·op(A)·op(B) + beta·C.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
}  // namespace blas

template <class T, int Slot = 0>
T* scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(n);
  }
  return buf.data();
}

}  // namespace sakuga::kernels::cpu
