#include "optim/sgd.h"

#include "tensor/dispatch.h"

namespace sakuga::optim {

static SgdOptions checked(const SgdOptions& o) {
  SAKUGA_CHECK(o.momentum >= 0, "SGD: invalid momentum ", o.momentum);
  SAKUGA_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
               "SGD: nesterov momentum requires a momentum and zero dampening");
  return o;
}

SGD::SGD(std::vector<ParamGroup> groups, const SgdOptions& opt)
    : Optimizer(std::move(groups), opt.lr, opt.weight_decay,
                opt.momentum != 0 ? std::vector<std::string>{"momentum_buffer"} : std::vector<std::string>{}),
      opt_(checked(opt)) {}

void SGD::update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) {
  kernels::SgdHyper h;
  h.momentum = opt_.momentum;
  h.dampening = opt_.dampening;
  h.nesterov = opt_.nesterov;
  if (dev.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::sgd_step(dtype, ts.data(), int64_t(ts.size()), h, dev.index,
                                             device::stream(dev.index)));
  } else {
    dispatch_cpu_float("SGD", dtype, [&](auto t) {
      kernels::cpu::sgd_step<decltype(t)>(ts.data(), int64_t(ts.size()), h);
    });
  }
}

}  // namespace sakuga::optim
