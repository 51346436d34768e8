#include "layers/norm.h"

#include <sstream>

#include "layers/init.h"
#include "tensor/dist.h"
#include "tensor/ops/norm.h"

namespace sakuga::nn {

namespace {
void check_input(const char* layer, const Tensor& x, int64_t C) {
  SAKUGA_CHECK(x.defined(), layer, ": input is undefined");
  SAKUGA_CHECK(x.dim() == 4, layer, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape()));
  SAKUGA_CHECK(x.size(1) == C, layer, ": expected ", C, " channels, got input of shape ", shape_str(x.shape()));
}
}  // namespace

BatchNorm2d::BatchNorm2d(int64_t c, double eps_, double momentum_, bool affine_, bool track)
    : num_features(c), eps(eps_), momentum(momentum_), affine(affine_), track_running_stats(track) {
  SAKUGA_CHECK(c > 0, "BatchNorm2d: num_features must be positive, got ", c);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({c}));
    bias = register_parameter("bias", Tensor::zeros({c}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", Tensor::zeros({c}));
    running_var = register_buffer("running_var", Tensor::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::i32), true, true);
  }
}

void BatchNorm2d::reset_running_stats() {
  if (!track_running_stats) return;
  init::zeros_(running_mean);
  init::ones_(running_var);
  num_batches_tracked.fill_(0);
  batches_tracked_ = 0;
}

void BatchNorm2d::reset_parameters() {
  reset_running_stats();
  if (affine) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

void BatchNorm2d::on_state_loaded() {
  if (track_running_stats) batches_tracked_ = int64_t(num_batches_tracked.item());
}

std::string BatchNorm2d::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=" << momentum << ", affine=" << (affine ? "true" : "false")
     << ", track_running_stats=" << (track_running_stats ? "true" : "false");
  return os.str();
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  check_input("BatchNorm2d", x, num_features);
  if (training_ && track_running_stats) {
    ++batches_tracked_;
    num_batches_tracked.fill_(double(batches_tracked_));
  }
  // Data-parallel with train.sync_bn: the statistics of the whole global batch.
  if (training_ && dist::sync_batch_norm() && dist::sync_batch_norm()->world() > 1)
    return ops::sync_batch_norm(x, weight, bias, track_running_stats ? running_mean : Tensor(),
                                track_running_stats ? running_var : Tensor(), momentum, eps, *dist::sync_batch_norm());
  const bool use_running = !training_ && track_running_stats;
  const bool pass_running = track_running_stats;  // updated in training, read in eval
  return ops::batch_norm(x, weight, bias, pass_running ? running_mean : Tensor(),
                         pass_running ? running_var : Tensor(), !use_running, momentum, eps);
}

InstanceNorm2d::InstanceNorm2d(int64_t c, double eps_, bool affine_) : num_features(c), eps(eps_), affine(affine_) {
  SAKUGA_CHECK(c > 0, "InstanceNorm2d: num_features must be positive, got ", c);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({c}));
    bias = register_parameter("bias", Tensor::zeros({c}));
  }
}

std::string InstanceNorm2d::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", affine=" << (affine ? "true" : "false");
  return os.str();
}

Tensor InstanceNorm2d::forward(const Tensor& x) {
  check_input("InstanceNorm2d", x, num_features);
  return ops::instance_norm(x, weight, bias, eps);
}

}  // namespace sakuga::nn
