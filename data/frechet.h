#pragma once
// Distribution distances between two sets of image features (scenimefy.md "Metrics"): the Fréchet
// distance behind FID and the kernel inception distance, on the CPU in double precision.
//
//   FID² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½)
//
// The matrix square roots come from symmetric eigen-decompositions (LAPACK dsyevd, which
// OpenBLAS provides): Σ₁^½ = V·√Λ·Vᵀ, then the eigenvalues of the symmetric PSD Σ₁^½ Σ₂ Σ₁^½, whose
// square roots sum to the trace term (negative rounding residues clamped to 0). This equals
// pytorch-fid's Tr(sqrtm(Σ₁Σ₂)) without its complex detour.
//
// KID (Bińkowski et al.): the unbiased MMD² with the polynomial kernel k(x, y) = (x·y/d + 1)³,
// averaged over random subsets of both sets (as torch-fidelity / clean-fid).
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data {

struct FeatureStats {
  int64_t count = 0, dim = 0;
  std::vector<double> mean;        // (dim)
  std::vector<double> covariance;  // (dim, dim) row-major, unbiased (N − 1), as numpy.cov
};

// Mean and covariance of feats (N, D), N ≥ 2.
FeatureStats feature_stats(const Tensor& feats);

// The squared Fréchet distance between two Gaussians (what FID reports).
double frechet_distance(const FeatureStats& a, const FeatureStats& b);

struct KidResult {
  double mean = 0, std = 0;  // over the subsets
};
// feats (N, D) and (M, D); subsets of min(subset_size, N, M) rows drawn from `seed`.
KidResult kernel_inception_distance(const Tensor& a, const Tensor& b, int64_t subsets = 100,
                                    int64_t subset_size = 1000, uint64_t seed = 0);

// Eigenvalues (ascending) and, when `vectors`, eigenvectors (columns of the row-major result,
// overwriting `m`) of the symmetric n×n matrix m (row-major). LAPACK dsyevd.
std::vector<double> symmetric_eigen(std::vector<double>& m, int64_t n, bool vectors);

}  // namespace sakuga::data
