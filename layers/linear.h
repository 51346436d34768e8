#pragma once
// Linear: y = x·Wᵀ + b, weight (out, in), bias (out). PyTorch's default init:
// kaiming_uniform(a = √5) weight (= U(±1/√in)), bias U(±1/√in).
#include "layers/module.h"

namespace sakuga::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  // Re-draws the default initialisation (from the default generator).
  void reset_parameters();

  int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined when bias = false
};

}  // namespace sakuga::nn
