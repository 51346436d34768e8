#pragma once
// Random tensors from the counter-based Philox stream: a Generator is (seed, offset), and each
// draw reserves a range of counters, so the same seed gives the same numbers on CPU and GPU.
#include "tensor/tensor.h"

namespace sakuga {

struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  explicit Generator(uint64_t s = 0) : seed(s) {}
  // Reserve n counters; returns the first.
  uint64_t reserve(uint64_t n) {
    uint64_t o = offset;
    offset += n;
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
