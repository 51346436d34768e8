#pragma once
// Random tensors from the counter-based Philox stream: a Generator is (seed, offset), and each
// draw reserves a range of counters, so the same seed gives the same numbers on CPU and GPU.
#include "tensor/tensor.h"

namespace sakuga {

struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  // Data-parallel (set by the harness during a step): this rank is shard `shard` of `shards`,
  // each drawing its slice of the batch. A draw of n values takes counters [offset + shard·n,
  // +n) and the stream moves on by shards·n, so the ranks together draw exactly what one
  // process drawing the whole batch (batch-major: dropout masks, sampled codes) would.
  uint64_t shard = 0, shards = 1;
  explicit Generator(uint64_t s = 0) : seed(s) {}
  // Reserve n counters; returns the first.
  uint64_t reserve(uint64_t n) {
    uint64_t o = offset + shard * n;
    offset += n * shards;
    return o;
  }
};

Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor randn(const Shape& shape, Generator& gen = default_generator(), DType dtype = DType::f32,
             Device device = Device::cpu(), double mean = 0.0, double std = 1.0);
Tensor rand_uniform(const Shape& shape, double lo, double hi, Generator& gen = default_generator(),
                    DType dtype = DType::f32, Device device = Device::cpu());
// Fill an existing tensor in place (not recorded): for parameter initialisation.
void normal_(const Tensor& t, double mean, double std, Generator& gen = default_generator());
void uniform_(const Tensor& t, double lo, double hi, Generator& gen = default_generator());

}  // namespace sakuga
