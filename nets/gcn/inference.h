#pragma once
// GCN models from checkpoints and what eval, infer and the variants need of them: the network
// input of a variant, eval-mode logits for frames of any size, class maps and class names.
#include <memory>
#include <string>
#include <vector>

#include "data/gcn/seg_dataset.h"
#include "nets/gcn/model.h"
#include "nets/harness/config.h"

namespace sakuga::gcn {

// A network with its weights. The config is resolved as for training: the task's defaults ←
// the checkpoint's "config" metadata (absent in a weights-only file, e.g. exported from
// PyTorch) ← `files` (--config) ← `sets` (--set). Missing or mis-shaped tensors are an error
// listing them; a checkpoint of the other task is an error naming both.
struct LoadedModel {
  std::shared_ptr<GcnNet> net;
  std::shared_ptr<GcnNet> cel_net;  // variants synthetic-cel / concatenated: the cel model
  Config cfg{Json::object()};
  std::string variant;
};
LoadedModel load_model(data::SegTask task, const std::string& ckpt, const std::vector<std::string>& files,
                       const std::vector<std::string>& sets, Device dev);

// The network input of a frame (N, 3, H, W) for `variant`: the frame itself (color), the frame
// with the background zeroed by a cel mask (synthetic-cel: predicted by `cel_net`; manual-cel:
// `mask`), or frame + predicted mask as a 4th channel (concatenated).
Tensor variant_input(const std::string& variant, GcnNet* cel_net, const Tensor& frame, const Tensor& mask);
inline Tensor variant_input(const LoadedModel& m, const Tensor& frame, const Tensor& mask) {
  return variant_input(m.variant, m.cel_net.get(), frame, mask);
}

// Checks variant.kind / variant.cel_ckpt against the task.
void check_variant(data::SegTask task, const std::string& variant, const std::string& cel_ckpt);

// Class map (N, H, W) i32 from logits (N, C, H, W): logit > 0 (cel) or argmax (douga).
Tensor predict_classes(data::SegTask task, const Tensor& logits);
// Names of the classes of a task's class maps: {background, cel} or the 10 douga classes.
std::vector<std::string> class_names(data::SegTask task);

// Eval-mode logits (N, C, H, W) for inputs of any size: frames smaller than 64 are padded
// (zeros, bottom/right) and the logits cropped back.
Tensor predict_logits(GcnNet& net, const Tensor& input);

// (3, H, W) RGB picture of a class map (H, W): the douga palette, or black/white for cel.
Tensor class_picture(data::SegTask task, const Tensor& classes);

}  // namespace sakuga::gcn
