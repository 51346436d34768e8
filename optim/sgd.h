#pragma once
// torch.optim.SGD: d = g + wd·p; with momentum μ: buf = d on a parameter's first update, else
// buf = μ·buf + (1 − dampening)·d; d = nesterov ? d + μ·buf : buf; p −= lr·d.
// State: momentum_buffer (only when momentum ≠ 0).
#include "optim/optimizer.h"

namespace sakuga::optim {

struct SgdOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening = 0 (as in torch)
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, const SgdOptions& opt);
  SGD(const NamedParams& params, const SgdOptions& opt) : SGD(std::vector<ParamGroup>{{params}}, opt) {}
  const char* name() const override { return "SGD"; }
  const SgdOptions& options() const { return opt_; }

 protected:
  void update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) override;

 private:
  SgdOptions opt_;
};

}  // namespace sakuga::optim
