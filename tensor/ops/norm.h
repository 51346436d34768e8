#pragma once
// Normalisation and dropout.
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace sakuga::dist {
class Communicator;
}

namespace sakuga::ops {

// x (N, C) or (N, C, H, W). weight/bias (C) optional. In training, batch statistics are used
// and running_mean/running_var (C, when defined) are updated in place with `momentum`
// (running_var gets the unbiased variance), as torch.nn.functional.batch_norm does.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// batch_norm in training mode with the statistics of the whole data-parallel batch: per-channel
// sums all-reduced over `comm`'s ranks (mean first, then the centred squares), built from
// recorded ops, so the backward's reductions cross the ranks too. Running statistics are
// updated as batch_norm does (unbiased variance over the global count).
Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, double momentum, double eps, dist::Communicator& comm);
// Per-sample, per-channel statistics over H, W; weight/bias (C) optional (affine).
Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
// Inverted dropout: zero with probability p, scale the rest by 1/(1−p). Identity when !training
// or p == 0. The mask comes from the Philox stream of `gen` (same on CPU and CUDA).
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());

}  // namespace sakuga::ops
