// CUDA reduction and softmax family over (outer, n, inner) blocks (see kernels/reduce.h).
//
// Two layouts, chosen from the shape only (so the summation order, and with it every bit of
// the result, is fixed for a given shape):
//   rows  (inner == 1): a group of G threads per row, G = 32 (one warp, 8 rows per block) for
//         short rows, G = 256 (the whole block) for long ones; lanes stride over the row
//         (coalesced), then a warp butterfly and a fixed-order combine of the 8 warp results;
//   cols  (inner > 1): neighbouring threads take neighbouring i (coalesced); sums split r
//         over the y lanes of a (bx, by) block and combine them with a fixed tree in shared
//         memory; softmax-like ops run one thread per (o, i) along r.
// Sums with few outputs and long rows are split into chunks of r (pass 1 writes f32 partial
// sums to a workspace, pass 2 reduces them): still no atomics, still one fixed order.
#include <algorithm>
#include <cfloat>
#include <climits>

#include "kernels/cuda/check.cuh"
#include "kernels/reduce.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

// --- combine operators -------------------------------------------------------------------

struct SumOp {
  using Acc = float;
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) { return a + b; }
  static __device__ __forceinline__ Acc shfl_xor(Acc v, int off) { return __shfl_xor_sync(0xffffffffu, v, off); }
};

// Max that propagates NaN (used for the softmax shift).
struct MaxOp {
  using Acc = float;
  static __device__ __forceinline__ Acc identity() { return -INFINITY; }
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) {
    if (isnan(a)) return a;
    if (isnan(b)) return b;
    return a > b ? a : b;
  }
  static __device__ __forceinline__ Acc shfl_xor(Acc v, int off) { return __shfl_xor_sync(0xffffffffu, v, off); }
};

struct ValIdx {
  float v;
  int i;
};

// First extremum: NaN wins, ties go to the lower index. Commutative and associative, so the
// tree shape does not change the answer.
template <bool IsMin>
struct ExtOp {
  using Acc = ValIdx;
  static __device__ __forceinline__ Acc identity() { return {IsMin ? INFINITY : -INFINITY, INT_MAX}; }
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) {
    const bool na = isnan(a.v), nb = isnan(b.v);
    if (na || nb) {
      if (na && nb) return a.i <= b.i ? a : b;
      return na ? a : b;
    }
    if (a.v == b.v) return a.i <= b.i ? a : b;
    return (IsMin ? b.v < a.v : b.v > a.v) ? b : a;
  }
  static __device__ __forceinline__ Acc shfl_xor(Acc v, int off) {
    return {__shfl_xor_sync(0xffffffffu, v.v, off), __shfl_xor_sync(0xffffffffu, v.i, off)};
  }
};

template <class Op>
__device__ __forceinline__ typename Op::Acc warp_allreduce(typename Op::Acc v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = Op::combine(v, Op::shfl_xor(v, off));
  return v;
}

// Combine v over a group of G threads (G = 32: the calling warp; G = kBlock: the block, which
// must call this uniformly). Every thread of the group gets the same result.
template <int G, class Op>
__device__ __forceinline__ typename Op::Acc group_allreduce(typename Op::Acc v, typename Op::Acc* smem) {
  v = warp_allreduce<Op>(v);
  if constexpr (G == 32) {
    return v;
  } else {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // smem may still be read from a previous call
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    typename Op::Acc r = smem[0];
#pragma unroll
    for (int w = 1; w < kWarps; ++w) r = Op::combine(r, smem[w]);
    return r;
  }
}

// Rows handled by one block and this thread's lane within its row.
template <int G>
__device__ __forceinline__ int rows_per_block() { return kBlock / G; }
template <int G>
__device__ __forceinline__ int group_id() { return threadIdx.x / G; }
template <int G>
__device__ __forceinline__ int group_lane() { return threadIdx.x % G; }

