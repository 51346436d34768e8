#include "layers/sequential.h"

namespace sakuga::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& m : items_) y = m->forward(y);
  return y;
}

std::shared_ptr<Module> Sequential::at(size_t i) const {
  SAKUGA_CHECK(i < items_.size(), "Sequential: index ", i, " out of range (", items_.size(), " modules)");
  return items_[i];
}

Module& Sequential::operator[](size_t i) const { return *at(i); }

}  // namespace sakuga::nn
