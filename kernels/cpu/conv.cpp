// CPU reference of the convolution family: im2col + GEMM (OpenBLAS), col2im for the data
// gradient.
//
// For one image and one group, with K = c_in_g·kh·kw and P = ho·wo:
//   col (K, P)    col[(c, ki, kj), (oh, ow)] = x[c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw] (0 outside)
//   forward       y_g  (c_out_g, P) = W_g (c_out_g, K) · col
//   data grad     gcol (K, P)       = W_gᵀ · gy_g,  then gx = col2im(gcol)
//   filter grad   gW_g (c_out_g, K) += gy_g · colᵀ      (summed over images in order)
// Large maps: the P columns are processed in tiles of whole output rows so that the col buffer
// stays bounded (≈ kColBudget elements) and cache-resident; a 1×1, stride-1, unpadded conv skips
// im2col (col is x itself). Small maps (P < kBatchCols): m whole images side by side,
// col (K, m·P), one GEMM per m images (see images_per_gemm); y and gy pass through a (c_out_g,
// m·P) block, and the filter gradient sums over images inside the GEMM.
// Threads: the GEMMs are split over sakuga's pool (gemm.cpp); im2col runs its rows of col and
// col2im its rows of gx as parallel_for chunks on the same pool (each writes only its own rows,
// so nothing depends on the thread count). (OpenMP around them had measured slower, when OpenMP's
// and OpenBLAS's thread pools spin-waited against each other; the pool does not.)
// Every sum runs in a fixed order for a given geometry: results do not depend on the number of
// threads.
#include "kernels/conv.h"
#include "kernels/cpu/conv_helpers.h"
#include "kernels/cpu/parallel.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace sakuga::kernels::cpu {

