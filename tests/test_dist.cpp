// The data-parallel pieces that one process can check (the two-rank runs are tests/dist/):
// sharded random streams draw the one-process numbers, synchronised BatchNorm in a world of one
// is batch_norm, the grad-ready hook fires once per leaf with its final gradient, gradient
// buckets leave the gradients as they are in a world of one, a family's default batch slice,
// and NCCL in a world of one on the GPU (skipped without one).
#include <doctest/doctest.h>

#include <cstring>

#include "kernels/comm.h"
#include "kernels/device.h"
#include "nets/harness/family.h"
#include "tensor/autograd.h"
#include "tensor/dist.h"
#include "tensor/ops.h"
#include "tensor/ops/norm.h"
#include "tensor/random.h"

using namespace sakuga;

namespace {

double max_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector_f64(), y = b.to_vector_f64();
  REQUIRE(x.size() == y.size());
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(x[i] - y[i]));
  return d;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  Tensor x = a.contiguous().cpu(), y = b.contiguous().cpu();
  return x.shape() == y.shape() && std::memcmp(x.raw(), y.raw(), x.nbytes()) == 0;
}

// A family whose batch has a per-sample tensor and a scalar-free second one.
class SliceFamily : public harness::Family {
 public:
  SliceFamily() : Family(Config(Json::object()), Device::cpu()) {}
  harness::Batch make_batch(int64_t step) const override {
    Tensor x = Tensor::zeros({6, 2});
    float* p = x.data<float>();
    for (int i = 0; i < 12; ++i) p[i] = float(step * 100 + i);
    return {{"x", x}, {"label", Tensor::from_vector_i32({0, 1, 2, 3, 4, 5}, {6})}};
  }
  void step(const harness::Batch&, harness::StepContext&) override {}
  int64_t batch_size() const override { return 6; }
};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("dist: the ranks' sharded draws are the one-process draw of the whole batch") {
  Generator one(7);
  one.offset = 5;  // as after earlier draws
  Tensor whole = randn({6, 4}, one);
  Tensor dropped = ops::dropout(Tensor::ones({6, 3}), 0.5, true, one);
  for (uint64_t world : {2, 3}) {
    std::vector<Tensor> parts, drops;
    uint64_t end_offset = 0;
    for (uint64_t r = 0; r < world; ++r) {
      Generator g(7);
      g.offset = 5;
      g.shard = r;
      g.shards = world;
      const int64_t rows = 6 / int64_t(world);
      parts.push_back(randn({rows, 4}, g));
      drops.push_back(ops::dropout(Tensor::ones({rows, 3}), 0.5, true, g));
      end_offset = g.offset;
    }
    CHECK(same_bits(ops::concat(parts, 0), whole));
    CHECK(same_bits(ops::concat(drops, 0), dropped));
    CHECK(end_offset == one.offset);  // the stream moves on as in one process
  }
}

TEST_CASE("dist: synchronised BatchNorm in a world of one is batch_norm (values, gradients, running stats)") {
  auto local = dist::make_local();
  Generator g(3);
  Tensor x0 = randn({3, 4, 5, 2}, g) * 2.0 + 0.5;
  Tensor w0 = randn({4}, g), b0 = randn({4}, g);
  auto run = [&](bool sync) {
    Tensor x = x0.clone().detach(), w = w0.clone().detach(), b = b0.clone().detach();
    x.set_requires_grad(true);
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    Tensor rm = Tensor::zeros({4}), rv = Tensor::ones({4});
    Tensor y = sync ? ops::sync_batch_norm(x, w, b, rm, rv, 0.1, 1e-5, *local)
                    : ops::batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
    Generator ug(11);  // the same upstream gradient both times
    Tensor up = randn(y.shape(), ug);
    ops::sum(y * up).backward();
    return std::vector<Tensor>{y, x.grad(), w.grad(), b.grad(), rm, rv};
  };
  std::vector<Tensor> a = run(false), s = run(true);
  const char* names[] = {"y", "dx", "dw", "db", "running_mean", "running_var"};
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(names[i]);
    CHECK(max_diff(a[i], s[i]) < 1e-5);
  }
}

TEST_CASE("dist: the grad-ready hook fires once per leaf, after its last contribution") {
  Tensor a = Tensor::full({3}, 2.0);
  Tensor b = Tensor::full({3}, 3.0);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor loss = ops::sum(a * b + a * a + b);  // a used three times, b twice
  std::vector<std::pair<const void*, std::vector<double>>> seen;
  {
    GradReadyScope scope([&](const Tensor& leaf) { seen.push_back({&leaf.impl(), leaf.grad().to_vector_f64()}); });
    loss.backward();
  }
  REQUIRE(seen.size() == 2);
  for (const auto& [impl, grad] : seen) {
    const Tensor& t = impl == &a.impl() ? a : b;
    CHECK((impl == &a.impl() || impl == &b.impl()));
    CHECK(grad == t.grad().to_vector_f64());  // final when reported
  }
  CHECK(a.grad().to_vector_f64() == std::vector<double>{7, 7, 7});  // b + 2a
  CHECK(b.grad().to_vector_f64() == std::vector<double>{3, 3, 3});  // a + 1
}

