// GPU unit tests (suite "gpu"): the caching allocator's bookkeeping, and determinism — the same
// GCN training step, and the GCN's large axial convolution, run twice from one seed must give
// bit-identical results; the CUDA Poisson blend against the CPU's. The determinism cases run on CUDA when a device answers and on the CPU
// otherwise (both promise it, ARCHITECTURE.md "Precision and speed"); the allocator case needs
// a GPU and says "skipped" without one. tools/gpu-run runs this suite with the "*cuda*" cases
// of the other suites on the GPU machine.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/redraw/blend.h"
#include "kernels/device.h"
#include "kernels/philox.h"
#include "losses/segmentation.h"
#include "nets/harness/family.h"
#include "nets/gcn/model.h"
#include "optim/adam.h"
#include "tensor/autograd.h"
#include "tensor/ops/conv.h"
#include "tensor/random.h"

using namespace sakuga;

namespace {

Device test_device() { return device::cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu(); }

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor ha = a.contiguous().cpu(), hb = b.contiguous().cpu();
  return std::memcmp(ha.raw(), hb.raw(), ha.nbytes()) == 0;
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector_f64())
    if (!std::isfinite(v)) return false;
  return true;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector_f64()) m = std::max(m, std::fabs(v));
  return m;
}

// Everything a training step produces, on the CPU: "loss.N", "grad.NAME" (after the first
// step) and "param.NAME" (after the last step).
using StepTensors = std::map<std::string, Tensor>;

// Two steps (forward, focal loss, backward, Adam) of a small douga GCN (ResNet-18, k 7) on
// random frames and labels drawn from `data_seed`; parameters initialised from `init_seed`.
StepTensors gcn_steps(Device dev, uint64_t init_seed, uint64_t data_seed) {
  manual_seed(init_seed);
  gcn::GcnConfig mc;
  mc.backbone = 18;
  mc.classes = 10;
  mc.k = 7;
  gcn::GcnNet net(mc);
  net.to(dev);
  net.train();
  optim::Adam adam(net.named_parameters(), optim::AdamOptions{});
  losses::SegLossConfig loss_cfg;  // focal, gamma 2

  const int64_t n = 2, h = 64, w = 96;
  Generator gen(data_seed);
  Tensor x = rand_uniform({n, 3, h, w}, 0.0, 1.0, gen).to(dev);  // (N, 3, H, W)
  std::vector<int32_t> lab(size_t(n * h * w));
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = int32_t(philox::word(data_seed + 1, i) % 10u);
  Tensor y = Tensor::from_vector_i32(lab, {n, h, w}).to(dev);  // (N, H, W)

  StepTensors out;
  for (int step = 0; step < 2; ++step) {
    Tensor loss = losses::segmentation_loss(loss_cfg, net(x), y);
    adam.zero_grad();
    loss.backward();
    out["loss." + std::to_string(step)] = loss.detach().cpu();
    if (step == 0)
      for (const auto& [name, p] : net.named_parameters())
        if (p.grad().defined()) out["grad." + name] = p.grad().cpu();
    adam.step();
  }
  for (const auto& [name, p] : net.named_parameters()) out["param." + name] = p.detach().cpu();
  return out;
}

}  // namespace

