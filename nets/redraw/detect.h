#pragma once
// The redraw detect stage (nets/redraw/family.h, docs/redraw.md "Detector"): its config section,
// the harness family, and what eval / infer share with it (loading a checkpoint, running the
// network on frames of any size).
//
// Config section "detect" (every key optional):
//   size [H, W]        the network's input, multiples of 32 (default 128×128); training frames are
//                      drawn (synthetic) or area-resized (data.dir/frames) to it, and so is every
//                      frame at eval / infer, its boxes scaled back to the frame's pixels
//   batch, steps       frames per step, training steps
//   flip               mirror each training frame horizontally with probability 1/2
//   val_frames         synthetic validation set: frames 0 … N−1 of stream data.val_seed
//   val_fraction       data.dir: the frames whose name hashes below it are the validation set
//                      (data::is_validation_name, as the other families split folders)
//   prior_frames       training frames the fixed-prior baseline is fitted on (synthetic)
//   samples            validation frames shown in the sample sheet
//   model              depth (18 | 34), neck, head channels, heat_bias
//   optim              the optimiser (harness::OptimSpec)
//   loss               weights heat, size, offset
//   decode             top_k, score_threshold (infer), eval_threshold (AP), nms_iou
#include <memory>
#include <string>
#include <vector>

#include "data/redraw/dataset.h"
#include "nets/harness/optim_spec.h"
#include "nets/redraw/detect_core.h"
#include "nets/redraw/detect_net.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"

namespace sakuga::redraw {

struct DetectSettings {
  std::vector<int64_t> size{128, 128};
  int64_t batch = 16;
  int64_t steps = 400;
  bool flip = true;
  int64_t val_frames = 64;
  double val_fraction = 0.1;
  int64_t prior_frames = 256;
  int64_t samples = 4;
  DetectorConfig model;
  harness::OptimSpec optim;
  DetectLossWeights loss;
  DecodeSettings decode;
  int64_t height() const { return size.at(0); }
  int64_t width() const { return size.at(1); }
};

// cfg's "detect" section, checked (errors name the key).
DetectSettings detect_settings(const Config& cfg);

// Detections of each frame (3, h, w) f32 of any size (area-resized to the input size when it
// differs, boxes mapped back to its pixels), run in chunks of s.batch on `dev` in eval mode;
// `threshold` is decode's score threshold. With `truth` (boxes in frame pixels), also the mean
// loss over the frames (chunk losses weighted by their frame counts).
struct FramesResult {
  std::vector<std::vector<Detection>> detections;
  double loss = 0;
};
FramesResult detect_frames(Detector& net, const std::vector<Tensor>& frames, const DetectSettings& s,
                           double threshold, Device dev,
                           const std::vector<std::vector<data::redraw::LabeledBox>>* truth = nullptr);

// A detect-stage checkpoint: refused (naming the file) when it is not a redraw checkpoint of the
// detect stage; config = defaults ← its metadata config ← --config files ← --set.
struct LoadedDetector {
  Config cfg{Json::object()};
  DetectSettings settings;
  std::shared_ptr<Detector> net;
  DetectPrior prior;
  bool has_prior = false;  // the baseline the run fitted (kept in the checkpoint's family state)
  Device device;
};
LoadedDetector load_detector(const ModelSource& m);

// A frame (3, H, W) with boxes drawn over it (1 px outlines; faces yellow, eyes cyan): the sample
// sheets and tests.
Tensor draw_boxes(const Tensor& frame, const std::vector<Detection>& boxes);

}  // namespace sakuga::redraw
