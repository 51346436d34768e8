#pragma once
// An optimiser and its learning-rate schedule from one JSON section, e.g.
//   "optim": {"G": {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "eps": 1e-8,
//                   "schedule": "linear", "lr_end": 0, "warmup": 100}}
// Every key is optional (defaults below); kinds: adam, adamw, sgd, rmsprop; schedules:
// constant, linear, cosine, poly, step (optim/schedule.h).
#include <memory>
#include <string>
#include <vector>

#include "nets/harness/config.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace sakuga::harness {

struct OptimSpec {
  std::string kind = "adam";
  double lr = 1e-3;
  std::vector<double> betas{0.9, 0.999};  // adam / adamw
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;      // sgd, rmsprop
  double dampening = 0;     // sgd
  bool nesterov = false;    // sgd
  double alpha = 0.99;      // rmsprop smoothing
  bool centered = false;    // rmsprop
  bool amsgrad = false;     // adam / adamw
  std::string schedule = "constant";
  double lr_end = 0;        // linear / cosine / poly: the final lr
  int64_t warmup = 0;       // linear warm-up steps
  int64_t hold = 0;         // steps at lr after the warm-up before the decay (CUT: n_epochs constant)
  int64_t decay_steps = 0;  // linear / cosine / poly: decay length; 0 = the active steps after warm-up and hold
  double power = 1;         // poly
  int64_t step_size = 1;    // step: decay period
  double gamma = 0.1;       // step: decay factor
  double clip_grad_norm = 0;  // 0 = off
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OptimSpec, kind, lr, betas, eps, weight_decay, momentum, dampening,
                                                nesterov, alpha, centered, amsgrad, schedule, lr_end, warmup, hold,
                                                decay_steps, power, step_size, gamma, clip_grad_norm)

// Checks every field; errors name `where` (the config key of the section, e.g. "optim.G").
void validate(const OptimSpec& spec, const std::string& where);

// The optimiser over `groups` (a group's lr < 0 takes spec.lr).
std::unique_ptr<optim::Optimizer> make_optimizer(const OptimSpec& spec, std::vector<optim::ParamGroup> groups,
                                                 const std::string& where);
// The schedule for an optimiser that is active for `active_steps` steps.
optim::Schedule make_schedule(const OptimSpec& spec, int64_t active_steps, const std::string& where);

}  // namespace sakuga::harness