unsigned row_grid(int64_t rows, int g) {
  int64_t rpb = kBlock / g;
  int64_t b = (rows + rpb - 1) / rpb;
  return unsigned(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

int row_group(int64_t n) { return n <= 2048 ? 32 : kBlock; }

// --- sum ---------------------------------------------------------------------------------

// Virtual row v = (o, c) covers x[o, c·chunk : min(n, (c+1)·chunk)]; y[v] = scale · Σ.
template <int G, class TI, class TO>
__global__ void sum_rows_kernel(const TI* x, TO* y, int64_t outer, int64_t n, int64_t chunk, int64_t nchunks,
                                float scale) {
  __shared__ float smem[kWarps];
  const int64_t total = outer * nchunks;
  for (int64_t v = int64_t(blockIdx.x) * rows_per_block<G>() + group_id<G>(); v < total;
       v += int64_t(gridDim.x) * rows_per_block<G>()) {
    const int64_t o = v / nchunks, c = v % nchunks;
    const int64_t lo = c * chunk, hi = min(n, lo + chunk);
    const TI* row = x + o * n;
    float acc = 0.f;
    for (int64_t r = lo + group_lane<G>(); r < hi; r += G) acc += load(row, r);
    acc = group_allreduce<G, SumOp>(acc, smem);
    if (group_lane<G>() == 0) store(y, v, acc * scale);
  }
}

// Block (bx, by): x lanes over i, y lanes over r. Virtual outer v = (o, c) as above; writes
// y[v, i] (so pass 2 sees (outer, nchunks, inner)).
template <class TI, class TO>
__global__ void sum_cols_kernel(const TI* x, TO* y, int64_t outer, int64_t n, int64_t inner, int64_t chunk,
                                int64_t nchunks, float scale) {
  __shared__ float smem[kBlock];
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  const int64_t i = int64_t(blockIdx.x) * bx + tx;
  const int64_t total = outer * nchunks;
  for (int64_t v = blockIdx.y; v < total; v += gridDim.y) {
    const int64_t o = v / nchunks, c = v % nchunks;
    const int64_t lo = c * chunk, hi = min(n, lo + chunk);
    float acc = 0.f;
    if (i < inner) {
      const TI* base = x + o * n * inner + i;
      for (int64_t r = lo + ty; r < hi; r += by) acc += load(base, r * inner);
    }
    __syncthreads();
    smem[ty * bx + tx] = acc;
    __syncthreads();
    for (int s = by / 2; s > 0; s >>= 1) {
      if (ty < s) smem[ty * bx + tx] += smem[(ty + s) * bx + tx];
      __syncthreads();
    }
    if (ty == 0 && i < inner) store(y, v * inner + i, smem[tx] * scale);
  }
}

template <class TI, class TO>
void launch_sum_rows(const TI* x, TO* y, int64_t outer, int64_t n, int64_t chunk, int64_t nchunks, float scale,
                     Stream s) {
  const int64_t rows = outer * nchunks;
  if (row_group(std::min(n, chunk)) == 32)
    sum_rows_kernel<32><<<row_grid(rows, 32), kBlock, 0, s>>>(x, y, outer, n, chunk, nchunks, scale);
  else
    sum_rows_kernel<kBlock><<<row_grid(rows, kBlock), kBlock, 0, s>>>(x, y, outer, n, chunk, nchunks, scale);
  SAKUGA_LAUNCH_CHECK();
}

dim3 cols_block(int64_t inner) {
  int bx = 1;
  while (bx < 32 && bx < inner) bx *= 2;
  return dim3(unsigned(bx), unsigned(kBlock / bx));
}

template <class TI, class TO>
void launch_sum_cols(const TI* x, TO* y, int64_t outer, int64_t n, int64_t inner, int64_t chunk, int64_t nchunks,
                     float scale, Stream s) {
  dim3 block = cols_block(inner);
  int64_t gx = (inner + block.x - 1) / block.x;
  int64_t gy = std::min<int64_t>(outer * nchunks, 65535);
  SAKUGA_CHECK(gx <= INT_MAX, "sum_dim: inner size ", inner, " too large");
  sum_cols_kernel<<<dim3(unsigned(gx), unsigned(std::max<int64_t>(gy, 1))), block, 0, s>>>(x, y, outer, n, inner,
                                                                                         chunk, nchunks, scale);
  SAKUGA_LAUNCH_CHECK();
}

// How many chunks to split r into: enough blocks to fill the GPU when the outputs alone are
// too few, each chunk at least 2048 long. A function of the shape only.
int64_t sum_chunks(int64_t outer, int64_t n, int64_t inner) {
  if (n < 8192) return 1;
  int64_t blocks;
  if (inner == 1)
    blocks = row_group(n) == 32 ? (outer + kWarps - 1) / kWarps : outer;
  else
    blocks = outer * ((inner + cols_block(inner).x - 1) / cols_block(inner).x);
  const int64_t want = 1024;
  if (blocks >= want) return 1;
  int64_t c = std::min((want + blocks - 1) / blocks, n / 2048);
  return std::max<int64_t>(c, 1);
}

// --- extremum ----------------------------------------------------------------------------

template <int G, bool IsMin, class T>
__global__ void extremum_rows_kernel(const T* x, T* values, int32_t* index, int64_t rows, int64_t n) {
  using Op = ExtOp<IsMin>;
  __shared__ ValIdx smem[kWarps];
  for (int64_t row = int64_t(blockIdx.x) * rows_per_block<G>() + group_id<G>(); row < rows;
       row += int64_t(gridDim.x) * rows_per_block<G>()) {
    const T* p = x + row * n;
    ValIdx acc = Op::identity();
    for (int64_t r = group_lane<G>(); r < n; r += G) acc = Op::combine(acc, ValIdx{load(p, r), int(r)});
    acc = group_allreduce<G, Op>(acc, smem);
    if (group_lane<G>() == 0) {
      if (values) store(values, row, acc.v);
      index[row] = acc.i;
    }
  }
}

template <bool IsMin, class T>
__global__ void extremum_cols_kernel(const T* x, T* values, int32_t* index, int64_t outer, int64_t n,
                                     int64_t inner) {
  using Op = ExtOp<IsMin>;
  const int64_t total = outer * inner;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total; j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = j / inner, i = j % inner;
    const T* p = x + o * n * inner + i;
    ValIdx acc = Op::identity();
    for (int64_t r = 0; r < n; ++r) acc = Op::combine(acc, ValIdx{load(p, r * inner), int(r)});
    if (values) store(values, j, acc.v);
    index[j] = acc.i;
  }
}

template <class T>
__global__ void index_backward_kernel(const T* gy, const int32_t* index, T* gx, int64_t total, int64_t n,
                                      int64_t inner) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner, r = (e / inner) % n, o = e / (inner * n);
    const int64_t j = o * inner + i;
    store(gx, e, index[j] == r ? load(gy, j) : 0.f);
  }
}

