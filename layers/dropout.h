#pragma once
// Dropout: inverted dropout in training mode (zero with probability p, scale the rest by
// 1/(1 − p)), identity in eval mode. The mask comes from a Philox generator (the default one
// unless set_generator is called), so runs are reproducible from the seed.
#include "layers/module.h"
#include "tensor/random.h"

namespace sakuga::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  // The generator must outlive the module.
  void set_generator(Generator* gen) { gen_ = gen; }

  double p;

 private:
  Generator* gen_ = nullptr;
};

}  // namespace sakuga::nn
