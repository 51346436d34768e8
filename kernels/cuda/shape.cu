// CUDA shape family: grid-stride kernels over the index math shared with the CPU reference
// (kernels/shape.h). Forward kernels move elements by size (any dtype). Backward kernels are
// deterministic without atomics: each input-gradient element belongs to one thread, which sums
// the output-gradient elements that read it in a fixed order (bf16 sums in f32).
#include <cub/cub.cuh>

#include "kernels/cuda/check.cuh"
#include "kernels/shape.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

// Calls f(U{}) with U an unsigned integer type of the dtype's size (data is only moved).
template <class F>
void dispatch_bytes(const char* op, DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: SAKUGA_FAIL(op, ": unsupported element size ", dtype_size(dtype));
  }
}

#define SAKUGA_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// Row-major strides, computed per thread (ndim ≤ kMaxDims, cheap next to the memory traffic).
__device__ __forceinline__ void strides_of(const int64_t* shape, int ndim, int64_t* st) {
  int64_t acc = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= shape[d];
  }
}

int64_t numel_of(const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

// ---- pad ---------------------------------------------------------------------------------------

template <class U>
__global__ void pad_fwd_kernel(const U* x, U* out, PadGeom g, U value, int64_t n) {
  int64_t xs[kMaxDims];
  strides_of(g.in_shape, g.ndim, xs);
  SAKUGA_GRID_STRIDE(i, n) {
    int64_t rem = i, src = 0;
    bool inside = true;
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t o = rem % g.out_shape[d];
      rem /= g.out_shape[d];
      int64_t s = pad_source(g.mode, o, g.before[d], g.in_shape[d]);
      if (s < 0) inside = false;
      src += s * xs[d];
    }
    out[i] = inside ? x[src] : value;
  }
}

template <class T>
__global__ void pad_bwd_kernel(const T* gy, T* gx, PadGeom g, int64_t n) {
  const int nd = g.ndim;
  int64_t ys[kMaxDims];
  strides_of(g.out_shape, nd, ys);
  const int da = nd >= 2 ? nd - 2 : -1, db = nd - 1;
  SAKUGA_GRID_STRIDE(i, n) {
    int64_t rem = i, base = 0;
    int64_t idx[kMaxDims];
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % g.in_shape[d];
      rem /= g.in_shape[d];
    }
    bool dropped = false;
    for (int d = 0; d < da; ++d) {
      int64_t o = idx[d] + g.before[d];
      if (o < 0 || o >= g.out_shape[d]) dropped = true;
      base += o * ys[d];
    }
    float s = 0.f;
    if (!dropped) {
      int64_t alo[3] = {0, 0, 0}, ahi[3] = {0, 0, 0}, blo[3], bhi[3];
      int ka = 1;
      int64_t sa = 0;
      if (da >= 0) {
        ka = pad_targets(g.mode, idx[da], g.before[da], g.in_shape[da], g.out_shape[da], alo, ahi);
        sa = ys[da];
      }
      int kb = pad_targets(g.mode, idx[db], g.before[db], g.in_shape[db], g.out_shape[db], blo, bhi);
      for (int ra = 0; ra < ka; ++ra)
        for (int64_t p = alo[ra]; p <= ahi[ra]; ++p)
          for (int rb = 0; rb < kb; ++rb)
            for (int64_t q = blo[rb]; q <= bhi[rb]; ++q) s += load(gy, base + p * sa + q);
    }
    store(gx, i, s);
  }
}

// ---- flip --------------------------------------------------------------------------------------

template <class U>
__global__ void flip_kernel(const U* x, U* out, FlipGeom g, int64_t n) {
  int64_t st[kMaxDims];
  strides_of(g.shape, g.ndim, st);
  SAKUGA_GRID_STRIDE(i, n) {
    int64_t rem = i, src = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t c = rem % g.shape[d];
      rem /= g.shape[d];
      src += (g.flip[d] ? g.shape[d] - 1 - c : c) * st[d];
    }
    out[i] = x[src];
  }
}

// ---- gather ------------------------------------------------------------------------------------

// Records a deferred error: every writer stores the same value, so the race is benign.
__device__ __forceinline__ void flag_bad(int32_t* bad) {
  if (bad) *bad = 1;
}

template <class U>
__global__ void gather_fwd_kernel(const U* x, const int32_t* index, U* out, GatherGeom g, int64_t n, int32_t* bad) {
  int64_t xs[kMaxDims];
  strides_of(g.x_shape, g.ndim, xs);
  const int64_t size = g.x_shape[g.dim];
  SAKUGA_GRID_STRIDE(i, n) {
    int64_t rem = i, src = 0;
    const int64_t k = index[i];
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t c = rem % g.index_shape[d];
      rem /= g.index_shape[d];
      src += (d == g.dim ? k : c) * xs[d];
    }
    const bool ok = k >= 0 && k < size;
    if (!ok) flag_bad(bad);
    out[i] = ok ? x[src] : U(0);
  }
}