// --- softmax family ----------------------------------------------------------------------

// mode 0: softmax, 1: log_softmax, 2: logsumexp (y has one value per row).
template <int G, class T>
__global__ void softmax_rows_kernel(int mode, const T* x, T* y, int64_t rows, int64_t n) {
  __shared__ float smem[kWarps];
  for (int64_t row = int64_t(blockIdx.x) * rows_per_block<G>() + group_id<G>(); row < rows;
       row += int64_t(gridDim.x) * rows_per_block<G>()) {
    const T* p = x + row * n;
    const int lane = group_lane<G>();
    float m = MaxOp::identity();
    for (int64_t r = lane; r < n; r += G) m = MaxOp::combine(m, load(p, r));
    m = group_allreduce<G, MaxOp>(m, smem);
    float s = 0.f;
    for (int64_t r = lane; r < n; r += G) s += expf(load(p, r) - m);
    s = group_allreduce<G, SumOp>(s, smem);
    if (mode == 2) {
      if (lane == 0) store(y, row, isinf(m) ? m : m + logf(s));
    } else if (mode == 0) {
      const float inv = 1.f / s;
      for (int64_t r = lane; r < n; r += G) store(y, row * n + r, expf(load(p, r) - m) * inv);
    } else {
      const float shift = m + logf(s);
      for (int64_t r = lane; r < n; r += G) store(y, row * n + r, load(p, r) - shift);
    }
  }
}

template <class T>
__global__ void softmax_cols_kernel(int mode, const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * inner;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total; j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = j / inner, i = j % inner;
    const int64_t base = o * n * inner + i;
    float m = MaxOp::identity();
    for (int64_t r = 0; r < n; ++r) m = MaxOp::combine(m, load(x, base + r * inner));
    float s = 0.f;
    for (int64_t r = 0; r < n; ++r) s += expf(load(x, base + r * inner) - m);
    if (mode == 2) {
      store(y, j, isinf(m) ? m : m + logf(s));
    } else if (mode == 0) {
      const float inv = 1.f / s;
      for (int64_t r = 0; r < n; ++r) store(y, base + r * inner, expf(load(x, base + r * inner) - m) * inv);
    } else {
      const float shift = m + logf(s);
      for (int64_t r = 0; r < n; ++r) store(y, base + r * inner, load(x, base + r * inner) - shift);
    }
  }
}

