// CUDA elementwise family over the scalar math shared with the CPU reference
// (kernels/elementwise.h). bf16 storage computes in f32.
//
// Layouts, chosen on the host:
//   flat       every operand read like the output (unary ops, same-shape binary ops, a
//              broadcast scalar): no index math; 16-byte vector loads/stores (4 f32 or 8 bf16)
//              when every pointer is 16-byte aligned, scalar elements otherwise;
//   broadcast  the dims are first merged where both operands allow it ((N, C, H, W) with a
//              (1, C, 1, 1) operand becomes (N, C, H·W)), then each element splits its index
//              into coordinates — in 32-bit arithmetic when every index fits;
//   sum_to     (the backward of broadcasting) a deterministic reduction: kept/reduced dims
//              merged into runs; (kept, reduced, kept) is a reduce-family sum over the middle
//              dim, (reduced, kept, reduced) the chunked per-group sum of group_reduce.cuh
//              (a bias-like gradient over a 1080p map fills the GPU); anything else falls back
//              to one thread per output element.
#include <type_traits>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/group_reduce.cuh"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

// 16 bytes of T: one vector load/store.
template <class T>
struct alignas(16) Pack {
  static constexpr int kSize = int(16 / sizeof(T));
  T v[kSize];
};

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

#define SAKUGA_THREAD_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// ---- unary -----------------------------------------------------------------------------------

template <UnaryOp O, class T>
__global__ void unary_fwd_kernel(const T* x, T* y, int64_t n, float a, float b) {
  SAKUGA_THREAD_LOOP(i, n) store(y, i, unary_fwd<O>(load(x, i), a, b));
}

// x and y 16-byte aligned: packs of Pack<T>::kSize elements, then the tail element by element.
template <UnaryOp O, class T>
__global__ void unary_fwd_vec_kernel(const T* x, T* y, int64_t n, float a, float b) {
  constexpr int V = Pack<T>::kSize;
  const int64_t packs = n / V;
  const auto* xv = reinterpret_cast<const Pack<T>*>(x);
  auto* yv = reinterpret_cast<Pack<T>*>(y);
  SAKUGA_THREAD_LOOP(i, packs) {
    const Pack<T> p = xv[i];
    Pack<T> q;
#pragma unroll
    for (int k = 0; k < V; ++k) store(q.v, k, unary_fwd<O>(load(p.v, k), a, b));
    yv[i] = q;
  }
  SAKUGA_THREAD_LOOP(j, n - packs * V) {
    const int64_t i = packs * V + j;
    store(y, i, unary_fwd<O>(load(x, i), a, b));
  }
}

template <UnaryOp O, class T>
__global__ void unary_bwd_kernel(const T* x, const T* y, const T* gy, T* gx, int64_t n, float a, float b) {
  SAKUGA_THREAD_LOOP(i, n) {
    float xv = x ? load(x, i) : 0.f, yv = y ? load(y, i) : 0.f;
    store(gx, i, unary_bwd<O>(xv, yv, load(gy, i), a, b));
  }
}

template <UnaryOp O, class T>
__global__ void unary_bwd_vec_kernel(const T* x, const T* y, const T* gy, T* gx, int64_t n, float a, float b) {
  constexpr int V = Pack<T>::kSize;
  const int64_t packs = n / V;
  const auto* xv = reinterpret_cast<const Pack<T>*>(x);
  const auto* yv = reinterpret_cast<const Pack<T>*>(y);
  const auto* gv = reinterpret_cast<const Pack<T>*>(gy);
  auto* ov = reinterpret_cast<Pack<T>*>(gx);
  SAKUGA_THREAD_LOOP(i, packs) {
    const Pack<T> g = gv[i];
    Pack<T> px{}, py{}, q;
    if (x) px = xv[i];
    if (y) py = yv[i];
#pragma unroll
    for (int k = 0; k < V; ++k)
      store(q.v, k, unary_bwd<O>(x ? load(px.v, k) : 0.f, y ? load(py.v, k) : 0.f, load(g.v, k), a, b));
    ov[i] = q;
  }
  SAKUGA_THREAD_LOOP(j, n - packs * V) {
    const int64_t i = packs * V + j;
    store(gx, i, unary_bwd<O>(x ? load(x, i) : 0.f, y ? load(y, i) : 0.f, load(gy, i), a, b));
  }
}

