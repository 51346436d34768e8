#include "losses/gan.h"

#include "kernels/common.h"
#include "tensor/ops.h"

namespace sakuga::losses {

GanLoss parse_gan_loss(const std::string& s, const std::string& key) {
  if (s == "nonsaturating" || s == "vanilla") return GanLoss::nonsaturating;
  if (s == "lsgan") return GanLoss::lsgan;
  if (s == "hinge") return GanLoss::hinge;
  SAKUGA_FAIL("config ", key, ": expected nonsaturating, lsgan or hinge, got '", s, "'");
}

Tensor gan_d_loss(GanLoss kind, const Tensor& real, const Tensor& fake) {
  switch (kind) {
    case GanLoss::nonsaturating:
      return ops::mean(ops::softplus(ops::neg(real))) + ops::mean(ops::softplus(fake));
    case GanLoss::lsgan:
      return (ops::mean(ops::square(real - 1.0)) + ops::mean(ops::square(fake))) * 0.5;
    case GanLoss::hinge:
      return ops::mean(ops::relu(ops::add(ops::neg(real), 1.0))) + ops::mean(ops::relu(fake + 1.0));
  }
  SAKUGA_FAIL("gan_d_loss: unknown kind");
}

Tensor gan_g_loss(GanLoss kind, const Tensor& fake) {
  switch (kind) {
    case GanLoss::nonsaturating: return ops::mean(ops::softplus(ops::neg(fake)));
    case GanLoss::lsgan: return ops::mean(ops::square(fake - 1.0));
    case GanLoss::hinge: return ops::neg(ops::mean(fake));
  }
  SAKUGA_FAIL("gan_g_loss: unknown kind");
}

}  // namespace sakuga::losses
