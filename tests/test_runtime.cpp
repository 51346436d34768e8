// The device runtime where the op harness cannot see it: deferred device-side errors, pinned
// memory and asynchronous uploads, the optimizer's cached tensor tables, the sync-launch switch
// and `--device auto`. The CPU parts always run; the GPU parts report "skipped" without a GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/optim.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/sgd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/focal.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"
#include "tensor/random.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

using V = std::vector<float>;

bool no_gpu() {
  if (device::cuda_device_count() > 0) return false;
  MESSAGE("skipped: no GPU answered");
  return true;
}

Tensor labels(std::vector<int32_t> v, Shape s, Device d = Device::cpu()) {
  return Tensor::from_vector_i32(v, s).to(d);
}

// Runs `steps` Adam steps on `params` with gradients g_k = base · (1 + k) (fresh tensors each
// step, like a backward pass makes), and returns the parameters on the host.
std::vector<std::vector<float>> adam_run(const std::vector<Tensor>& params, const std::vector<Tensor>& base,
                                         int steps) {
  optim::NamedParams named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back("p" + std::to_string(i), params[i]);
  optim::AdamOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.01;
  optim::Adam opt(named, o);
  for (int k = 0; k < steps; ++k) {
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor g = Tensor::empty(base[i].shape(), base[i].dtype(), params[i].device());
      g.copy_(ops::mul(base[i], 1.0 + k));
      params[i].set_grad(g);
    }
    opt.step();
  }
  std::vector<std::vector<float>> out;
  for (const Tensor& p : params) out.push_back(p.to_vector());
  return out;
}

double max_rel_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  double num = 0, den = 0;
  for (size_t t = 0; t < a.size(); ++t)
    for (size_t i = 0; i < a[t].size(); ++i) {
      num = std::max(num, double(std::fabs(a[t][i] - b[t][i])));
      den = std::max(den, double(std::fabs(b[t][i])));
    }
  return num / std::max(den, 1e-12);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("deferred errors: a no-op without a CUDA device; CPU ops keep their immediate errors") {
  if (device::cuda_device_count() == 0) {
    CHECK_NOTHROW(device::raise_deferred_errors(0));
  }
  CHECK_NOTHROW(device::raise_deferred_errors(-1));
  CHECK_NOTHROW(device::raise_deferred_errors(64));
  CHECK_ERROR(ops::one_hot(labels({0, 3}, {2}), 3), "one_hot: label 3 at position 1 is out of range [0, 3)");
  CHECK_ERROR(ops::cross_entropy(Tensor::zeros({2, 3}), labels({0, 4}, {2})),
              "cross_entropy: target value 4 at flat index 1 is out of range [0, 3)");
  CHECK(std::string(device::deferred_error_message(device::DeferredError::one_hot_label)) ==
        "one_hot: a label outside [0, C) was seen at or before this point");
  for (int k = 0; k < int(device::DeferredError::count); ++k) {
    const std::string m = device::deferred_error_message(device::DeferredError(k));
    CHECK(m.find("at or before this point") != std::string::npos);
  }
}

TEST_CASE("pin_memory: same values on the host; *this without a GPU; CPU tensors only") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor p = x.pin_memory();
  CHECK(p.device().is_cpu());
  CHECK(p.shape() == x.shape());
  CHECK(p.to_vector() == x.to_vector());
  if (device::cuda_device_count() == 0) {
    CHECK(p.same(x));
    CHECK_FALSE(p.is_pinned());
  } else {
    CHECK(p.is_pinned());
    CHECK(p.is_contiguous());
    CHECK(p.pin_memory().same(p));
  }
  Tensor t = ops::transpose(x, 0, 1);  // non-contiguous
  Tensor pt = t.pin_memory();
  CHECK(pt.shape() == t.shape());
  CHECK(pt.to_vector() == t.to_vector());
  CHECK(Tensor::empty({0}).pin_memory().numel() == 0);
  CHECK(p.to(Device::cpu(), true).same(p));  // nothing to upload
  CHECK_FALSE(x.is_pinned());
}

TEST_CASE("SAKUGA_SYNC_LAUNCHES: on for \"1\" only, read once") {
  CHECK(device::sync_launches_value("1"));
  CHECK_FALSE(device::sync_launches_value(nullptr));
  CHECK_FALSE(device::sync_launches_value(""));
  CHECK_FALSE(device::sync_launches_value("0"));
  CHECK_FALSE(device::sync_launches_value("yes"));
  CHECK(device::sync_launches() == device::sync_launches_value(std::getenv("SAKUGA_SYNC_LAUNCHES")));
}