// ---- binary ----------------------------------------------------------------------------------

// How each operand is read along the flat output index.
enum class Read : int { same, scalar };

template <Read R, class T>
__device__ __forceinline__ float read_flat(const T* p, int64_t i) {
  if constexpr (R == Read::scalar) return load(p, 0);
  return load(p, i);
}

template <BinaryOp O, Read RA, Read RB, class T>
__global__ void binary_flat_kernel(const T* a, const T* b, T* out, int64_t n) {
  SAKUGA_THREAD_LOOP(i, n) store(out, i, binary_fwd<O>(read_flat<RA>(a, i), read_flat<RB>(b, i)));
}

// Every full-size operand 16-byte aligned (a scalar operand is read once per thread).
template <BinaryOp O, Read RA, Read RB, class T>
__global__ void binary_flat_vec_kernel(const T* a, const T* b, T* out, int64_t n) {
  constexpr int V = Pack<T>::kSize;
  const int64_t packs = n / V;
  const float sa = RA == Read::scalar ? load(a, 0) : 0.f, sb = RB == Read::scalar ? load(b, 0) : 0.f;
  auto* ov = reinterpret_cast<Pack<T>*>(out);
  SAKUGA_THREAD_LOOP(i, packs) {
    Pack<T> pa{}, pb{}, q;
    if constexpr (RA == Read::same) pa = reinterpret_cast<const Pack<T>*>(a)[i];
    if constexpr (RB == Read::same) pb = reinterpret_cast<const Pack<T>*>(b)[i];
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const float va = RA == Read::scalar ? sa : load(pa.v, k);
      const float vb = RB == Read::scalar ? sb : load(pb.v, k);
      store(q.v, k, binary_fwd<O>(va, vb));
    }
    ov[i] = q;
  }
  SAKUGA_THREAD_LOOP(j, n - packs * V) {
    const int64_t i = packs * V + j;
    store(out, i, binary_fwd<O>(read_flat<RA>(a, i), read_flat<RB>(b, i)));
  }
}

// Broadcast geometry after merging dims, in index type I (uint32_t when every index fits).
template <class I>
struct Bcast {
  int ndim;
  I shape[kMaxDims];
  I sa[kMaxDims];
  I sb[kMaxDims];
};

template <BinaryOp O, class T, class I>
__global__ void binary_bcast_kernel(const T* a, const T* b, T* out, Bcast<I> g, I n) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < n; i += I(gridDim.x) * I(blockDim.x)) {
    I rem = i, ia = 0, ib = 0;
    for (int d = g.ndim - 1; d > 0; --d) {
      const I idx = rem % g.shape[d];
      rem /= g.shape[d];
      ia += idx * g.sa[d];
      ib += idx * g.sb[d];
    }
    ia += rem * g.sa[0];
    ib += rem * g.sb[0];
    store(out, int64_t(i), binary_fwd<O>(load(a, int64_t(ia)), load(b, int64_t(ib))));
  }
}

// Drops size-1 dims and merges neighbours that both operands read as one longer dim.
Broadcast merge_dims(const Broadcast& bc) {
  Broadcast m;
  m.ndim = 0;
  for (int d = 0; d < bc.ndim; ++d) {
    if (bc.out_shape[d] == 1) continue;
    if (m.ndim > 0) {
      const int k = m.ndim - 1;
      const int64_t len = bc.out_shape[d];
      // The outer dim k continues the inner one d when its stride is the inner stride × length.
      if (m.a_strides[k] == bc.a_strides[d] * len && m.b_strides[k] == bc.b_strides[d] * len) {
        m.out_shape[k] *= len;
        m.a_strides[k] = bc.a_strides[d];
        m.b_strides[k] = bc.b_strides[d];
        continue;
      }
    }
    m.out_shape[m.ndim] = bc.out_shape[d];
    m.a_strides[m.ndim] = bc.a_strides[d];
    m.b_strides[m.ndim] = bc.b_strides[d];
    ++m.ndim;
  }
  if (m.ndim == 0) {  // a single element
    m.ndim = 1;
    m.out_shape[0] = 1;
    m.a_strides[0] = m.b_strides[0] = 0;
  }
  return m;
}

