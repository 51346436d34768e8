#include "nets/resnet/resnet.h"

#include <sstream>

#include "layers/init.h"
#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/pool.h"
#include "tensor/ops/shape.h"
#include "tensor/safetensors.h"

namespace sakuga::resnet {

namespace {

std::shared_ptr<nn::Conv2d> conv(int64_t in, int64_t out, int k, int stride, int pad) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).with_bias(false));
}

std::shared_ptr<nn::BatchNorm2d> bn(int64_t c) { return std::make_shared<nn::BatchNorm2d>(c, 1e-5, 0.1); }

std::shared_ptr<nn::Sequential> make_downsample(int64_t in, int64_t out, int stride) {
  auto seq = std::make_shared<nn::Sequential>();
  seq->push_back(conv(in, out, 1, stride, 0));
  seq->push_back(bn(out));
  return seq;
}

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int stride, bool ds) {
  conv1 = register_module("conv1", conv(inplanes, planes, 3, stride, 1));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", bn(planes));
  if (ds) downsample = register_module("downsample", make_downsample(inplanes, planes * expansion, stride));
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = ops::relu((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  Tensor identity = downsample ? (*downsample)(x) : x;
  return ops::relu(out + identity);
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int stride, bool ds) {
  conv1 = register_module("conv1", conv(inplanes, planes, 1, 1, 0));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
  bn2 = register_module("bn2", bn(planes));
  conv3 = register_module("conv3", conv(planes, planes * expansion, 1, 1, 0));
  bn3 = register_module("bn3", bn(planes * expansion));
  if (ds) downsample = register_module("downsample", make_downsample(inplanes, planes * expansion, stride));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = ops::relu((*bn1)((*conv1)(x)));
  out = ops::relu((*bn2)((*conv2)(out)));
  out = (*bn3)((*conv3)(out));
  Tensor identity = downsample ? (*downsample)(x) : x;
  return ops::relu(out + identity);
}

ResNet::ResNet(const ResNetConfig& cfg) : config(cfg) {
  std::array<int, 4> blocks{};
  switch (cfg.depth) {
    case 18: blocks = {2, 2, 2, 2}; break;
    case 34: blocks = {3, 4, 6, 3}; break;
    case 50: blocks = {3, 4, 6, 3}; bottleneck_ = true; break;
    case 101: blocks = {3, 4, 23, 3}; bottleneck_ = true; break;
    default: SAKUGA_FAIL("ResNet: depth must be 18, 34, 50 or 101, got ", cfg.depth);
  }
  SAKUGA_CHECK(cfg.in_channels >= 1, "ResNet: in_channels must be >= 1, got ", cfg.in_channels);
  conv1 = register_module("conv1", conv(cfg.in_channels, 64, 7, 2, 3));
  bn1 = register_module("bn1", bn(64));
  const int64_t expansion = bottleneck_ ? Bottleneck::expansion : BasicBlock::expansion;
  int64_t inplanes = 64;
  for (int i = 0; i < 4; ++i) {
    const int64_t planes = int64_t(64) << i;
    const int stride = i == 0 ? 1 : 2;
    auto seq = std::make_shared<nn::Sequential>();
    for (int b = 0; b < blocks[i]; ++b) {
      const int s = b == 0 ? stride : 1;
      const bool ds = b == 0 && (stride != 1 || inplanes != planes * expansion);
      if (bottleneck_)
        seq->push_back(std::make_shared<Bottleneck>(inplanes, planes, s, ds));
      else
        seq->push_back(std::make_shared<BasicBlock>(inplanes, planes, s, ds));
      inplanes = planes * expansion;
    }
    layers[i] = register_module("layer" + std::to_string(i + 1), seq);
  }
  reset_parameters();
}

std::string ResNet::extra_repr() const {
  std::ostringstream os;
  os << "depth=" << config.depth << ", in_channels=" << config.in_channels;
  return os.str();
}

void ResNet::reset_parameters() {
  NoGradGuard ng;
  for (auto& [name, m] : named_modules()) {
    if (auto* c = dynamic_cast<nn::Conv2d*>(m)) {
      nn::init::kaiming_normal_(c->weight, 0.0, nn::init::FanMode::fan_out, "relu");
    } else if (auto* b = dynamic_cast<nn::BatchNorm2d*>(m)) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
      b->reset_running_stats();
    }
  }
}

int64_t ResNet::channels(int i) const {
  SAKUGA_CHECK(i >= 0 && i < 4, "ResNet::channels: stage index must be in 0..3, got ", i);
  return (int64_t(64) << i) * (bottleneck_ ? Bottleneck::expansion : BasicBlock::expansion);
}

std::array<Tensor, 4> ResNet::features(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.shape()[1] == config.in_channels, "ResNet: input must be (N, ",
               config.in_channels, ", H, W), got ", shape_str(x.shape()));
  Tensor h = ops::relu((*bn1)((*conv1)(x)));
  ops::Pool2dParams p;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_h = p.pad_w = 1;
  h = ops::max_pool2d(h, p);
  std::array<Tensor, 4> f;
  for (int i = 0; i < 4; ++i) {
    h = (*layers[i])(h);
    f[i] = h;
  }
  return f;
}

Tensor ResNet::forward(const Tensor& x) { return features(x)[3]; }

void load_torchvision_weights(ResNet& net, const std::string& path) {
  io::SafetensorsFile file = io::load_safetensors(path);
  nn::StateDict sd;
  for (auto& [name, t] : file.tensors)
    if (name.compare(0, 3, "fc.") != 0) sd[name] = t;
  auto it = sd.find("conv1.weight");
  const int64_t cin = net.config.in_channels;
  if (it != sd.end() && it->second.dim() == 4 && it->second.shape()[1] == 3 && cin == 4) {
    // RGB weights for channels 0..2; the extra (mask) channel starts at zero.
    NoGradGuard ng;
    const Tensor& w = it->second;
    Tensor w32 = w.to(DType::f32);
    Tensor extra = Tensor::zeros({w.shape()[0], 1, w.shape()[2], w.shape()[3]}, DType::f32, w.device());
    it->second = ops::concat({w32, extra}, 1);
  }
  try {
    net.load_state_dict(sd, /*strict=*/true);
  } catch (const Error& e) {
    throw Error(path + ": torchvision ResNet-" + std::to_string(net.config.depth) + " weights: " + e.what());
  }
}

}  // namespace sakuga::resnet
