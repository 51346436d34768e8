// CUDA random family: each thread draws one Philox block for a pair of counters (2q, 2q+1)
// and writes the (up to two) elements of the draw that use them. Values equal the CPU
// reference (kernels/cpu/random.cpp) for the same seed and offset.
#include "kernels/cuda/check.cuh"
#include "kernels/random.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;

namespace {

__device__ __forceinline__ void put(float* p, int64_t i, double v) { p[i] = float(v); }
__device__ __forceinline__ void put(double* p, int64_t i, double v) { p[i] = v; }
__device__ __forceinline__ void put(__nv_bfloat16* p, int64_t i, double v) { p[i] = __float2bfloat16(float(v)); }

// Pairs q0 .. q0+npairs−1 cover counters [offset, offset+n). body(i, j, block) handles
// element i = 2q+j − offset of pair q.
template <class Body>
__device__ __forceinline__ void for_each_pair(uint64_t seed, uint64_t offset, int64_t n, Body body) {
  const uint64_t q0 = offset >> 1;
  const int64_t npairs = int64_t(((offset + uint64_t(n) - 1) >> 1) - q0 + 1);
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < npairs; k += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t q = q0 + uint64_t(k);
    const philox::U4 b = philox::block(seed, q);
    for (int j = 0; j < 2; ++j) {
      const uint64_t c = 2 * q + uint64_t(j);
      if (c < offset || c >= offset + uint64_t(n)) continue;
      body(int64_t(c - offset), j, b);
    }
  }
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  for_each_pair(seed, offset, n, [&](int64_t i, int j, const philox::U4& b) {
    float z = j == 0 ? normal_from_words(b.x, b.y) : normal_from_words(b.z, b.w);
    put(out, i, mul_add_rn(std, double(z), mean));
  });
}

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  for_each_pair(seed, offset, n, [&](int64_t i, int j, const philox::U4& b) {
    float u = uniform_from_word(j == 0 ? b.x : b.z);
    put(out, i, mul_add_rn(hi - lo, double(1.0f - u), lo));
  });
}

__global__ void mask_kernel(uint8_t* keep, int64_t n, uint64_t seed, uint64_t offset, float p) {
  for_each_pair(seed, offset, n, [&](int64_t i, int j, const philox::U4& b) {
    keep[i] = uniform_from_word(j == 0 ? b.x : b.z) > p ? 1 : 0;
  });
}

template <class T>
__global__ void dropout_kernel(const T* x, T* y, int64_t n, uint64_t seed, uint64_t offset, float p, float scale) {
  for_each_pair(seed, offset, n, [&](int64_t i, int j, const philox::U4& b) {
    bool keep = uniform_from_word(j == 0 ? b.x : b.z) > p;
    sakuga::cuda::store(y, i, keep ? sakuga::cuda::load(x, i) * scale : 0.f);
  });
}

unsigned grid_pairs(int64_t n) { return grid_for(n / 2 + 1); }

template <class F>
void dispatch_fill(const char* op, DType dt, F&& f) {
  switch (dt) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(__nv_bfloat16{}); return;
    default: SAKUGA_FAIL(op, ": CUDA supports f32, f64 and bf16, got ", dtype_name(dt));
  }
}

}  // namespace

void fill_normal(DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                 Stream s) {
  if (n <= 0) return;
  dispatch_fill("fill_normal", dtype, [&](auto t) {
    using T = decltype(t);
    normal_kernel<T><<<grid_pairs(n), 256, 0, s>>>(static_cast<T*>(out), n, seed, offset, mean, std);
  });
  SAKUGA_LAUNCH_CHECK();
}

void fill_uniform(DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
                  Stream s) {
  if (n <= 0) return;
  dispatch_fill("fill_uniform", dtype, [&](auto t) {
    using T = decltype(t);
    uniform_kernel<T><<<grid_pairs(n), 256, 0, s>>>(static_cast<T*>(out), n, seed, offset, lo, hi);
  });
  SAKUGA_LAUNCH_CHECK();
}

void dropout_mask(uint8_t* keep, int64_t n, double p, uint64_t seed, uint64_t offset, Stream s) {
  if (n <= 0) return;
  mask_kernel<<<grid_pairs(n), 256, 0, s>>>(keep, n, seed, offset, float(p));
  SAKUGA_LAUNCH_CHECK();
}

void dropout_forward(DType dtype, const void* x, void* y, int64_t n, double p, uint64_t seed, uint64_t offset,
                     Stream s) {
  if (n <= 0) return;
  const float scale = float(dropout_scale(p));
  sakuga::cuda::dispatch_float_bf16("dropout_forward", dtype, [&](auto t) {
    using T = decltype(t);
    dropout_kernel<T><<<grid_pairs(n), 256, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y), n, seed,
                                                    offset, float(p), scale);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