bool is_scalar_read(const int64_t* strides, int ndim) {
  for (int d = 0; d < ndim; ++d)
    if (strides[d] != 0) return false;
  return true;
}

// Largest element index the operand reads (strides are ≥ 0).
int64_t max_offset(const Broadcast& m, const int64_t* strides) {
  int64_t off = 0;
  for (int d = 0; d < m.ndim; ++d) off += (m.out_shape[d] - 1) * strides[d];
  return off;
}

template <BinaryOp O, class T>
void launch_binary(const T* a, const T* b, T* out, const Broadcast& bc, int64_t n, Stream s) {
  const Broadcast m = merge_dims(bc);
  const bool a_scalar = is_scalar_read(m.a_strides, m.ndim), b_scalar = is_scalar_read(m.b_strides, m.ndim);
  const bool a_same = m.ndim == 1 && m.a_strides[0] == 1, b_same = m.ndim == 1 && m.b_strides[0] == 1;
  auto flat = [&](auto ra, auto rb) {
    constexpr Read RA = decltype(ra)::value, RB = decltype(rb)::value;
    const bool vec = aligned16(out) && (RA == Read::scalar || aligned16(a)) && (RB == Read::scalar || aligned16(b));
    if (vec)
      binary_flat_vec_kernel<O, RA, RB, T><<<grid_for(n / Pack<T>::kSize + 1), 256, 0, s>>>(a, b, out, n);
    else
      binary_flat_kernel<O, RA, RB, T><<<grid_for(n), 256, 0, s>>>(a, b, out, n);
  };
  using Same = std::integral_constant<Read, Read::same>;
  using Scalar = std::integral_constant<Read, Read::scalar>;
  if (a_same && b_same) return flat(Same{}, Same{});
  if (a_same && b_scalar) return flat(Same{}, Scalar{});
  if (a_scalar && b_same) return flat(Scalar{}, Same{});
  const int64_t limit = int64_t(1) << 31;
  if (n < limit && max_offset(m, m.a_strides) < limit && max_offset(m, m.b_strides) < limit) {
    Bcast<uint32_t> g{};
    g.ndim = m.ndim;
    for (int d = 0; d < m.ndim; ++d) {
      g.shape[d] = uint32_t(m.out_shape[d]);
      g.sa[d] = uint32_t(m.a_strides[d]);
      g.sb[d] = uint32_t(m.b_strides[d]);
    }
    binary_bcast_kernel<O, T, uint32_t><<<grid_for(n), 256, 0, s>>>(a, b, out, g, uint32_t(n));
  } else {
    Bcast<int64_t> g{};
    g.ndim = m.ndim;
    for (int d = 0; d < m.ndim; ++d) {
      g.shape[d] = m.out_shape[d];
      g.sa[d] = m.a_strides[d];
      g.sb[d] = m.b_strides[d];
    }
    binary_bcast_kernel<O, T, int64_t><<<grid_for(n), 256, 0, s>>>(a, b, out, g, n);
  }
}

// ---- sum_to ----------------------------------------------------------------------------------

// One thread per output element sums its reduced indices in a fixed order: deterministic, no
// atomics. Only for reduction patterns the two fast paths below do not cover.
template <class T>
__global__ void sum_to_kernel(const T* in, T* out, SumTo g, int64_t n_out, int64_t n_red) {
  int64_t in_strides[kMaxDims];
  int64_t acc = 1;
  for (int d = g.ndim - 1; d >= 0; --d) {
    in_strides[d] = acc;
    acc *= g.in_shape[d];
  }
  SAKUGA_THREAD_LOOP(j, n_out) {
    int64_t base = 0, rem = j;
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t idx = rem % g.out_shape[d];
      rem /= g.out_shape[d];
      base += idx * in_strides[d];
    }
    float s = 0.f;
    for (int64_t r = 0; r < n_red; ++r) {
      int64_t off = 0, rr = r;
      for (int d = g.ndim - 1; d >= 0; --d) {
        if (g.out_shape[d] != 1) continue;
        int64_t idx = rr % g.in_shape[d];
        rr /= g.in_shape[d];
        off += idx * in_strides[d];
      }
      s += load(in, base + off);
    }
    store(out, j, s);
  }
}

