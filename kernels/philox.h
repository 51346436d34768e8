#pragma once
// Philox-4x32-10 (Salmon et al., SC'11): a counter-based RNG. The i-th random number of a
// stream depends only on (seed, offset + i), so CPU loops and CUDA threads produce the same
// values for the same seed, in any order. Used for init, dropout and augmentation.
#include <cmath>

#include "kernels/common.h"

namespace sakuga::philox {

struct U4 {
  uint32_t x, y, z, w;
};

SAKUGA_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(p >> 32);
  return uint32_t(p);
}

// Four 32-bit words for counter `ctr` (128-bit: lo, hi) under key `seed`.
SAKUGA_HD U4 block(uint64_t seed, uint64_t ctr_lo, uint64_t ctr_hi = 0) {
  uint32_t c0 = uint32_t(ctr_lo), c1 = uint32_t(ctr_lo >> 32), c2 = uint32_t(ctr_hi),
           c3 = uint32_t(ctr_hi >> 32);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// The i-th 32-bit word of the stream: block(i / 4), word i % 4.
SAKUGA_HD uint32_t word(uint64_t seed, uint64_t i) {
  U4 b = block(seed, i >> 2);
  switch (i & 3) {
    case 0: return b.x;
    case 1: return b.y;
    case 2: return b.z;
    default: return b.w;
  }
}

// Uniform in (0, 1]: 24 random bits, never 0 (safe for log).
SAKUGA_HD float uniform(uint64_t seed, uint64_t i) {
  return (float(word(seed, i) >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

// Standard normal by Box-Muller over words 2i and 2i+1. Uses float math only, so the CPU
// and the GPU agree to the last bit except for libm/CUDA differences in log/cos (≤ 2 ulp).
SAKUGA_HD float normal(uint64_t seed, uint64_t i) {
  float u1 = uniform(seed, 2 * i), u2 = uniform(seed, 2 * i + 1);
  float r = sqrtf(-2.0f * logf(u1));
  return r * cosf(6.28318530717958647692f * u2);
}

}  // namespace sakuga::philox
