#pragma once
// Sequential: children run in order; named "0", "1", ... like torch.nn.Sequential (or by an
// explicit name, like an OrderedDict).
#include <initializer_list>

#include "layers/module.h"

namespace sakuga::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  std::string type_name() const override { return "Sequential"; }
  Tensor forward(const Tensor& x) override;

  // Appends under the name str(size()) ("0", "1", ...), or under `name`. Returns the module.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return push_back(std::to_string(items_.size()), std::move(m));
  }
  template <class M>
  std::shared_ptr<M> push_back(const std::string& name, std::shared_ptr<M> m) {
    register_module(name, m);
    items_.push_back(m);
    return m;
  }
  size_t size() const { return items_.size(); }
  Module& operator[](size_t i) const;
  std::shared_ptr<Module> at(size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

}  // namespace sakuga::nn
