#include "nets/gadn/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/common.h"

namespace sakuga::gadn {

namespace {

int64_t clamp_dims(const Codes& c, int64_t dims) {
  SAKUGA_CHECK(c.n > 0 && c.z > 0 && int64_t(c.values.size()) == c.n * c.z, "gadn metrics: bad code matrix ", c.n,
               "x", c.z);
  return dims <= 0 ? c.z : std::min(dims, c.z);
}

// The naive-Bayes split: a fixed pseudo-random half of the rows (a hash of the row index), so an
// ordered set (labels cycling through the rows) does not fall into one half by parity.
bool fitting_row(int64_t i) {
  uint64_t z = uint64_t(i) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return ((z ^ (z >> 31)) & 1) == 0;
}

void check_labels(const Codes& c, const std::vector<int>& labels, const char* what) {
  SAKUGA_CHECK(int64_t(labels.size()) == c.n, "gadn metrics: ", labels.size(), " ", what, " for ", c.n, " codes");
  for (int v : labels) SAKUGA_CHECK(v >= 0, "gadn metrics: negative ", what, " ", v);
}

}  // namespace

double mean_distance_to_centre(const Codes& c, int64_t dims, const std::vector<int>& groups) {
  const int64_t d = clamp_dims(c, dims);
  check_labels(c, groups, "groups");
  const int k = *std::max_element(groups.begin(), groups.end()) + 1;
  std::vector<double> centre(size_t(k) * size_t(d), 0.0);
  std::vector<int64_t> count(size_t(k), 0);
  for (int64_t i = 0; i < c.n; ++i) {
    const int g = groups[size_t(i)];
    ++count[size_t(g)];
    for (int64_t j = 0; j < d; ++j) centre[size_t(g) * size_t(d) + size_t(j)] += c.row(i)[j];
  }
  for (int g = 0; g < k; ++g)
    if (count[size_t(g)])
      for (int64_t j = 0; j < d; ++j) centre[size_t(g) * size_t(d) + size_t(j)] /= double(count[size_t(g)]);
  double sum = 0;
  for (int64_t i = 0; i < c.n; ++i) {
    const int g = groups[size_t(i)];
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double e = c.row(i)[j] - centre[size_t(g) * size_t(d) + size_t(j)];
      s += e * e;
    }
    sum += std::sqrt(s);
  }
  return sum / double(c.n);
}

NaiveBayesScore naive_bayes(const Codes& c, int64_t dims, const std::vector<int>& classes) {
  const int64_t d = clamp_dims(c, dims);
  check_labels(c, classes, "classes");
  SAKUGA_CHECK(c.n >= 2, "gadn metrics: naive Bayes needs at least 2 codes");
  const int k = *std::max_element(classes.begin(), classes.end()) + 1;
  // Per-class mean and variance on the even rows.
  std::vector<double> mean(size_t(k) * size_t(d), 0.0), var(size_t(k) * size_t(d), 0.0);
  std::vector<int64_t> count(size_t(k), 0);
  for (int64_t i = 0; i < c.n; ++i) {
    if (!fitting_row(i)) continue;
    const int y = classes[size_t(i)];
    ++count[size_t(y)];
    for (int64_t j = 0; j < d; ++j) mean[size_t(y) * size_t(d) + size_t(j)] += c.row(i)[j];
  }
  for (int y = 0; y < k; ++y)
    for (int64_t j = 0; j < d; ++j)
      if (count[size_t(y)]) mean[size_t(y) * size_t(d) + size_t(j)] /= double(count[size_t(y)]);
  double var_sum = 0;
  int64_t var_n = 0;
  for (int64_t i = 0; i < c.n; ++i) {
    if (!fitting_row(i)) continue;
    const int y = classes[size_t(i)];
    for (int64_t j = 0; j < d; ++j) {
      const double e = c.row(i)[j] - mean[size_t(y) * size_t(d) + size_t(j)];
      var[size_t(y) * size_t(d) + size_t(j)] += e * e;
      var_sum += e * e;
      ++var_n;
    }
  }
  const double floor = 1e-6 * std::max(var_sum / double(std::max<int64_t>(var_n, 1)), 1e-12);
  std::vector<double> log_prior(size_t(k), -INFINITY);
  int64_t fitted = 0;
  for (int y = 0; y < k; ++y) fitted += count[size_t(y)];
  for (int y = 0; y < k; ++y) {
    if (!count[size_t(y)]) continue;  // a class never seen in the fitting half gets probability 0
    log_prior[size_t(y)] = std::log(double(count[size_t(y)]) / double(fitted));
    for (int64_t j = 0; j < d; ++j) {
      double& v = var[size_t(y) * size_t(d) + size_t(j)];
      v = std::max(v / double(count[size_t(y)]), floor);
    }
  }
  // Score the odd rows: log-likelihoods → posteriors (log-sum-exp), rank of the true class.
  NaiveBayesScore s;
  s.classes = k;
  int64_t scored = 0;
  std::vector<double> ll(static_cast<size_t>(k));
  for (int64_t i = 0; i < c.n; ++i) {
    if (fitting_row(i)) continue;
    for (int y = 0; y < k; ++y) {
      if (!std::isfinite(log_prior[size_t(y)])) {
        ll[size_t(y)] = -INFINITY;
        continue;
      }
      double l = log_prior[size_t(y)];
      for (int64_t j = 0; j < d; ++j) {
        const double v = var[size_t(y) * size_t(d) + size_t(j)];
        const double e = c.row(i)[j] - mean[size_t(y) * size_t(d) + size_t(j)];
        l -= 0.5 * (std::log(2 * M_PI * v) + e * e / v);
      }
      ll[size_t(y)] = l;
    }
    const double top = *std::max_element(ll.begin(), ll.end());
    double z = 0;
    for (double l : ll) z += std::exp(l - top);
    const int truth = classes[size_t(i)];
    const double mine = ll[size_t(truth)];
    s.avg_prob += std::exp(mine - top) / z;
    int rank = 1;
    for (int y = 0; y < k; ++y)
      if (y != truth && (ll[size_t(y)] > mine || (ll[size_t(y)] == mine && y < truth))) ++rank;
    s.avg_rank += rank;
    s.top1 += rank == 1;
    ++scored;
  }
  SAKUGA_CHECK(scored > 0 && fitted > 0, "gadn metrics: too few codes (", c.n, ") for the naive-Bayes split");
  s.avg_prob /= double(scored);
  s.avg_rank /= double(scored);
  s.top1 /= double(scored);
  return s;
}