namespace {

// Max elements of one im2col tile (16 MiB in f32): the benchmark shape (576 × 4096) fits in one.
constexpr int64_t kColBudget = int64_t(1) << 22;
// Elements a parallel chunk of im2col / col2im moves at least (below, one thread does it all).
constexpr int64_t kCopyGrain = int64_t(1) << 15;

using blas::gemm;  // kernels/cpu/conv_helpers.h

// The output columns [lo, hi) of one kernel column kj whose input column is inside [0, w):
// iw = ow·sw + off, off = kj·dw − pw.
struct ColRange {
  int64_t lo, hi, off;
};
inline ColRange col_range(const ConvGeometry& g, int64_t kj) {
  const int64_t off = kj * g.dil_w - g.pad_w;
  int64_t lo = off >= 0 ? 0 : (-off + g.stride_w - 1) / g.stride_w;
  int64_t hi = (g.w - 1 - off) < 0 ? 0 : std::min<int64_t>(g.wo, (g.w - 1 - off) / g.stride_w + 1);
  lo = std::min(lo, g.wo);
  if (hi < lo) hi = lo;
  return {lo, hi, off};
}

inline bool is_pointwise(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

// Output rows per tile so that K · rows · wo ≤ kColBudget (at least one row).
inline int64_t tile_rows(const ConvGeometry& g) {
  const int64_t k = g.c_in_g() * g.kh * g.kw;
  return std::max<int64_t>(1, std::min<int64_t>(g.ho, kColBudget / std::max<int64_t>(1, k * g.wo)));
}

// The images one GEMM covers. Per image, the GEMMs of a small feature map are thin (a 4×4 or 8×8
// map gives 16–64 columns), and OpenBLAS's kernels run far below their peak on so few columns.
// So maps of fewer than kBatchCols output pixels are laid side by side, m whole images in one
// col buffer (K, m·P) of about kBatchCols columns, and one GEMM covers them. Not more: a wider
// col no longer stays in the L2 cache between im2col and the GEMM (batching 16 maps of 16×16
// made gadn_same_c64_16px_b16 of bench/cases.json slower; 256 columns was the best of 64–1024
// on a 2-core x86-64). Returns 1 (one image at a time, tiled by rows) for larger maps.
constexpr int64_t kBatchCols = 256;
inline int64_t images_per_gemm(const ConvGeometry& g) {
  const int64_t P = g.ho * g.wo, K = g.c_in_g() * g.kh * g.kw;
  if (g.n < 2 || P >= kBatchCols) return 1;
  const int64_t widest = std::max<int64_t>(K, g.c_out_g()) * P;  // rows of col, or of the y / gy block
  const int64_t wanted = (kBatchCols + P - 1) / P;
  return std::max<int64_t>(1, std::min<int64_t>({g.n, wanted, kColBudget / std::max<int64_t>(1, widest)}));
}

// col (K, ld) for output rows [oh0, oh1) of m images/groups side by side: image j's columns
// start at j·cols (cols = (oh1 − oh0)·wo) and x + j·x_stride is its first channel.
template <class T>
void im2col(const ConvGeometry& g, const T* x, int64_t x_stride, int64_t m, int64_t oh0, int64_t oh1, T* col,
            int64_t ld) {
  const int64_t khw = g.kh * g.kw, K = g.c_in_g() * khw, wo = g.wo;
  const int64_t cols = (oh1 - oh0) * wo;
  parallel_for(m * K, std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(1, cols)), [=](int64_t r0, int64_t r1) {
    for (int64_t jr = r0; jr < r1; ++jr) {
      const int64_t j = jr / K, r = jr % K;
      const int64_t c = r / khw, ki = (r / g.kw) % g.kh, kj = r % g.kw;
      const T* xc = x + j * x_stride + c * g.h * g.w;
      T* dst = col + r * ld + j * cols;
      const ColRange cr = col_range(g, kj);
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        T* d = dst + (oh - oh0) * wo;
        const int64_t ih = oh * g.stride_h - g.pad_h + ki * g.dil_h;
        if (ih < 0 || ih >= g.h) {
          std::fill(d, d + wo, T(0));
          continue;
        }
        const T* src = xc + ih * g.w;
        std::fill(d, d + cr.lo, T(0));
        if (g.stride_w == 1) {
          if (cr.hi > cr.lo) std::memcpy(d + cr.lo, src + cr.lo + cr.off, size_t(cr.hi - cr.lo) * sizeof(T));
        } else {
          const int64_t sw = g.stride_w;
          for (int64_t ow = cr.lo; ow < cr.hi; ++ow) d[ow] = src[ow * sw + cr.off];
        }
        std::fill(d + cr.hi, d + wo, T(0));
      }
    }
  });
}

// gx += col2im(gcol) for output rows [oh0, oh1) of m images/groups laid out as im2col's col
// (K, ld); gx + j·gx_stride is image j's first channel. Gather form: each input row (c, ih)
// collects its contributions in a fixed order.
template <class T>
void col2im_add(const ConvGeometry& g, const T* gcol, int64_t ld, int64_t m, int64_t oh0, int64_t oh1, T* gx,
                int64_t gx_stride) {
  const int64_t wo = g.wo, cols = (oh1 - oh0) * wo, cin = g.c_in_g();
  // Input rows that this tile touches.
  const int64_t ih_lo = std::max<int64_t>(0, oh0 * g.stride_h - g.pad_h);
  const int64_t ih_hi = std::min<int64_t>(g.h, (oh1 - 1) * g.stride_h - g.pad_h + (g.kh - 1) * g.dil_h + 1);
  if (ih_hi <= ih_lo) return;
  const int64_t nrows = ih_hi - ih_lo;
  std::vector<ColRange> ranges(size_t(g.kw));
  for (int64_t kj = 0; kj < g.kw; ++kj) ranges[size_t(kj)] = col_range(g, kj);
  const ColRange* cr = ranges.data();
  const int64_t per_row = std::max<int64_t>(1, g.kh * g.kw * g.w);  // about the adds of one gx row
  parallel_for(m * cin * nrows, std::max<int64_t>(1, kCopyGrain / per_row), [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t j = i / (cin * nrows), cr_i = i % (cin * nrows);
      const int64_t c = cr_i / nrows, ih = ih_lo + cr_i % nrows;
      T* gxrow = gx + j * gx_stride + (c * g.h + ih) * g.w;
      const T* gcol_j = gcol + j * cols;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        const int64_t t = ih + g.pad_h - ki * g.dil_h;
        if (t < 0 || t % g.stride_h != 0) continue;
        const int64_t oh = t / g.stride_h;
        if (oh < oh0 || oh >= oh1) continue;
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const int64_t r = (c * g.kh + ki) * g.kw + kj;
          const T* s = gcol_j + r * ld + (oh - oh0) * wo;
          const ColRange q = cr[kj];
          if (g.stride_w == 1) {
            const int64_t off = q.off;
            for (int64_t ow = q.lo; ow < q.hi; ++ow) gxrow[ow + off] += s[ow];
          } else {
            const int64_t sw = g.stride_w;
            for (int64_t ow = q.lo; ow < q.hi; ++ow) gxrow[ow * sw + q.off] += s[ow];
          }
        }
      }
    }
  });
}

