#pragma once
// Helpers shared by the CPU convolution kernels (conv.cpp, axial_conv.cpp):
// - scratch<T, Slot>(n): host buffers that live across calls, one per (thread, element type,
//   slot), reused instead of page-faulting a fresh multi-MiB buffer on every call. A kernel that
//   needs several buffers at once takes them from different slots; contents are garbage.
// - blas::gemm: row-major cblas_sgemm / cblas_dgemm by element type, split over the thread pool
//   (kernels/cpu/parallel.h), unchecked (the callers build the shapes themselves;
//   kernels/gemm.h is the checked family API).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace blas {
// Row-major C (m×n) = alpha·op(A)·op(B) + beta·C, split over the CPU thread pool.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  parallel_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  parallel_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