// The input dims as alternating runs of kept (out = in) and reduced (out = 1 < in) dims,
// outermost first, each with its total length (size-1 dims belong to neither).
struct Run {
  bool reduced;
  int64_t len;
};
int runs_of(const SumTo& g, Run* runs) {
  int k = 0;
  for (int d = 0; d < g.ndim; ++d) {
    if (g.in_shape[d] == 1) continue;
    const bool red = g.out_shape[d] == 1;
    if (k > 0 && runs[k - 1].reduced == red) {
      runs[k - 1].len *= g.in_shape[d];
    } else {
      runs[k++] = {red, g.in_shape[d]};
    }
  }
  return k;
}

template <class T>
struct LoadIn {
  const T* in;
  __device__ group::Sums<1> operator()(int64_t i, int64_t) const { return {{load(in, i)}}; }
};

template <class T>
__global__ void group_sum_final_kernel(const float* partial, group::Plan p, T* out) {
  SAKUGA_THREAD_LOOP(g, p.G) store(out, g, float(group::group_total(partial, p, 0, g)));
}

// out (N?, 1, G, 1...) style: in viewed as (N, G, S) with N and S reduced.
template <class T>
void group_sum(const T* in, T* out, int64_t N, int64_t G, int64_t S, Stream s) {
  const group::Plan p = group::make_plan(N, G, S);
  sakuga::cuda::Workspace ws(size_t(p.blocks()) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  group::launch_partial<1>(p, LoadIn<T>{in}, partial, s);
  group_sum_final_kernel<T><<<grid_for(G), 256, 0, s>>>(partial, p, out);
  SAKUGA_LAUNCH_CHECK();
}

template <class Body>
void with_unary(UnaryOp op, Body&& body) {
#define SAKUGA_UNARY_CASE(name) \
  case UnaryOp::name: body(std::integral_constant<UnaryOp, UnaryOp::name>{}); return;
  switch (op) {
    SAKUGA_UNARY_CASE(neg) SAKUGA_UNARY_CASE(exp) SAKUGA_UNARY_CASE(log) SAKUGA_UNARY_CASE(sqrt)
    SAKUGA_UNARY_CASE(abs) SAKUGA_UNARY_CASE(relu) SAKUGA_UNARY_CASE(sigmoid) SAKUGA_UNARY_CASE(tanh)
    SAKUGA_UNARY_CASE(softplus) SAKUGA_UNARY_CASE(leaky_relu) SAKUGA_UNARY_CASE(pow)
    SAKUGA_UNARY_CASE(clamp) SAKUGA_UNARY_CASE(add_scalar) SAKUGA_UNARY_CASE(mul_scalar)
    SAKUGA_UNARY_CASE(square)
  }
#undef SAKUGA_UNARY_CASE
}

}  // namespace

void unary_forward(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, double a, double b, Stream s) {
  if (n == 0) return;
  const bool vec = aligned16(x) && aligned16(y);
  sakuga::cuda::dispatch_float_bf16("unary_forward", dtype, [&](auto t) {
    using T = decltype(t);
    with_unary(op, [&](auto tag) {
      constexpr UnaryOp O = decltype(tag)::value;
      auto px = static_cast<const T*>(x);
      auto py = static_cast<T*>(y);
      if (vec)
        unary_fwd_vec_kernel<O, T><<<grid_for(n / Pack<T>::kSize + 1), 256, 0, s>>>(px, py, n, float(a), float(b));
      else
        unary_fwd_kernel<O, T><<<grid_for(n), 256, 0, s>>>(px, py, n, float(a), float(b));
    });
  });
  SAKUGA_LAUNCH_CHECK();
}

