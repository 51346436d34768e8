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

// Both work a row (the last dim) at a time: the index math of the leading dims once per row,
// the interior of the row as one contiguous copy or add, only the padded borders element by
// element. (Per element, the div / mod over every dim made reflection padding a quarter of
// the scenimefy step on the CPU.)

void pad_forward(DType dtype, const void* x, void* out, const PadGeom& g, const void* value) {
  const int nd = g.ndim;
  int64_t xs[kMaxDims] = {};
  strides_of(g.in_shape, nd, xs);
  const int last = nd - 1;
  const int64_t out_w = g.out_shape[last], in_w = g.in_shape[last], before = g.before[last];
  const int64_t rows = numel_of(g.out_shape, last);
  // The output columns [lo, hi) that read x columns [lo − before, hi − before) one to one.
  const int64_t lo = std::clamp<int64_t>(before, 0, out_w), hi = std::clamp<int64_t>(before + in_w, lo, out_w);
  std::vector<int64_t> border_src(size_t(out_w), 0);
  for (int64_t o = 0; o < out_w; ++o) border_src[size_t(o)] = pad_source(g.mode, o, before, in_w);
  const int64_t* bsrc = border_src.data();
  const int64_t grain = std::max<int64_t>(1, kParallelMin / 2 / std::max<int64_t>(1, out_w));
  dispatch_bytes(dtype, [&](auto tag) {
    using U = decltype(tag);
    const U* px = static_cast<const U*>(x);
    U* po = static_cast<U*>(out);
    U v;
    std::memcpy(&v, value, sizeof(U));
    parallel_for(rows, grain, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t rem = r, src = 0;
        bool inside = true;
        for (int d = last - 1; d >= 0; --d) {
          const int64_t o = rem % g.out_shape[d];
          rem /= g.out_shape[d];
          const int64_t s = pad_source(g.mode, o, g.before[d], g.in_shape[d]);
          if (s < 0) inside = false;
          src += s * xs[d];
        }
        U* row = po + r * out_w;
        if (!inside) {
          std::fill(row, row + out_w, v);
          continue;
        }
        const U* xrow = px + src;
        for (int64_t o = 0; o < lo; ++o) row[o] = bsrc[o] < 0 ? v : xrow[bsrc[o]];
        if (hi > lo) std::memcpy(row + lo, xrow + (lo - before), size_t(hi - lo) * sizeof(U));
        for (int64_t o = hi; o < out_w; ++o) row[o] = bsrc[o] < 0 ? v : xrow[bsrc[o]];
      }
    });
  });
}

template <class T>
void pad_backward(const T* gy, T* gx, const PadGeom& g) {
  // gx[i] = Σ gy[o] over the o that read i, summed in a fixed order: the output rows that read
  // i's row (up to three ranges along the second-to-last dim), and in each the output columns
  // that read its column (up to three ranges). Leading dims map one to one (only constant mode
  // pads them).
  const int nd = g.ndim;
  int64_t ys[kMaxDims] = {};
  strides_of(g.out_shape, nd, ys);
  const int da = nd >= 2 ? nd - 2 : -1, db = nd - 1;
  const int64_t in_w = g.in_shape[db], bb = g.before[db];
  const int64_t rows = numel_of(g.in_shape, db);
  // Per x column: its output column ranges; `single` the columns read by exactly their own
  // output column j + bb (the row's interior, added as one contiguous run).
  struct Targets {
    int k;
    int64_t lo[3], hi[3];
  };
  std::vector<Targets> cols(static_cast<size_t>(in_w));
  int64_t run0 = 0, run1 = 0;  // the longest run of single columns
  for (int64_t j = 0, start = -1; j <= in_w; ++j) {
    bool single = false;
    if (j < in_w) {
      Targets& t = cols[size_t(j)];
      t.k = pad_targets(g.mode, j, bb, in_w, g.out_shape[db], t.lo, t.hi);
      single = t.k == 1 && t.lo[0] == j + bb && t.hi[0] == j + bb;
    }
    if (single && start < 0) start = j;
    if (!single && start >= 0) {
      if (j - start > run1 - run0) run0 = start, run1 = j;
      start = -1;
    }
  }
  const Targets* pc = cols.data();
  const int64_t grain = std::max<int64_t>(1, kParallelMin / 2 / std::max<int64_t>(1, in_w));
  parallel_for(rows, grain, [=](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r, base = 0;
      int64_t idx[kMaxDims];
      for (int d = db - 1; d >= 0; --d) {
        idx[d] = rem % g.in_shape[d];
        rem /= g.in_shape[d];
      }
      T* acc = gx + r * in_w;
      std::fill(acc, acc + in_w, T(0));
      bool dropped = false;
      for (int d = 0; d < da; ++d) {
        const int64_t o = idx[d] + g.before[d];
        if (o < 0 || o >= g.out_shape[d]) dropped = true;
        base += o * ys[d];
      }
      if (dropped) continue;
      int64_t alo[3] = {0}, ahi[3] = {0};
      int ka = 1;
      int64_t sa = 0;
      if (da >= 0) {
        ka = pad_targets(g.mode, idx[da], g.before[da], g.in_shape[da], g.out_shape[da], alo, ahi);
        sa = ys[da];
      }
      for (int ra = 0; ra < ka; ++ra)
        for (int64_t p = alo[ra]; p <= ahi[ra]; ++p) {
          const T* row = gy + base + p * sa;
          for (int64_t j = 0; j < run0; ++j)
            for (int rb = 0; rb < pc[j].k; ++rb)
              for (int64_t q = pc[j].lo[rb]; q <= pc[j].hi[rb]; ++q) acc[j] += row[q];
          const T* mid = row + bb;
          for (int64_t j = run0; j < run1; ++j) acc[j] += mid[j];
          for (int64_t j = run1; j < in_w; ++j)
            for (int rb = 0; rb < pc[j].k; ++rb)
              for (int64_t q = pc[j].lo[rb]; q <= pc[j].hi[rb]; ++q) acc[j] += row[q];
        }
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
