#include "nets/redraw/cluster.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "kernels/common.h"

namespace sakuga::redraw {

ClusterMethod parse_cluster_method(const std::string& s, const std::string& where) {
  if (s == "kmeans") return ClusterMethod::kmeans;
  if (s == "agglomerative") return ClusterMethod::agglomerative;
  SAKUGA_FAIL(where, ": expected kmeans or agglomerative, got '", s, "'");
}

const char* cluster_method_name(ClusterMethod m) { return m == ClusterMethod::kmeans ? "kmeans" : "agglomerative"; }

std::vector<int> renumber(const std::vector<int>& labels) {
  std::map<int, int> ids;
  std::vector<int> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    auto it = ids.find(labels[i]);
    if (it == ids.end()) it = ids.emplace(labels[i], int(ids.size())).first;
    out[i] = it->second;
  }
  return out;
}

namespace {

// splitmix64: a small, fully specified stream (std::uniform_*_distribution is not portable).
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
};

double sq_dist(const float* a, const float* b, int64_t dim) {
  double s = 0;
  for (int64_t d = 0; d < dim; ++d) {
    const double t = double(a[d]) - double(b[d]);
    s += t * t;
  }
  return s;
}

void check_rows(const std::vector<float>& rows, int64_t n, int64_t dim, const char* what) {
  SAKUGA_CHECK(n >= 1 && dim >= 1 && int64_t(rows.size()) == n * dim, what, ": expected ", n, " x ", dim,
               " values, got ", rows.size());
}

}  // namespace

std::vector<int> kmeans(const std::vector<float>& rows, int64_t n, int64_t dim, int k, uint64_t seed, int restarts,
                        int max_iters) {
  check_rows(rows, n, dim, "kmeans");
  SAKUGA_CHECK(k >= 1, "kmeans: k must be at least 1, got ", k);
  SAKUGA_CHECK(restarts >= 1 && max_iters >= 1, "kmeans: restarts and max_iters must be at least 1");
  k = int(std::min<int64_t>(k, n));
  SplitMix rng{seed};
  std::vector<int> best;
  double best_inertia = std::numeric_limits<double>::infinity();
  std::vector<double> centers(static_cast<size_t>(k * dim)), dmin(static_cast<size_t>(n));
  std::vector<int> assign(static_cast<size_t>(n));
  for (int r = 0; r < restarts; ++r) {
    // k-means++ seeding: the first centre uniform, each next one with probability ∝ D².
    int64_t first = int64_t(rng.uniform() * double(n));
    first = std::min(first, n - 1);
    std::vector<std::vector<float>> chosen{std::vector<float>(rows.begin() + first * dim, rows.begin() + (first + 1) * dim)};
    for (int64_t i = 0; i < n; ++i) dmin[size_t(i)] = sq_dist(&rows[size_t(i * dim)], chosen[0].data(), dim);
    while (int(chosen.size()) < k) {
      double total = 0;
      for (double v : dmin) total += v;
      int64_t pick = n - 1;
      if (total > 0) {
        const double u = rng.uniform() * total;
        double acc = 0;
        for (int64_t i = 0; i < n; ++i) {
          acc += dmin[size_t(i)];
          if (acc > u) {
            pick = i;
            break;
          }
        }
      } else {  // every row sits on a centre: take the first row not chosen yet (duplicates)
        pick = int64_t(chosen.size());
      }
      chosen.emplace_back(rows.begin() + pick * dim, rows.begin() + (pick + 1) * dim);
      for (int64_t i = 0; i < n; ++i)
        dmin[size_t(i)] = std::min(dmin[size_t(i)], sq_dist(&rows[size_t(i * dim)], chosen.back().data(), dim));
    }
    for (int c = 0; c < k; ++c)
      for (int64_t d = 0; d < dim; ++d) centers[size_t(c * dim + d)] = chosen[size_t(c)][size_t(d)];
    // Lloyd's iterations: nearest centre (ties: the lower index), then the means.
    std::fill(assign.begin(), assign.end(), -1);
    for (int it = 0; it < max_iters; ++it) {
      bool changed = false;
      for (int64_t i = 0; i < n; ++i) {
        int bc = 0;
        double bd = std::numeric_limits<double>::infinity();
        for (int c = 0; c < k; ++c) {
          double s = 0;
          for (int64_t d = 0; d < dim; ++d) {
            const double t = double(rows[size_t(i * dim + d)]) - centers[size_t(c * dim + d)];
            s += t * t;
          }
          if (s < bd) {
            bd = s;
            bc = c;
          }
        }
        dmin[size_t(i)] = bd;
        if (assign[size_t(i)] != bc) changed = true;
        assign[size_t(i)] = bc;
      }
      // An empty cluster takes the row farthest from its centre (the first such row).
      std::vector<int64_t> count(static_cast<size_t>(k), 0);
      for (int a : assign) ++count[size_t(a)];
      for (int c = 0; c < k; ++c)
        if (count[size_t(c)] == 0) {
          int64_t far = -1;  // a cluster of one row keeps it (n >= k: some cluster has two)
          for (int64_t i = 0; i < n; ++i)
            if (count[size_t(assign[size_t(i)])] > 1 && (far < 0 || dmin[size_t(i)] > dmin[size_t(far)])) far = i;
          --count[size_t(assign[size_t(far)])];
          assign[size_t(far)] = c;
          count[size_t(c)] = 1;
          dmin[size_t(far)] = 0;
          changed = true;
        }
      std::fill(centers.begin(), centers.end(), 0.0);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t d = 0; d < dim; ++d) centers[size_t(assign[size_t(i)] * dim + d)] += rows[size_t(i * dim + d)];
      for (int c = 0; c < k; ++c)
        for (int64_t d = 0; d < dim; ++d) centers[size_t(c * dim + d)] /= double(std::max<int64_t>(count[size_t(c)], 1));
      if (!changed) break;
    }
    double inertia = 0;
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t d = 0; d < dim; ++d) {
        const double t = double(rows[size_t(i * dim + d)]) - centers[size_t(assign[size_t(i)] * dim + d)];
        s += t * t;
      }
      inertia += s;
    }
    if (inertia < best_inertia) {
      best_inertia = inertia;
      best = assign;
    }
  }
  return renumber(best);
}

