#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "kernels/common.h"

namespace sakuga::optim {

namespace {
constexpr double kPi = 3.14159265358979323846;
}

double Schedule::at(int64_t step) const {
  SAKUGA_CHECK(step >= 0, "lr schedule: negative step ", step);
  if (warmup > 0 && step < warmup) return lr * double(step + 1) / double(warmup);
  const int64_t after_warmup = step - std::max<int64_t>(warmup, 0);
  if (hold > 0 && after_warmup < hold) return lr;
  const int64_t t = after_warmup - std::max<int64_t>(hold, 0);
  // Fraction of the decay done, in [0, 1].
  auto frac = [&]() { return steps <= 0 ? 1.0 : double(std::min(t, steps)) / double(steps); };
  switch (kind) {
    case Kind::constant: return lr;
    case Kind::linear: return lr + (lr_end - lr) * frac();
    case Kind::cosine: return lr_end + (lr - lr_end) * 0.5 * (1.0 + std::cos(kPi * frac()));
    case Kind::poly: return lr_end + (lr - lr_end) * std::pow(1.0 - frac(), power);
    case Kind::step: {
      SAKUGA_CHECK(step_size > 0, "lr schedule 'step': step_size must be positive, got ", step_size);
      return lr * std::pow(gamma, double(t / step_size));
    }
  }
  return lr;
}

double Schedule::factor(int64_t step) const { return lr == 0 ? 0.0 : at(step) / lr; }

std::string Schedule::str() const {
  std::ostringstream os;
  os << schedule_kind_name(kind) << "(lr=" << lr;
  switch (kind) {
    case Kind::constant: break;
    case Kind::linear:
    case Kind::cosine: os << " → " << lr_end << " over " << steps << " steps"; break;
    case Kind::poly: os << " → " << lr_end << " over " << steps << " steps, power " << power; break;
    case Kind::step: os << ", ×" << gamma << " every " << step_size << " steps"; break;
  }
  if (warmup > 0) os << ", warm-up " << warmup;
  if (hold > 0) os << ", held " << hold << " steps first";
  os << ")";
  return os.str();
}

Schedule Schedule::constant(double lr) {
  Schedule s;
  s.kind = Kind::constant;
  s.lr = lr;
  return s;
}
Schedule Schedule::linear(double lr, double lr_end, int64_t steps) {
  Schedule s;
  s.kind = Kind::linear;
  s.lr = lr;
  s.lr_end = lr_end;
  s.steps = steps;
  return s;
}
Schedule Schedule::cosine(double lr, double lr_end, int64_t steps) {
  Schedule s = linear(lr, lr_end, steps);
  s.kind = Kind::cosine;
  return s;
}
Schedule Schedule::poly(double lr, double lr_end, int64_t steps, double power) {
  Schedule s = linear(lr, lr_end, steps);
  s.kind = Kind::poly;
  s.power = power;
  return s;
}
Schedule Schedule::step_decay(double lr, int64_t step_size, double gamma) {
  SAKUGA_CHECK(step_size > 0, "lr schedule 'step': step_size must be positive, got ", step_size);
  Schedule s;
  s.kind = Kind::step;
  s.lr = lr;
  s.step_size = step_size;
  s.gamma = gamma;
  return s;
}
Schedule Schedule::with_warmup(int64_t w) const {
  SAKUGA_CHECK(w >= 0, "lr schedule: negative warm-up ", w);
  Schedule s = *this;
  s.warmup = w;
  return s;
}

Schedule Schedule::with_hold(int64_t h) const {
  SAKUGA_CHECK(h >= 0, "lr schedule: negative hold ", h);
  Schedule s = *this;
  s.hold = h;
  return s;
}

Schedule::Kind parse_schedule_kind(const std::string& s) {
  if (s == "constant") return Schedule::Kind::constant;
  if (s == "linear") return Schedule::Kind::linear;
  if (s == "cosine") return Schedule::Kind::cosine;
  if (s == "poly") return Schedule::Kind::poly;
  if (s == "step") return Schedule::Kind::step;
  SAKUGA_FAIL("lr schedule: expected constant, linear, cosine, poly or step, got '", s, "'");
}

const char* schedule_kind_name(Schedule::Kind k) {
  switch (k) {
    case Schedule::Kind::constant: return "constant";
    case Schedule::Kind::linear: return "linear";
    case Schedule::Kind::cosine: return "cosine";
    case Schedule::Kind::poly: return "poly";
    case Schedule::Kind::step: return "step";
  }
  return "?";
}

}  // namespace sakuga::optim