// One thread per gx element (x shape): loops over the index along `dim` in ascending order.
template <class T>
__global__ void gather_bwd_kernel(const T* gy, const int32_t* index, T* gx, GatherGeom g, int64_t n) {
  int64_t is[kMaxDims];
  strides_of(g.index_shape, g.ndim, is);
  const int64_t len = g.index_shape[g.dim], step = is[g.dim];
  SAKUGA_GRID_STRIDE(i, n) {
    int64_t rem = i, base = 0, k = 0;
    bool covered = true;  // x elements outside the index's extent (d ≠ dim) get no gradient
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t c = rem % g.x_shape[d];
      rem /= g.x_shape[d];
      if (d == g.dim) {
        k = c;
      } else {
        if (c >= g.index_shape[d]) covered = false;
        base += c * is[d];
      }
    }
    float s = 0.f;
    if (covered)
      for (int64_t m = 0; m < len; ++m)
        if (index[base + m * step] == k) s += load(gy, base + m * step);
    store(gx, i, s);
  }
}

// ---- index_select ------------------------------------------------------------------------------

template <class U>
__global__ void index_select_fwd_kernel(const U* x, const int32_t* index, U* out, IndexSelectGeom g, int64_t n,
                                        int32_t* bad) {
  SAKUGA_GRID_STRIDE(j, n) {
    int64_t i = j % g.inner, r = j / g.inner;
    int64_t m = r % g.len, o = r / g.len;
    int64_t k = index[m];
    const bool ok = k >= 0 && k < g.n;
    if (!ok) flag_bad(bad);
    out[j] = ok ? x[(o * g.n + k) * g.inner + i] : U(0);
  }
}

__global__ void iota_kernel(int32_t* v, int64_t n) {
  SAKUGA_GRID_STRIDE(i, n) v[i] = int32_t(i);
}

// start[k] = first position p of the sorted keys with keys[p] ≥ k, for k in [0, n].
__global__ void run_starts_kernel(const int32_t* keys, int64_t len, int32_t* start, int64_t n) {
  SAKUGA_GRID_STRIDE(k, n + 1) {
    int64_t lo = 0, hi = len;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2;
      if (int64_t(keys[mid]) < k) lo = mid + 1;
      else hi = mid;
    }
    start[k] = int32_t(lo);
  }
}

// One thread per gx element (o, k, i): sums gy rows m (ascending: the sort is stable) with index[m] = k.
template <class T>
__global__ void index_select_bwd_kernel(const T* gy, const int32_t* rows, const int32_t* start, T* gx,
                                        IndexSelectGeom g, int64_t n) {
  SAKUGA_GRID_STRIDE(j, n) {
    int64_t i = j % g.inner, r = j / g.inner;
    int64_t k = r % g.n, o = r / g.n;
    float s = 0.f;
    for (int32_t p = start[k]; p < start[k + 1]; ++p) s += load(gy, (o * g.len + rows[p]) * g.inner + i);
    store(gx, j, s);
  }
}

// ---- one_hot -----------------------------------------------------------------------------------

template <class T>
__device__ __forceinline__ T one_value() { return T(1); }
template <>
__device__ __forceinline__ __nv_bfloat16 one_value<__nv_bfloat16>() { return __float2bfloat16(1.f); }
template <class T>
__device__ __forceinline__ T zero_value() { return T(0); }
template <>
__device__ __forceinline__ __nv_bfloat16 zero_value<__nv_bfloat16>() { return __float2bfloat16(0.f); }

template <class T>
__global__ void one_hot_kernel(const int32_t* labels, T* out, int64_t n, int64_t classes, int32_t* bad) {
  SAKUGA_GRID_STRIDE(j, n * classes) {
    int64_t c = j % classes, r = j / classes;
    int32_t l = labels[r];
    if (c == 0 && (l < 0 || l >= classes)) flag_bad(bad);
    out[j] = l == c ? one_value<T>() : zero_value<T>();
  }
}

}  // namespace

