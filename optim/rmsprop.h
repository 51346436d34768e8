#pragma once
// torch.optim.RMSprop: g += wd·p; sq = α·sq + (1 − α)·g²; centered: ga = α·ga + (1 − α)·g,
// avg = sqrt(sq − ga²) + eps, else avg = sqrt(sq) + eps; with momentum μ > 0:
// buf = μ·buf + g/avg, p −= lr·buf; else p −= lr·g/avg.
// State: square_avg (+ momentum_buffer when μ > 0, + grad_avg when centered).
#include "optim/optimizer.h"

namespace sakuga::optim {

struct RmspropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<ParamGroup> groups, const RmspropOptions& opt);
  RMSprop(const NamedParams& params, const RmspropOptions& opt)
      : RMSprop(std::vector<ParamGroup>{{params}}, opt) {}
  const char* name() const override { return "RMSprop"; }
  const RmspropOptions& options() const { return opt_; }

 protected:
  void update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) override;

 private:
  RmspropOptions opt_;
};

}  // namespace sakuga::optim
