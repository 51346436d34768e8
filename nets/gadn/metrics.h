#pragma once
// Disentanglement metrics on encoder codes (gadn.md "Metrics", paper Tables 4–7), over the first
// `dims` dimensions of each code (nested dropout orders them by importance):
//   distance   mean Euclidean distance of each code to the centre of its group, grouped by a factor
//              (the labelled one, an unlabelled one) or over the whole set (one group): Table 4
//   naive Bayes an axis-aligned Gaussian per class fitted on a fixed pseudo-random half of the codes
//              (a hash of the row index) and scored on the other half: the average probability of the correct class (Table 5),
//              its average rank, 1 = best (Table 6) and top-1 accuracy (Table 7)
// A factor that was purged from the code scores like chance (probability 1/K, rank (K + 1)/2,
// top-1 1/K); a factor that the code keeps scores well.
#include <cstdint>
#include <vector>

#include "nets/harness/config.h"

namespace sakuga::gadn {

// Codes: N rows of Z floats, row-major.
struct Codes {
  int64_t n = 0, z = 0;
  std::vector<float> values;
  const float* row(int64_t i) const { return values.data() + i * z; }
};

// Mean over all rows of ‖code_i[:dims] − centre(group_i)[:dims]‖₂; `groups` holds a group index
// per row (all 0 for the whole set).
double mean_distance_to_centre(const Codes& c, int64_t dims, const std::vector<int>& groups);

struct NaiveBayesScore {
  double avg_prob = 0;   // mean posterior of the true class
  double avg_rank = 0;   // mean rank of the true class (1 = most probable)
  double top1 = 0;       // accuracy
  int classes = 0;
  double chance_top1() const { return classes ? 1.0 / classes : 0.0; }
};
// Fits on one half of the rows, scores the other. Class variances get a floor of 1e-6 times the mean
// variance (a class seen once has no variance of its own). Classes are 0..K−1 (K = max + 1).
NaiveBayesScore naive_bayes(const Codes& c, int64_t dims, const std::vector<int>& classes);

// The whole table for the factors given (name → per-row class), at dims 2, 8 and Z:
//   {"distance": {"whole": {"2": d, "8": d, "all": d}, "<factor>": {...}},
//    "naive_bayes": {"<factor>": {"2": {"avg_prob", "avg_rank", "top1", "chance"}, ...}}}
Json disentanglement_table(const Codes& c, const std::vector<std::pair<std::string, std::vector<int>>>& factors);

// The same table as text, laid out like the paper's (one block per metric, rows = factors).
std::string format_disentanglement_table(const Json& table);

}  // namespace sakuga::gadn
