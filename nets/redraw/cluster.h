#pragma once
// Clustering of embeddings and the scores of a clustering against true labels (the encoder
// stage's measurements, redraw.md "Style-aware clustering"): plain CPU loops over row-major
// (n, dim) float rows, a fixed order of operations, so the same input gives the same clusters.
//
//   kmeans         Lloyd's iterations from k-means++ seeds drawn from `seed`, `restarts` tries,
//                  the lowest inertia kept (squared Euclidean distance; on L2-normalised rows
//                  that is 2·(1 − cosine))
//   agglomerative  average linkage on cosine distance (1 − cos), merging the closest pair until
//                  k clusters remain or the closest pair is farther apart than a threshold
//   nmi            normalised mutual information, arithmetic-mean normalisation
//                  (sklearn.metrics.normalized_mutual_info_score's default)
//   ari            adjusted Rand index (Hubert & Arabie 1985, sklearn.metrics.adjusted_rand_score)
//   purity         (1/n) Σ over clusters of its most frequent true label's count
#include <cstdint>
#include <string>
#include <vector>

namespace sakuga::redraw {

enum class ClusterMethod { kmeans, agglomerative };
ClusterMethod parse_cluster_method(const std::string& s, const std::string& where);
const char* cluster_method_name(ClusterMethod m);

// Cluster ids 0 … k−1 per row, numbered by first appearance in row order (so two runs that
// find the same partition give the same ids).
std::vector<int> kmeans(const std::vector<float>& rows, int64_t n, int64_t dim, int k, uint64_t seed,
                        int restarts = 4, int max_iters = 100);
// k > 0: stop at k clusters (threshold ignored); k == 0: stop when the closest pair's average
// cosine distance exceeds `threshold` (> 0).
std::vector<int> agglomerative(const std::vector<float>& rows, int64_t n, int64_t dim, int k, double threshold = 0);

// Labels are any non-negative ints; both vectors the same length (n ≥ 1).
double nmi(const std::vector<int>& truth, const std::vector<int>& pred);
double ari(const std::vector<int>& truth, const std::vector<int>& pred);
double purity(const std::vector<int>& truth, const std::vector<int>& pred);

// Ids numbered by first appearance (0, 1, … in row order).
std::vector<int> renumber(const std::vector<int>& labels);

}  // namespace sakuga::redraw
