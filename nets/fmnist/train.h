#pragma once
// Fashion-MNIST training: the framework's end-to-end demo (`sakuga train fashion-mnist`).
#include <string>
#include <vector>

#include "nets/config.h"
#include "nets/runner.h"

namespace sakuga::fmnist {

// Every key with its default; `sakuga train fashion-mnist --config F --set k=v` overrides.
Json default_config();

using TrainOptions = RunOptions;  // nets/runner.h

struct TrainResult {
  int64_t first_step = 0, last_step = 0;  // steps run in this call: (first_step, last_step]
  std::vector<float> losses;              // training loss of each step run in this call
  double test_accuracy = -1;              // after the last step (-1 when not evaluated)
};

TrainResult train(const Config& cfg, const TrainOptions& opt);

}  // namespace sakuga::fmnist