// block (rows, m·P) ← the (rows, P) planes of m images (image j's at src + j·src_stride), side
// by side; and the way back.
template <class T>
void gather_images(const T* src, int64_t src_stride, int64_t m, int64_t rows, int64_t P, T* block) {
  parallel_for(m * rows, std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(1, P)), [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t j = i / rows, r = i % rows;
      std::memcpy(block + r * m * P + j * P, src + j * src_stride + r * P, size_t(P) * sizeof(T));
    }
  });
}
template <class T>
void scatter_images(const T* block, int64_t m, int64_t rows, int64_t P, T* dst, int64_t dst_stride) {
  parallel_for(m * rows, std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(1, P)), [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t j = i / rows, r = i % rows;
      std::memcpy(dst + j * dst_stride + r * P, block + r * m * P + j * P, size_t(P) * sizeof(T));
    }
  });
}

// The three passes over batches of m images (images_per_gemm > 1; whole images, no row tiles).
// One GEMM per batch and group; the results equal the per-image passes' up to the order of
// the filter gradient's sum over images.
// f(n0, m, gi): images [n0, n0 + m) of group gi, m ≤ nb.
template <class F>
void each_image_batch(const ConvGeometry& g, int64_t nb, F&& f) {
  for (int64_t n0 = 0; n0 < g.n; n0 += nb)
    for (int64_t gi = 0; gi < g.groups; ++gi) f(n0, std::min(nb, g.n - n0), gi);
}

template <class T>
void forward_batched(const ConvGeometry& g, int64_t nb, const T* x, const T* w, T* y) {
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw, P = g.ho * g.wo;
  const int64_t x_img = g.c_in * g.h * g.w, y_img = g.c_out * P;
  T* col = scratch<T>(size_t(K * nb * P));
  T* yb = scratch<T, 1>(size_t(cout * nb * P));
  each_image_batch(g, nb, [&](int64_t n0, int64_t m, int64_t gi) {
    const int64_t cols = m * P;
    im2col(g, x + n0 * x_img + gi * cin * g.h * g.w, x_img, m, 0, g.ho, col, cols);
    // yb (cout, m·P) = W_g (cout, K) · col (K, m·P)
    gemm(false, false, cout, cols, K, T(1), w + gi * cout * K, K, col, cols, T(0), yb, cols);
    scatter_images(yb, m, cout, P, y + n0 * y_img + gi * cout * P, y_img);
  });
}

