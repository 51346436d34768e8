// Fréchet distance and KID (frechet.h).
#include "data/frechet.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/parallel.h"
#include "kernels/philox.h"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

namespace sakuga::data {

namespace {

std::vector<double> as_rows(const Tensor& feats, const char* what) {
  SAKUGA_CHECK(feats.defined() && feats.dim() == 2, what, ": expected features (N, D), got ",
               feats.defined() ? shape_str(feats.shape()) : "undefined");
  return feats.to(DType::f64).contiguous().to_vector_f64();
}

// c = a·b for n×n row-major matrices (plain loops: called twice per FID, D ≤ 2048).
std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t n) {
  std::vector<double> c(size_t(n * n), 0.0);
  kernels::cpu::parallel_for(n, 8, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t k = 0; k < n; ++k) {
        const double aik = a[size_t(i * n + k)];
        if (aik == 0) continue;
        for (int64_t j = 0; j < n; ++j) c[size_t(i * n + j)] += aik * b[size_t(k * n + j)];
      }
  });
  return c;
}

}  // namespace

FeatureStats feature_stats(const Tensor& feats) {
  const std::vector<double> x = as_rows(feats, "feature_stats");
  FeatureStats s;
  s.count = feats.size(0);
  s.dim = feats.size(1);
  SAKUGA_CHECK(s.count >= 2, "feature_stats: need at least 2 feature rows for a covariance, got ", s.count);
  const int64_t n = s.count, d = s.dim;
  s.mean.assign(size_t(d), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) s.mean[size_t(j)] += x[size_t(i * d + j)];
  for (double& m : s.mean) m /= double(n);
  s.covariance.assign(size_t(d * d), 0.0);
  kernels::cpu::parallel_for(d, 8, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t k = j; k < d; ++k) {
        double acc = 0;
        for (int64_t i = 0; i < n; ++i)
          acc += (x[size_t(i * d + j)] - s.mean[size_t(j)]) * (x[size_t(i * d + k)] - s.mean[size_t(k)]);
        s.covariance[size_t(j * d + k)] = acc / double(n - 1);
      }
  });
  for (int64_t j = 0; j < d; ++j)
    for (int64_t k = 0; k < j; ++k) s.covariance[size_t(j * d + k)] = s.covariance[size_t(k * d + j)];
  return s;
}

std::vector<double> symmetric_eigen(std::vector<double>& m, int64_t n_, bool vectors) {
  SAKUGA_CHECK(int64_t(m.size()) == n_ * n_, "symmetric_eigen: expected ", n_ * n_, " values, got ", m.size());
  const int n = int(n_);
  std::vector<double> w(static_cast<size_t>(n));
  if (n == 0) return w;
  const char jobz = vectors ? 'V' : 'N', uplo = 'L';
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  // Row-major symmetric = column-major symmetric; the eigenvectors come back as columns of the
  // column-major matrix, i.e. rows of the row-major one: transposed below.
  dsyevd_(&jobz, &uplo, &n, m.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  SAKUGA_CHECK(info == 0, "symmetric_eigen: LAPACK dsyevd workspace query failed (info ", info, ")");
  lwork = int(work_query);
  liwork = iwork_query;
  std::vector<double> work(size_t(std::max(1, lwork)));
  std::vector<int> iwork(size_t(std::max(1, liwork)));
  dsyevd_(&jobz, &uplo, &n, m.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  SAKUGA_CHECK(info == 0, "symmetric_eigen: LAPACK dsyevd did not converge (info ", info, ")");
  if (vectors)
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) std::swap(m[size_t(i * n + j)], m[size_t(j * n + i)]);
  return w;
}

double frechet_distance(const FeatureStats& a, const FeatureStats& b) {
  SAKUGA_CHECK(a.dim == b.dim && a.dim > 0, "frechet_distance: feature dimensions differ (", a.dim, " and ", b.dim,
               ")");
  const int64_t d = a.dim;
  double diff = 0;
  for (int64_t j = 0; j < d; ++j) diff += (a.mean[size_t(j)] - b.mean[size_t(j)]) * (a.mean[size_t(j)] - b.mean[size_t(j)]);
  // Σ₁^½ = V √Λ Vᵀ.
  std::vector<double> v = a.covariance;
  const std::vector<double> lam = symmetric_eigen(v, d, true);
  std::vector<double> root(size_t(d * d), 0.0);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < d; ++k) acc += v[size_t(i * d + k)] * std::sqrt(std::max(lam[size_t(k)], 0.0)) * v[size_t(j * d + k)];
      root[size_t(i * d + j)] = acc;
    }
  std::vector<double> m = matmul(matmul(root, b.covariance, d), root, d);
  for (int64_t i = 0; i < d; ++i)  // symmetrise the rounding before the symmetric solver
    for (int64_t j = 0; j < i; ++j) m[size_t(i * d + j)] = m[size_t(j * d + i)] = 0.5 * (m[size_t(i * d + j)] + m[size_t(j * d + i)]);
  double tr_sqrt = 0;
  for (double e : symmetric_eigen(m, d, false)) tr_sqrt += std::sqrt(std::max(e, 0.0));
  double tr = 0;
  for (int64_t j = 0; j < d; ++j) tr += a.covariance[size_t(j * d + j)] + b.covariance[size_t(j * d + j)];
  return diff + tr - 2.0 * tr_sqrt;
}

