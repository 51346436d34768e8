#pragma once
// The detector's arithmetic besides the network (docs/redraw.md "Detector"): CenterNet targets
// and losses, decoding of the heads into boxes, NMS, AP@0.5, and the fixed-prior baseline.
//
// Coordinates: boxes are [x0, y0, x1, y1) in pixels (x1 / y1 exclusive, pixel i covers
// [i, i + 1)), so a box's centre is ((x0 + x1) / 2, (y0 + y1) / 2) and its width x1 − x0.
// Output cell (i, j) covers pixels [4i, 4i + 4) × [4j, 4j + 4) (stride kDetectStride).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/redraw/dataset.h"
#include "nets/redraw/detect_net.h"
#include "tensor/tensor.h"

namespace sakuga::redraw {

struct BoxF {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
};
double iou(const BoxF& a, const BoxF& b);  // 0 when either is empty

// A box of a kind (0 face, 1 eye: data::redraw::BoxKind) in the network input's pixels.
struct KindBox {
  int kind = 0;
  BoxF box;
};
// The frame's labelled boxes scaled by (sx, sy) (frame pixels → input pixels), optionally
// mirrored horizontally in an input of width `width` (x ← width − x).
std::vector<KindBox> scale_boxes(const std::vector<data::redraw::LabeledBox>& boxes, double sx, double sy,
                                 bool flip = false, double width = 0);

// --- targets ------------------------------------------------------------------------------

// CenterNet's gaussian_radius (its `min_overlap` rule, the three quadratic cases, the smallest
// root) for a box of height × width cells.
double gaussian_radius(double height, double width, double min_overlap = 0.7);
// CenterNet's draw_umich_gaussian: the (2r+1)² Gaussian of σ = (2r+1)/6, 1 at (cx, cy), values
// below float epsilon × max set to 0, clipped to the plane, taken as the maximum with what is there.
void draw_gaussian(float* plane, int64_t h, int64_t w, int64_t cx, int64_t cy, int64_t radius);

// The targets of one frame of input size H × W (multiples of the stride):
//   heat   (2, h, w) Gaussians at the box centres, 1 exactly at each centre cell
//   pos    (2, h, w) 1 where heat == 1 (the positives of the focal loss), else 0
//   size   (2, h, w) log(width / 4), log(height / 4) at each centre cell (ours: log-scale)
//   offset (2, h, w) the centre's fraction of its cell (cx/4 − ⌊cx/4⌋, cy/4 − ⌊cy/4⌋)
//   mask   (1, h, w) 1 at the centre cells
// with h = H/4, w = W/4. Two boxes whose centres fall in the same cell write the same size and
// offset cell: the later box wins and the cell counts once (CenterNet's dense behaviour).
struct DetectTargets {
  Tensor heat, pos, size, offset, mask;
  int64_t objects = 0;
};
DetectTargets make_targets(const std::vector<KindBox>& boxes, int64_t height, int64_t width);

// --- losses -------------------------------------------------------------------------------

// CenterNet's penalty-reduced pixel-wise focal loss (α = 2, β = 4) on logits x, target heat map
// gt and its positives pos (gt == 1, given by the caller because it is known exactly there):
//   −1/max(Npos, 1) · Σ [ pos·(1 − p)^α·log p + (1 − pos)·(1 − gt)^β·p^α·log(1 − p) ],  p = σ(x)
// written with log p = −softplus(−x), log(1 − p) = −softplus(x) and 1 − p = σ(−x) (so no clamp
// of p is needed). Npos = Σ pos over the whole batch.
Tensor centernet_focal_loss(const Tensor& logits, const Tensor& gt, const Tensor& pos, double alpha = 2.0,
                            double beta = 4.0);
// CenterNet's RegL1Loss on dense maps: Σ |pred − target|·mask / (C·Σ mask + 1e-4), mask
// (N, 1, h, w) broadcast over pred's C channels.
Tensor masked_l1(const Tensor& pred, const Tensor& target, const Tensor& mask);

struct DetectLossWeights {
  double heat = 1.0, size = 1.0, offset = 1.0;
};
struct DetectLoss {
  Tensor total, heat, size, offset;  // 0-dim
};
DetectLoss detect_loss(const DetectorOutput& out, const Tensor& heat, const Tensor& pos, const Tensor& size,
                       const Tensor& offset, const Tensor& mask, const DetectLossWeights& w);

// --- decoding -----------------------------------------------------------------------------

struct Detection {
  int kind = 0;  // 0 face, 1 eye
  BoxF box;      // frame pixels
  double score = 0;
};

struct DecodeSettings {
  int64_t top_k = 100;             // peaks kept per frame (both kinds together, CenterNet's K)
  double score_threshold = 0.3;    // infer: detections below it are dropped
  double eval_threshold = 0.01;    // AP: the detections ranked (a low threshold, as for any AP)
  double nms_iou = 0.5;            // per-kind NMS after decoding
};
void validate(const DecodeSettings& d, const std::string& where);

// Greedy NMS per kind: by descending score (ties: earlier first), a detection overlapping a kept
// one of its kind by IoU > `iou` is dropped. Returns the kept ones by descending score.
std::vector<Detection> nms(std::vector<Detection> dets, double iou_threshold);

// One frame's heads (CPU f32): heat probabilities (2, h, w) after the sigmoid, size and offset
// (2, h, w). Peaks are the cells equal to the maximum of their 3×3 neighbourhood (CenterNet's
// 3×3 max-pool test, −∞ padding); the top_k highest (ties: lower kind, then lower cell index)
// at or above `threshold` become boxes centred at ((i + offset_x)·4, (j + offset_y)·4) of size
// exp(size)·4, in input pixels, then multiplied by (sx, sy) into frame pixels and clipped to
// the frame (frame_h × frame_w); then nms().
std::vector<Detection> decode(const Tensor& heat, const Tensor& size, const Tensor& offset, const DecodeSettings& d,
                              double threshold, double sx, double sy, int64_t frame_h, int64_t frame_w);

// --- AP -----------------------------------------------------------------------------------

// Average precision at IoU `iou_threshold` of one kind over frames (VOC all-point interpolation):
// the detections of every frame ranked by descending score (ties: frame order, then order in
// the frame); each is a true positive when its best-IoU box among the frame's not yet matched
// true boxes reaches the threshold (then that box is matched), else a false positive; AP =
// Σ over recall steps of the interpolated precision max_{r' ≥ r} p(r'). NaN when there are no
// true boxes; 0 when there are true boxes and no detections.
double average_precision(const std::vector<std::vector<BoxF>>& truth, const std::vector<std::vector<Detection>>& dets,
                         int kind, double iou_threshold = 0.5);
// The true boxes of one kind per frame.
std::vector<std::vector<BoxF>> boxes_of_kind(const std::vector<std::vector<data::redraw::LabeledBox>>& frames,
                                             int kind);

// --- the fixed-prior baseline ---------------------------------------------------------------

// "One face of the training set's mean size at its mean position, and the two eyes at their
// mean offsets and sizes relative to it": fitted on training frames, every quantity as a
// fraction of the frame (face) or of the face (eyes), so it applies to frames of any size.
struct DetectPrior {
  double face_cx = 0.5, face_cy = 0.5, face_w = 0.3, face_h = 0.3;
  // Per eye (the image's left, then right one): centre offset from the face centre and size,
  // as fractions of the face's width and height.
  std::array<double, 2> eye_dx{-0.2, 0.2}, eye_dy{0, 0}, eye_w{0.2, 0.2}, eye_h{0.1, 0.1};
  int64_t faces = 0, eyes = 0;  // the boxes it was fitted on
};
void to_json(nlohmann::json& j, const DetectPrior& p);
void from_json(const nlohmann::json& j, DetectPrior& p);
// Fitted on frames (their boxes and sizes). An eye belongs to the face whose box holds its
// centre (the first such face; eyes in no face are skipped); left / right by its centre
// against the face's. Errors when there is no face box.
DetectPrior fit_prior(const std::vector<std::vector<data::redraw::LabeledBox>>& frames,
                      const std::vector<std::pair<int64_t, int64_t>>& sizes);
// The prior's three detections (score 1) in a frame of height × width.
std::vector<Detection> prior_detections(const DetectPrior& p, int64_t height, int64_t width);

}  // namespace sakuga::redraw