template <class T>
void backward_data_batched(const ConvGeometry& g, int64_t nb, const T* gy, const T* w, T* gx) {
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw, P = g.ho * g.wo;
  const int64_t x_img = g.c_in * g.h * g.w, y_img = g.c_out * P;
  std::fill(gx, gx + g.n * x_img, T(0));
  T* gcol = scratch<T>(size_t(K * nb * P));
  T* gyb = scratch<T, 1>(size_t(cout * nb * P));
  each_image_batch(g, nb, [&](int64_t n0, int64_t m, int64_t gi) {
    const int64_t cols = m * P;
    gather_images(gy + n0 * y_img + gi * cout * P, y_img, m, cout, P, gyb);
    // gcol (K, m·P) = W_gᵀ (K, cout) · gyb (cout, m·P)
    gemm(true, false, K, cols, cout, T(1), w + gi * cout * K, K, gyb, cols, T(0), gcol, cols);
    col2im_add(g, gcol, cols, m, 0, g.ho, gx + n0 * x_img + gi * cin * g.h * g.w, x_img);
  });
}

template <class T>
void backward_filter_batched(const ConvGeometry& g, int64_t nb, const T* x, const T* gy, T* gw) {
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw, P = g.ho * g.wo;
  const int64_t x_img = g.c_in * g.h * g.w, y_img = g.c_out * P;
  std::fill(gw, gw + g.c_out * K, T(0));
  T* col = scratch<T>(size_t(K * nb * P));
  T* gyb = scratch<T, 1>(size_t(cout * nb * P));
  each_image_batch(g, nb, [&](int64_t n0, int64_t m, int64_t gi) {
    const int64_t cols = m * P;
    im2col(g, x + n0 * x_img + gi * cin * g.h * g.w, x_img, m, 0, g.ho, col, cols);
    gather_images(gy + n0 * y_img + gi * cout * P, y_img, m, cout, P, gyb);
    // gW_g (cout, K) += gyb (cout, m·P) · colᵀ (m·P, K)
    gemm(false, true, cout, K, cols, T(1), gyb, cols, col, cols, T(1), gw + gi * cout * K, K);
  });
}

}  // namespace

template <class T>
void conv2d_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  if (const int64_t nb = images_per_gemm(g); nb > 1) {
    forward_batched(g, nb, x, w, y);
    if (bias) bias_add(y, bias, g.n, g.c_out, g.ho * g.wo);
    return;
  }
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw;
  const int64_t P = g.ho * g.wo, HW = g.h * g.w;
  const bool pw = is_pointwise(g);
  const int64_t rows = pw ? g.ho : tile_rows(g);
  T* col = pw ? nullptr : scratch<T>(size_t(K * rows * g.wo));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + (n * g.c_in + gi * cin) * HW;
      const T* wg = w + gi * cout * K;
      T* yg = y + (n * g.c_out + gi * cout) * P;
      for (int64_t oh0 = 0; oh0 < g.ho; oh0 += rows) {
        const int64_t oh1 = std::min(g.ho, oh0 + rows), cols = (oh1 - oh0) * g.wo;
        const T* b = pw ? xg : col;
        if (!pw) im2col(g, xg, 0, 1, oh0, oh1, col, cols);
        // y_g[:, tile] (cout, cols) = W_g (cout, K) · col (K, cols)
        gemm(false, false, cout, cols, K, T(1), wg, K, b, pw ? P : cols, T(0), yg + oh0 * g.wo, P);
      }
    }
    if (bias) bias_add(y + n * g.c_out * P, bias, 1, g.c_out, P);
  }
}

template <class T>
void conv2d_backward_data(const ConvGeometry& g, const T* gy, const T* w, T* gx) {
  if (const int64_t nb = images_per_gemm(g); nb > 1) return backward_data_batched(g, nb, gy, w, gx);
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw;
  const int64_t P = g.ho * g.wo, HW = g.h * g.w;
  if (is_pointwise(g)) {
    // gx_g (cin, P) = W_gᵀ (cin, cout) · gy_g (cout, P)
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t gi = 0; gi < g.groups; ++gi)
        gemm(true, false, cin, P, cout, T(1), w + gi * cout * K, K, gy + (n * g.c_out + gi * cout) * P, P, T(0),
             gx + (n * g.c_in + gi * cin) * HW, HW);
    return;
  }
  std::fill(gx, gx + g.n * g.c_in * HW, T(0));
  const int64_t rows = tile_rows(g);
  T* gcol = scratch<T>(size_t(K * rows * g.wo));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* gyg = gy + (n * g.c_out + gi * cout) * P;
      const T* wg = w + gi * cout * K;
      T* gxg = gx + (n * g.c_in + gi * cin) * HW;
      for (int64_t oh0 = 0; oh0 < g.ho; oh0 += rows) {
        const int64_t oh1 = std::min(g.ho, oh0 + rows), cols = (oh1 - oh0) * g.wo;
        // gcol (K, cols) = W_gᵀ (K, cout) · gy_g[:, tile] (cout, cols)
        gemm(true, false, K, cols, cout, T(1), wg, K, gyg + oh0 * g.wo, P, T(0), gcol, cols);
        col2im_add(g, gcol, cols, 1, oh0, oh1, gxg, 0);
      }
    }
  }
}