TEST_CASE("--device auto: a CUDA device only when a context could be created on it") {
  const Device d = Device::parse("auto");
  if (device::cuda_device_count() == 0) {
    CHECK(d.is_cpu());
    CHECK(device::auto_cuda_device() == -1);
  } else {
    CHECK(d.is_cuda() == (device::auto_cuda_device() >= 0));
    if (d.is_cuda()) CHECK(d.index == device::auto_cuda_device());
  }
}

// ---- GPU: skipped without one ---------------------------------------------------------------

TEST_CASE("deferred errors on CUDA: flagged without a sync, raised once naming the op, then reset") {
  if (no_gpu()) return;
  const Device d = Device::cuda(0);
  (void)test::error_of([] { device::raise_deferred_errors(0); });  // start clean, whatever ran before
  Tensor oh = ops::one_hot(labels({0, 5, 1}, {3}, d), 3);  // 5 is out of range: no error yet
  CHECK(oh.to_vector() == V{1, 0, 0, 0, 0, 0, 0, 1, 0});    // its row is zeros
  CHECK_ERROR(device::raise_deferred_errors(0), "one_hot: a label outside [0, C) was seen at or before this point");
  CHECK_NOTHROW(device::raise_deferred_errors(0));  // the flag was reset
  ops::one_hot(labels({0, 1, 2}, {3}, d), 3);
  CHECK_NOTHROW(device::raise_deferred_errors(0));  // good labels set nothing

  Generator gen(3);
  Tensor logits = randn({2, 3}, gen, DType::f32, d);
  CHECK(std::isnan(ops::cross_entropy(logits, labels({0, 7}, {2}, d)).item()));
  CHECK_ERROR(device::raise_deferred_errors(0), "cross_entropy: a target outside [0, C)");
  ops::cross_entropy(logits, labels({0, -100}, {2}, d));  // ignore_index is not an error
  CHECK_NOTHROW(device::raise_deferred_errors(0));
  ops::nll_loss(logits, labels({-1, 0}, {2}, d));
  CHECK_ERROR(device::raise_deferred_errors(0), "nll_loss: a target outside [0, C)");
  Tensor img = randn({1, 3, 2, 2}, gen, DType::f32, d);
  ops::softmax_focal_loss(img, labels({0, 1, 3, 2}, {1, 2, 2}, d));
  CHECK_ERROR(device::raise_deferred_errors(0), "softmax_focal_loss: a target outside [0, C)");

  Tensor x = Tensor::from_vector({1, 2, 3}, {1, 3}).to(d);
  CHECK(ops::gather(x, 1, labels({2, 4}, {1, 2}, d)).to_vector() == V{3, 0});
  CHECK_ERROR(device::raise_deferred_errors(0), "gather: an index outside");
  CHECK(ops::index_select(x, 1, labels({-1, 0}, {2}, d)).to_vector() == V{0, 1});
  CHECK_ERROR(device::raise_deferred_errors(0), "index_select: an index outside");

  // Two kinds at once: one error naming both.
  ops::one_hot(labels({9}, {1}, d), 3);
  ops::gather(x, 1, labels({3}, {1, 1}, d));
  const std::string both = test::error_of([] { device::raise_deferred_errors(0); });
  CHECK(both.find("one_hot:") != std::string::npos);
  CHECK(both.find("gather:") != std::string::npos);
  CHECK_NOTHROW(device::raise_deferred_errors(0));
}

TEST_CASE("pinned upload: to(cuda, true) round trip, sources held until copied, blocks reused safely") {
  if (no_gpu()) return;
  const Device d = Device::cuda(0);
  Generator gen(5);
  Tensor x = randn({3, 1000, 7}, gen);
  Tensor px = x.pin_memory();
  CHECK(px.is_pinned());
  CHECK(device::pinned_stats().current_bytes >= px.nbytes());
  Tensor y = px.to(d, true);
  CHECK(y.is_cuda());
  CHECK(y.to_vector() == x.to_vector());  // the compute stream waited for the upload
  // The blocking path from a pinned source is a plain upload (it waits for the copy).
  CHECK(px.to(d).to_vector() == x.to_vector());
  // Unpinned or non-contiguous sources fall back to to(device).
  CHECK(x.to(d, true).to_vector() == x.to_vector());
  CHECK(ops::transpose(px, 0, 1).to(d, true).to_vector() == ops::transpose(x, 0, 1).to_vector());

  // Many uploads whose pinned sources and device targets are dropped at once: the source is
  // held until its copy has completed and a freed target is reused only after its users.
  std::vector<float> sums;
  for (int k = 0; k < 40; ++k) {
    Tensor src = Tensor::full({256, 257}, double(k)).pin_memory();
    Tensor dst = src.to(d, true);
    src = Tensor();  // the host lets go at once
    sums.push_back(ops::sum(dst).to_vector()[0]);
  }
  for (int k = 0; k < 40; ++k) CHECK(sums[size_t(k)] == float(k) * 256 * 257);
  device::synchronize(0);
  CHECK(device::copies_in_flight(0) == 0);
}

