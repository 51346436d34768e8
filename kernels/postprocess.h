#pragma once
// Douga post-processing family (gcn.md "Post-processing", thesis §5.7) on single (H, W) planes:
// Zhang–Suen thinning, 3×3 dilation, 4-connected component labelling and the full douga chain.
// The per-pixel rules below are shared by the CPU reference and the CUDA kernels, so both
// devices make the same decisions and produce bit-identical outputs.
//
// Conventions
// - Binary planes are u8; any nonzero value counts as set; outputs are exactly {0, 1}.
// - Pixels outside the image count as 0 (thinning) / are absent (dilation, components).
// - Component labels are canonical: every pixel of a component gets the smallest linear index
//   (h·W + w) in that component; pixels outside the mask get −1. Both devices agree exactly.
// - Per-component mean probabilities are compared through exact integer sums of fixed-point
//   probabilities (p·2^32 rounded to nearest even, p clamped to [0, 1], NaN → 0): integer
//   addition is associative, so any summation order (sequential on the CPU, atomics on the
//   GPU) gives the same sums; within one component all classes share the pixel count, so the
//   largest sum is the largest mean. Ties → lower class id.
#include <cmath>

#include "kernels/common.h"

namespace sakuga::kernels {

constexpr int kPostprocessClasses = 10;                                // douga classes
// The k-th fill class, k in [0, 5): 0, 6, 7, 8, 9 (ascending, so ties → lower id).
SAKUGA_HD int postprocess_fill_class(int k) { return k == 0 ? 0 : k + 5; }
SAKUGA_HD bool postprocess_is_line(int c) { return c >= 1 && c <= 5; }

// Zhang–Suen (1984) decision for one set pixel P1 with neighbours p[0..7] = P2..P9 (clockwise
// from north: N, NE, E, SE, S, SW, W, NW), each 0 or 1, in sub-iteration `sub` (0 or 1).
// B = number of set neighbours, A = number of 0→1 transitions in P2, P3, …, P9, P2.
SAKUGA_HD bool postprocess_zs_delete(const int p[8], int sub) {
  int B = 0, A = 0;
  for (int k = 0; k < 8; ++k) {
    B += p[k];
    A += (p[k] == 0 && p[(k + 1) & 7] == 1) ? 1 : 0;
  }
  const int P2 = p[0], P4 = p[2], P6 = p[4], P8 = p[6];
  const bool m = sub == 0 ? (P2 * P4 * P6 == 0 && P4 * P6 * P8 == 0)
                          : (P2 * P4 * P8 == 0 && P2 * P6 * P8 == 0);
  return B >= 2 && B <= 6 && A == 1 && m;
}

// Neighbours P2..P9 of (h, w) in a binary plane, outside = 0.
SAKUGA_HD void postprocess_neighbours(const uint8_t* img, int64_t H, int64_t W, int64_t h, int64_t w, int p[8]) {
  const int dh[8] = {-1, -1, 0, 1, 1, 1, 0, -1};
  const int dw[8] = {0, 1, 1, 1, 0, -1, -1, -1};
  for (int k = 0; k < 8; ++k) {
    const int64_t y = h + dh[k], x = w + dw[k];
    p[k] = (y >= 0 && y < H && x >= 0 && x < W && img[y * W + x] != 0) ? 1 : 0;
  }
}

// Fixed-point probability for the exact per-component sums (see the header comment).
SAKUGA_HD unsigned long long postprocess_fixed(float p) {
  if (!(p > 0.0f)) return 0ull;  // also NaN
  if (p > 1.0f) p = 1.0f;
  // p·2^32 is exact in f32 (power-of-two scale); rint rounds to nearest even on both devices.
#if defined(__CUDA_ARCH__)
  return __float2ull_rn(p * 4294967296.0f);
#else
  return static_cast<unsigned long long>(std::nearbyint(p * 4294967296.0f));
#endif
}

// argmax over classes [c0, c1] of probs at pixel i (plane stride n), strict > so ties → lower id
// and NaN never wins.
SAKUGA_HD int postprocess_argmax(const float* probs, int64_t n, int64_t i, int c0, int c1) {
  int best = c0;
  float bv = probs[int64_t(c0) * n + i];
  for (int c = c0 + 1; c <= c1; ++c) {
    const float v = probs[int64_t(c) * n + i];
    if (v > bv || (bv != bv && v == v)) {
      bv = v;
      best = c;
    }
  }
  return best;
}

namespace cpu {

// in, out: (H, W) binary planes (out may not alias in). Returns the number of full iterations
// (both sub-iterations) run, the last of which deleted nothing.
int64_t postprocess_zhang_suen(const uint8_t* in, uint8_t* out, int64_t H, int64_t W);
// out = 3×3 dilation of in (out may not alias in).
void postprocess_dilate3x3(const uint8_t* in, uint8_t* out, int64_t H, int64_t W);
// labels[i] = canonical component label of the set pixels of mask (4-connectivity), −1 elsewhere.
// Returns the number of components.
int64_t postprocess_label_components4(const uint8_t* mask, int32_t* labels, int64_t H, int64_t W);
// probs: (10, H, W) class probabilities → out: (H, W) class map (gcn.md steps 1–4).
void postprocess_douga(const float* probs, int32_t* out, int64_t H, int64_t W);

}  // namespace cpu

namespace cuda {

// Same contracts as the CPU versions; device pointers, work queued on stream s. Thinning
// synchronises the stream once per batch of iterations (4, 8, 16, … 64) to read their "changed"
// flags; the others do not, except postprocess_douga, which runs thinning.
int64_t postprocess_zhang_suen(const uint8_t* in, uint8_t* out, int64_t H, int64_t W, Stream s);
void postprocess_dilate3x3(const uint8_t* in, uint8_t* out, int64_t H, int64_t W, Stream s);
void postprocess_label_components4(const uint8_t* mask, int32_t* labels, int64_t H, int64_t W, Stream s);
void postprocess_douga(const float* probs, int32_t* out, int64_t H, int64_t W, Stream s);

}  // namespace cuda

}  // namespace sakuga::kernels
