#include "nets/redraw/detect_net.h"

#include <fmt/format.h>

#include "layers/activation.h"
#include "layers/init.h"
#include "tensor/ops.h"

namespace sakuga::redraw {

namespace {

std::shared_ptr<nn::Sequential> make_head(int64_t in, int64_t hidden, int64_t out) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(std::make_shared<nn::Conv2d>(in, hidden, 3, 1, 1));
  s->push_back(std::make_shared<nn::ReLU>());
  s->push_back(std::make_shared<nn::Conv2d>(hidden, out, 1));
  return s;
}

}  // namespace

Detector::Detector(const DetectorConfig& cfg) : config(cfg) {
  SAKUGA_CHECK(cfg.depth == 18 || cfg.depth == 34, "config detect.model.depth: expected 18 or 34, got ", cfg.depth);
  SAKUGA_CHECK(cfg.neck >= 8 && cfg.neck <= 512, "config detect.model.neck: expected 8 … 512, got ", cfg.neck);
  SAKUGA_CHECK(cfg.head >= 8 && cfg.head <= 512, "config detect.model.head: expected 8 … 512, got ", cfg.head);
  backbone = register_module("backbone", std::make_shared<resnet::ResNet>(resnet::ResNetConfig{cfg.depth, 3}));
  lat1 = register_module("lat1", std::make_shared<nn::Conv2d>(backbone->channels(0), cfg.neck, 1));
  lat2 = register_module("lat2", std::make_shared<nn::Conv2d>(backbone->channels(1), cfg.neck, 1));
  lat3 = register_module("lat3", std::make_shared<nn::Conv2d>(backbone->channels(2), cfg.neck, 1));
  lat4 = register_module("lat4", std::make_shared<nn::Conv2d>(backbone->channels(3), cfg.neck, 1));
  smooth = register_module("smooth", std::make_shared<nn::Conv2d>(cfg.neck, cfg.neck, 3, 1, 1, /*bias=*/false));
  smooth_bn = register_module("smooth_bn", std::make_shared<nn::BatchNorm2d>(cfg.neck));
  heat = register_module("heat", make_head(cfg.neck, cfg.head, kDetectClasses));
  size = register_module("size", make_head(cfg.neck, cfg.head, 2));
  offset = register_module("offset", make_head(cfg.neck, cfg.head, 2));
  // CenterNet: the heat map starts at sigmoid(−2.19) ≈ 0.1 everywhere, the regressions at 0.
  nn::init::constant_(static_cast<nn::Conv2d&>((*heat)[2]).bias, cfg.heat_bias);
  nn::init::constant_(static_cast<nn::Conv2d&>((*size)[2]).bias, 0.0);
  nn::init::constant_(static_cast<nn::Conv2d&>((*offset)[2]).bias, 0.0);
  imagenet_mean = register_buffer("imagenet_mean", Tensor::from_vector({0.485f, 0.456f, 0.406f}, {1, 3, 1, 1}),
                                  /*persistent=*/false);
  imagenet_std = register_buffer("imagenet_std", Tensor::from_vector({0.229f, 0.224f, 0.225f}, {1, 3, 1, 1}),
                                 /*persistent=*/false);
}

std::string Detector::extra_repr() const {
  return fmt::format("resnet{}, neck={}, head={}, stride {}", config.depth, config.neck, config.head, kDetectStride);
}

DetectorOutput Detector::run(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == 3, "redraw detector: expected input (N, 3, H, W), got ",
               shape_str(x.shape()));
  SAKUGA_CHECK(x.size(2) % 32 == 0 && x.size(3) % 32 == 0 && x.size(2) >= 32 && x.size(3) >= 32,
               "redraw detector: H and W must be positive multiples of 32, got ", x.size(2), "×", x.size(3));
  const std::array<Tensor, 4> f = backbone->features((x - imagenet_mean) / imagenet_std);
  auto up_add = [](const Tensor& top, const Tensor& lateral) {
    return lateral + ops::resize_nearest(top, lateral.size(2), lateral.size(3));
  };
  Tensor p = (*lat4)(f[3]);
  p = up_add(p, (*lat3)(f[2]));
  p = up_add(p, (*lat2)(f[1]));
  p = up_add(p, (*lat1)(f[0]));
  p = ops::relu((*smooth_bn)((*smooth)(p)));  // (N, neck, H/4, W/4)
  return {(*heat)(p), (*size)(p), (*offset)(p)};
}

Tensor Detector::forward(const Tensor& x) {
  DetectorOutput o = run(x);
  return ops::concat({o.heat, o.size, o.offset}, 1);
}

}  // namespace sakuga::redraw
