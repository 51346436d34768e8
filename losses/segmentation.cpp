// The segmentation losses of the GCN tasks (losses/segmentation.h, gcn.md "Losses").
#include "losses/segmentation.h"

#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "tensor/ops/elementwise.h"
#include "tensor/ops/focal.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"

namespace sakuga::losses {

void validate(const SegLossConfig& cfg, int64_t classes) {
  SAKUGA_CHECK(classes >= 1, "loss config: the model must have at least 1 class (model.classes), got ", classes);
  const bool cel = classes == 1;
  if (cel) {
    SAKUGA_CHECK(cfg.kind == "bce" || cfg.kind == "focal", "loss.kind: unknown loss '", cfg.kind,
                 "' for the cel task (1 logit); expected \"bce\" or \"focal\"");
  } else {
    SAKUGA_CHECK(cfg.kind == "ce" || cfg.kind == "wce" || cfg.kind == "focal", "loss.kind: unknown loss '", cfg.kind,
                 "' for the douga task (", classes, " classes); expected \"ce\", \"wce\" or \"focal\"");
  }
  SAKUGA_CHECK(std::isfinite(cfg.gamma) && cfg.gamma >= 0, "loss.gamma must be a finite value >= 0, got ", cfg.gamma);
  SAKUGA_CHECK(!std::isnan(cfg.alpha) && cfg.alpha <= 1,
               "loss.alpha must be in [0, 1] (or < 0 for no alpha weighting), got ", cfg.alpha);
  if (!cfg.class_weights.empty()) {
    SAKUGA_CHECK(int64_t(cfg.class_weights.size()) == classes, "loss.class_weights must have one weight per class (",
                 classes, "), got ", cfg.class_weights.size());
    double total = 0;
    for (size_t c = 0; c < cfg.class_weights.size(); ++c) {
      const double w = cfg.class_weights[c];
      SAKUGA_CHECK(std::isfinite(w) && w >= 0, "loss.class_weights[", c, "] must be a finite value >= 0, got ", w);
      total += w;
    }
    SAKUGA_CHECK(total > 0, "loss.class_weights are all 0");
  }
  SAKUGA_CHECK(cfg.kind != "wce" || !cfg.class_weights.empty(),
               "loss.class_weights is required for loss.kind \"wce\" (one weight per class, e.g. the inverse class "
               "frequencies)");
}

namespace {

// The class weights as a tensor on the logits' device and dtype. The same few weight vectors
// come every step: each is uploaded once (a small function-level cache), not every call.
Tensor class_weight_tensor(const std::vector<double>& weights, DType dtype, Device dev) {
  using Key = std::tuple<std::vector<double>, int, std::string>;
  static std::mutex mu;
  static auto* cache = new std::map<Key, Tensor>();  // never destroyed (CUDA blocks outlive statics)
  std::lock_guard<std::mutex> lock(mu);
  Key key{weights, int(dtype), dev.str()};
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  if (cache->size() >= 16) cache->clear();  // configs change rarely; bound the cache anyway
  std::vector<float> v(weights.begin(), weights.end());
  Tensor w = Tensor::from_vector(v, {int64_t(v.size())}, dtype, dev);
  cache->emplace(std::move(key), w);
  return w;
}

}  // namespace

Tensor segmentation_loss(const SegLossConfig& cfg, const Tensor& logits, const Tensor& target) {
  SAKUGA_CHECK(logits.defined() && target.defined(), "segmentation_loss: logits and target must be defined");
  SAKUGA_CHECK(logits.dim() >= 2, "segmentation_loss: logits must have shape (N, C, H, W), got ",
               shape_str(logits.shape()));
  const int64_t classes = logits.size(1);
  validate(cfg, classes);
  if (classes == 1) {
    Tensor t = target.dtype() == logits.dtype() ? target : target.to(logits.dtype());
    if (cfg.kind == "bce") return ops::bce_with_logits(logits, t);
    return ops::binary_focal_loss(logits, t, cfg.gamma, cfg.alpha);
  }
  Tensor w;
  if (!cfg.class_weights.empty()) w = class_weight_tensor(cfg.class_weights, logits.dtype(), logits.device());
  if (cfg.kind == "ce") return ops::cross_entropy(logits, target);
  if (cfg.kind == "wce") return ops::cross_entropy(logits, target, w);
  return ops::softmax_focal_loss(logits, target, cfg.gamma, w);
}

std::vector<double> inverse_frequency_weights(const std::vector<int64_t>& counts) {
  std::vector<double> w(counts.size(), 0.0);
  double total = 0;
  int64_t present = 0;
  for (size_t c = 0; c < counts.size(); ++c) {
    SAKUGA_CHECK(counts[c] >= 0, "inverse_frequency_weights: count of class ", c, " is negative (", counts[c], ")");
    if (counts[c] == 0) continue;
    w[c] = 1.0 / double(counts[c]);
    total += w[c];
    ++present;
  }
  SAKUGA_CHECK(present > 0, "inverse_frequency_weights: no class has a pixel (all ", counts.size(),
               " counts are 0)");
  for (double& x : w) x *= double(present) / total;
  return w;
}


}  // namespace sakuga::losses