TEST_CASE("dist: gradient buckets in a world of one leave the gradients as the plain backward") {
  auto local = dist::make_local();
  Generator g(5);
  std::vector<Tensor> params;
  for (int64_t n : {5, 300, 7, 64}) {
    Tensor p = randn({n}, g);
    p.set_requires_grad(true);
    params.push_back(p);
  }
  Tensor unused = randn({4}, g);
  unused.set_requires_grad(true);
  params.push_back(unused);
  auto loss_of = [&] {
    Tensor l = ops::sum(ops::square(params[0])) + ops::sum(params[1] * 3.0) + ops::sum(ops::exp(params[2]));
    return l + ops::sum(params[3] * params[3] * params[3]);
  };
  loss_of().backward();
  std::vector<std::vector<double>> plain;
  for (int i = 0; i < 4; ++i) plain.push_back(params[size_t(i)].grad().to_vector_f64());
  for (auto& p : params) p.set_grad(Tensor());
  dist::GradBuckets buckets(*local, params, /*bucket_bytes=*/1200);  // several buckets
  CHECK(buckets.buckets() > 1);
  buckets.run([&] { loss_of().backward(); });
  for (int i = 0; i < 4; ++i) CHECK(params[size_t(i)].grad().to_vector_f64() == plain[size_t(i)]);
  CHECK_FALSE(unused.grad().defined());  // a parameter the backward did not reach keeps no gradient
}

TEST_CASE("dist: a family's default batch slice is the slice of every per-sample tensor") {
  SliceFamily f;
  f.parts().stage("s", 3, {});
  harness::Batch whole = f.make_batch(2), part = f.make_batch_slice(2, 2, 4);
  CHECK(part.at("x").shape() == Shape{2, 2});
  CHECK(part.at("x").to_vector_f64() == std::vector<double>{204, 205, 206, 207});
  CHECK(part.at("label").to_vector_i32() == std::vector<int32_t>{2, 3});
  CHECK(same_bits(f.make_batch_slice(2, 0, 6).at("x"), whole.at("x")));
}

TEST_CASE("dist: a world of one outside mpirun") {
  const dist::Launch l = dist::launch_from_env();
  if (l.launched) return;  // the suite itself under a launcher: nothing to say
  CHECK(dist::world().world() == 1);
  CHECK(dist::world().rank() == 0);
  std::vector<double> v{1.5, 2.5};
  dist::all_reduce_sum(dist::world(), v);
  CHECK(v == std::vector<double>{1.5, 2.5});
}

}  // TEST_SUITE

TEST_SUITE("gpu") {

// One GPU: NCCL in a world of one must leave values and gradients as they are (the plain run).
TEST_CASE("dist: NCCL in a world of one on cuda:0 (skipped without a GPU or NCCL)") {
  if (device::cuda_device_count() == 0 || !dist::nccl_built()) {
    MESSAGE("skipped: no GPU answered or sakuga was built without NCCL");
    return;
  }
  dist::Communicator& nccl = dist::for_device(Device::cuda(0), "nccl");
  CHECK(nccl.backend() == "nccl");
  CHECK(nccl.world() == 1);
  Generator g(9);
  Tensor x = randn({1000}, g).to(Device::cuda(0));
  Tensor before = x.cpu();
  dist::all_reduce_mean(nccl, {x});
  CHECK(same_bits(x, before));
  std::vector<Tensor> params;
  for (int64_t n : {17, 4096, 3}) {
    Tensor p = randn({n}, g).to(Device::cuda(0));
    p.set_requires_grad(true);
    params.push_back(p);
  }
  auto loss_of = [&] { return ops::sum(ops::square(params[0])) + ops::sum(params[1] * params[1]) + ops::sum(params[2]); };
  loss_of().backward();
  std::vector<Tensor> plain;
  for (auto& p : params) plain.push_back(p.grad().cpu());
  for (auto& p : params) p.set_grad(Tensor());
  dist::GradBuckets buckets(nccl, params, 4096);
  buckets.run([&] { loss_of().backward(); });
  for (size_t i = 0; i < params.size(); ++i) CHECK(same_bits(params[i].grad(), plain[i]));
}

}  // TEST_SUITE
