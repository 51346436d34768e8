#pragma once
// Learning-rate schedules as pure functions lr(step), step = 0 for the first optimizer step:
//   opt.set_lr(sched(opt.steps()));  opt.step();
// (or opt.set_lr_factor(sched.factor(step)) when parameter groups have their own base lrs).
//
// Warm-up (warmup = W > 0): lr(s) = lr · (s + 1) / W for s < W (reaches lr at s = W − 1),
// then (hold = H > 0) the base lr for H steps, then the main schedule runs on t = s − W − H:
//   constant  lr
//   linear    lr + (lr_end − lr) · min(t, N)/N                       (N = steps)
//   cosine    lr_end + (lr − lr_end) · (1 + cos(π · min(t, N)/N)) / 2
//   poly      lr_end + (lr − lr_end) · (1 − min(t, N)/N)^power        (power 1 = linear)
//   step      lr · gamma^⌊t / step_size⌋
// After N decay steps linear/cosine/poly hold lr_end. N = 0 means "already decayed".
#include <cstdint>
#include <string>

namespace sakuga::optim {

struct Schedule {
  enum class Kind { constant, linear, cosine, poly, step };
  Kind kind = Kind::constant;
  double lr = 1e-3;      // base (peak) learning rate
  double lr_end = 0.0;   // linear / cosine / poly: final value
  int64_t steps = 0;     // linear / cosine / poly: decay length after the warm-up
  int64_t warmup = 0;    // linear warm-up steps
  int64_t hold = 0;      // steps at the base lr after the warm-up, before the decay starts
  double power = 1.0;    // poly
  int64_t step_size = 1; // step: decay period
  double gamma = 0.1;    // step: decay factor

  double operator()(int64_t step) const { return at(step); }
  double at(int64_t step) const;
  // at(step) / lr (for Optimizer::set_lr_factor); 0 when lr is 0.
  double factor(int64_t step) const;
  std::string str() const;  // e.g. "cosine(lr=0.001 → 1e-05 over 1000 steps, warm-up 100)"

  static Schedule constant(double lr);
  static Schedule linear(double lr, double lr_end, int64_t steps);
  static Schedule cosine(double lr, double lr_end, int64_t steps);
  static Schedule poly(double lr, double lr_end, int64_t steps, double power);
  static Schedule step_decay(double lr, int64_t step_size, double gamma);
  // Returns a copy with a linear warm-up of `steps` steps in front.
  Schedule with_warmup(int64_t steps) const;
  // Returns a copy that holds the base lr for `steps` steps before decaying (CUT's "linear"
  // policy: n_epochs constant, then n_epochs_decay of linear decay).
  Schedule with_hold(int64_t steps) const;
};

// "constant", "linear", "cosine", "poly", "step"; anything else is an error listing these.
Schedule::Kind parse_schedule_kind(const std::string& s);
const char* schedule_kind_name(Schedule::Kind k);

}  // namespace sakuga::optim