TEST_SUITE("gpu") {

TEST_CASE("gpu: the caching allocator reuses freed blocks and keeps exact statistics") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  const int dev = 0;
  device::synchronize(dev);
  device::empty_cache();  // no free blocks: the first allocation below must come from cudaMalloc
  const device::MemStats s0 = device::mem_stats(dev);
  CHECK(s0.cached_bytes == s0.current_bytes);

  void* a = device::alloc(1000, dev);  // ≤ 1 MiB: rounded up to a multiple of 512 B
  device::MemStats s = device::mem_stats(dev);
  CHECK(s.current_bytes == s0.current_bytes + 1024);
  CHECK(s.cached_bytes == s0.cached_bytes + 1024);
  CHECK(s.num_allocs == s0.num_allocs + 1);
  CHECK(s.peak_bytes >= s.current_bytes);

  device::free(a, dev);
  s = device::mem_stats(dev);
  CHECK(s.current_bytes == s0.current_bytes);
  CHECK(s.cached_bytes == s0.cached_bytes + 1024);  // kept for reuse

  void* b = device::alloc(700, dev);  // also 1024 B: the cached block comes back
  CHECK(b == a);
  CHECK(device::mem_stats(dev).num_allocs == s0.num_allocs + 1);

  // > 1 MiB: rounded up to a multiple of 2 MiB. The block must really hold the bytes asked for.
  const size_t big = (3u << 20) + 5;
  void* c = device::alloc(big, dev);
  s = device::mem_stats(dev);
  CHECK(s.current_bytes == s0.current_bytes + 1024 + (4u << 20));
  std::vector<uint8_t> pattern(big), back(big, 0xAB);
  for (size_t i = 0; i < big; ++i) pattern[i] = uint8_t(philox::word(9, i));
  device::copy_h2d(c, pattern.data(), big, dev);
  device::copy_d2h_sync(back.data(), c, big, dev);
  CHECK(back == pattern);
  device::free(c, dev);

  // A cached block more than twice the request is not handed out: 1 MiB gets a new block.
  void* d = device::alloc(1u << 20, dev);
  CHECK(d != c);
  CHECK(device::mem_stats(dev).num_allocs == s0.num_allocs + 3);

  device::free(b, dev);
  device::free(d, dev);
  device::free(d, dev);  // a second free of the same pointer is ignored, not a double cudaFree
  s = device::mem_stats(dev);
  CHECK(s.current_bytes == s0.current_bytes);
  CHECK(s.peak_bytes >= s0.current_bytes + 1024 + (4u << 20));

  device::empty_cache();
  s = device::mem_stats(dev);
  CHECK(s.cached_bytes == s.current_bytes);
  CHECK(s.current_bytes == s0.current_bytes);
}

TEST_CASE("gpu: a batch's host. keys stay on the CPU, the rest moves to the device") {
  // The redraw encoder's step reads its labels from "host.design": a device copy would make it
  // wait for the GPU every step (nets/harness/family.h).
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  harness::Batch b{{"x", Tensor::ones({2, 3})}, {"host.labels", Tensor::from_vector_i32({4, 7}, {2})}};
  const harness::Batch on = harness::batch_to_device(b, Device::cuda(0));
  CHECK(on.at("x").is_cuda());
  CHECK(on.at("host.labels").device().is_cpu());
  CHECK(on.at("host.labels").to_vector_i32() == std::vector<int32_t>{4, 7});
  CHECK(harness::is_host_key("host.design"));
  CHECK_FALSE(harness::is_host_key("design"));
  CHECK_FALSE(harness::is_host_key("x.host."));
}

TEST_CASE("gpu: a GCN training step run twice from one seed is bit-identical") {
  const Device dev = test_device();
  const std::string where = "device: " + dev.str() + ", precision " + device::precision_name(device::precision());
  MESSAGE(where);
  REQUIRE(device::deterministic());
  const StepTensors a = gcn_steps(dev, 11, 21), b = gcn_steps(dev, 11, 21);
  REQUIRE(a.size() == b.size());
  int grads = 0;
  for (const auto& [name, t] : a) {
    INFO(name);
    REQUIRE(b.count(name) == 1);
    CHECK(all_finite(t));
    CHECK(bit_equal(t, b.at(name)));
    if (name.rfind("grad.", 0) == 0) grads += max_abs(t) > 0;
  }
  // Not a vacuous comparison: the step moves real gradients, and other data gives other numbers.
  CHECK(grads > 50);
  const StepTensors other = gcn_steps(dev, 11, 22);
  CHECK_FALSE(bit_equal(a.at("loss.0"), other.at("loss.0")));
  CHECK_FALSE(bit_equal(a.at("param.gcn1.l1.weight"), other.at("param.gcn1.l1.weight")));
}

TEST_CASE("gpu: the douga GCN's 1x49 and 49x1 convolutions are bit-identical across runs") {
  const Device dev = test_device();
  for (bool vertical : {false, true}) {
    INFO("kernel ", (vertical ? "49x1" : "1x49"));
    Generator gen(5);
    Tensor x0 = randn({1, 64, 34, 60}, gen).to(dev);  // (N, C, H, W): f4-like feature map, fewer channels
    Tensor w0 = randn(vertical ? Shape{10, 64, 49, 1} : Shape{10, 64, 1, 49}, gen, DType::f32, Device::cpu(), 0.0, 0.05)
                    .to(dev);
    Tensor gy = randn({1, 10, 34, 60}, gen).to(dev);
    ops::Conv2dParams p;
    p.pad_h = vertical ? 24 : 0;
    p.pad_w = vertical ? 0 : 24;
    auto run = [&] {
      Tensor x = x0.detach().set_requires_grad(true), w = w0.detach().set_requires_grad(true);
      Tensor y = ops::conv2d(x, w, Tensor(), p);
      y.backward(gy);
      return std::vector<Tensor>{y.detach().cpu(), x.grad().cpu(), w.grad().cpu()};
    };
    auto r1 = run(), r2 = run();
    for (size_t i = 0; i < r1.size(); ++i) {
      INFO("tensor ", i, " (0 output, 1 input gradient, 2 weight gradient)");
      CHECK(all_finite(r1[i]));
      CHECK(max_abs(r1[i]) > 0);
      CHECK(bit_equal(r1[i], r2[i]));
    }
  }
}

