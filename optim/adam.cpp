#include "optim/adam.h"

#include "tensor/dispatch.h"

namespace sakuga::optim {

static AdamOptions checked(const AdamOptions& o) {
  SAKUGA_CHECK(o.beta1 >= 0 && o.beta1 < 1, "Adam: invalid beta1 ", o.beta1);
  SAKUGA_CHECK(o.beta2 >= 0 && o.beta2 < 1, "Adam: invalid beta2 ", o.beta2);
  SAKUGA_CHECK(o.eps >= 0, "Adam: invalid eps ", o.eps);
  return o;
}

static std::vector<std::string> adam_buffers(const AdamOptions& o) {
  std::vector<std::string> b{"exp_avg", "exp_avg_sq"};
  if (o.amsgrad) b.push_back("max_exp_avg_sq");
  return b;
}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& opt, bool decoupled)
    : Optimizer(std::move(groups), opt.lr, opt.weight_decay, adam_buffers(opt)),
      opt_(checked(opt)),
      decoupled_(decoupled) {}

void Adam::update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) {
  kernels::AdamHyper h;
  h.beta1 = opt_.beta1;
  h.beta2 = opt_.beta2;
  h.eps = opt_.eps;
  h.decoupled = decoupled_;
  h.amsgrad = opt_.amsgrad;
  if (dev.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::adam_step(dtype, ts.data(), int64_t(ts.size()), h, dev.index,
                                              device::stream(dev.index)));
  } else {
    dispatch_cpu_float(name(), dtype, [&](auto t) {
      kernels::cpu::adam_step<decltype(t)>(ts.data(), int64_t(ts.size()), h);
    });
  }
}

}  // namespace sakuga::optim
