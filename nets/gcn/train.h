#pragma once
// Training, evaluation and inference of the GCN tasks (gcn.md): `sakuga train|eval|infer|bench
// train cel|douga`. The shared runner pieces (run folder, progress, metrics, prefetch,
// checkpoints) live in nets/runner.h; this file holds what is specific to the two tasks:
// the data pipeline (synthetic stream or folder dataset → augmentation → batch), the
// segmentation-incorporation variants, the losses (+ the optional adversarial term),
// validation with accuracy / mean IoU, sample sheets and early stopping.
#include <memory>
#include <string>
#include <vector>

#include "data/gcn/seg_dataset.h"
#include "nets/config.h"
#include "nets/runner.h"
#include "nets/gcn/model.h"

namespace sakuga::gcn {

// Every key with its default: the small demo that learns on a 2-core CPU in about ten minutes.
// configs/*-thesis.json override it to the thesis settings.
Json default_config(data::SegTask task);

using TrainOptions = RunOptions;  // nets/runner.h

struct TrainResult {
  int64_t first_step = 0, last_step = 0;  // steps run in this call: (first_step, last_step]
  std::vector<float> losses;              // training loss of each step run in this call
  double val_loss = -1, val_accuracy = -1, val_mean_iou = -1;  // the last validation (-1: none)
  double baseline_accuracy = -1, baseline_mean_iou = -1;     // majority-class model on the same frames
  bool early_stopped = false;
};

TrainResult train(data::SegTask task, const Config& cfg, const TrainOptions& opt);

// ---- models from checkpoints (eval / infer) ------------------------------------------------

// The network of a resolved config (model.* keys), checked against the task.
GcnConfig model_config(data::SegTask task, const Config& cfg);

// A network with its weights. The config comes from the checkpoint's metadata ("config"),
// else from `fallback` (a weights-only file, e.g. exported from PyTorch); `sets` (--set) are
// applied on top. Missing or mis-shaped tensors are an error listing them.
struct LoadedModel {
  std::shared_ptr<GcnNet> net;
  std::shared_ptr<GcnNet> cel_net;  // variants synthetic-cel / concatenated: the cel model
  Config cfg{Json::object()};
  std::string variant;
};
LoadedModel load_model(data::SegTask task, const std::string& ckpt, const Config& fallback, Device dev);

// The network input of a frame (N, 3, H, W) for the model's variant: the frame itself
// (color), the frame with the background zeroed by a cel mask (synthetic-cel: predicted;
// manual-cel: `mask`), or frame + predicted mask as a 4th channel (concatenated).
Tensor variant_input(const LoadedModel& m, const Tensor& frame, const Tensor& mask);

// Class map (N, H, W) i32 from logits (N, C, H, W): logit > 0 (cel) or argmax (douga).
Tensor predict_classes(data::SegTask task, const Tensor& logits);
// Names of the classes of a task's class maps: {background, cel} or the 10 douga classes.
std::vector<std::string> class_names(data::SegTask task);

// Eval-mode logits (N, C, H, W) for inputs of any size: frames smaller than 64 are padded
// (zeros, bottom/right) and the logits cropped back.
Tensor predict_logits(GcnNet& net, const Tensor& input);

// ---- speed (`sakuga bench train`) ------------------------------------------------------------

// Times `steps` training steps (forward, loss, backward, Adam) after `warmup` ones on one fixed
// synthetic batch of the config's data.size / data.batch, synchronising only at the ends.
struct BenchResult {
  double ms_per_step = 0, images_per_s = 0;
  int64_t peak_bytes = 0;  // GPU: the caching allocator's peak; CPU: 0 (not tracked)
  std::string device;
};
BenchResult bench_train(data::SegTask task, const Config& cfg, const std::string& device, int64_t steps,
                        int64_t warmup);

}  // namespace sakuga::gcn
