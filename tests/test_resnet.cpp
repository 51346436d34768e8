// ResNet backbones (nets/resnet): torchvision's names and parameter counts, stage shapes on odd
// sizes, torchvision-weight loading (fc ignored, Cin = 4 zero-extended, clear errors).
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "nets/resnet/resnet.h"
#include "tensor/random.h"
#include "tensor/safetensors.h"

using namespace sakuga;
using sakuga::test::error_of;

namespace {

bool has(const nn::StateDict& sd, const std::string& k) { return sd.count(k) > 0; }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("resnet: torchvision names and parameter counts") {
  // Counts from torchvision 0.14 (total minus fc): resnet18 11,689,512 − 513,000,
  // resnet34 21,797,672 − 513,000, resnet50 25,557,032 − 2,049,000, resnet101 44,549,160 − 2,049,000.
  struct Want {
    int depth;
    int64_t params;
    size_t n_params, n_state;
  };
  for (Want w : {Want{18, 11176512, 60, 120}, Want{34, 21284672, 108, 216}, Want{50, 23508032, 159, 318},
                 Want{101, 42500160, 312, 624}}) {
    INFO("depth ", w.depth);
    resnet::ResNet net({w.depth, 3});
    CHECK(net.num_parameters() == w.params);
    CHECK(net.named_parameters().size() == w.n_params);
    auto sd = net.state_dict();
    CHECK(sd.size() == w.n_state);  // with num_batches_tracked, as torchvision's state_dict
    CHECK(has(sd, "conv1.weight"));
    CHECK(has(sd, "bn1.running_mean"));
    CHECK(has(sd, "bn1.num_batches_tracked"));
    CHECK(has(sd, "layer1.0.conv1.weight"));
    CHECK(has(sd, "layer2.0.downsample.0.weight"));
    CHECK(has(sd, "layer2.0.downsample.1.running_mean"));
    CHECK(has(sd, "layer4.1.bn2.running_var"));
    CHECK(!has(sd, "fc.weight"));
    CHECK(!has(sd, "conv1.bias"));
    CHECK(has(sd, "layer1.0.conv3.weight") == (w.depth >= 50));
    CHECK(has(sd, "layer1.0.downsample.0.weight") == (w.depth >= 50));  // 64 → 256 in bottlenecks
    CHECK(sd.at("conv1.weight").shape() == Shape{64, 3, 7, 7});
    if (w.depth == 101) {
      CHECK(has(sd, "layer3.22.conv2.weight"));
      CHECK(sd.at("layer2.0.conv2.weight").shape() == Shape{128, 128, 3, 3});  // v1.5: stride on conv2
      CHECK(sd.at("layer2.0.downsample.0.weight").shape() == Shape{512, 256, 1, 1});
    }
  }
  CHECK_ERROR(resnet::ResNet({20, 3}), "depth must be 18, 34, 50 or 101");
}

TEST_CASE("resnet: init") {
  resnet::ResNet net({18, 3});
  auto sd = net.state_dict();
  for (float v : sd.at("layer1.0.bn1.weight").to_vector()) REQUIRE(v == 1.0f);
  for (float v : sd.at("layer1.0.bn1.bias").to_vector()) REQUIRE(v == 0.0f);
  // Kaiming normal, fan_out, relu: std = √2 / √(out·k·k).
  auto w = sd.at("layer3.0.conv2.weight").to_vector();  // (256, 256, 3, 3)
  double s2 = 0;
  for (float v : w) s2 += double(v) * v;
  const double std_got = std::sqrt(s2 / w.size()), std_want = std::sqrt(2.0 / (256 * 9));
  CHECK(std::abs(std_got / std_want - 1.0) < 0.02);
}

TEST_CASE("resnet: feature shapes on odd sizes") {
  for (int depth : {18, 50}) {
    INFO("depth ", depth);
    resnet::ResNet net({depth, 3});
    net.eval();
    Tensor x = randn({1, 3, 97, 130});
    auto f = net.features(x);
    const int64_t e = depth >= 50 ? 4 : 1;
    // 97×130 → conv1 49×65 → pool 25×33 → 13×17 → 7×9 → 4×5
    CHECK(f[0].shape() == Shape{1, 64 * e, 25, 33});
    CHECK(f[1].shape() == Shape{1, 128 * e, 13, 17});
    CHECK(f[2].shape() == Shape{1, 256 * e, 7, 9});
    CHECK(f[3].shape() == Shape{1, 512 * e, 4, 5});
    for (int i = 0; i < 4; ++i) CHECK(net.channels(i) == f[i].shape()[1]);
    CHECK(net.forward(x).shape() == f[3].shape());
  }
  resnet::ResNet net4({18, 4});
  CHECK(net4.features(randn({2, 4, 64, 64}))[3].shape() == Shape{2, 512, 2, 2});
  CHECK_ERROR(net4.features(randn({1, 3, 64, 64})), "input must be (N, 4, H, W)");
}

TEST_CASE("resnet: load torchvision weights (fc ignored, Cin = 4 zero-extended, errors)") {
  const std::string path = "/tmp/sakuga_test_resnet_tv.safetensors";
  resnet::ResNet src({18, 3});
  auto sd = src.state_dict();
  for (auto& [k, t] : sd)
    if (dtype_is_float(t.dtype())) normal_(t, 0.0, 1.0);
  sd["fc.weight"] = randn({1000, 512});
  sd["fc.bias"] = randn({1000});
  sd.erase("bn1.num_batches_tracked");  // optional
  io::save_safetensors(path, sd);

  resnet::ResNet dst3({18, 3});
  resnet::load_torchvision_weights(dst3, path);
  for (auto& [k, t] : dst3.state_dict()) {
    if (!dtype_is_float(t.dtype())) continue;
    INFO(k);
    CHECK(t.to_vector() == sd.at(k).to_vector());
  }

  resnet::ResNet dst4({18, 4});
  resnet::load_torchvision_weights(dst4, path);
  auto w3 = sd.at("conv1.weight").to_vector();  // (64, 3, 7, 7)
  auto w4 = dst4.state_dict().at("conv1.weight").to_vector();  // (64, 4, 7, 7)
  REQUIRE(w4.size() == 64 * 4 * 49);
  bool rgb_ok = true, mask_zero = true;
  for (int o = 0; o < 64; ++o)
    for (int c = 0; c < 4; ++c)
      for (int k = 0; k < 49; ++k) {
        float v = w4[(o * 4 + c) * 49 + k];
        if (c < 3 && v != w3[(o * 3 + c) * 49 + k]) rgb_ok = false;
        if (c == 3 && v != 0.0f) mask_zero = false;
      }
  CHECK(rgb_ok);
  CHECK(mask_zero);
  CHECK(dst4.state_dict().at("layer2.0.downsample.1.running_var").to_vector() ==
        sd.at("layer2.0.downsample.1.running_var").to_vector());

  // A mis-shaped and a missing tensor: one error naming the file and both.
  sd["layer1.0.conv1.weight"] = randn({64, 64, 1, 1});
  sd.erase("layer4.1.bn2.running_var");
  io::save_safetensors(path, sd);
  resnet::ResNet& dst = dst3;  // a failed load copies nothing
  std::string msg = error_of([&] { resnet::load_torchvision_weights(dst, path); });
  INFO(msg);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("mis-shaped (1): layer1.0.conv1.weight (checkpoint (64, 64, 1, 1), module (64, 64, 3, 3))") !=
        std::string::npos);
  CHECK(msg.find("missing (1): layer4.1.bn2.running_var") != std::string::npos);
  // Keys of another architecture (a bottleneck's conv3) are reported as unexpected.
  sd = src.state_dict();
  sd["layer1.0.conv3.weight"] = randn({256, 64, 1, 1});
  io::save_safetensors(path, sd);
  msg = error_of([&] { resnet::load_torchvision_weights(dst, path); });
  CHECK(msg.find("unexpected (1): layer1.0.conv3.weight") != std::string::npos);
  std::remove(path.c_str());
}
}  // TEST_SUITE
