#pragma once
// Random fills and dropout from the Philox stream (kernels/philox.h). A draw of n elements
// from a Generator (seed, offset) uses counters offset .. offset+n−1, element i at counter
// offset+i, and reserves those n counters. Counter c owns stream words 2c and 2c+1:
//   normal  at c = philox::normal(seed, c)        (Box-Muller over words 2c, 2c+1)
//   uniform at c = philox::uniform(seed, 2c)      (word 2c; never overlaps a normal draw)
// so consecutive draws of either kind never reuse a word. The scalar helpers below are used
// by the CPU loops and the CUDA threads alike: same seed, same values on both devices (up to
// libm vs CUDA log/cos in normals, ≤ 2 ulp; uniforms and dropout masks are bit-identical).
#include "kernels/common.h"
#include "kernels/philox.h"

namespace sakuga::kernels {

// a·b + c rounded twice (no FMA contraction on the device), so both devices round alike.
SAKUGA_HD double mul_add_rn(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(__dmul_rn(a, b), c);
#else
  return a * b + c;
#endif
}

// Standard normal at counter c.
SAKUGA_HD float normal_at(uint64_t seed, uint64_t c) { return philox::normal(seed, c); }
// Uniform in (0, 1] at counter c.
SAKUGA_HD float uniform_at(uint64_t seed, uint64_t c) { return philox::uniform(seed, 2 * c); }
// N(mean, std²) and U[lo, hi) values at counter c, in double (cast to the storage type).
SAKUGA_HD double normal_value(uint64_t seed, uint64_t c, double mean, double std) {
  return mul_add_rn(std, double(normal_at(seed, c)), mean);
}
SAKUGA_HD double uniform_value(uint64_t seed, uint64_t c, double lo, double hi) {
  // 1 − u is exact (u is a multiple of 2⁻²⁴ in (0, 1]) and lies in [0, 1).
  return mul_add_rn(hi - lo, double(1.0f - uniform_at(seed, c)), lo);
}
// The same values from one Philox block: block q holds counters 2q (words x, y) and 2q+1
// (words z, w). The CUDA kernels draw one block per pair of counters; these mirror the float
// math of philox::uniform / philox::normal exactly (tests/test_random.cpp checks bit equality).
SAKUGA_HD float uniform_from_word(uint32_t w) { return (float(w >> 8) + 1.0f) * (1.0f / 16777216.0f); }
SAKUGA_HD float normal_from_words(uint32_t a, uint32_t b) {
  float u1 = uniform_from_word(a), u2 = uniform_from_word(b);
  float r = sqrtf(-2.0f * logf(u1));
  return r * cosf(6.28318530717958647692f * u2);
}
// Dropout keeps element i (counter c) when its uniform exceeds p: P(keep) = 1 − p (to 2⁻²⁴).
// p == 1 keeps nothing.
SAKUGA_HD bool dropout_keep(uint64_t seed, uint64_t c, float p) { return uniform_at(seed, c) > p; }
// The scale applied to kept elements: 1 / (1 − p), 0 when p == 1.
inline double dropout_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

namespace cpu {
template <class T>  // float, double
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std);
template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi);
// keep[i] = 1 when element i survives dropout with probability p, else 0.
void dropout_mask(uint8_t* keep, int64_t n, double p, uint64_t seed, uint64_t offset);
// y[i] = keep(i) ? x[i] / (1 − p) : 0. Also the backward (apply to dy with the same seed/offset).
template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace cpu

namespace cuda {
// dtype: f32, f64 or bf16 (values computed as on the CPU, then stored).
void fill_normal(DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
                 Stream s);
void fill_uniform(DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi,
                  Stream s);
void dropout_mask(uint8_t* keep, int64_t n, double p, uint64_t seed, uint64_t offset, Stream s);
// dtype: f32 or bf16.
void dropout_forward(DType dtype, const void* x, void* y, int64_t n, double p, uint64_t seed, uint64_t offset,
                     Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
