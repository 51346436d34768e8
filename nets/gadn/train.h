#pragma once
// GADN (gadn.md; Xiang & Li 2019) on the shared harness: `sakuga train gadn`, three stages in one
// run —
//   stage1  E, S, G as a conditional VAE against the adversarial classifier C1
//   c2      C2 pre-trained on real images
//   stage2  G, S as a GAN (E frozen) against D (initialised from C2's body) and C2
// Checkpoint names (pinned): E., S., G., D., C1., C2.; optimiser state optim.<net>. (stage 2's
// optimisers of G, S and C2: optim.<net>.stage2.).
#include <memory>
#include <string>
#include <vector>

#include "nets/gadn/config.h"
#include "nets/gadn/metrics.h"
#include "nets/gadn/networks.h"
#include "nets/harness/trainer.h"

namespace sakuga::gadn {

// Images, labels and (for the metrics) the content factors of the configured data source.
class Dataset {
 public:
  Dataset(const Settings& s, uint64_t seed, bool quiet);
  ~Dataset();
  int64_t labels() const;
  const std::vector<std::string>& label_names() const;
  int64_t channels() const;
  std::vector<double> label_freq() const;  // Σ = 1: the cap of the stage 1 adversarial term
  // Training sample j of the stream (a pure function of seed and j): image (C, R, R) in [−1, 1], label.
  std::pair<Tensor, int> train_sample(int64_t j) const;
  // The held-out set: images and labels, and every factor as a class per image (the labelled
  // factor first, under data.label's name).
  int64_t val_size() const;
  std::pair<Tensor, int> val_sample(int64_t i) const;
  const std::vector<std::pair<std::string, std::vector<int>>>& val_factors() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet = false);

// The trained networks of a gadn checkpoint (its config from the metadata ← files ← sets),
// in eval mode. A checkpoint of another family is an error naming it.
struct LoadedModel {
  Config cfg{Json::object()};
  Settings settings;
  NetConfig net;
  std::vector<std::string> label_names;
  std::shared_ptr<Encoder> e;
  std::shared_ptr<StyleBank> s;
  std::shared_ptr<ImageGenerator> g;
};
LoadedModel load_model(const std::string& ckpt, const std::vector<std::string>& files,
                       const std::vector<std::string>& sets, Device dev);

// E's μ of `images` (N, C, R, R) in batches → Codes.
Codes encode_all(Encoder& e, const Tensor& images, Device dev);

}  // namespace sakuga::gadn
