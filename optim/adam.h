#pragma once
// torch.optim.Adam and AdamW (bias-corrected, eps outside the square root):
//   Adam:  g += wd·p;  AdamW: p *= 1 − lr·wd (decoupled);
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;  (amsgrad: vmax = max(vmax, v), use vmax)
//   p −= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)
// with t the parameter's own update count. State: exp_avg, exp_avg_sq (+ max_exp_avg_sq).
#include "optim/optimizer.h"

namespace sakuga::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // AdamW's default is 1e-2 (see AdamW)
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, const AdamOptions& opt) : Adam(std::move(groups), opt, false) {}
  Adam(const NamedParams& params, const AdamOptions& opt) : Adam(std::vector<ParamGroup>{{params}}, opt) {}
  const char* name() const override { return decoupled_ ? "AdamW" : "Adam"; }
  const AdamOptions& options() const { return opt_; }

 protected:
  Adam(std::vector<ParamGroup> groups, const AdamOptions& opt, bool decoupled);
  void update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) override;

 private:
  AdamOptions opt_;
  bool decoupled_;
};

// AdamOptions with torch.optim.AdamW's default weight decay.
inline AdamOptions adamw_options(double lr = 1e-3, double weight_decay = 1e-2) {
  AdamOptions o;
  o.lr = lr;
  o.weight_decay = weight_decay;
  return o;
}

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamOptions& opt = adamw_options())
      : Adam(std::move(groups), opt, true) {}
  AdamW(const NamedParams& params, const AdamOptions& opt = adamw_options())
      : AdamW(std::vector<ParamGroup>{{params}}, opt) {}
};

}  // namespace sakuga::optim