std::vector<int> agglomerative(const std::vector<float>& rows, int64_t n, int64_t dim, int k, double threshold) {
  check_rows(rows, n, dim, "agglomerative");
  SAKUGA_CHECK(k >= 0, "agglomerative: k must not be negative, got ", k);
  SAKUGA_CHECK(k > 0 || threshold > 0, "agglomerative: give a number of clusters or a distance threshold > 0");
  // Cosine distances of the normalised rows.
  std::vector<double> unit(size_t(n * dim));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t d = 0; d < dim; ++d) s += double(rows[size_t(i * dim + d)]) * rows[size_t(i * dim + d)];
    const double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    for (int64_t d = 0; d < dim; ++d) unit[size_t(i * dim + d)] = rows[size_t(i * dim + d)] * inv;
  }
  std::vector<double> dist(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < dim; ++d) dot += unit[size_t(i * dim + d)] * unit[size_t(j * dim + d)];
      dist[size_t(i * n + j)] = dist[size_t(j * n + i)] = 1.0 - dot;
    }
  std::vector<int64_t> size(static_cast<size_t>(n), 1);
  std::vector<int> owner(static_cast<size_t>(n));  // the active cluster (its representative row) each row belongs to
  for (int64_t i = 0; i < n; ++i) owner[size_t(i)] = int(i);
  std::vector<int64_t> active(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) active[size_t(i)] = i;
  while (int64_t(active.size()) > std::max(k, 1)) {
    double best = std::numeric_limits<double>::infinity();
    size_t bi = 0, bj = 1;
    for (size_t a = 0; a < active.size(); ++a)
      for (size_t b = a + 1; b < active.size(); ++b) {
        const double d = dist[size_t(active[a] * n + active[b])];
        if (d < best) {
          best = d;
          bi = a;
          bj = b;
        }
      }
    if (k == 0 && best > threshold) break;
    const int64_t i = active[bi], j = active[bj];
    // Average linkage (Lance–Williams): d(i ∪ j, m) = (|i|·d(i, m) + |j|·d(j, m)) / (|i| + |j|).
    for (int64_t m : active) {
      if (m == i || m == j) continue;
      const double d = (double(size[size_t(i)]) * dist[size_t(i * n + m)] + double(size[size_t(j)]) * dist[size_t(j * n + m)]) /
                       double(size[size_t(i)] + size[size_t(j)]);
      dist[size_t(i * n + m)] = dist[size_t(m * n + i)] = d;
    }
    size[size_t(i)] += size[size_t(j)];
    for (int64_t r = 0; r < n; ++r)
      if (owner[size_t(r)] == int(j)) owner[size_t(r)] = int(i);
    active.erase(active.begin() + std::ptrdiff_t(bj));
  }
  return renumber(owner);
}

