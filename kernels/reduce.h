#pragma once
// Reduction and softmax family. Every kernel sees its input as a contiguous (outer, n, inner)
// block and works along the middle dim: out[o, i] = reduce_r x[o, r, i]. tensor/ops/reduce.cpp
// turns "dims of a tensor" into one or more such passes.
//
// Determinism: each output is produced by one thread (CPU: in increasing r; CUDA: one thread,
// warp or block per output with a fixed split of r over lanes and a fixed combine tree). No
// atomics, so equal inputs give bit-identical outputs on the same device and build.
//
// Max/min/argmax pick the FIRST extremal element along the dim (lowest index); NaN counts as
// larger than everything (max) / smaller than everything (min), i.e. NaN propagates, as in
// PyTorch. Indices are int32.
#include "kernels/common.h"

namespace sakuga::kernels {

enum class SoftmaxKind : int { softmax, log_softmax };

namespace cpu {
// y[o, i] = scale · Σ_r x[o, r, i]  (accumulated in T, r increasing).
template <class T>
void sum_dim(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, double scale);
// Extremum along the dim: values (may be nullptr, for argmax) and first index of it.
template <class T>
void extremum_dim(const T* x, T* values, int32_t* index, int64_t outer, int64_t n, int64_t inner, bool is_min);
// gx[o, r, i] = (r == index[o, i]) ? gy[o, i] : 0   (backward of max/min).
template <class T>
void index_backward(const T* gy, const int32_t* index, T* gx, int64_t outer, int64_t n, int64_t inner);
// softmax: y = exp(x − m) / Σ exp(x − m); log_softmax: y = x − m − log Σ exp(x − m).
template <class T>
void softmax_forward(SoftmaxKind kind, const T* x, T* y, int64_t outer, int64_t n, int64_t inner);
// softmax: gx = y · (gy − Σ gy·y); log_softmax: gx = gy − exp(y) · Σ gy.
template <class T>
void softmax_backward(SoftmaxKind kind, const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner);
// y[o, i] = log Σ_r exp x[o, r, i]  (max-shifted; −inf when every x is −inf).
template <class T>
void logsumexp_forward(const T* x, T* y, int64_t outer, int64_t n, int64_t inner);
// gx[o, r, i] = gy[o, i] · exp(x[o, r, i] − y[o, i]).
template <class T>
void logsumexp_backward(const T* x, const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner);
}  // namespace cpu

namespace cuda {
// Same contracts; dtype f32 or bf16 (math and accumulation in f32). `index` is int32.
void sum_dim(DType dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, double scale, Stream s);
void extremum_dim(DType dtype, const void* x, void* values, int32_t* index, int64_t outer, int64_t n,
                  int64_t inner, bool is_min, Stream s);
void index_backward(DType dtype, const void* gy, const int32_t* index, void* gx, int64_t outer, int64_t n,
                    int64_t inner, Stream s);
void softmax_forward(SoftmaxKind kind, DType dtype, const void* x, void* y, int64_t outer, int64_t n,
                     int64_t inner, Stream s);
void softmax_backward(SoftmaxKind kind, DType dtype, const void* y, const void* gy, void* gx, int64_t outer,
                      int64_t n, int64_t inner, Stream s);
void logsumexp_forward(DType dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, Stream s);
void logsumexp_backward(DType dtype, const void* x, const void* y, const void* gy, void* gx, int64_t outer,
                        int64_t n, int64_t inner, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
