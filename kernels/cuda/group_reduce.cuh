#pragma once
// Deterministic per-group sums over x viewed as (N, G, S): group g is the N·S elements
// x[n, g, s] — the statistics of batch norm (G = C channels) and instance norm (G = B·C), and
// the bias gradient of a convolution (Σ over n and the pixels of each channel).
//
// One block per group cannot fill the GPU when G is small (the GCN head has C = 10 channels of
// 4×1080×1920 pixels: 10 blocks). So the groups are cut into chunks and summed in two stages,
// with a fixed order and no atomics (the shape alone fixes every summation order, so equal
// inputs give bit-identical sums):
//   1. partial_kernel: block (g, c) sums chunk c of group g — the elements with in-group index
//      m = n·S + s in [c·L, (c+1)·L) — each thread a strided subset in increasing order, then a
//      fixed tree over the block; it writes partial[k][g][c] for each of its K sums;
//   2. group_total(): the caller's finishing kernel adds partial[k][g][0..chunks) in order, in
//      double.
// Chunks are used only when G blocks are too few to fill the GPU, and each has at least
// kMinChunk elements.
#include <algorithm>

#include "kernels/cuda/check.cuh"

namespace sakuga::kernels::cuda::group {

constexpr int kBlock = 256;
constexpr int64_t kTargetBlocks = 1024;  // ≈ 8 resident 256-thread blocks on each of ~132 SMs
constexpr int64_t kMinChunk = 16384;     // ≥ 64 elements per thread of a chunk

struct Plan {
  int64_t N = 1, G = 1, S = 1;
  int64_t chunks = 1;  // per group
  int64_t chunk = 0;   // elements per chunk (the last one may be shorter)
  bool index32 = false;  // every flat index fits in 32 bits: cheaper division
  SAKUGA_HD int64_t count() const { return N * S; }  // elements per group
  SAKUGA_HD int64_t blocks() const { return G * chunks; }
};

inline Plan make_plan(int64_t N, int64_t G, int64_t S) {
  Plan p;
  p.N = N;
  p.G = G;
  p.S = S;
  const int64_t M = N * S;
  if (G < kTargetBlocks && M > kMinChunk)
    p.chunks = std::max<int64_t>(1, std::min((kTargetBlocks + G - 1) / G, (M + kMinChunk - 1) / kMinChunk));
  p.chunk = (M + p.chunks - 1) / p.chunks;
  p.index32 = N * G * S < (int64_t(1) << 31);
  return p;
}

// One group of n elements (a loss over a whole tensor), cut into chunks of at least min_chunk
// elements, at most kTargetBlocks of them. make_plan's kMinChunk (16384) would leave most SMs
// idle at the usual loss sizes, so fused losses pick a smaller one.
inline Plan flat_plan(int64_t n, int64_t min_chunk) {
  Plan p = make_plan(1, 1, n);
  p.chunks = std::clamp<int64_t>((n + min_chunk - 1) / min_chunk, 1, kTargetBlocks);
  p.chunk = (n + p.chunks - 1) / p.chunks;
  return p;
}

template <int K>
struct Sums {
  float v[K];
};

template <int K>
__device__ __forceinline__ void add_to(Sums<K>& acc, const Sums<K>& x) {
#pragma unroll
  for (int k = 0; k < K; ++k) acc.v[k] += x.v[k];
}

// Fixed-tree sum over the block of K values each; the result is valid in thread 0. Every
// thread of the block must call it. sh holds K·kBlock floats.
template <int K>
__device__ __forceinline__ Sums<K> block_sum(Sums<K> a, float* sh) {
  const int t = threadIdx.x;
  __syncthreads();  // sh may still be read by a previous call
#pragma unroll
  for (int k = 0; k < K; ++k) sh[k * kBlock + t] = a.v[k];
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (t < s) {
#pragma unroll
      for (int k = 0; k < K; ++k) sh[k * kBlock + t] += sh[k * kBlock + t + s];
    }
    __syncthreads();
  }
#pragma unroll
  for (int k = 0; k < K; ++k) a.v[k] = sh[k * kBlock];
  return a;
}

// Stage 1. f(i, g) gives the K contributions of element i (a flat index into x) of group g.
// partial has K · G · chunks floats: partial[(k · G + g) · chunks + c].
template <int K, class F>
__global__ void __launch_bounds__(kBlock) partial_kernel(Plan p, F f, float* __restrict__ partial) {
  __shared__ float sh[K * kBlock];
  const int64_t total = p.blocks(), M = p.count();
  for (int64_t v = blockIdx.x; v < total; v += gridDim.x) {
    const int64_t g = v / p.chunks, c = v - g * p.chunks;
    const int64_t lo = c * p.chunk, hi = min(M, lo + p.chunk);
    Sums<K> acc{};
    if (p.S >= kBlock) {
      // Rows of S contiguous elements, the threads side by side: coalesced, no division per
      // element.
      for (int64_t n = lo / p.S; n * p.S < hi; ++n) {
        const int64_t row = (n * p.G + g) * p.S;
        const int64_t s0 = max(lo - n * p.S, int64_t(0)), s1 = min(hi - n * p.S, p.S);
        for (int64_t s = s0 + threadIdx.x; s < s1; s += kBlock) add_to(acc, f(row + s, g));
      }
    } else if (p.index32) {
      const uint32_t S = uint32_t(p.S), G = uint32_t(p.G), gg = uint32_t(g);
      for (uint32_t m = uint32_t(lo) + threadIdx.x; m < uint32_t(hi); m += kBlock) {
        const uint32_t n = m / S, s = m - n * S;
        add_to(acc, f(int64_t((n * G + gg) * S + s), g));
      }
    } else {
      for (int64_t m = lo + threadIdx.x; m < hi; m += kBlock) {
        const int64_t n = m / p.S, s = m - n * p.S;
        add_to(acc, f((n * p.G + g) * p.S + s, g));
      }
    }
    acc = block_sum<K>(acc, sh);
    if (threadIdx.x == 0) {
#pragma unroll
      for (int k = 0; k < K; ++k) partial[(k * p.G + g) * p.chunks + c] = acc.v[k];
    }
  }
}

template <int K, class F>
void launch_partial(const Plan& p, const F& f, float* partial, Stream s) {
  const int64_t blocks = std::min<int64_t>(std::max<int64_t>(p.blocks(), 1), int64_t(1) << 20);
  partial_kernel<K, F><<<unsigned(blocks), kBlock, 0, s>>>(p, f, partial);
  SAKUGA_LAUNCH_CHECK();
}

// Stage 2 (called by one thread per group): sum k of group g, the chunks added in order.
__device__ __forceinline__ double group_total(const float* __restrict__ partial, const Plan& p, int k, int64_t g) {
  const float* q = partial + (int64_t(k) * p.G + g) * p.chunks;
  double s = 0;
  for (int64_t c = 0; c < p.chunks; ++c) s += double(q[c]);
  return s;
}

// The group of flat element i of x (N, G, S): (i / S) mod G.
__device__ __forceinline__ int64_t group_of(int64_t i, const Plan& p) {
  if (p.index32) return int64_t((uint32_t(i) / uint32_t(p.S)) % uint32_t(p.G));
  return (i / p.S) % p.G;
}

}  // namespace sakuga::kernels::cuda::group
