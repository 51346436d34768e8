#include "nets/fmnist/model.h"

#include "tensor/ops.h"

namespace sakuga::fmnist {

FashionNet::FashionNet(const ModelConfig& cfg) {
  conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(1, cfg.c1, 3, 1, 1, false));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(cfg.c1));
  conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(cfg.c1, cfg.c2, 3, 1, 1, false));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(cfg.c2));
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(cfg.c2 * 7 * 7, cfg.hidden));
  drop = register_module("drop", std::make_shared<nn::Dropout>(cfg.dropout));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(cfg.hidden, 10));
}

Tensor FashionNet::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == 28 && x.size(3) == 28,
               "FashionNet: expected input (N, 1, 28, 28), got ", shape_str(x.shape()));
  ops::Pool2dParams pool;  // 2×2, stride 2
  Tensor h = ops::max_pool2d(ops::relu((*bn1)((*conv1)(x))), pool);     // (N, c1, 14, 14)
  h = ops::max_pool2d(ops::relu((*bn2)((*conv2)(h))), pool);            // (N, c2, 7, 7)
  h = (*drop)(ops::relu((*fc1)(ops::flatten(h, 1))));                   // (N, hidden)
  return (*fc2)(h);                                                      // (N, 10)
}

}  // namespace sakuga::fmnist
