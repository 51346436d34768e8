#pragma once
// Activation modules over the elementwise ops (no parameters except PReLU's `weight`).
#include "layers/module.h"

namespace sakuga::nn {

class Identity : public Module {
 public:
  std::string type_name() const override { return "Identity"; }
  Tensor forward(const Tensor& x) override { return x; }
};

class ReLU : public Module {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  std::string type_name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  double negative_slope;
};

// One learnable slope per channel (num_parameters = C) or one shared (1), initialised to `init`.
class PReLU : public Module {
 public:
  explicit PReLU(int64_t num_parameters = 1, double init = 0.25);
  std::string type_name() const override { return "PReLU"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  int64_t num_parameters;
  Tensor weight;  // (num_parameters)
};

class Sigmoid : public Module {
 public:
  std::string type_name() const override { return "Sigmoid"; }
  Tensor forward(const Tensor& x) override;
};

class Tanh : public Module {
 public:
  std::string type_name() const override { return "Tanh"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace sakuga::nn