template <int G, class T>
__global__ void softmax_bwd_rows_kernel(bool log_kind, const T* y, const T* gy, T* gx, int64_t rows, int64_t n) {
  __shared__ float smem[kWarps];
  for (int64_t row = int64_t(blockIdx.x) * rows_per_block<G>() + group_id<G>(); row < rows;
       row += int64_t(gridDim.x) * rows_per_block<G>()) {
    const int64_t off = row * n;
    const int lane = group_lane<G>();
    float dot = 0.f;
    for (int64_t r = lane; r < n; r += G) dot += log_kind ? load(gy, off + r) : load(gy, off + r) * load(y, off + r);
    dot = group_allreduce<G, SumOp>(dot, smem);
    for (int64_t r = lane; r < n; r += G) {
      const float yv = load(y, off + r), g = load(gy, off + r);
      store(gx, off + r, log_kind ? g - expf(yv) * dot : yv * (g - dot));
    }
  }
}

template <class T>
__global__ void softmax_bwd_cols_kernel(bool log_kind, const T* y, const T* gy, T* gx, int64_t outer, int64_t n,
                                        int64_t inner) {
  const int64_t total = outer * inner;
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < total; j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = j / inner, i = j % inner;
    const int64_t base = o * n * inner + i;
    float dot = 0.f;
    for (int64_t r = 0; r < n; ++r) {
      const int64_t e = base + r * inner;
      dot += log_kind ? load(gy, e) : load(gy, e) * load(y, e);
    }
    for (int64_t r = 0; r < n; ++r) {
      const int64_t e = base + r * inner;
      const float yv = load(y, e), g = load(gy, e);
      store(gx, e, log_kind ? g - expf(yv) * dot : yv * (g - dot));
    }
  }
}

template <class T>
__global__ void logsumexp_bwd_kernel(const T* x, const T* y, const T* gy, T* gx, int64_t total, int64_t n,
                                     int64_t inner) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner, o = e / (inner * n);
    const int64_t j = o * inner + i;
    store(gx, e, load(gy, j) * expf(load(x, e) - load(y, j)));
  }
}

template <class T>
void launch_softmax(int mode, const T* x, T* y, int64_t outer, int64_t n, int64_t inner, Stream s) {
  if (inner == 1) {
    if (row_group(n) == 32)
      softmax_rows_kernel<32><<<row_grid(outer, 32), kBlock, 0, s>>>(mode, x, y, outer, n);
    else
      softmax_rows_kernel<kBlock><<<row_grid(outer, kBlock), kBlock, 0, s>>>(mode, x, y, outer, n);
  } else {
    softmax_cols_kernel<<<grid_for(outer * inner), kBlock, 0, s>>>(mode, x, y, outer, n, inner);
  }
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace

void sum_dim(DType dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, double scale, Stream s) {
  if (outer * inner == 0) return;
  sakuga::cuda::dispatch_float_bf16("sum_dim", dtype, [&](auto t) {
    using T = decltype(t);
    auto px = static_cast<const T*>(x);
    auto py = static_cast<T*>(y);
    const int64_t nchunks = sum_chunks(outer, n, inner);
    if (nchunks == 1) {
      if (inner == 1)
        launch_sum_rows(px, py, outer, n, n, 1, float(scale), s);
      else
        launch_sum_cols(px, py, outer, n, inner, n, 1, float(scale), s);
      return;
    }
    const int64_t chunk = (n + nchunks - 1) / nchunks;
    sakuga::cuda::Workspace ws(size_t(outer * nchunks * inner) * sizeof(float), sakuga::cuda::current_device());
    auto part = static_cast<float*>(ws.get());
    if (inner == 1) {
      launch_sum_rows(px, part, outer, n, chunk, nchunks, 1.f, s);
      launch_sum_rows(static_cast<const float*>(part), py, outer, nchunks, nchunks, 1, float(scale), s);
    } else {
      launch_sum_cols(px, part, outer, n, inner, chunk, nchunks, 1.f, s);
      launch_sum_cols(static_cast<const float*>(part), py, outer, nchunks, inner, nchunks, 1, float(scale), s);
    }
  });
}

void extremum_dim(DType dtype, const void* x, void* values, int32_t* index, int64_t outer, int64_t n,
                  int64_t inner, bool is_min, Stream s) {
  if (outer * inner == 0) return;
  SAKUGA_CHECK(n > 0 && n <= INT_MAX, "extremum_dim: bad reduced size ", n);
  sakuga::cuda::dispatch_float_bf16("extremum_dim", dtype, [&](auto t) {
    using T = decltype(t);
    auto px = static_cast<const T*>(x);
    auto pv = static_cast<T*>(values);
    auto run = [&](auto min_tag) {
      constexpr bool IsMin = decltype(min_tag)::value;
      if (inner == 1) {
        if (row_group(n) == 32)
          extremum_rows_kernel<32, IsMin><<<row_grid(outer, 32), kBlock, 0, s>>>(px, pv, index, outer, n);
        else
          extremum_rows_kernel<kBlock, IsMin><<<row_grid(outer, kBlock), kBlock, 0, s>>>(px, pv, index, outer, n);
      } else {
        extremum_cols_kernel<IsMin><<<grid_for(outer * inner), kBlock, 0, s>>>(px, pv, index, outer, n, inner);
      }
    };
    if (is_min)
      run(std::true_type{});
    else
      run(std::false_type{});
  });
  SAKUGA_LAUNCH_CHECK();
}

void index_backward(DType dtype, const void* gy, const int32_t* index, void* gx, int64_t outer, int64_t n,
                    int64_t inner, Stream s) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("index_backward", dtype, [&](auto t) {
    using T = decltype(t);
    index_backward_kernel<<<grid_for(total), kBlock, 0, s>>>(static_cast<const T*>(gy), index, static_cast<T*>(gx),
                                                             total, n, inner);
  });
  SAKUGA_LAUNCH_CHECK();
}

