// Oracle: the Fréchet distance (FID) and KID against SciPy's sqrtm route and NumPy (reference
// values from tests/oracle/test_frechet.py), plus the eigen-decomposition on a known matrix.
#include <cmath>

#include "data/frechet.h"
#include "tests/oracle_common.h"

using namespace sakuga;

TEST_SUITE("oracle") {
TEST_CASE("oracle_frechet") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    INFO(name, " ", m.dump());
    const Tensor a = test::oracle_tensor(*f, name + ".a"), b = test::oracle_tensor(*f, name + ".b");
    const double want_fid = test::oracle_tensor(*f, name + ".fid").to_vector_f64()[0];
    const double got_fid = data::frechet_distance(data::feature_stats(a), data::feature_stats(b));
    CHECK(std::abs(got_fid - want_fid) <= 1e-6 * std::max(1.0, std::abs(want_fid)));
    // One subset holding every row: the plain unbiased MMD² of the whole sets.
    const double want_kid = test::oracle_tensor(*f, name + ".kid").to_vector_f64()[0];
    const data::KidResult kid = data::kernel_inception_distance(a, b, 1, a.size(0));
    CHECK(std::abs(kid.mean - want_kid) <= 1e-9 + 1e-7 * std::abs(want_kid));
  }
}
}  // TEST_SUITE

TEST_SUITE("data") {
TEST_CASE("frechet: eigen-decomposition, identical sets, and known Gaussians") {
  std::vector<double> m{2, 1, 0, 1, 2, 0, 0, 0, 3};
  const std::vector<double> w = data::symmetric_eigen(m, 3, true);
  CHECK(w[0] == doctest::Approx(1.0));
  CHECK(w[1] == doctest::Approx(3.0));
  CHECK(w[2] == doctest::Approx(3.0));
  // Identical statistics: distance 0. Shifted means, equal covariances: ‖Δμ‖².
  data::FeatureStats s;
  s.count = 10;
  s.dim = 2;
  s.mean = {1, 2};
  s.covariance = {2, 0.5, 0.5, 1};
  CHECK(std::abs(data::frechet_distance(s, s)) < 1e-12);
  data::FeatureStats t = s;
  t.mean = {4, 6};
  CHECK(data::frechet_distance(s, t) == doctest::Approx(25.0));
  // Diagonal covariances: Σ (√a − √b)².
  data::FeatureStats p = s, q = s;
  p.covariance = {4, 0, 0, 9};
  q.covariance = {1, 0, 0, 16};
  CHECK(data::frechet_distance(p, q) == doctest::Approx(1.0 + 1.0));
}
}  // TEST_SUITE
