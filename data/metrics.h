#pragma once
// Segmentation metrics (gcn.md "Metrics", thesis §2.3 and Tables 4.1, 5.1–5.5) from a confusion
// matrix of pixel counts.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/tensor.h"

namespace sakuga::data {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);

  // pred and target: same shape, i32, CPU or CUDA (CUDA tensors are copied to the CPU).
  // Target values outside [0, classes) are an error naming the value (pred likewise).
  void add(const Tensor& pred, const Tensor& target);
  void merge(const ConfusionMatrix& other);

  int classes() const { return classes_; }
  int64_t total() const;
  int64_t count(int truth, int pred) const { return counts_[size_t(truth) * size_t(classes_) + size_t(pred)]; }
  // All counts, row-major (truth, prediction): e.g. to add up the ranks' shards of a validation set.
  const std::vector<int64_t>& counts() const { return counts_; }
  void set_counts(std::vector<int64_t> counts);

  double pixel_accuracy() const;  // NaN when empty
  double precision(int c) const;  // tp / predicted c; NaN when nothing was predicted c
  double recall(int c) const;     // tp / true c; NaN when c is absent from the target
  double iou(int c) const;        // tp / (true c ∪ predicted c); NaN when the union is empty
  double mean_iou() const;        // mean over classes whose IoU is defined (present in target or prediction)

  // {"pixel_accuracy", "mean_iou", "per_class": [{"name","precision","recall","iou"}...],
  //  "confusion": C×C fractions of all pixels (rows truth, columns prediction)}; NaN → null.
  nlohmann::json to_json(const std::vector<std::string>& names) const;
  // The confusion matrix in percent of all pixels, rows = truth, columns = prediction, like
  // thesis Table 5.1, followed by per-class precision / recall / IoU lines.
  std::string table(const std::vector<std::string>& names) const;
  // Douga only (10 classes): thesis Table 5.5, rows truth {lines, areas}, columns prediction,
  // percent of all pixels. Lines = classes 1–5.
  std::array<std::array<double, 2>, 2> lines_vs_areas() const;
  std::string lines_vs_areas_table() const;

 private:
  int classes_;
  std::vector<int64_t> counts_;
};

}  // namespace sakuga::data