void softmax_forward(SoftmaxKind kind, DType dtype, const void* x, void* y, int64_t outer, int64_t n,
                     int64_t inner, Stream s) {
  if (outer * n * inner == 0) return;
  sakuga::cuda::dispatch_float_bf16("softmax_forward", dtype, [&](auto t) {
    using T = decltype(t);
    launch_softmax(kind == SoftmaxKind::softmax ? 0 : 1, static_cast<const T*>(x), static_cast<T*>(y), outer, n,
                   inner, s);
  });
}

void softmax_backward(SoftmaxKind kind, DType dtype, const void* y, const void* gy, void* gx, int64_t outer,
                      int64_t n, int64_t inner, Stream s) {
  if (outer * n * inner == 0) return;
  const bool lg = kind == SoftmaxKind::log_softmax;
  sakuga::cuda::dispatch_float_bf16("softmax_backward", dtype, [&](auto t) {
    using T = decltype(t);
    auto py = static_cast<const T*>(y);
    auto pg = static_cast<const T*>(gy);
    auto px = static_cast<T*>(gx);
    if (inner == 1) {
      if (row_group(n) == 32)
        softmax_bwd_rows_kernel<32><<<row_grid(outer, 32), kBlock, 0, s>>>(lg, py, pg, px, outer, n);
      else
        softmax_bwd_rows_kernel<kBlock><<<row_grid(outer, kBlock), kBlock, 0, s>>>(lg, py, pg, px, outer, n);
    } else {
      softmax_bwd_cols_kernel<<<grid_for(outer * inner), kBlock, 0, s>>>(lg, py, pg, px, outer, n, inner);
    }
  });
  SAKUGA_LAUNCH_CHECK();
}

void logsumexp_forward(DType dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, Stream s) {
  if (outer * inner == 0) return;
  sakuga::cuda::dispatch_float_bf16("logsumexp_forward", dtype, [&](auto t) {
    using T = decltype(t);
    launch_softmax(2, static_cast<const T*>(x), static_cast<T*>(y), outer, n, inner, s);
  });
}

void logsumexp_backward(DType dtype, const void* x, const void* y, const void* gy, void* gx, int64_t outer,
                        int64_t n, int64_t inner, Stream s) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("logsumexp_backward", dtype, [&](auto t) {
    using T = decltype(t);
    logsumexp_bwd_kernel<<<grid_for(total), kBlock, 0, s>>>(static_cast<const T*>(x), static_cast<const T*>(y),
                                                            static_cast<const T*>(gy), static_cast<T*>(gx), total, n,
                                                            inner);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
