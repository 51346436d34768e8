#include "layers/activation.h"

#include <sstream>

#include "tensor/ops/elementwise.h"

namespace sakuga::nn {

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }

std::string LeakyReLU::extra_repr() const {
  std::ostringstream os;
  os << "negative_slope=" << negative_slope;
  return os.str();
}
Tensor LeakyReLU::forward(const Tensor& x) { return ops::leaky_relu(x, negative_slope); }

PReLU::PReLU(int64_t n, double init) : num_parameters(n) {
  SAKUGA_CHECK(n > 0, "PReLU: num_parameters must be positive, got ", n);
  weight = register_parameter("weight", Tensor::full({n}, init));
}
std::string PReLU::extra_repr() const { return "num_parameters=" + std::to_string(num_parameters); }
Tensor PReLU::forward(const Tensor& x) { return ops::prelu(x, weight); }

Tensor Sigmoid::forward(const Tensor& x) { return ops::sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return ops::tanh(x); }

}  // namespace sakuga::nn
