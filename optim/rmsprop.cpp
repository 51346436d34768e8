#include "optim/rmsprop.h"

#include "tensor/dispatch.h"

namespace sakuga::optim {

static RmspropOptions checked(const RmspropOptions& o) {
  SAKUGA_CHECK(o.alpha >= 0, "RMSprop: invalid alpha ", o.alpha);
  SAKUGA_CHECK(o.eps >= 0, "RMSprop: invalid eps ", o.eps);
  SAKUGA_CHECK(o.momentum >= 0, "RMSprop: invalid momentum ", o.momentum);
  return o;
}

// Slots: s0 = square_avg, s1 = momentum_buffer, s2 = grad_avg ("" = unused).
static std::vector<std::string> rmsprop_buffers(const RmspropOptions& o) {
  return {"square_avg", o.momentum > 0 ? "momentum_buffer" : "", o.centered ? "grad_avg" : ""};
}

RMSprop::RMSprop(std::vector<ParamGroup> groups, const RmspropOptions& opt)
    : Optimizer(std::move(groups), opt.lr, opt.weight_decay, rmsprop_buffers(opt)), opt_(checked(opt)) {}

void RMSprop::update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) {
  kernels::RmspropHyper h;
  h.alpha = opt_.alpha;
  h.eps = opt_.eps;
  h.momentum = opt_.momentum;
  h.centered = opt_.centered;
  if (dev.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::rmsprop_step(dtype, ts.data(), int64_t(ts.size()), h, dev.index,
                                                 device::stream(dev.index)));
  } else {
    dispatch_cpu_float("RMSprop", dtype, [&](auto t) {
      kernels::cpu::rmsprop_step<decltype(t)>(ts.data(), int64_t(ts.size()), h);
    });
  }
}

}  // namespace sakuga::optim
