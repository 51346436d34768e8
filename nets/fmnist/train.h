#pragma once
// Fashion-MNIST: the framework's first end-to-end demo (`sakuga train fashion-mnist`), a small
// CNN trained on the shared harness (nets/harness/).
#include <memory>
#include <string>
#include <vector>

#include "nets/fmnist/model.h"
#include "nets/harness/trainer.h"

namespace sakuga::fmnist {

// The family's keys besides the harness ones (train.seed, log_every, ...; nets/harness/trainer.h).
struct DataSettings {
  std::string dir = "/usr/share/datasets/fashion-mnist";  // gzip IDX files (Debian dataset-fashion-mnist)
  int64_t train_limit = 0, test_limit = 0;                // use only the first N images (0 = all)
  int64_t batch = 64;
};
struct TrainSettings {
  int64_t epochs = 2, steps = 0;  // run length (steps > 0 wins)
  std::string optimizer = "adam";  // adam | adamw | sgd (with momentum) | rmsprop
  double lr = 1e-3, lr_end = 1e-4;
  std::string schedule = "cosine";  // constant | linear | cosine | poly | step
  int64_t warmup = 0;
  double weight_decay = 0, momentum = 0.9, clip_grad_norm = 0;
};

// Every key with its default.
Json default_config();

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device);

using TrainOptions = harness::RunOptions;

struct TrainResult {
  int64_t first_step = 0, last_step = 0;  // steps run in this call: (first_step, last_step]
  std::vector<float> losses;              // training loss of each step run in this call
  double test_accuracy = -1;              // after the last step (-1 when not evaluated)
};

TrainResult train(const Config& cfg, const TrainOptions& opt);

}  // namespace sakuga::fmnist
