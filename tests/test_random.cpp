// Random numbers: reproducibility, the Philox stream mapping, distribution moments, and the
// CPU/CUDA agreement (when a GPU answers).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "kernels/device.h"
#include "kernels/philox.h"
#include "kernels/random.h"
#include "tensor/ops/view.h"
#include "tensor/random.h"

using namespace sakuga;

namespace {

struct Moments {
  double mean = 0, std = 0, min = 1e300, max = -1e300;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= double(v.size());
  for (double x : v) m.std += (x - m.mean) * (x - m.mean);
  m.std = std::sqrt(m.std / double(v.size()));
  return m;
}

bool bits_equal(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("random: same seed gives the same numbers, draws advance the offset") {
  Generator a(42), b(42), c(43);
  Tensor x = randn({257}, a), y = randn({257}, b), z = randn({257}, c);
  CHECK(x.to_vector() == y.to_vector());
  CHECK(x.to_vector() != z.to_vector());
  CHECK(a.offset == 257);
  Tensor x2 = randn({257}, a);
  CHECK(a.offset == 514);
  CHECK(x2.to_vector() != x.to_vector());
  // Two draws of 100 equal one draw of 200 (element i of a draw uses counter offset + i).
  Generator d(42), e(42);
  std::vector<float> first = randn({100}, d).to_vector(), second = randn({100}, d).to_vector();
  std::vector<float> both = randn({200}, e).to_vector();
  first.insert(first.end(), second.begin(), second.end());
  CHECK(first == both);
  // manual_seed resets the default generator.
  manual_seed(7);
  std::vector<float> u = rand_uniform({50}, -1, 1).to_vector();
  CHECK(default_generator().offset == 50);
  manual_seed(7);
  CHECK(rand_uniform({50}, -1, 1).to_vector() == u);
}

TEST_CASE("random: CPU randn is philox::normal at counters offset + i") {
  Generator g(2024);
  g.reserve(5);
  std::vector<float> v = randn({1001}, g).to_vector();
  for (size_t i = 0; i < v.size(); ++i) {
    float want = philox::normal(2024, 5 + i);
    REQUIRE_MESSAGE(bits_equal(v[i], want), "element ", i, ": ", v[i], " vs ", want);
  }
  // mean/std are applied in double: mean + std·z.
  Generator h(2024);
  h.reserve(5);
  std::vector<double> w = randn({10}, h, DType::f64, Device::cpu(), 1.5, 0.25).to_vector_f64();
  for (size_t i = 0; i < w.size(); ++i) CHECK(w[i] == 1.5 + 0.25 * double(philox::normal(2024, 5 + i)));
  // Uniform at counter c uses stream word 2c (never a word of a normal draw at another counter).
  Generator k(9);
  std::vector<double> u = rand_uniform({10}, 2.0, 5.0, k, DType::f64).to_vector_f64();
  for (size_t i = 0; i < u.size(); ++i)
    CHECK(u[i] == 2.0 + 3.0 * double(1.0f - philox::uniform(9, 2 * i)));
}

TEST_CASE("random: the pairwise block helpers equal philox::uniform/normal bit for bit") {
  for (uint64_t q = 0; q < 2000; ++q) {
    philox::U4 b = philox::block(77, q);
    REQUIRE(bits_equal(kernels::normal_from_words(b.x, b.y), philox::normal(77, 2 * q)));
    REQUIRE(bits_equal(kernels::normal_from_words(b.z, b.w), philox::normal(77, 2 * q + 1)));
    REQUIRE(bits_equal(kernels::uniform_from_word(b.x), kernels::uniform_at(77, 2 * q)));
    REQUIRE(bits_equal(kernels::uniform_from_word(b.z), kernels::uniform_at(77, 2 * q + 1)));
  }
}

TEST_CASE("random: randn and rand_uniform moments over 1e5 samples") {
  Generator g(1);
  Moments n = moments(randn({100000}, g).to_vector_f64());
  CHECK(std::fabs(n.mean) < 0.015);
  CHECK(std::fabs(n.std - 1.0) < 0.015);
  Moments s = moments(randn({100000}, g, DType::f64, Device::cpu(), -2.0, 3.0).to_vector_f64());
  CHECK(std::fabs(s.mean + 2.0) < 0.045);
  CHECK(std::fabs(s.std - 3.0) < 0.045);
  Moments u = moments(rand_uniform({100000}, -1.0, 3.0, g).to_vector_f64());
  CHECK(u.min >= -1.0);
  CHECK(u.max < 3.0);
  CHECK(std::fabs(u.mean - 1.0) < 0.02);
  CHECK(std::fabs(u.std - 4.0 / std::sqrt(12.0)) < 0.02);
}

TEST_CASE("random: in-place fills, dtypes and bad arguments") {
  // normal_ on a non-contiguous view fills in the view's row-major order.
  Tensor base = Tensor::zeros({4, 6});
  Tensor view = ops::transpose(base, 0, 1);  // (6, 4)
  Generator a(3), b(3);
  normal_(view, 0.0, 1.0, a);
  CHECK(view.contiguous().to_vector() == randn({6, 4}, b).to_vector());
  CHECK(a.offset == 24);
  Tensor t = Tensor::empty({1000});
  uniform_(t, 0.25, 0.5, a);
  for (float v : t.to_vector()) CHECK((v >= 0.25f && v < 0.5f));
  // bf16 on the CPU: the f32 draw rounded.
  Generator c(11), d(11);
  std::vector<float> h = randn({64}, c, DType::bf16).to_vector();
  std::vector<float> f = randn({64}, d).to_vector();
  for (size_t i = 0; i < h.size(); ++i) CHECK(h[i] == float(bf16(f[i])));
  CHECK_THROWS_WITH_AS(randn({3}, a, DType::i32), doctest::Contains("float tensor"), Error);
  CHECK_THROWS_WITH_AS(rand_uniform({3}, 2.0, 1.0, a), doctest::Contains("lo"), Error);
}

TEST_CASE("random: CUDA draws equal the CPU ones") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  for (DType dt : {DType::f32, DType::f64, DType::bf16}) {
    Generator gc(5), gg(5);
    gc.reserve(3);  // odd offset: the first pair is split
    gg.reserve(3);
    std::vector<double> cn = randn({1001}, gc, dt, Device::cpu(), 0.5, 2.0).to_vector_f64();
    std::vector<double> gn = randn({1001}, gg, dt, Device::cuda(), 0.5, 2.0).to_vector_f64();
    for (size_t i = 0; i < cn.size(); ++i) {
      INFO(dtype_name(dt), " normal ", i);
      // log/cos may differ by an ulp or two; in bf16 that can flip one rounding.
      CHECK(std::fabs(cn[i] - gn[i]) <= (dt == DType::bf16 ? 1e-2 : 1e-5) * (1 + std::fabs(cn[i])));
    }
    std::vector<double> cu = rand_uniform({777}, -3, 3, gc, dt).to_vector_f64();
    std::vector<double> gu = rand_uniform({777}, -3, 3, gg, dt, Device::cuda()).to_vector_f64();
    CHECK(cu == gu);
    CHECK(gc.offset == gg.offset);
  }
}

}  // TEST_SUITE