void unary_backward(UnaryOp op, DType dtype, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, double a, double b, Stream s) {
  if (n == 0) return;
  const bool vec = (!x || aligned16(x)) && (!y || aligned16(y)) && aligned16(gy) && aligned16(gx);
  sakuga::cuda::dispatch_float_bf16("unary_backward", dtype, [&](auto t) {
    using T = decltype(t);
    with_unary(op, [&](auto tag) {
      constexpr UnaryOp O = decltype(tag)::value;
      auto px = static_cast<const T*>(x);
      auto py = static_cast<const T*>(y);
      auto pg = static_cast<const T*>(gy);
      auto po = static_cast<T*>(gx);
      if (vec)
        unary_bwd_vec_kernel<O, T><<<grid_for(n / Pack<T>::kSize + 1), 256, 0, s>>>(px, py, pg, po, n, float(a),
                                                                                   float(b));
      else
        unary_bwd_kernel<O, T><<<grid_for(n), 256, 0, s>>>(px, py, pg, po, n, float(a), float(b));
    });
  });
  SAKUGA_LAUNCH_CHECK();
}

void binary_forward(BinaryOp op, DType dtype, const void* a, const void* b, void* out,
                    const Broadcast& bc, Stream s) {
  int64_t n = bc.numel();
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("binary_forward", dtype, [&](auto t) {
    using T = decltype(t);
    auto pa = static_cast<const T*>(a);
    auto pb = static_cast<const T*>(b);
    auto po = static_cast<T*>(out);
    switch (op) {
      case BinaryOp::add: launch_binary<BinaryOp::add>(pa, pb, po, bc, n, s); break;
      case BinaryOp::sub: launch_binary<BinaryOp::sub>(pa, pb, po, bc, n, s); break;
      case BinaryOp::mul: launch_binary<BinaryOp::mul>(pa, pb, po, bc, n, s); break;
      case BinaryOp::div: launch_binary<BinaryOp::div>(pa, pb, po, bc, n, s); break;
    }
  });
  SAKUGA_LAUNCH_CHECK();
}

void sum_to(DType dtype, const void* in, void* out, const SumTo& g, Stream s) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < g.ndim; ++d) {
    n_out *= g.out_shape[d];
    n_red *= g.out_shape[d] == 1 ? g.in_shape[d] : 1;
  }
  if (n_out == 0) return;
  Run runs[kMaxDims];
  const int k = runs_of(g, runs);
  // [kept] [reduced] [kept] (each kept run optional): a reduce-family sum over the middle dim.
  const int first_red = k > 0 && runs[0].reduced ? 0 : 1;
  if (n_red > 1 && k >= 1 && k <= 3 && first_red < k && runs[first_red].reduced &&
      (k == first_red + 1 || (k == first_red + 2 && !runs[first_red + 1].reduced))) {
    const int64_t outer = first_red == 1 ? runs[0].len : 1;
    const int64_t inner = first_red + 1 < k ? runs[first_red + 1].len : 1;
    sum_dim(dtype, in, out, outer, runs[first_red].len, inner, 1.0, s);
    return;
  }
  // [reduced] [kept] [reduced]: per-group sums, chunked so a few groups still fill the GPU.
  if (k == 3 && runs[0].reduced && !runs[1].reduced && runs[2].reduced) {
    sakuga::cuda::dispatch_float_bf16("sum_to", dtype, [&](auto t) {
      using T = decltype(t);
      group_sum(static_cast<const T*>(in), static_cast<T*>(out), runs[0].len, runs[1].len, runs[2].len, s);
    });
    return;
  }
  sakuga::cuda::dispatch_float_bf16("sum_to", dtype, [&](auto t) {
    using T = decltype(t);
    sum_to_kernel<T><<<grid_for(n_out), 256, 0, s>>>(static_cast<const T*>(in), static_cast<T*>(out), g,
                                                     n_out, n_red);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
