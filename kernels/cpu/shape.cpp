// CPU reference of the shape family: straight loops over the shared index math
// (kernels/shape.h). Forward kernels move elements by size; backward kernels scatter-add
// sequentially (the obvious definition) or sum per input element (pad).
#include "kernels/shape.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

// Calls f(U{}) with U an unsigned integer type of the dtype's size (data is only moved).
template <class F>
void dispatch_bytes(DType dtype, F&& f) {
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: SAKUGA_FAIL("shape kernels: unsupported element size ", dtype_size(dtype));
  }
}

// Row-major strides of shape[0..ndim).
void strides_of(const int64_t* shape, int ndim, int64_t* st) {
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

}  // namespace

// ---- pad ---------------------------------------------------------------------------------------

void pad_forward(DType dtype, const void* x, void* out, const PadGeom& g, const void* value) {
  const int nd = g.ndim;
  int64_t xs[kMaxDims] = {};
  strides_of(g.in_shape, nd, xs);
  const int64_t n = numel_of(g.out_shape, nd);
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    const U* px = static_cast<const U*>(x);
    U* po = static_cast<U*>(out);
    U v;
    std::memcpy(&v, value, sizeof(U));
    parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int64_t rem = i, src = 0;
        bool inside = true;
        for (int d = nd - 1; d >= 0; --d) {
          int64_t o = rem % g.out_shape[d];
          rem /= g.out_shape[d];
          int64_t s = pad_source(g.mode, o, g.before[d], g.in_shape[d]);
          if (s < 0) inside = false;
          src += s * xs[d];
        }
        po[i] = inside ? px[src] : v;
      }
    });
  });
}

template <class T>
void pad_backward(const T* gy, T* gx, const PadGeom& g) {
  // gx[i] = Σ gy[o] over the o that read i. Leading dims map one to one (only constant mode
  // pads them); the last two dims each contribute up to three ranges of output positions.
  const int nd = g.ndim;
  int64_t ys[kMaxDims] = {};
  strides_of(g.out_shape, nd, ys);
  const int64_t n = numel_of(g.in_shape, nd);
  const int da = nd >= 2 ? nd - 2 : -1, db = nd - 1;
  parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
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
      T s = T(0);
      if (!dropped) {
        int64_t alo[3] = {0}, ahi[3] = {0}, blo[3], bhi[3];
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
              for (int64_t q = blo[rb]; q <= bhi[rb]; ++q) s += gy[base + p * sa + q];
      }
      gx[i] = s;
    }
  });
}

// ---- flip --------------------------------------------------------------------------------------

void flip(DType dtype, const void* x, void* out, const FlipGeom& g) {
  const int nd = g.ndim;
  int64_t st[kMaxDims] = {};
  strides_of(g.shape, nd, st);
  const int64_t n = numel_of(g.shape, nd);
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    const U* px = static_cast<const U*>(x);
    U* po = static_cast<U*>(out);
    parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int64_t rem = i, src = 0;
        for (int d = nd - 1; d >= 0; --d) {
          int64_t c = rem % g.shape[d];
          rem /= g.shape[d];
          src += (g.flip[d] ? g.shape[d] - 1 - c : c) * st[d];
        }
        po[i] = px[src];
      }
    });
  });
}

// ---- gather ------------------------------------------------------------------------------------

void gather_forward(DType dtype, const void* x, const int32_t* index, void* out, const GatherGeom& g) {
  const int nd = g.ndim;
  int64_t xs[kMaxDims] = {};
  strides_of(g.x_shape, nd, xs);
  const int64_t n = numel_of(g.index_shape, nd);
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    const U* px = static_cast<const U*>(x);
    U* po = static_cast<U*>(out);
    parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int64_t rem = i, src = 0;
        for (int d = nd - 1; d >= 0; --d) {
          int64_t c = rem % g.index_shape[d];
          rem /= g.index_shape[d];
          src += (d == g.dim ? int64_t(index[i]) : c) * xs[d];
        }
        po[i] = px[src];
      }
    });
  });
}

template <class T>
void gather_backward(const T* gy, const int32_t* index, T* gx, const GatherGeom& g) {
  const int nd = g.ndim;
  int64_t xs[kMaxDims] = {};
  strides_of(g.x_shape, nd, xs);
  std::fill(gx, gx + numel_of(g.x_shape, nd), T(0));
  const int64_t n = numel_of(g.index_shape, nd);
  for (int64_t i = 0; i < n; ++i) {  // sequential: a fixed summation order
    int64_t rem = i, dst = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t c = rem % g.index_shape[d];
      rem /= g.index_shape[d];
      dst += (d == g.dim ? int64_t(index[i]) : c) * xs[d];
    }
    gx[dst] += gy[i];
  }
}

// ---- index_select --------------------------------------------------------------------------------

void index_select_forward(DType dtype, const void* x, const int32_t* index, void* out, const IndexSelectGeom& g) {
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    const U* px = static_cast<const U*>(x);
    U* po = static_cast<U*>(out);
    parallel_for(g.outer * g.len, grain_for(g.inner, kParallelMin), [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {  // output row r = (o, m)
        const int64_t o = r / g.len, m = r % g.len;
        const U* src = px + (o * g.n + index[m]) * g.inner;
        U* dst = po + r * g.inner;
        for (int64_t i = 0; i < g.inner; ++i) dst[i] = src[i];
      }
    });
  });
}

template <class T>
void index_select_backward(const T* gy, const int32_t* index, T* gx, const IndexSelectGeom& g) {
  std::fill(gx, gx + g.outer * g.n * g.inner, T(0));
  // Rows of different `o` are independent; within one, rows are added in ascending m.
  parallel_for(g.outer, grain_for(g.len * g.inner, kParallelMin), [=](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t m = 0; m < g.len; ++m) {
        const T* src = gy + (o * g.len + m) * g.inner;
        T* dst = gx + (o * g.n + index[m]) * g.inner;
        for (int64_t i = 0; i < g.inner; ++i) dst[i] += src[i];
      }
  });
}

// ---- one_hot -------------------------------------------------------------------------------------

void one_hot(DType dtype, const int32_t* labels, void* out, int64_t n, int64_t classes) {
  fill(out, dtype, n * classes, 0.0);
  uint64_t one_bits = 0;
  fill(&one_bits, dtype, 1, 1.0);
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    U one;
    std::memcpy(&one, &one_bits, sizeof(U));
    U* po = static_cast<U*>(out);
    for (int64_t i = 0; i < n; ++i) po[i * classes + labels[i]] = one;
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                    \
  template void pad_backward<T>(const T*, T*, const PadGeom&);                                   \
  template void gather_backward<T>(const T*, const int32_t*, T*, const GatherGeom&);             \
  template void index_select_backward<T>(const T*, const int32_t*, T*, const IndexSelectGeom&);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
