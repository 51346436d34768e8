// Axial convolution family, CPU: k×1 / 1×k "same" convolutions as sums of k shifted 1×1
// convolutions over a zero-padded copy of the input, with the k taps batched into one GEMM
// (OpenBLAS) per band of output rows.
//
// Per image, every channel plane is copied once into a padded plane of L elements; the rows of
// P (channels × L) are those planes:
//   vertical (k×1):   k/2 zero rows above and below      → L = (h + k − 1)·w, tap shift s = w
//   horizontal (1×k): each row padded to W' = w + k − 1  → L = h·W',         tap shift s = 1
// Tap t of output pixel (i, j) reads P[c, q + t·s] with
//   vertical:   q = i·w + j       (P[c, q + t·w] = x[c, i + t − k/2, j])
//   horizontal: q = i·W' + j      (P[c, q + t]   = x[c, i, j + t − k/2], j < w)
// so tap t is a 1×1 conv whose B operand is P shifted by t·s columns. A band of output rows
// [i0, i0 + r) starts at column start = i0·w (vertical) or i0·W' of P and reads
// lb = (r + k − 1)·w (vertical) or r·W' of its columns.
//
// The k taps of a band become one GEMM by expanding the side with fewer channels k-fold
// (c_i / c_o: the pass's input / output channels):
//   c_i ≤ c_o ("expand the input"): COLS (k·c_i, r·w), row (t, c) = the band of P[c] shifted by
//     t·s, in the (h, w) layout (memcpy runs: an im2col of the small side only), and
//     out[:, band] (c_o, r·w) = Wcat (c_o, k·c_i) · COLS, written straight into the output;
//   c_o < c_i ("expand the output"): Z (k·c_o, lb) = Wstack (k·c_o, c_i) · P[:, start ..] (one
//     1×1 conv per tap, all at once), then out[o, i, j] = Σ_t Z[(t, o), q + t·s] (a shift-and-add
//     over the small side; horizontal: the junk columns j ≥ w of the W'-wide rows are not read).
//   forward        in = x (c_in),  out = y (c_out),  weight(o, c, t) = w[o, c, t]
//   backward data  in = gy (c_out), out = gx (c_in), weight(o, c, t) = w[c, o, k − 1 − t] (the
//                  adjoint: transposed channels, flipped tap)
//   backward filter: gw[o, c, t] = Σ_{i,j} gy[o, i, j] · P_x[c, q + t·s], per band and image,
//     accumulated in order:
//       c_in ≤ c_out: gWcat (c_out, k·c_in) += GY[:, band] (c_out, r·w) · COLSᵀ
//       c_out < c_in: gWstack (k·c_out, c_in) += GYS (k·c_out, lb) · P[:, start ..]ᵀ, where
//                     row (t, o) of GYS is gy[o] placed at columns q + t·s (zeros elsewhere).
// Bands are sized so that the k-fold buffer stays ≤ kBandBudget elements. Vertical
// expand-the-output bands shorter than k rows (very wide images) would mostly compute halo
// rows: those cases run the k taps as k GEMMs over the whole image instead (no buffer).
// Why not k separate GEMMs (one per tap, the plain "sum of shifted 1×1 convs")? At the GCN
// shapes one side has 1–10 channels, so each per-tap GEMM has M or K ≤ 10, where OpenBLAS runs
// far from peak; batching the taps gave 1.3–5× on the bench cases (2×64×64×96, k = 25, 64 → 10
// and 64 → 1, 3 → 20) on the 2-core dev machine.
// Every sum runs in a fixed order (bands, images in order): results do not depend on the
// number of threads beyond OpenBLAS's own GEMM blocking.
#include "kernels/axial_conv.h"
#include "kernels/cpu/conv_helpers.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sakuga::kernels {

bool axial_conv_applies(const ConvGeometry& g, AxialGeometry* out) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.dil_h != 1 || g.dil_w != 1 || g.groups != 1) return false;
  if (g.n < 1 || g.c_in < 1 || g.c_out < 1 || g.h < 1 || g.w < 1) return false;
  bool vertical;
  int64_t k;
  if (g.kw == 1 && g.kh >= 3 && g.kh % 2 == 1 && g.pad_h == g.kh / 2 && g.pad_w == 0) {
    vertical = true;
    k = g.kh;
  } else if (g.kh == 1 && g.kw >= 3 && g.kw % 2 == 1 && g.pad_w == g.kw / 2 && g.pad_h == 0) {
    vertical = false;
    k = g.kw;
  } else {
    return false;
  }
  // "Same" padding keeps the size; anything else is not this geometry.
  if (g.ho != g.h || g.wo != g.w) return false;
  if (out) {
    out->n = g.n;
    out->c_in = g.c_in;
    out->c_out = g.c_out;
    out->h = g.h;
    out->w = g.w;
    out->k = k;
    out->vertical = vertical;
  }
  return true;
}

