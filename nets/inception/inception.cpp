#include "nets/inception/inception.h"

#include <algorithm>
#include <map>

#include "layers/init.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::inception {

BasicConv2d::BasicConv2d(int64_t in, int64_t out, int kh, int kw, int stride, int pad_h, int pad_w) {
  nn::Conv2dOptions o(in, out, kh, kw);
  o.stride(stride);
  o.pad_h = pad_h;
  o.pad_w = pad_w;
  o.bias = false;
  conv = register_module("conv", std::make_shared<nn::Conv2d>(o));
  bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(out, 0.001));
}

Tensor BasicConv2d::forward(const Tensor& x) { return ops::relu((*bn)((*conv)(x))); }

namespace {

// A mixed block: named BasicConv2d branches; forward() is the block's own wiring.
class Mixed : public nn::Module {
 protected:
  BasicConv2d& add(const std::string& name, int64_t in, int64_t out, int kh, int kw, int stride = 1, int ph = 0,
                   int pw = 0) {
    auto m = register_module(name, std::make_shared<BasicConv2d>(in, out, kh, kw, stride, ph, pw));
    convs_.emplace(name, m);
    return *m;
  }
  Tensor c(const std::string& name, const Tensor& x) { return (*convs_.at(name))(x); }
  static Tensor avg3(const Tensor& x) {  // F.avg_pool2d(x, 3, stride 1, padding 1), padding counted
    ops::Pool2dParams p;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 1;
    p.pad_h = p.pad_w = 1;
    return ops::avg_pool2d(x, p);
  }
  static Tensor max3s2(const Tensor& x) {
    ops::Pool2dParams p;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 2;
    return ops::max_pool2d(x, p);
  }

 private:
  std::map<std::string, std::shared_ptr<BasicConv2d>> convs_;
};

class InceptionA : public Mixed {
 public:
  InceptionA(int64_t in, int64_t pool_features) {
    add("branch1x1", in, 64, 1, 1);
    add("branch5x5_1", in, 48, 1, 1);
    add("branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
    add("branch3x3dbl_1", in, 64, 1, 1);
    add("branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    add("branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
    add("branch_pool", in, pool_features, 1, 1);
  }
  std::string type_name() const override { return "InceptionA"; }
  Tensor forward(const Tensor& x) override {
    return ops::concat({c("branch1x1", x), c("branch5x5_2", c("branch5x5_1", x)),
                        c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))), c("branch_pool", avg3(x))},
                       1);
  }
};