namespace {

struct Contingency {
  std::map<std::pair<int, int>, int64_t> cells;
  std::map<int, int64_t> rows, cols;  // true class sizes, predicted cluster sizes
  int64_t n = 0;
};

Contingency contingency(const std::vector<int>& truth, const std::vector<int>& pred, const char* what) {
  SAKUGA_CHECK(!truth.empty() && truth.size() == pred.size(), what, ": expected two labelings of the same length >= 1, got ",
               truth.size(), " and ", pred.size());
  Contingency c;
  c.n = int64_t(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    ++c.cells[{truth[i], pred[i]}];
    ++c.rows[truth[i]];
    ++c.cols[pred[i]];
  }
  return c;
}

double entropy(const std::map<int, int64_t>& sizes, int64_t n) {
  double h = 0;
  for (const auto& [k, v] : sizes) {
    const double p = double(v) / double(n);
    h -= p * std::log(p);
  }
  return h;
}

}  // namespace

double nmi(const std::vector<int>& truth, const std::vector<int>& pred) {
  const Contingency c = contingency(truth, pred, "nmi");
  if (c.rows.size() == 1 && c.cols.size() == 1) return 1.0;  // neither splits the data: a perfect match
  double mi = 0;
  const double n = double(c.n);
  for (const auto& [k, v] : c.cells)
    mi += double(v) / n * (std::log(double(v)) + std::log(n) - std::log(double(c.rows.at(k.first))) -
                           std::log(double(c.cols.at(k.second))));
  mi = std::max(mi, 0.0);
  if (std::fabs(mi) <= 1e-8) return 0.0;
  const double norm = std::max(0.5 * (entropy(c.rows, c.n) + entropy(c.cols, c.n)), std::numeric_limits<double>::epsilon());
  return mi / norm;
}

double ari(const std::vector<int>& truth, const std::vector<int>& pred) {
  const Contingency c = contingency(truth, pred, "ari");
  // sklearn's pair confusion matrix (ordered pairs).
  double squares = 0, rows2 = 0, cols2 = 0;
  for (const auto& [k, v] : c.cells) squares += double(v) * double(v);
  for (const auto& [k, v] : c.rows) rows2 += double(v) * double(v);
  for (const auto& [k, v] : c.cols) cols2 += double(v) * double(v);
  const double n = double(c.n);
  const double tp = squares - n, fp = cols2 - squares, fn = rows2 - squares;
  const double tn = n * n - fp - fn - squares;
  if (fn == 0 && fp == 0) return 1.0;
  return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

double purity(const std::vector<int>& truth, const std::vector<int>& pred) {
  const Contingency c = contingency(truth, pred, "purity");
  std::map<int, int64_t> best;
  for (const auto& [k, v] : c.cells) best[k.second] = std::max(best[k.second], v);
  int64_t s = 0;
  for (const auto& [k, v] : best) s += v;
  return double(s) / double(c.n);
}

}  // namespace sakuga::redraw
