#pragma once
// Shape family: ops that move data — pad, flip, gather, index_select, one_hot (concat/stack
// are strided copies into slices of the output, kernels/copy.h). Forward kernels move
// elements of any dtype (by element size); backward kernels accumulate gradients (CPU f32/f64,
// CUDA f32/bf16 with f32 accumulation). All backward kernels are deterministic: the CUDA ones
// give each input-gradient element to one thread that sums its sources in a fixed order (no
// atomics). The index math below is shared by the CPU reference and the CUDA kernels.
#include "kernels/common.h"
#include "kernels/copy.h"

namespace sakuga::kernels {

// ---- pad -------------------------------------------------------------------------------------
enum class PadKind : int { constant, reflect, replicate };

// out_shape[d] = before[d] + in_shape[d] + after[d]. Reflect/replicate pad at most the last two
// dims (tensor/ops checks it); constant may pad (or, with negative pads, crop) any dim.
struct PadGeom {
  int ndim = 0;
  PadKind mode = PadKind::constant;
  int64_t in_shape[kMaxDims] = {};
  int64_t out_shape[kMaxDims] = {};
  int64_t before[kMaxDims] = {};
};

// The x index (size n) that output position o reads along a dim padded by `before`; -1 when
// it reads the constant. Reflect needs before, after < n (one reflection suffices).
SAKUGA_HD int64_t pad_source(PadKind m, int64_t o, int64_t before, int64_t n) {
  int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  if (m == PadKind::constant) return -1;
  if (m == PadKind::replicate) return i < 0 ? 0 : n - 1;
  return i < 0 ? -i : 2 * (n - 1) - i;  // reflect (edge not repeated)
}

// The output positions that read x index i along a dim (inverse of pad_source): at most three
// inclusive ranges [lo[r], hi[r]], in a fixed order. Returns the number of ranges.
SAKUGA_HD int pad_targets(PadKind m, int64_t i, int64_t before, int64_t n, int64_t out_n, int64_t* lo,
                          int64_t* hi) {
  const int64_t o = i + before;
  if (m == PadKind::replicate) {  // the border element also feeds every padded position past it
    lo[0] = i == 0 ? 0 : o;
    hi[0] = i == n - 1 ? out_n - 1 : o;
    return 1;
  }
  int k = 0;
  if (o >= 0 && o < out_n) {
    lo[k] = hi[k] = o;
    ++k;
  }
  if (m == PadKind::reflect) {
    if (i >= 1 && before - i >= 0) {  // left border: pad_source(before - i) = i
      lo[k] = hi[k] = before - i;
      ++k;
    }
    const int64_t r = before + 2 * (n - 1) - i;  // right border: pad_source(r) = i
    if (i <= n - 2 && r < out_n) {
      lo[k] = hi[k] = r;
      ++k;
    }
  }
  return k;
}

// ---- flip ------------------------------------------------------------------------------------
struct FlipGeom {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  bool flip[kMaxDims] = {};
};

// ---- gather (torch.gather) -------------------------------------------------------------------
// out (= index shape) [c] = x[c with c[dim] = index[c]]; index.size(d) ≤ x.size(d) for d ≠ dim.
struct GatherGeom {
  int ndim = 0;
  int dim = 0;
  int64_t x_shape[kMaxDims] = {};
  int64_t index_shape[kMaxDims] = {};
};

// ---- index_select ----------------------------------------------------------------------------
// x viewed as (outer, n, inner), out as (outer, len, inner): out[o][m][i] = x[o][index[m]][i].
struct IndexSelectGeom {
  int64_t outer = 1, n = 0, inner = 1, len = 0;
};

namespace cpu {
// Forward kernels: any dtype; x and out contiguous. Indices must already be in range (checked
// by tensor/ops).
// `value` points to one element of `dtype`: the constant of PadKind::constant.
void pad_forward(DType dtype, const void* x, void* out, const PadGeom& g, const void* value);
template <class T>
void pad_backward(const T* gy, T* gx, const PadGeom& g);
// Also the backward of flip (flip is its own inverse).
void flip(DType dtype, const void* x, void* out, const FlipGeom& g);
void gather_forward(DType dtype, const void* x, const int32_t* index, void* out, const GatherGeom& g);
// gx (x shape) = scatter-add of gy (index shape), in order of the gy elements.
template <class T>
void gather_backward(const T* gy, const int32_t* index, T* gx, const GatherGeom& g);
void index_select_forward(DType dtype, const void* x, const int32_t* index, void* out, const IndexSelectGeom& g);
template <class T>
void index_select_backward(const T* gy, const int32_t* index, T* gx, const IndexSelectGeom& g);
// out (n × classes, dtype) = one-hot rows of labels (in range, checked by tensor/ops).
void one_hot(DType dtype, const int32_t* labels, void* out, int64_t n, int64_t classes);
}  // namespace cpu

namespace cuda {
// Forward kernels: any dtype. Out-of-range indices read as 0 and receive no gradient; gather
// and index_select also set *bad (a device i32, may be null) to 1 — a deferred error
// (device::raise_deferred_errors), so the op needs no host synchronisation.
void pad_forward(DType dtype, const void* x, void* out, const PadGeom& g, const void* value, Stream s);
// dtype f32 or bf16. One thread per gx element sums the gy elements that read it.
void pad_backward(DType dtype, const void* gy, void* gx, const PadGeom& g, Stream s);
void flip(DType dtype, const void* x, void* out, const FlipGeom& g, Stream s);
void gather_forward(DType dtype, const void* x, const int32_t* index, void* out, const GatherGeom& g, int32_t* bad,
                    Stream s);
// One thread per gx element loops over index along `dim` (cost numel(x) · index.size(dim)),
// summing matching gy elements in ascending order — the same order as the CPU scatter.
void gather_backward(DType dtype, const void* gy, const int32_t* index, void* gx, const GatherGeom& g, Stream s);
void index_select_forward(DType dtype, const void* x, const int32_t* index, void* out, const IndexSelectGeom& g,
                          int32_t* bad, Stream s);
// Stable radix sort of (index[m], m), then one thread per gx element sums its run of gy rows
// in ascending m (cost O(numel(x) + numel(gy) + len·log)).
void index_select_backward(DType dtype, const void* gy, const int32_t* index, void* gx, const IndexSelectGeom& g,
                           Stream s);
// dtype: f32, f64, bf16, i32 or u8. Sets *bad (device i32, may be null) to 1 when a label is
// outside [0, classes) — a deferred error; that row is all zeros.
void one_hot(DType dtype, const int32_t* labels, void* out, int64_t n, int64_t classes, int32_t* bad, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
