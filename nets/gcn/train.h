#pragma once
// GCN training of the two tasks (gcn.md) on the shared harness: `sakuga train cel|douga`.
// This family holds what is specific to them — the data pipeline (synthetic stream or folder
// dataset → augmentation → batch), the segmentation-incorporation variants, the losses (+ the
// optional adversarial term), validation with accuracy / mean IoU and sample sheets; the loop,
// checkpoints, early stop and resume are the harness's (nets/harness/).
//
// Checkpoint names (pinned): the network at the root (backbone.…, gcn1.l1.…), its Adam under
// optim.…, and with the adversarial term the discriminator under disc.… and its optimiser under
// optim.D.…; first-step dumps hold input, target, logits, loss and grad.<parameter>.
#include <memory>
#include <string>
#include <vector>

#include "data/gcn/seg_dataset.h"
#include "nets/gcn/config.h"
#include "nets/gcn/inference.h"
#include "nets/harness/trainer.h"

namespace sakuga::gcn {

// The family of `task` on `device`; `quiet` silences its notes (folder statistics, wce weights).
std::unique_ptr<harness::Family> make_family(data::SegTask task, const Config& cfg, Device device, bool quiet = false);

using TrainOptions = harness::RunOptions;

struct TrainResult {
  int64_t first_step = 0, last_step = 0;  // steps run in this call: (first_step, last_step]
  std::vector<float> losses;              // training loss of each step run in this call
  double val_loss = -1, val_accuracy = -1, val_mean_iou = -1;  // the last validation (-1: none)
  double baseline_accuracy = -1, baseline_mean_iou = -1;     // majority-class model on the same frames
  bool early_stopped = false;
};

TrainResult train(data::SegTask task, const Config& cfg, const TrainOptions& opt);

}  // namespace sakuga::gcn
