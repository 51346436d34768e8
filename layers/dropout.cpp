#include "layers/dropout.h"

#include <sstream>

#include "tensor/ops/norm.h"

namespace sakuga::nn {

Dropout::Dropout(double p_) : p(p_) {
  SAKUGA_CHECK(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got ", p);
}

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p;
  return os.str();
}

Tensor Dropout::forward(const Tensor& x) {
  return ops::dropout(x, p, training_, gen_ ? *gen_ : default_generator());
}

}  // namespace sakuga::nn
