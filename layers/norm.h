#pragma once
// BatchNorm2d and InstanceNorm2d with PyTorch's parameters, buffers, names and defaults.
#include "layers/module.h"

namespace sakuga::nn {

// Parameters weight (1s) and bias (0s) when affine; buffers running_mean (0s), running_var
// (1s) and num_batches_tracked when track_running_stats. num_batches_tracked is kept, as an
// i32 scalar (PyTorch: int64; our safetensors has no I64, and the oracle scripts convert),
// incremented on every training forward; it may be absent from a loaded state_dict.
// Training: batch statistics, running stats updated with `momentum` (unbiased variance);
// eval: the running statistics (batch statistics when not tracking).
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true);
  std::string type_name() const override { return "BatchNorm2d"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  void reset_running_stats();
  void reset_parameters();
  int64_t batches_tracked() const { return batches_tracked_; }

  int64_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                       // (C) when affine
  Tensor running_mean, running_var, num_batches_tracked;     // when tracking

 protected:
  void on_state_loaded() override;

 private:
  int64_t batches_tracked_ = 0;  // host mirror of num_batches_tracked (no device read per step)
};

// Per-sample, per-channel normalisation over H, W. affine = false by default (as in torch);
// running statistics are not supported (track_running_stats = false, torch's default).
class InstanceNorm2d : public Module {
 public:
  explicit InstanceNorm2d(int64_t num_features, double eps = 1e-5, bool affine = false);
  std::string type_name() const override { return "InstanceNorm2d"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;

  int64_t num_features;
  double eps;
  bool affine;
  Tensor weight, bias;  // (C) when affine
};

}  // namespace sakuga::nn