TEST_CASE("optimizer tables stay on the device and follow re-created parameters") {
  if (no_gpu()) return;
#ifdef SAKUGA_WITH_CUDA
  const Device d = Device::cuda(0);
  Generator gen(11);
  const std::vector<Shape> shapes = {{70001}, {3, 5}, {2, 3, 4, 4}};
  std::vector<Tensor> init, base;
  for (const Shape& s : shapes) {
    init.push_back(randn(s, gen));
    base.push_back(randn(s, gen, DType::f32, Device::cpu(), 0.0, 0.5));
  }
  auto on = [&](Device dev, const std::vector<Tensor>& ts) {
    std::vector<Tensor> out;
    for (const Tensor& t : ts) out.push_back(t.to(dev).detach().clone().detach());
    return out;
  };
  const auto ref = adam_run(on(Device::cpu(), init), base, 3);

  // Fixed gradient tensors: the same pointers every step → one upload for the whole run.
  std::vector<Tensor> ps = on(d, init), gs = on(d, base);
  optim::NamedParams named;
  for (size_t i = 0; i < ps.size(); ++i) named.emplace_back("p" + std::to_string(i), ps[i]);
  optim::SGD sgd(named, optim::SgdOptions{0.1});
  for (size_t i = 0; i < ps.size(); ++i) ps[i].set_grad(gs[i]);
  sgd.step();
  const size_t after_first = kernels::cuda::optim_table_uploads();
  for (int k = 0; k < 3; ++k) sgd.step();
  CHECK(kernels::cuda::optim_table_uploads() == after_first);
  sgd.set_lr(0.01);  // a new lr is a kernel argument, not a new table
  sgd.step();
  CHECK(kernels::cuda::optim_table_uploads() == after_first);

  // Parameters re-created (new pointers; the old ones are kept alive so the addresses must
  // differ) → the next step uploads and uses the new table: the results equal the CPU
  // reference (a stale table would update the old tensors and leave the new ones unchanged).
  std::vector<std::vector<Tensor>> alive;
  for (int round = 0; round < 2; ++round) {
    alive.push_back(on(d, init));
    const size_t before = kernels::cuda::optim_table_uploads();
    const auto got = adam_run(alive.back(), base, 3);
    CHECK(kernels::cuda::optim_table_uploads() > before);
    CHECK(max_rel_diff(got, ref) <= 1e-5);
  }

  // More distinct per-step scalar sets (one lr per group) than one launch's kernel arguments
  // hold (64): the list is split over several launches, each with its own table.
  auto many_groups = [&](Device dev) {
    Generator g2(12);
    std::vector<optim::ParamGroup> groups;
    std::vector<Tensor> ps2;
    for (int k = 0; k < 70; ++k) {
      Tensor p = randn({5 + k}, g2).to(dev).detach();
      ps2.push_back(p);
      optim::ParamGroup grp;
      grp.params.emplace_back("q" + std::to_string(k), p);
      grp.lr = 0.001 * (k + 1);
      groups.push_back(grp);
    }
    optim::Adam opt(groups, optim::AdamOptions{});
    for (int step = 0; step < 2; ++step) {
      Generator g3(100 + uint64_t(step));
      for (Tensor& p : ps2) p.set_grad(randn(p.shape(), g3).to(dev));
      opt.step();
    }
    std::vector<std::vector<float>> out;
    for (const Tensor& p : ps2) out.push_back(p.to_vector());
    return out;
  };
  CHECK(max_rel_diff(many_groups(d), many_groups(Device::cpu())) <= 1e-5);
#endif
}

TEST_CASE("SAKUGA_SYNC_LAUNCHES: kernels still run when launches are synchronised") {
  if (no_gpu()) return;
  INFO("sync launches: ", device::sync_launches() ? "on" : "off");
  Generator gen(2);
  Tensor x = randn({64, 33}, gen, DType::f32, Device::cuda(0));
  Tensor y = ops::softmax_focal_loss(x, labels(std::vector<int32_t>(64, 1), {64}, Device::cuda(0)));
  CHECK(std::isfinite(y.item()));
}

}  // TEST_SUITE