Json disentanglement_table(const Codes& c, const std::vector<std::pair<std::string, std::vector<int>>>& factors) {
  const std::vector<std::pair<std::string, int64_t>> dims{{"2", 2}, {"8", 8}, {"all", c.z}};
  Json dist, nb;
  const std::vector<int> whole(size_t(c.n), 0);
  for (const auto& [key, d] : dims) dist["whole"][key] = mean_distance_to_centre(c, d, whole);
  for (const auto& [name, labels] : factors)
    for (const auto& [key, d] : dims) {
      dist[name][key] = mean_distance_to_centre(c, d, labels);
      const NaiveBayesScore s = naive_bayes(c, d, labels);
      nb[name][key] = {{"avg_prob", s.avg_prob}, {"avg_rank", s.avg_rank}, {"top1", s.top1},
                       {"chance", s.chance_top1()}, {"classes", s.classes}};
    }
  return {{"distance", dist}, {"naive_bayes", nb}, {"codes", c.n}, {"z", c.z}};
}

std::string format_disentanglement_table(const Json& t) {
  std::string out;
  const std::vector<std::string> dims{"2", "8", "all"};
  out += fmt::format("{} codes of {} dimensions (naive Bayes: fitted on a fixed half of them, scored on the other)\n",
                     t["codes"].get<int64_t>(), t["z"].get<int64_t>());
  out += "\nmean distance to the group centre (Table 4)\n";
  out += fmt::format("  {:<14}{:>12}{:>12}{:>12}\n", "by", "first 2", "first 8", "all");
  for (const auto& [name, row] : t["distance"].items())
    out += fmt::format("  {:<14}{:>12.4f}{:>12.4f}{:>12.4f}\n", name == "whole" ? "whole set" : name,
                       row["2"].get<double>(), row["8"].get<double>(), row["all"].get<double>());
  const std::vector<std::pair<std::string, std::string>> metrics{
      {"avg_prob", "average probability of the correct class (Table 5)"},
      {"avg_rank", "average rank of the correct class, 1 = best (Table 6)"},
      {"top1", "top-1 accuracy (Table 7)"}};
  for (const auto& [key, title] : metrics) {
    out += "\n" + title + "\n";
    out += fmt::format("  {:<14}{:>12}{:>12}{:>12}{:>12}\n", "factor", "first 2", "first 8", "all", "chance");
    for (const auto& [name, row] : t["naive_bayes"].items()) {
      const double k = row["all"]["classes"].get<double>();
      const double chance = key == "avg_rank" ? (k + 1) / 2 : 1 / k;
      out += fmt::format("  {:<14}{:>12.4f}{:>12.4f}{:>12.4f}{:>12.4f}\n", name, row["2"][key].get<double>(),
                         row["8"][key].get<double>(), row["all"][key].get<double>(), chance);
    }
  }
  return out;
}

}  // namespace sakuga::gadn
