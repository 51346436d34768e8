#pragma once
// Copy family: fill, dtype cast and strided (view → contiguous) copy. Used by Tensor itself.
#include "kernels/common.h"

namespace sakuga::kernels {

constexpr int kMaxDims = 8;

namespace cpu {
void fill(void* dst, DType dtype, int64_t n, double value);
void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n);
// dst[Σ idx_d · dst_strides[d]] = src[Σ idx_d · src_strides[d]] for every index of `shape`
// (strides in elements). Contiguous → view, view → contiguous and view → view.
void strided_copy(const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  DType dtype, const int64_t* shape, int ndim);
}  // namespace cpu

namespace cuda {
void fill(void* dst, DType dtype, int64_t n, double value, Stream s);
void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n, Stream s);
void strided_copy(const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  DType dtype, const int64_t* shape, int ndim, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
