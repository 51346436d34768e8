#include "nets/harness/optim_spec.h"

#include <algorithm>

#include "kernels/common.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace sakuga::harness {

void validate(const OptimSpec& s, const std::string& where) {
  SAKUGA_CHECK(s.kind == "adam" || s.kind == "adamw" || s.kind == "sgd" || s.kind == "rmsprop", "config ", where,
               ".kind: expected adam, adamw, sgd or rmsprop, got '", s.kind, "'");
  SAKUGA_CHECK(s.lr >= 0, "config ", where, ".lr: expected >= 0, got ", s.lr);
  SAKUGA_CHECK(s.betas.size() == 2 && s.betas[0] >= 0 && s.betas[0] < 1 && s.betas[1] >= 0 && s.betas[1] < 1,
               "config ", where, ".betas: expected two values in [0, 1)");
  SAKUGA_CHECK(s.eps > 0, "config ", where, ".eps: expected > 0, got ", s.eps);
  SAKUGA_CHECK(s.weight_decay >= 0, "config ", where, ".weight_decay: expected >= 0, got ", s.weight_decay);
  SAKUGA_CHECK(s.momentum >= 0, "config ", where, ".momentum: expected >= 0, got ", s.momentum);
  SAKUGA_CHECK(s.alpha >= 0 && s.alpha < 1, "config ", where, ".alpha: expected [0, 1), got ", s.alpha);
  SAKUGA_CHECK(!s.nesterov || (s.momentum > 0 && s.dampening == 0), "config ", where,
               ".nesterov: needs momentum > 0 and dampening 0");
  SAKUGA_CHECK(s.warmup >= 0 && s.hold >= 0 && s.decay_steps >= 0, "config ", where,
               ".warmup / .hold / .decay_steps: expected >= 0");
  SAKUGA_CHECK(s.step_size > 0, "config ", where, ".step_size: expected > 0, got ", s.step_size);
  SAKUGA_CHECK(s.clip_grad_norm >= 0, "config ", where, ".clip_grad_norm: expected >= 0 (0 = off)");
  try {
    optim::parse_schedule_kind(s.schedule);
  } catch (const Error& e) {
    SAKUGA_FAIL("config ", where, ".schedule: ", e.what());
  }
}

std::unique_ptr<optim::Optimizer> make_optimizer(const OptimSpec& s, std::vector<optim::ParamGroup> groups,
                                                 const std::string& where) {
  validate(s, where);
  if (s.kind == "adam" || s.kind == "adamw") {
    optim::AdamOptions o;
    o.lr = s.lr;
    o.beta1 = s.betas[0];
    o.beta2 = s.betas[1];
    o.eps = s.eps;
    o.weight_decay = s.weight_decay;
    o.amsgrad = s.amsgrad;
    if (s.kind == "adamw") return std::make_unique<optim::AdamW>(std::move(groups), o);
    return std::make_unique<optim::Adam>(std::move(groups), o);
  }
  if (s.kind == "sgd") {
    optim::SgdOptions o;
    o.lr = s.lr;
    o.momentum = s.momentum;
    o.dampening = s.dampening;
    o.weight_decay = s.weight_decay;
    o.nesterov = s.nesterov;
    return std::make_unique<optim::SGD>(std::move(groups), o);
  }
  optim::RmspropOptions o;
  o.lr = s.lr;
  o.alpha = s.alpha;
  o.eps = s.eps;
  o.weight_decay = s.weight_decay;
  o.momentum = s.momentum;
  o.centered = s.centered;
  return std::make_unique<optim::RMSprop>(std::move(groups), o);
}

optim::Schedule make_schedule(const OptimSpec& s, int64_t active_steps, const std::string& where) {
  validate(s, where);
  const int64_t decay = s.decay_steps > 0 ? s.decay_steps : std::max<int64_t>(active_steps - s.warmup - s.hold, 0);
  optim::Schedule sched;
  switch (optim::parse_schedule_kind(s.schedule)) {
    case optim::Schedule::Kind::constant: sched = optim::Schedule::constant(s.lr); break;
    case optim::Schedule::Kind::linear: sched = optim::Schedule::linear(s.lr, s.lr_end, decay); break;
    case optim::Schedule::Kind::cosine: sched = optim::Schedule::cosine(s.lr, s.lr_end, decay); break;
    case optim::Schedule::Kind::poly: sched = optim::Schedule::poly(s.lr, s.lr_end, decay, s.power); break;
    case optim::Schedule::Kind::step: sched = optim::Schedule::step_decay(s.lr, s.step_size, s.gamma); break;
  }
  if (s.hold > 0) sched = sched.with_hold(s.hold);
  return s.warmup > 0 ? sched.with_warmup(s.warmup) : sched;
}

}  // namespace sakuga::harness
