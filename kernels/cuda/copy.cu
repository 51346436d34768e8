// CUDA copy family: fill, dtype cast, strided copy (see kernels/copy.h).
#include "kernels/copy.h"
#include "kernels/cuda/check.cuh"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;

namespace {

template <class T>
__device__ __forceinline__ double to_f64(T v) { return double(v); }
template <>
__device__ __forceinline__ double to_f64<__nv_bfloat16>(__nv_bfloat16 v) { return double(__bfloat162float(v)); }
template <class T>
__device__ __forceinline__ T from_f64(double v) { return T(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f64<__nv_bfloat16>(double v) { return __float2bfloat16(float(v)); }

template <class F>
void dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(__nv_bfloat16{}); return;
    case DType::i32: f(int32_t{}); return;
    case DType::u8: f(uint8_t{}); return;
  }
}

template <class T>
__global__ void fill_kernel(T* dst, int64_t n, T v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = v;
}

template <class S, class D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (std::is_same_v<S, float> && std::is_same_v<D, __nv_bfloat16>)
      dst[i] = __float2bfloat16(src[i]);  // round-to-nearest-even, same as the host bf16
    else if constexpr (std::is_same_v<S, __nv_bfloat16> && std::is_same_v<D, float>)
      dst[i] = __bfloat162float(src[i]);
    else
      dst[i] = from_f64<D>(to_f64(src[i]));
  }
}

struct Geometry {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t src_strides[kMaxDims];
  int64_t dst_strides[kMaxDims];
};

template <class T>
__global__ void strided_copy_kernel(const T* src, T* dst, Geometry g, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, so = 0, d_off = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t idx = rem % g.shape[d];
      rem /= g.shape[d];
      so += idx * g.src_strides[d];
      d_off += idx * g.dst_strides[d];
    }
    dst[d_off] = src[so];
  }
}

}  // namespace

void fill(void* dst, DType dtype, int64_t n, double value, Stream s) {
  if (n == 0) return;
  dispatch_all(dtype, [&](auto t) {
    using T = decltype(t);
    T v;
    if constexpr (std::is_same_v<T, __nv_bfloat16>)
      v = __float2bfloat16(float(value));
    else
      v = T(value);
    fill_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<T*>(dst), n, v);
  });
  SAKUGA_LAUNCH_CHECK();
}

void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n, Stream s) {
  if (n == 0) return;
  dispatch_all(src_dtype, [&](auto st) {
    using S = decltype(st);
    dispatch_all(dst_dtype, [&](auto dt) {
      using D = decltype(dt);
      cast_kernel<S, D><<<grid_for(n), 256, 0, s>>>(static_cast<const S*>(src), static_cast<D*>(dst), n);
    });
  });
  SAKUGA_LAUNCH_CHECK();
}

void strided_copy(const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides, DType dtype,
                  const int64_t* shape, int ndim, Stream s) {
  Geometry g{};
  g.ndim = ndim;
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) {
    g.shape[d] = shape[d];
    g.src_strides[d] = src_strides[d];
    g.dst_strides[d] = dst_strides[d];
    n *= shape[d];
  }
  if (n == 0) return;
  // Copy raw elements of the dtype's width; the values are not interpreted.
  switch (dtype_size(dtype)) {
    case 1: strided_copy_kernel<uint8_t><<<grid_for(n), 256, 0, s>>>(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), g, n); break;
    case 2: strided_copy_kernel<uint16_t><<<grid_for(n), 256, 0, s>>>(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), g, n); break;
    case 4: strided_copy_kernel<uint32_t><<<grid_for(n), 256, 0, s>>>(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), g, n); break;
    case 8: strided_copy_kernel<uint64_t><<<grid_for(n), 256, 0, s>>>(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), g, n); break;
  }
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