void pad_forward(DType dtype, const void* x, void* out, const PadGeom& g, const void* value, Stream s) {
  const int64_t n = numel_of(g.out_shape, g.ndim);
  if (n == 0) return;
  dispatch_bytes("pad", dtype, [&](auto tag) {
    using U = decltype(tag);
    U v;
    std::memcpy(&v, value, sizeof(U));
    pad_fwd_kernel<U><<<grid_for(n), 256, 0, s>>>(static_cast<const U*>(x), static_cast<U*>(out), g, v, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void pad_backward(DType dtype, const void* gy, void* gx, const PadGeom& g, Stream s) {
  const int64_t n = numel_of(g.in_shape, g.ndim);
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("pad_backward", dtype, [&](auto t) {
    using T = decltype(t);
    pad_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<const T*>(gy), static_cast<T*>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void flip(DType dtype, const void* x, void* out, const FlipGeom& g, Stream s) {
  const int64_t n = numel_of(g.shape, g.ndim);
  if (n == 0) return;
  dispatch_bytes("flip", dtype, [&](auto tag) {
    using U = decltype(tag);
    flip_kernel<U><<<grid_for(n), 256, 0, s>>>(static_cast<const U*>(x), static_cast<U*>(out), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void gather_forward(DType dtype, const void* x, const int32_t* index, void* out, const GatherGeom& g, int32_t* bad,
                    Stream s) {
  const int64_t n = numel_of(g.index_shape, g.ndim);
  if (n == 0) return;
  dispatch_bytes("gather", dtype, [&](auto tag) {
    using U = decltype(tag);
    gather_fwd_kernel<U><<<grid_for(n), 256, 0, s>>>(static_cast<const U*>(x), index, static_cast<U*>(out), g, n,
                                                     bad);
  });
  SAKUGA_LAUNCH_CHECK();
}

void gather_backward(DType dtype, const void* gy, const int32_t* index, void* gx, const GatherGeom& g, Stream s) {
  const int64_t n = numel_of(g.x_shape, g.ndim);
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("gather_backward", dtype, [&](auto t) {
    using T = decltype(t);
    gather_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<const T*>(gy), index, static_cast<T*>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void index_select_forward(DType dtype, const void* x, const int32_t* index, void* out, const IndexSelectGeom& g,
                          int32_t* bad, Stream s) {
  const int64_t n = g.outer * g.len * g.inner;
  if (n == 0) return;
  dispatch_bytes("index_select", dtype, [&](auto tag) {
    using U = decltype(tag);
    index_select_fwd_kernel<U><<<grid_for(n), 256, 0, s>>>(static_cast<const U*>(x), index, static_cast<U*>(out),
                                                           g, n, bad);
  });
  SAKUGA_LAUNCH_CHECK();
}

void index_select_backward(DType dtype, const void* gy, const int32_t* index, void* gx, const IndexSelectGeom& g,
                           Stream s) {
  const int64_t n = g.outer * g.n * g.inner;
  if (n == 0) return;
  SAKUGA_CHECK(g.len < (int64_t(1) << 31) && g.n < (int64_t(1) << 31), "index_select_backward: sizes beyond i32");
  const int len = int(g.len);
  const int dev = sakuga::cuda::current_device();
  // Workspace layout (i32): sorted keys [len], rows in [len], sorted rows [len], starts [n + 1].
  size_t sort_bytes = 0;
  SAKUGA_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, static_cast<const int32_t*>(nullptr),
                                                    static_cast<int32_t*>(nullptr),
                                                    static_cast<const int32_t*>(nullptr),
                                                    static_cast<int32_t*>(nullptr), len, 0, 32, s));
  auto align = [](size_t b) { return (b + 255) / 256 * 256; };
  const size_t ints = align(sizeof(int32_t) * size_t(len));
  const size_t starts_bytes = align(sizeof(int32_t) * size_t(g.n + 1));
  sakuga::cuda::Workspace ws(3 * ints + starts_bytes + align(sort_bytes), dev);
  char* base = static_cast<char*>(ws.get());
  int32_t* keys = reinterpret_cast<int32_t*>(base);
  int32_t* rows_in = reinterpret_cast<int32_t*>(base + ints);
  int32_t* rows = reinterpret_cast<int32_t*>(base + 2 * ints);
  int32_t* start = reinterpret_cast<int32_t*>(base + 3 * ints);
  void* temp = base + 3 * ints + starts_bytes;
  if (len > 0) {
    iota_kernel<<<grid_for(len), 256, 0, s>>>(rows_in, len);
    SAKUGA_LAUNCH_CHECK();
    // Stable: equal keys keep ascending m, so every gx element sums its rows in index order.
    SAKUGA_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, sort_bytes, index, keys, rows_in, rows, len, 0, 32, s));
  }
  run_starts_kernel<<<grid_for(g.n + 1), 256, 0, s>>>(keys, g.len, start, g.n);
  SAKUGA_LAUNCH_CHECK();
  sakuga::cuda::dispatch_float_bf16("index_select_backward", dtype, [&](auto t) {
    using T = decltype(t);
    index_select_bwd_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<const T*>(gy), rows, start,
                                                           static_cast<T*>(gx), g, n);
  });
  SAKUGA_LAUNCH_CHECK();
}

void one_hot(DType dtype, const int32_t* labels, void* out, int64_t n, int64_t classes, int32_t* bad, Stream s) {
  const int64_t total = n * classes;
  if (total == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    one_hot_kernel<T><<<grid_for(total), 256, 0, s>>>(labels, static_cast<T*>(out), n, classes, bad);
  };
  switch (dtype) {
    case DType::f32: launch(float{}); break;
    case DType::f64: launch(double{}); break;
    case DType::bf16: launch(__nv_bfloat16{}); break;
    case DType::i32: launch(int32_t{}); break;
    case DType::u8: launch(uint8_t{}); break;
  }
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