namespace {
bool initial_enabled() {
  const char* e = std::getenv("SAKUGA_AXIAL_CONV");
  return !(e && std::strcmp(e, "0") == 0);
}
std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{initial_enabled()};
  return on;
}
}  // namespace

bool axial_conv_enabled() { return enabled_flag().load(); }
void set_axial_conv_enabled(bool on) { enabled_flag().store(on); }

namespace cpu {

// Test hook (declared where used, not in the pinned header): the k-fold band buffer budget in
// elements; ≤ 0 restores the default. Small budgets force many bands.
void axial_conv_set_band_budget(int64_t elements);

namespace {

constexpr int64_t kBandBudget = int64_t(1) << 22;  // 16 MiB in f32
std::atomic<int64_t> g_band_budget{kBandBudget};

using blas::gemm;  // kernels/cpu/conv_helpers.h

// The padded-plane layout and its bands (see the top of the file).
struct Layout {
  const AxialGeometry& g;
  int64_t wp;  // W' = w + k − 1 (horizontal row pitch)
  int64_t L;   // elements of one padded plane
  int64_t s;   // column shift of one tap
  explicit Layout(const AxialGeometry& geo)
      : g(geo), wp(geo.w + geo.k - 1), L(geo.vertical ? (geo.h + geo.k - 1) * geo.w : geo.h * wp),
        s(geo.vertical ? geo.w : 1) {}
  int64_t start(int64_t i0) const { return g.vertical ? i0 * g.w : i0 * wp; }
  int64_t lb(int64_t r) const { return g.vertical ? (r + g.k - 1) * g.w : r * wp; }
  // Vertical expand-the-output bands of fewer than min(h, k) rows would spend most of the GEMM
  // on the k − 1 halo rows (wide images, many channels): those run tap by tap instead.
  bool tap_by_tap(int64_t rows) const { return g.vertical && rows < std::min(g.h, g.k); }
  // Rows per band so that a k-fold buffer of k·c rows fits the budget (≥ 1 row): expand the
  // input (COLS, r·w columns) or expand the output (Z / GYS, lb(r) columns).
  int64_t band_rows_input(int64_t c) const { return clamp_rows(g_band_budget.load() / (k_times(c) * g.w)); }
  int64_t band_rows_output(int64_t c) const {
    const int64_t budget = g_band_budget.load();
    return clamp_rows(g.vertical ? budget / (k_times(c) * g.w) - (g.k - 1) : budget / (k_times(c) * wp));
  }
  int64_t k_times(int64_t c) const { return std::max<int64_t>(1, g.k * c); }
  int64_t clamp_rows(int64_t r) const { return std::max<int64_t>(1, std::min<int64_t>(g.h, r)); }
};

// dst (c, L) = the zero-padded planes of src (c, h, w).
template <class T>
void pad_planes(const AxialGeometry& g, const T* src, int64_t c, T* dst) {
  const int64_t h = g.h, w = g.w, p = g.pad(), hw = h * w;
  if (g.vertical) {
    const int64_t L = (h + 2 * p) * w;
    for (int64_t ch = 0; ch < c; ++ch) {
      T* d = dst + ch * L;
      std::fill(d, d + p * w, T(0));
      std::memcpy(d + p * w, src + ch * hw, size_t(hw) * sizeof(T));
      std::fill(d + p * w + hw, d + L, T(0));
    }
  } else {
    const int64_t wp = w + 2 * p;
    for (int64_t r = 0; r < c * h; ++r) {
      T* d = dst + r * wp;
      std::fill(d, d + p, T(0));
      std::memcpy(d + p, src + r * w, size_t(w) * sizeof(T));
      std::fill(d + p + w, d + wp, T(0));
    }
  }
}

// The weight from input channel c to output channel o at tap t of a pass (see the top).
template <class T>
T weight(const AxialGeometry& g, const T* w, bool flip, int64_t o, int64_t c, int64_t t) {
  return flip ? w[(c * g.c_in + o) * g.k + (g.k - 1 - t)] : w[(o * g.c_in + c) * g.k + t];
}

// COLS (k·c_i, r·w) for the band of r output rows starting at row i0, in the (h, w) layout (no
// junk columns): row (t, c) = P[c, start + t·s ..] (vertical: one run of r·w; horizontal: r runs
// of w, one per W'-wide padded row).
template <class T>
void expand_input(const Layout& lo, const T* planes, int64_t c_i, int64_t i0, int64_t r, T* cols) {
  const AxialGeometry& g = lo.g;
  const int64_t start = lo.start(i0), nb = r * g.w;
  for (int64_t t = 0; t < g.k; ++t)
    for (int64_t c = 0; c < c_i; ++c) {
      T* d = cols + (t * c_i + c) * nb;
      const T* src = planes + c * lo.L + start + t * lo.s;
      if (g.vertical) {
        std::memcpy(d, src, size_t(nb) * sizeof(T));
      } else {
        for (int64_t ri = 0; ri < r; ++ri) std::memcpy(d + ri * g.w, src + ri * lo.wp, size_t(g.w) * sizeof(T));
      }
    }
}

// Forward / backward data: `in` (n, c_i, h, w) → `out` (n, c_o, h, w).
template <class T>
void axial_apply(const AxialGeometry& g, const T* in, const T* w, bool flip, int64_t c_i, int64_t c_o, T* out) {
  const Layout lo(g);
  const int64_t k = g.k, hw = g.h * g.w;
  T* planes = scratch<T, 1>(size_t(c_i * lo.L));
  if (c_i <= c_o) {
    // Expand the input: out (c_o, nb) = Wcat (c_o, k·c_i) · COLS (k·c_i, nb).
    T* wcat = scratch<T, 0>(size_t(k * c_o * c_i));
    for (int64_t o = 0; o < c_o; ++o)
      for (int64_t t = 0; t < k; ++t)
        for (int64_t c = 0; c < c_i; ++c) wcat[(o * k + t) * c_i + c] = weight(g, w, flip, o, c, t);
    const int64_t rows = lo.band_rows_input(c_i);
    T* cols = scratch<T, 2>(size_t(k * c_i * rows * g.w));
    for (int64_t n = 0; n < g.n; ++n) {
      pad_planes(g, in + n * c_i * hw, c_i, planes);
      T* on = out + n * c_o * hw;
      for (int64_t i0 = 0; i0 < g.h; i0 += rows) {
        const int64_t r = std::min(rows, g.h - i0), nb = r * g.w;
        expand_input(lo, planes, c_i, i0, r, cols);
        gemm(false, false, c_o, nb, k * c_i, T(1), wcat, k * c_i, cols, nb, T(0), on + i0 * g.w, hw);
      }
    }
    return;
  }
  // Expand the output: Z (k·c_o, lb) = Wstack (k·c_o, c_i) · P[:, start ..], then shift-and-add.
  T* wstack = scratch<T, 0>(size_t(k * c_o * c_i));
  for (int64_t t = 0; t < k; ++t)
    for (int64_t o = 0; o < c_o; ++o)
      for (int64_t c = 0; c < c_i; ++c) wstack[(t * c_o + o) * c_i + c] = weight(g, w, flip, o, c, t);
  const int64_t rows = lo.band_rows_output(c_o);
  if (lo.tap_by_tap(rows)) {
    // Bands too short for the k − 1 halo rows: k GEMMs over the whole image instead (no buffer),
    // y (c_o, h·w) = Σ_t Wstack[t] (c_o, c_i) · P[:, t·w ..], taps in order.
    for (int64_t n = 0; n < g.n; ++n) {
      pad_planes(g, in + n * c_i * hw, c_i, planes);
      for (int64_t t = 0; t < k; ++t)
        gemm(false, false, c_o, hw, c_i, T(1), wstack + t * c_o * c_i, c_i, planes + t * lo.s, lo.L,
             t == 0 ? T(0) : T(1), out + n * c_o * hw, hw);
    }
    return;
  }
  T* z = scratch<T, 2>(size_t(k * c_o * lo.lb(rows)));
  for (int64_t n = 0; n < g.n; ++n) {
    pad_planes(g, in + n * c_i * hw, c_i, planes);
    T* on = out + n * c_o * hw;
    for (int64_t i0 = 0; i0 < g.h; i0 += rows) {
      const int64_t r = std::min(rows, g.h - i0), lb = lo.lb(r);
      gemm(false, false, k * c_o, lb, c_i, T(1), wstack, c_i, planes + lo.start(i0), lo.L, T(0), z, lb);
      for (int64_t o = 0; o < c_o; ++o) {
        // out[o, q] = Σ_t Z[(t, o), q + t·s], taps in order; horizontal: straight into the
        // cropped rows.
        const int64_t segs = g.vertical ? 1 : r, len = g.vertical ? r * g.w : g.w;
        for (int64_t ri = 0; ri < segs; ++ri) {
          T* dst = on + o * hw + (i0 + ri) * g.w;
          const T* z0 = z + o * lb + ri * lo.wp * (g.vertical ? 0 : 1);
          std::memcpy(dst, z0, size_t(len) * sizeof(T));
          for (int64_t t = 1; t < k; ++t) {
            const T* src = z0 + t * c_o * lb + t * lo.s;
            for (int64_t q = 0; q < len; ++q) dst[q] += src[q];
          }
        }
      }
    }
  }
}

}  // namespace

void axial_conv_set_band_budget(int64_t elements) { g_band_budget = elements > 0 ? elements : kBandBudget; }

template <class T>
void axial_conv_forward(const AxialGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  axial_apply(g, x, w, false, g.c_in, g.c_out, y);
  if (bias) bias_add(y, bias, g.n, g.c_out, g.h * g.w);
}

template <class T>
void axial_conv_backward_data(const AxialGeometry& g, const T* gy, const T* w, T* gx) {
  axial_apply(g, gy, w, true, g.c_out, g.c_in, gx);
}

template <class T>
void axial_conv_backward_filter(const AxialGeometry& g, const T* x, const T* gy, T* gw) {
  const Layout lo(g);
  const int64_t k = g.k, co = g.c_out, ci = g.c_in, hw = g.h * g.w;
  T* planes = scratch<T, 1>(size_t(ci * lo.L));
  T* acc = scratch<T, 0>(size_t(k * co * ci));
  std::fill(acc, acc + k * co * ci, T(0));
  if (ci <= co) {
    // gWcat (co, k·ci) += GYq (co, nb) · COLSᵀ (nb, k·ci)
    const int64_t rows = lo.band_rows_input(ci);
    T* cols = scratch<T, 2>(size_t(k * ci * rows * g.w));
    for (int64_t n = 0; n < g.n; ++n) {
      pad_planes(g, x + n * ci * hw, ci, planes);
      const T* gyn = gy + n * co * hw;
      for (int64_t i0 = 0; i0 < g.h; i0 += rows) {
        const int64_t r = std::min(rows, g.h - i0), nb = r * g.w;
        expand_input(lo, planes, ci, i0, r, cols);
        gemm(false, true, co, k * ci, nb, T(1), gyn + i0 * g.w, hw, cols, nb, T(1), acc, k * ci);
      }
    }
    for (int64_t o = 0; o < co; ++o)
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t t = 0; t < k; ++t) gw[(o * ci + c) * k + t] = acc[(o * k + t) * ci + c];
    return;
  }
  // gWstack (k·co, ci) += GYS (k·co, lb) · P[:, start ..]ᵀ (lb, ci)
  const int64_t rows = lo.band_rows_output(co);
  if (lo.tap_by_tap(rows)) {
    // Bands too short for the halo: gW_t (co, ci) += GY (co, h·w) · P[:, t·w ..]ᵀ per tap.
    for (int64_t n = 0; n < g.n; ++n) {
      pad_planes(g, x + n * ci * hw, ci, planes);
      for (int64_t t = 0; t < k; ++t)
        gemm(false, true, co, ci, hw, T(1), gy + n * co * hw, hw, planes + t * lo.s, lo.L, T(1), acc + t * co * ci,
             ci);
    }
  } else {
  T* gys = scratch<T, 2>(size_t(k * co * lo.lb(rows)));
  for (int64_t n = 0; n < g.n; ++n) {
    pad_planes(g, x + n * ci * hw, ci, planes);
    const T* gyn = gy + n * co * hw;
    for (int64_t i0 = 0; i0 < g.h; i0 += rows) {
      const int64_t r = std::min(rows, g.h - i0), lb = lo.lb(r);
      for (int64_t t = 0; t < k; ++t)
        for (int64_t o = 0; o < co; ++o) {
          T* row = gys + (t * co + o) * lb;
          const T* src = gyn + o * hw + i0 * g.w;
          if (g.vertical) {  // GYS[(t, o), q + t·w] = gy[o, i0·w + q]
            const int64_t a = t * g.w, len = r * g.w;
            std::fill(row, row + a, T(0));
            std::memcpy(row + a, src, size_t(len) * sizeof(T));
            std::fill(row + a + len, row + lb, T(0));
          } else {  // per row: t zeros, the w values, zeros up to W'
            for (int64_t ri = 0; ri < r; ++ri) {
              T* d = row + ri * lo.wp;
              std::fill(d, d + t, T(0));
              std::memcpy(d + t, src + ri * g.w, size_t(g.w) * sizeof(T));
              std::fill(d + t + g.w, d + lo.wp, T(0));
            }
          }
        }
      gemm(false, true, k * co, ci, lb, T(1), gys, lb, planes + lo.start(i0), lo.L, T(1), acc, ci);
    }
  }
  }
  for (int64_t o = 0; o < co; ++o)
    for (int64_t c = 0; c < ci; ++c)
      for (int64_t t = 0; t < k; ++t) gw[(o * ci + c) * k + t] = acc[(t * co + o) * ci + c];
}

#define SAKUGA_INSTANTIATE(T)                                                                        \
  template void axial_conv_forward<T>(const AxialGeometry&, const T*, const T*, const T*, T*);       \
  template void axial_conv_backward_data<T>(const AxialGeometry&, const T*, const T*, T*);           \
  template void axial_conv_backward_filter<T>(const AxialGeometry&, const T*, const T*, T*);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace cpu
}  // namespace sakuga::kernels
