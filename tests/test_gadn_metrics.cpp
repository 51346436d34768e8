// Disentanglement metrics (nets/gadn/metrics.h): hand-computed distances, and naive Bayes on codes
// that keep one factor and drop another.
#include <doctest/doctest.h>

#include <cmath>

#include "nets/gadn/metrics.h"
#include "tensor/random.h"

using namespace sakuga;

TEST_SUITE("unit") {

TEST_CASE("gadn metrics: distance to the group centre by hand") {
  // Two groups on a line: {0, 2} around 1 and {10} alone; whole set centre 4.
  gadn::Codes c{3, 2, {0, 5, 2, 5, 10, 5}};
  CHECK(gadn::mean_distance_to_centre(c, 1, {0, 0, 1}) == doctest::Approx((1 + 1 + 0) / 3.0));
  CHECK(gadn::mean_distance_to_centre(c, 0, {0, 0, 0}) == doctest::Approx((4 + 2 + 6) / 3.0));
  CHECK_THROWS(gadn::mean_distance_to_centre(c, 2, {0, 0}));
}

TEST_CASE("gadn metrics: naive Bayes reads the kept factor and not the purged one") {
  // 400 codes, Z = 4: dims 0, 1 encode `kept` (4 classes, well apart), dims 2, 3 are noise;
  // `purged` (8 classes) is independent of the codes.
  const int64_t n = 400;
  Generator g(7);
  std::vector<float> noise = randn({n, 4}, g).to_vector();
  gadn::Codes c{n, 4, std::vector<float>(size_t(n * 4))};
  std::vector<int> kept(static_cast<size_t>(n)), purged(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    kept[size_t(i)] = int(i % 4);
    purged[size_t(i)] = int((i * 7 / 3) % 8);
    for (int64_t j = 0; j < 4; ++j) c.values[size_t(i * 4 + j)] = noise[size_t(i * 4 + j)] * 0.2f;
    c.values[size_t(i * 4)] += float(3 * (i % 4));
    c.values[size_t(i * 4 + 1)] -= float(2 * (i % 4));
  }
  auto k = gadn::naive_bayes(c, 2, kept);
  CHECK(k.classes == 4);
  CHECK(k.top1 > 0.98);
  CHECK(k.avg_prob > 0.95);
  CHECK(k.avg_rank < 1.05);
  auto p = gadn::naive_bayes(c, 4, purged);
  CHECK(p.top1 < 0.3);                  // chance is 1/8
  CHECK(p.avg_rank > 3.0);              // chance is 4.5
  CHECK(p.avg_prob < 0.25);
  Json t = gadn::disentanglement_table(c, {{"kept", kept}, {"purged", purged}});
  CHECK(t["naive_bayes"]["kept"]["2"]["top1"].get<double>() == doctest::Approx(k.top1));
  CHECK(t["distance"]["kept"]["2"].get<double>() < t["distance"]["whole"]["2"].get<double>() / 5);
  const std::string text = gadn::format_disentanglement_table(t);
  CHECK(text.find("Table 7") != std::string::npos);
  CHECK(text.find("purged") != std::string::npos);
}

}  // TEST_SUITE
