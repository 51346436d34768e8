#pragma once
// Normalisation family: batch norm and instance norm share one geometry. x is viewed as
// (N, G, S) — statistics per group g over its N·S elements:
//   batch norm     x (B, C[, H, W]):  N = B, G = C,     S = H·W (1 for (B, C))
//   instance norm  x (B, C, H, W):    N = 1, G = B·C,   S = H·W
// Affine parameters (weight, bias) have C entries; group g uses entry g % C.
//
// Forward (fused: statistics + normalise), with x̂ = (x − mean)·invstd:
//   y = x̂·w + b                           (w = 1, b = 0 when null)
// Backward (the closed form), with M = N·S and sums over a group:
//   batch statistics:  dx = w·invstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)
//   given statistics:  dx = w·invstd·dy
//   dw[c] = Σ dy·x̂,  db[c] = Σ dy   over every element of the groups with g % C == c.
// Reductions run in a fixed order (CPU: in double; CUDA: each group cut into a shape-fixed
// number of chunks, a fixed-order f32 tree per chunk, the chunks added in order in double, no
// atomics — kernels/cuda/group_reduce.cuh), so results are deterministic.
#include "kernels/common.h"

namespace sakuga::kernels {

struct NormGeom {
  int64_t N = 1, G = 1, S = 1;  // x is (N, G, S)
  int64_t C = 1;                // affine entries; group g uses g % C
  SAKUGA_HD int64_t count() const { return N * S; }  // elements per group
  SAKUGA_HD int64_t numel() const { return N * G * S; }
};

namespace cpu {
// Batch statistics. Writes y, mean (G), invstd (G). When running_mean/running_var are not null
// (they have G entries): r ← (1 − momentum)·r + momentum·batch, with the unbiased variance
// (M / (M − 1) times the biased one used for normalising).
template <class T>  // float, double
void norm_forward_train(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, T* running_mean,
                        T* running_var, const NormGeom& g, double eps, double momentum);
// Given statistics (eval): invstd = 1/sqrt(var + eps). Writes y and mean/invstd (G) for the backward.
template <class T>
void norm_forward_eval(const T* x, const T* w, const T* b, const T* stat_mean, const T* stat_var, T* y, T* mean,
                       T* invstd, const NormGeom& g, double eps);
// dx (may be null), dw, db (C entries, may be null). batch_stats selects the formula for dx.
template <class T>
void norm_backward(const T* dy, const T* x, const T* mean, const T* invstd, const T* w, T* dx, T* dw, T* db,
                   const NormGeom& g, bool batch_stats);
}  // namespace cpu

namespace cuda {
// x, y, dy, dx in `dtype` (f32 or bf16, math in f32); w, b, statistics, running statistics,
// dw, db are f32. Same semantics as the CPU functions.
void norm_forward_train(DType dtype, const void* x, const float* w, const float* b, void* y, float* mean,
                        float* invstd, float* running_mean, float* running_var, const NormGeom& g, double eps,
                        double momentum, Stream s);
void norm_forward_eval(DType dtype, const void* x, const float* w, const float* b, const float* stat_mean,
                       const float* stat_var, void* y, float* mean, float* invstd, const NormGeom& g, double eps,
                       Stream s);
void norm_backward(DType dtype, const void* dy, const void* x, const float* mean, const float* invstd,
                   const float* w, void* dx, float* dw, float* db, const NormGeom& g, bool batch_stats, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