template <class T>
void conv2d_backward_filter(const ConvGeometry& g, const T* x, const T* gy, T* gw) {
  if (const int64_t nb = images_per_gemm(g); nb > 1) return backward_filter_batched(g, nb, x, gy, gw);
  const int64_t cin = g.c_in_g(), cout = g.c_out_g(), K = cin * g.kh * g.kw;
  const int64_t P = g.ho * g.wo, HW = g.h * g.w;
  std::fill(gw, gw + g.c_out * K, T(0));
  const bool pw = is_pointwise(g);
  const int64_t rows = pw ? g.ho : tile_rows(g);
  T* col = pw ? nullptr : scratch<T>(size_t(K * rows * g.wo));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + (n * g.c_in + gi * cin) * HW;
      const T* gyg = gy + (n * g.c_out + gi * cout) * P;
      T* gwg = gw + gi * cout * K;
      for (int64_t oh0 = 0; oh0 < g.ho; oh0 += rows) {
        const int64_t oh1 = std::min(g.ho, oh0 + rows), cols = (oh1 - oh0) * g.wo;
        const T* b = pw ? xg : col;
        if (!pw) im2col(g, xg, 0, 1, oh0, oh1, col, cols);
        // gW_g (cout, K) += gy_g[:, tile] (cout, cols) · colᵀ (cols, K)
        gemm(false, true, cout, K, cols, T(1), gyg + oh0 * g.wo, P, b, pw ? P : cols, T(1), gwg, K);
      }
    }
  }
}

template <class T>
void bias_add(T* y, const T* bias, int64_t n, int64_t c, int64_t hw) {
  for (int64_t i = 0; i < n * c; ++i) {
    const T b = bias[i % c];
    T* row = y + i * hw;
    for (int64_t j = 0; j < hw; ++j) row[j] += b;
  }
}

template <class T>
void bias_grad(const T* gy, T* gb, int64_t n, int64_t c, int64_t hw) {
  // Per row: 8 interleaved partial sums (vectorisable without reassociating a single chain),
  // combined in a fixed order and accumulated in double across rows.
  constexpr int kLanes = 8;
  for (int64_t ch = 0; ch < c; ++ch) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T* row = gy + (i * c + ch) * hw;
      T part[kLanes] = {};
      int64_t j = 0;
      for (; j + kLanes <= hw; j += kLanes)
        for (int l = 0; l < kLanes; ++l) part[l] += row[j + l];
      double r = 0;
      for (int l = 0; l < kLanes; ++l) r += double(part[l]);
      for (; j < hw; ++j) r += double(row[j]);
      s += r;
    }
    gb[ch] = T(s);
  }
}

#define SAKUGA_INSTANTIATE(T)                                                                 \
  template void conv2d_forward<T>(const ConvGeometry&, const T*, const T*, const T*, T*);     \
  template void conv2d_backward_data<T>(const ConvGeometry&, const T*, const T*, T*);         \
  template void conv2d_backward_filter<T>(const ConvGeometry&, const T*, const T*, T*);       \
  template void bias_add<T>(T*, const T*, int64_t, int64_t, int64_t);                         \
  template void bias_grad<T>(const T*, T*, int64_t, int64_t, int64_t);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