KidResult kernel_inception_distance(const Tensor& ta, const Tensor& tb, int64_t subsets, int64_t subset_size,
                                    uint64_t seed) {
  const std::vector<double> a = as_rows(ta, "kernel_inception_distance"), b = as_rows(tb, "kernel_inception_distance");
  SAKUGA_CHECK(ta.size(1) == tb.size(1), "kernel_inception_distance: feature dimensions differ (", ta.size(1), " and ",
               tb.size(1), ")");
  SAKUGA_CHECK(subsets >= 1, "kernel_inception_distance: subsets must be >= 1");
  const int64_t d = ta.size(1), na = ta.size(0), nb = tb.size(0);
  const int64_t m = std::min({subset_size, na, nb});
  SAKUGA_CHECK(m >= 2, "kernel_inception_distance: need at least 2 rows in each set, got ", na, " and ", nb);
  auto kernel = [&](const double* x, const double* y) {
    double dot = 0;
    for (int64_t k = 0; k < d; ++k) dot += x[k] * y[k];
    const double t = dot / double(d) + 1.0;
    return t * t * t;
  };
  // A seeded choice of m distinct rows (partial Fisher–Yates on Philox draws).
  auto choose = [&](int64_t n, uint64_t stream) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    for (int64_t i = 0; i < m; ++i) {
      const uint64_t c = stream * 0x100000000ull + 2 * uint64_t(i);
      const uint64_t r = (uint64_t(philox::word(seed, c)) << 32) | philox::word(seed, c + 1);
      std::swap(idx[size_t(i)], idx[size_t(i + int64_t(r % uint64_t(n - i)))]);
    }
    idx.resize(static_cast<size_t>(m));
    return idx;
  };
  std::vector<double> values(static_cast<size_t>(subsets));
  for (int64_t s = 0; s < subsets; ++s) {
    const std::vector<int64_t> ia = choose(na, uint64_t(2 * s)), ib = choose(nb, uint64_t(2 * s + 1));
    double kxx = 0, kyy = 0, kxy = 0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        const double* xi = a.data() + ia[size_t(i)] * d;
        const double* yj = b.data() + ib[size_t(j)] * d;
        kxy += kernel(xi, yj);
        if (i != j) {
          kxx += kernel(xi, a.data() + ia[size_t(j)] * d);
          kyy += kernel(b.data() + ib[size_t(i)] * d, yj);
        }
      }
    const double mm = double(m);
    values[size_t(s)] = (kxx + kyy) / (mm * (mm - 1)) - 2.0 * kxy / (mm * mm);
  }
  KidResult r;
  for (double v : values) r.mean += v;
  r.mean /= double(subsets);
  for (double v : values) r.std += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(r.std / double(subsets));
  return r;
}

}  // namespace sakuga::data
