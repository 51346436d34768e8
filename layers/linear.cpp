#include "layers/linear.h"

#include <cmath>

#include "layers/init.h"
#include "tensor/ops/matmul.h"

namespace sakuga::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  SAKUGA_CHECK(in > 0 && out > 0, "Linear: features must be positive, got in=", in, ", out=", out);
  weight = register_parameter("weight", Tensor::empty({out, in}));
  if (with_bias) bias = register_parameter("bias", Tensor::empty({out}));
  reset_parameters();
}

void Linear::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    double bound = 1.0 / std::sqrt(double(init::fan_in_and_out(weight).first));
    init::uniform_(bias, -bound, bound);
  }
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias.defined() ? "true" : "false");
}

Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight, bias); }

}  // namespace sakuga::nn