class InceptionB : public Mixed {
 public:
  explicit InceptionB(int64_t in) {
    add("branch3x3", in, 384, 3, 3, 2);
    add("branch3x3dbl_1", in, 64, 1, 1);
    add("branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    add("branch3x3dbl_3", 96, 96, 3, 3, 2);
  }
  std::string type_name() const override { return "InceptionB"; }
  Tensor forward(const Tensor& x) override {
    return ops::concat(
        {c("branch3x3", x), c("branch3x3dbl_3", c("branch3x3dbl_2", c("branch3x3dbl_1", x))), max3s2(x)}, 1);
  }
};

class InceptionC : public Mixed {
 public:
  InceptionC(int64_t in, int64_t c7) {
    add("branch1x1", in, 192, 1, 1);
    add("branch7x7_1", in, c7, 1, 1);
    add("branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
    add("branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
    add("branch7x7dbl_1", in, c7, 1, 1);
    add("branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
    add("branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
    add("branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
    add("branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
    add("branch_pool", in, 192, 1, 1);
  }
  std::string type_name() const override { return "InceptionC"; }
  Tensor forward(const Tensor& x) override {
    Tensor b7 = c("branch7x7_3", c("branch7x7_2", c("branch7x7_1", x)));
    Tensor d = x;
    for (const char* n : {"branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"})
      d = c(n, d);
    return ops::concat({c("branch1x1", x), b7, d, c("branch_pool", avg3(x))}, 1);
  }
};

class InceptionD : public Mixed {
 public:
  explicit InceptionD(int64_t in) {
    add("branch3x3_1", in, 192, 1, 1);
    add("branch3x3_2", 192, 320, 3, 3, 2);
    add("branch7x7x3_1", in, 192, 1, 1);
    add("branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
    add("branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
    add("branch7x7x3_4", 192, 192, 3, 3, 2);
  }
  std::string type_name() const override { return "InceptionD"; }
  Tensor forward(const Tensor& x) override {
    Tensor b7 = x;
    for (const char* n : {"branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"}) b7 = c(n, b7);
    return ops::concat({c("branch3x3_2", c("branch3x3_1", x)), b7, max3s2(x)}, 1);
  }
};

class InceptionE : public Mixed {
 public:
  explicit InceptionE(int64_t in) {
    add("branch1x1", in, 320, 1, 1);
    add("branch3x3_1", in, 384, 1, 1);
    add("branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
    add("branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
    add("branch3x3dbl_1", in, 448, 1, 1);
    add("branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
    add("branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
    add("branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
    add("branch_pool", in, 192, 1, 1);
  }
  std::string type_name() const override { return "InceptionE"; }
  Tensor forward(const Tensor& x) override {
    const Tensor b3 = c("branch3x3_1", x);
    const Tensor d = c("branch3x3dbl_2", c("branch3x3dbl_1", x));
    return ops::concat({c("branch1x1", x), c("branch3x3_2a", b3), c("branch3x3_2b", b3), c("branch3x3dbl_3a", d),
                        c("branch3x3dbl_3b", d), c("branch_pool", avg3(x))},
                       1);
  }
};

}  // namespace

InceptionV3::InceptionV3() {
  register_module("Conv2d_1a_3x3", std::make_shared<BasicConv2d>(3, 32, 3, 3, 2));
  register_module("Conv2d_2a_3x3", std::make_shared<BasicConv2d>(32, 32, 3, 3));
  register_module("Conv2d_2b_3x3", std::make_shared<BasicConv2d>(32, 64, 3, 3, 1, 1, 1));
  register_module("Conv2d_3b_1x1", std::make_shared<BasicConv2d>(64, 80, 1, 1));
  register_module("Conv2d_4a_3x3", std::make_shared<BasicConv2d>(80, 192, 3, 3));
  register_module("Mixed_5b", std::make_shared<InceptionA>(192, 32));
  register_module("Mixed_5c", std::make_shared<InceptionA>(256, 64));
  register_module("Mixed_5d", std::make_shared<InceptionA>(288, 64));
  register_module("Mixed_6a", std::make_shared<InceptionB>(288));
  register_module("Mixed_6b", std::make_shared<InceptionC>(768, 128));
  register_module("Mixed_6c", std::make_shared<InceptionC>(768, 160));
  register_module("Mixed_6d", std::make_shared<InceptionC>(768, 160));
  register_module("Mixed_6e", std::make_shared<InceptionC>(768, 192));
  register_module("Mixed_7a", std::make_shared<InceptionD>(768));
  register_module("Mixed_7b", std::make_shared<InceptionE>(1280));
  register_module("Mixed_7c", std::make_shared<InceptionE>(2048));
  reset_parameters();
}

Tensor InceptionV3::forward(const Tensor& x) {
  SAKUGA_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) >= 75 && x.size(3) >= 75,
               "InceptionV3: expected (N, 3, H, W) with H, W >= 75, got ", shape_str(x.shape()));
  auto m = [this](const char* name, const Tensor& h) { return submodule(name)(h); };
  ops::Pool2dParams pool;
  pool.kernel_h = pool.kernel_w = 3;
  pool.stride_h = pool.stride_w = 2;
  Tensor h = m("Conv2d_2b_3x3", m("Conv2d_2a_3x3", m("Conv2d_1a_3x3", x)));
  h = ops::max_pool2d(h, pool);
  h = m("Conv2d_4a_3x3", m("Conv2d_3b_1x1", h));
  h = ops::max_pool2d(h, pool);
  for (const char* n : {"Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                        "Mixed_7a", "Mixed_7b", "Mixed_7c"})
    h = m(n, h);
  return ops::mean(h, {2, 3});  // AdaptiveAvgPool2d(1) + flatten
}

Tensor InceptionV3::pool_features(const std::vector<Tensor>& images01, Device dev, int64_t batch) {
  NoGradGuard ng;
  eval();
  std::vector<Tensor> out;
  const int64_t n = int64_t(images01.size());
  for (int64_t s = 0; s < n; s += batch) {
    std::vector<Tensor> xs;
    for (int64_t i = s; i < std::min(n, s + batch); ++i) {
      const Tensor& im = images01[size_t(i)];
      SAKUGA_CHECK(im.dim() == 3 && im.size(0) == 3, "InceptionV3::pool_features: expected (3, H, W) images, got ",
                   shape_str(im.shape()));
      Tensor x = ops::unsqueeze(im, 0).to(dev);
      if (x.size(2) != 299 || x.size(3) != 299) x = ops::resize_bilinear(x, 299, 299, false);
      xs.push_back(x);
    }
    out.push_back(forward(ops::concat(xs, 0) * 2.0 - 1.0).to(Device::cpu()));
  }
  return ops::concat(out, 0);
}

void InceptionV3::reset_parameters() {
  NoGradGuard ng;
  for (auto& [name, p] : named_parameters()) {
    const bool bn = name.find(".bn.") != std::string::npos;
    if (!bn) nn::init::normal_(p, 0.0, 0.1);
    else if (name.size() > 6 && name.compare(name.size() - 6, 6, "weight") == 0) p.fill_(1.0);
    else p.fill_(0.0);
  }
}

std::shared_ptr<InceptionV3> load_inception(const std::string& file, Device dev) {
  io::SafetensorsFile f = io::load_safetensors(file);
  nn::StateDict sd;
  for (auto& [name, t] : f.tensors)
    if (name.rfind("fc.", 0) != 0 && name.rfind("AuxLogits.", 0) != 0) sd[name] = t;
  auto net = std::make_shared<InceptionV3>();
  try {
    net->load_state_dict(sd, /*strict=*/true);
  } catch (const Error& e) {
    SAKUGA_FAIL(file, ": torchvision Inception-v3 weights: ", e.what());
  }
  net->to(dev);
  net->eval();
  return net;
}

}  // namespace sakuga::inception