TEST_CASE("gpu: the CUDA Poisson blend (red-black SOR) is within 1/255 of the CPU conjugate gradient") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  const Device gpu = Device::cuda(0);
  struct Case {
    const char* what;
    int64_t H, W;
    std::function<bool(int64_t, int64_t)> inside;
  };
  auto ellipse = [](int64_t y, int64_t x, double cy, double cx, double ry, double rx) {
    const double dy = (double(y) - cy) / ry, dx = (double(x) - cx) / rx;
    return dy * dy + dx * dx < 1;
  };
  const Case cases[] = {
      {"two 200x120 eyes at 1080p", 1080, 1920,
       [&](int64_t y, int64_t x) { return ellipse(y, x, 500, 760, 60, 100) || ellipse(y, x, 500, 1160, 60, 100); }},
      {"irregular, on the left border", 97, 130,
       [&](int64_t y, int64_t x) { return ellipse(y, x, 40, 10, 25, 30) || ellipse(y, x, 60, 50, 20, 25); }},
      {"one pixel", 16, 16, [](int64_t y, int64_t x) { return y == 7 && x == 9; }},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<uint8_t> m(size_t(c.H * c.W));
    std::vector<float> f(size_t(3 * c.H * c.W)), p(f.size());
    for (int64_t y = 0; y < c.H; ++y)
      for (int64_t x = 0; x < c.W; ++x) {
        m[size_t(y * c.W + x)] = c.inside(y, x) ? 1 : 0;
        for (int64_t k = 0; k < 3; ++k) {
          const size_t i = size_t((k * c.H + y) * c.W + x);
          const double noise = double(philox::word(uint64_t(k + 1), i) % 1000u) / 1000.0;
          f[i] = float(0.4 + 0.2 * std::sin(0.01 * double(x) + 0.02 * double(y) + double(k)) + 0.05 * noise);
          p[i] = float(0.6 + 0.3 * std::cos(0.05 * double(x) - 0.03 * double(y) * double(k)) + 0.05 * (1 - noise));
        }
      }
    const Tensor mask = Tensor::from_bytes(m.data(), {c.H, c.W}, DType::u8);
    const Tensor frame = Tensor::from_vector(f, {3, c.H, c.W}), patch = Tensor::from_vector(p, {3, c.H, c.W});
    const auto cpu = data::redraw::poisson_blend(frame, patch, mask);
    const auto dev = data::redraw::poisson_blend(frame.to(gpu), patch.to(gpu), mask.to(gpu));
    const std::vector<float> a = cpu.image.to_vector(), b = dev.image.to_vector();
    double diff = 0;
    bool outside_is_frame = true;
    for (size_t i = 0; i < a.size(); ++i) {
      diff = std::max(diff, std::fabs(double(a[i]) - double(b[i])));
      if (!m[i % m.size()] && b[i] != f[i]) outside_is_frame = false;
    }
    MESSAGE(c.what, ": ", cpu.stats.unknowns, " unknowns; CPU ", cpu.stats.iterations, " CG iterations, CUDA ",
            dev.stats.iterations, " SOR sweeps (residual ", dev.stats.residual, " <= ", dev.stats.residual_target,
            "); max |CUDA - CPU| = ", diff * 255, "/255");
    CHECK(cpu.stats.converged);
    CHECK(dev.stats.converged);
    CHECK(dev.stats.unknowns == cpu.stats.unknowns);
    CHECK(diff <= 1.0 / 255);
    CHECK(outside_is_frame);
    if (c.H * c.W < 100000) {  // red-black order: deterministic (checked where a rerun is cheap under memcheck)
      const auto again = data::redraw::poisson_blend(frame.to(gpu), patch.to(gpu), mask.to(gpu));
      CHECK(bit_equal(dev.image, again.image));
      CHECK(again.stats.iterations == dev.stats.iterations);
    }
  }
}

}  // TEST_SUITE
