#include "nets/redraw/detect_core.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/common.h"
#include "tensor/ops.h"

namespace sakuga::redraw {

double iou(const BoxF& a, const BoxF& b) {
  const double iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<KindBox> scale_boxes(const std::vector<data::redraw::LabeledBox>& boxes, double sx, double sy, bool flip,
                                 double width) {
  std::vector<KindBox> out;
  out.reserve(boxes.size());
  for (const auto& b : boxes) {
    KindBox k;
    k.kind = b.kind == data::redraw::BoxKind::face ? 0 : 1;
    k.box = {b.box.x0 * sx, b.box.y0 * sy, b.box.x1 * sx, b.box.y1 * sy};
    if (flip) k.box = {width - k.box.x1, k.box.y0, width - k.box.x0, k.box.y1};
    out.push_back(k);
  }
  return out;
}

// ---- targets -------------------------------------------------------------------------------

double gaussian_radius(double height, double width, double min_overlap) {
  const double a1 = 1, b1 = height + width, c1 = width * height * (1 - min_overlap) / (1 + min_overlap);
  const double r1 = (b1 + std::sqrt(b1 * b1 - 4 * a1 * c1)) / 2;
  const double a2 = 4, b2 = 2 * (height + width), c2 = (1 - min_overlap) * width * height;
  const double r2 = (b2 + std::sqrt(b2 * b2 - 4 * a2 * c2)) / 2;
  const double a3 = 4 * min_overlap, b3 = -2 * min_overlap * (height + width),
               c3 = (min_overlap - 1) * width * height;
  const double r3 = (b3 + std::sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return std::min({r1, r2, r3});
}

void draw_gaussian(float* plane, int64_t h, int64_t w, int64_t cx, int64_t cy, int64_t radius) {
  const int64_t d = 2 * radius + 1;
  const double sigma = double(d) / 6.0;
  for (int64_t dy = -radius; dy <= radius; ++dy) {
    const int64_t y = cy + dy;
    if (y < 0 || y >= h) continue;
    for (int64_t dx = -radius; dx <= radius; ++dx) {
      const int64_t x = cx + dx;
      if (x < 0 || x >= w) continue;
      double g = std::exp(-double(dx * dx + dy * dy) / (2 * sigma * sigma));
      if (g < std::numeric_limits<double>::epsilon()) g = 0;  // CenterNet: h[h < eps·h.max()] = 0, max 1
      float& v = plane[y * w + x];
      v = std::max(v, float(g));
    }
  }
}

DetectTargets make_targets(const std::vector<KindBox>& boxes, int64_t height, int64_t width) {
  SAKUGA_CHECK(height % kDetectStride == 0 && width % kDetectStride == 0 && height > 0 && width > 0,
               "redraw detector targets: the input size must be a positive multiple of ", kDetectStride, ", got ",
               height, "×", width);
  const int64_t h = height / kDetectStride, w = width / kDetectStride, plane = h * w;
  DetectTargets t;
  t.heat = Tensor::zeros({kDetectClasses, h, w});
  t.pos = Tensor::zeros({kDetectClasses, h, w});
  t.size = Tensor::zeros({2, h, w});
  t.offset = Tensor::zeros({2, h, w});
  t.mask = Tensor::zeros({1, h, w});
  float* heat = t.heat.data<float>();
  float* size = t.size.data<float>();
  float* off = t.offset.data<float>();
  float* mask = t.mask.data<float>();
  const double s = double(kDetectStride);
  for (const KindBox& kb : boxes) {
    const BoxF& b = kb.box;
    SAKUGA_CHECK(kb.kind >= 0 && kb.kind < kDetectClasses, "redraw detector targets: box kind ", kb.kind);
    const double bw = b.width() / s, bh = b.height() / s;  // cells
    if (bw <= 0 || bh <= 0) continue;
    const double cx = (b.x0 + b.x1) / 2 / s, cy = (b.y0 + b.y1) / 2 / s;
    const int64_t ix = std::clamp<int64_t>(int64_t(std::floor(cx)), 0, w - 1);
    const int64_t iy = std::clamp<int64_t>(int64_t(std::floor(cy)), 0, h - 1);
    const int64_t r = std::max<int64_t>(0, int64_t(gaussian_radius(std::ceil(bh), std::ceil(bw))));
    draw_gaussian(heat + kb.kind * plane, h, w, ix, iy, r);
    const int64_t at = iy * w + ix;
    size[at] = float(std::log(bw));
    size[plane + at] = float(std::log(bh));
    off[at] = float(cx - double(ix));
    off[plane + at] = float(cy - double(iy));
    if (mask[at] == 0) ++t.objects;
    mask[at] = 1;
  }
  float* pos = t.pos.data<float>();
  for (int64_t i = 0; i < kDetectClasses * plane; ++i) pos[i] = heat[i] == 1.0f ? 1.0f : 0.0f;
  return t;
}

// ---- losses --------------------------------------------------------------------------------

Tensor centernet_focal_loss(const Tensor& logits, const Tensor& gt, const Tensor& pos, double alpha, double beta) {
  SAKUGA_CHECK(logits.shape() == gt.shape() && logits.shape() == pos.shape(),
               "centernet_focal_loss: logits, gt and pos must have one shape, got ", shape_str(logits.shape()), ", ",
               shape_str(gt.shape()), ", ", shape_str(pos.shape()));
  // (1 − gt)^β·(1 − pos): the negatives' weight, a constant.
  const Tensor neg_weight = ops::pow((-gt.detach()) + 1.0, beta) * ((-pos.detach()) + 1.0);
  const Tensor pos_term = ops::softplus(-logits) * ops::pow(ops::sigmoid(-logits), alpha) * pos.detach();
  const Tensor neg_term = ops::softplus(logits) * ops::pow(ops::sigmoid(logits), alpha) * neg_weight;
  const Tensor npos = ops::clamp(ops::sum(pos.detach()), 1.0, std::numeric_limits<double>::max());
  return ops::sum(pos_term + neg_term) / npos;
}

Tensor masked_l1(const Tensor& pred, const Tensor& target, const Tensor& mask) {
  SAKUGA_CHECK(pred.shape() == target.shape() && mask.dim() == pred.dim() && mask.size(1) == 1,
               "masked_l1: pred and target of one shape and a (N, 1, …) mask, got ", shape_str(pred.shape()), ", ",
               shape_str(target.shape()), ", ", shape_str(mask.shape()));
  const Tensor m = mask.detach();
  return ops::sum(ops::abs(pred - target.detach()) * m) / (ops::sum(m) * double(pred.size(1)) + 1e-4);
}

DetectLoss detect_loss(const DetectorOutput& out, const Tensor& heat, const Tensor& pos, const Tensor& size,
                       const Tensor& offset, const Tensor& mask, const DetectLossWeights& w) {
  DetectLoss l;
  l.heat = centernet_focal_loss(out.heat, heat, pos);
  l.size = masked_l1(out.size, size, mask);
  l.offset = masked_l1(out.offset, offset, mask);
  l.total = l.heat * w.heat + l.size * w.size + l.offset * w.offset;
  return l;
}

// ---- decoding ------------------------------------------------------------------------------

void validate(const DecodeSettings& d, const std::string& where) {
  SAKUGA_CHECK(d.top_k >= 1 && d.top_k <= 10000, "config ", where, ".top_k: expected 1 … 10000, got ", d.top_k);
  SAKUGA_CHECK(d.score_threshold >= 0 && d.score_threshold <= 1, "config ", where,
               ".score_threshold: expected 0 … 1, got ", d.score_threshold);
  SAKUGA_CHECK(d.eval_threshold >= 0 && d.eval_threshold <= 1, "config ", where,
               ".eval_threshold: expected 0 … 1, got ", d.eval_threshold);
  SAKUGA_CHECK(d.nms_iou > 0 && d.nms_iou <= 1, "config ", where, ".nms_iou: expected (0, 1], got ", d.nms_iou);
}

std::vector<Detection> nms(std::vector<Detection> dets, double iou_threshold) {
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : dets) {
    bool drop = false;
    for (const Detection& k : kept)
      if (k.kind == d.kind && iou(k.box, d.box) > iou_threshold) {
        drop = true;
        break;
      }
    if (!drop) kept.push_back(d);
  }
  return kept;
}

std::vector<Detection> decode(const Tensor& heat, const Tensor& size, const Tensor& offset, const DecodeSettings& d,
                              double threshold, double sx, double sy, int64_t frame_h, int64_t frame_w) {
  SAKUGA_CHECK(heat.dim() == 3 && heat.size(0) == kDetectClasses && size.shape() == Shape({2, heat.size(1), heat.size(2)}) &&
                   offset.shape() == size.shape(),
               "redraw detector decode: expected heat (2, h, w), size and offset (2, h, w), got ",
               shape_str(heat.shape()), ", ", shape_str(size.shape()), ", ", shape_str(offset.shape()));
  const int64_t h = heat.size(1), w = heat.size(2), plane = h * w;
  const std::vector<float> hv = heat.contiguous().to(DType::f32).to_vector();
  const std::vector<float> sv = size.contiguous().to(DType::f32).to_vector();
  const std::vector<float> ov = offset.contiguous().to(DType::f32).to_vector();
  struct Peak {
    float score;
    int64_t index;  // kind·plane + cell
  };
  std::vector<Peak> peaks;
  for (int64_t k = 0; k < kDetectClasses; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const float v = hv[size_t(k * plane + y * w + x)];
        if (double(v) < threshold) continue;
        bool peak = true;
        for (int64_t dy = -1; dy <= 1 && peak; ++dy)
          for (int64_t dx = -1; dx <= 1; ++dx) {
            const int64_t yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            if (hv[size_t(k * plane + yy * w + xx)] > v) {
              peak = false;
              break;
            }
          }
        if (peak) peaks.push_back({v, k * plane + y * w + x});
      }
  std::stable_sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) { return a.score > b.score; });
  if (int64_t(peaks.size()) > d.top_k) peaks.resize(size_t(d.top_k));
  const double s = double(kDetectStride);
  std::vector<Detection> dets;
  for (const Peak& p : peaks) {
    const int64_t kind = p.index / plane, cell = p.index % plane, y = cell / w, x = cell % w;
    // exp of a clamped log-size: at most 2^16 cells, so a wild untrained output stays finite.
    const double bw = std::exp(std::clamp(double(sv[size_t(cell)]), -10.0, 11.0)) * s;
    const double bh = std::exp(std::clamp(double(sv[size_t(plane + cell)]), -10.0, 11.0)) * s;
    const double cx = (double(x) + double(ov[size_t(cell)])) * s;
    const double cy = (double(y) + double(ov[size_t(plane + cell)])) * s;
    Detection det;
    det.kind = int(kind);
    det.score = double(p.score);
    det.box = {std::clamp((cx - bw / 2) * sx, 0.0, double(frame_w)), std::clamp((cy - bh / 2) * sy, 0.0, double(frame_h)),
               std::clamp((cx + bw / 2) * sx, 0.0, double(frame_w)), std::clamp((cy + bh / 2) * sy, 0.0, double(frame_h))};
    if (det.box.width() <= 0 || det.box.height() <= 0) continue;
    dets.push_back(det);
  }
  return nms(std::move(dets), d.nms_iou);
}

// ---- AP ------------------------------------------------------------------------------------

double average_precision(const std::vector<std::vector<BoxF>>& truth, const std::vector<std::vector<Detection>>& dets,
                         int kind, double iou_threshold) {
  SAKUGA_CHECK(truth.size() == dets.size(), "average_precision: ", truth.size(), " frames of true boxes but ",
               dets.size(), " of detections");
  size_t total = 0;
  for (const auto& t : truth) total += t.size();
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  struct Ranked {
    double score;
    size_t frame;
    const BoxF* box;
  };
  std::vector<Ranked> ranked;
  for (size_t f = 0; f < dets.size(); ++f)
    for (const Detection& d : dets[f])
      if (d.kind == kind) ranked.push_back({d.score, f, &d.box});
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
  std::vector<std::vector<bool>> matched(truth.size());
  for (size_t f = 0; f < truth.size(); ++f) matched[f].assign(truth[f].size(), false);
  std::vector<double> precision, recall;
  size_t tp = 0, fp = 0;
  for (const Ranked& r : ranked) {
    double best = 0;
    size_t best_i = 0;
    bool found = false;
    for (size_t i = 0; i < truth[r.frame].size(); ++i) {
      if (matched[r.frame][i]) continue;
      const double o = iou(*r.box, truth[r.frame][i]);
      if (!found || o > best) {
        best = o;
        best_i = i;
        found = true;
      }
    }
    if (found && best >= iou_threshold) {
      matched[r.frame][best_i] = true;
      ++tp;
    } else {
      ++fp;
    }
    precision.push_back(double(tp) / double(tp + fp));
    recall.push_back(double(tp) / double(total));
  }
  // All-point interpolation: precision made non-increasing from the right, summed over recall steps.
  for (size_t i = precision.size(); i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double ap = 0, prev_recall = 0;
  for (size_t i = 0; i < precision.size(); ++i) {
    ap += (recall[i] - prev_recall) * precision[i];
    prev_recall = recall[i];
  }
  return ap;
}

std::vector<std::vector<BoxF>> boxes_of_kind(const std::vector<std::vector<data::redraw::LabeledBox>>& frames,
                                             int kind) {
  std::vector<std::vector<BoxF>> out(frames.size());
  for (size_t f = 0; f < frames.size(); ++f)
    for (const KindBox& b : scale_boxes(frames[f], 1.0, 1.0))
      if (b.kind == kind) out[f].push_back(b.box);
  return out;
}

// ---- prior ---------------------------------------------------------------------------------

void to_json(nlohmann::json& j, const DetectPrior& p) {
  j = nlohmann::json{{"face_cx", p.face_cx}, {"face_cy", p.face_cy}, {"face_w", p.face_w}, {"face_h", p.face_h},
                     {"eye_dx", p.eye_dx},   {"eye_dy", p.eye_dy},   {"eye_w", p.eye_w},   {"eye_h", p.eye_h},
                     {"faces", p.faces},     {"eyes", p.eyes}};
}

void from_json(const nlohmann::json& j, DetectPrior& p) {
  j.at("face_cx").get_to(p.face_cx);
  j.at("face_cy").get_to(p.face_cy);
  j.at("face_w").get_to(p.face_w);
  j.at("face_h").get_to(p.face_h);
  j.at("eye_dx").get_to(p.eye_dx);
  j.at("eye_dy").get_to(p.eye_dy);
  j.at("eye_w").get_to(p.eye_w);
  j.at("eye_h").get_to(p.eye_h);
  j.at("faces").get_to(p.faces);
  j.at("eyes").get_to(p.eyes);
}

DetectPrior fit_prior(const std::vector<std::vector<data::redraw::LabeledBox>>& frames,
                      const std::vector<std::pair<int64_t, int64_t>>& sizes) {
  SAKUGA_CHECK(frames.size() == sizes.size(), "fit_prior: ", frames.size(), " frames but ", sizes.size(), " sizes");
  DetectPrior p;
  double fx = 0, fy = 0, fw = 0, fh = 0;
  std::array<double, 2> dx{0, 0}, dy{0, 0}, ew{0, 0}, eh{0, 0};
  std::array<int64_t, 2> n{0, 0};
  for (size_t f = 0; f < frames.size(); ++f) {
    const double H = double(sizes[f].first), W = double(sizes[f].second);
    const std::vector<KindBox> boxes = scale_boxes(frames[f], 1.0, 1.0);
    for (const KindBox& b : boxes) {
      if (b.kind != 0) continue;
      fx += (b.box.x0 + b.box.x1) / 2 / W;
      fy += (b.box.y0 + b.box.y1) / 2 / H;
      fw += b.box.width() / W;
      fh += b.box.height() / H;
      ++p.faces;
    }
    for (const KindBox& e : boxes) {
      if (e.kind != 1) continue;
      const double ex = (e.box.x0 + e.box.x1) / 2, ey = (e.box.y0 + e.box.y1) / 2;
      for (const KindBox& face : boxes) {
        const BoxF& fb = face.box;
        if (face.kind != 0 || ex < fb.x0 || ex >= fb.x1 || ey < fb.y0 || ey >= fb.y1) continue;
        const double cx = (fb.x0 + fb.x1) / 2, cy = (fb.y0 + fb.y1) / 2;
        const size_t side = ex < cx ? 0 : 1;
        dx[side] += (ex - cx) / fb.width();
        dy[side] += (ey - cy) / fb.height();
        ew[side] += e.box.width() / fb.width();
        eh[side] += e.box.height() / fb.height();
        ++n[side];
        ++p.eyes;
        break;
      }
    }
  }
  SAKUGA_CHECK(p.faces > 0, "redraw detector baseline: the training frames hold no face box to fit the prior on");
  const double nf = double(p.faces);
  p.face_cx = fx / nf;
  p.face_cy = fy / nf;
  p.face_w = fw / nf;
  p.face_h = fh / nf;
  for (size_t s = 0; s < 2; ++s)
    if (n[s] > 0) {
      p.eye_dx[s] = dx[s] / double(n[s]);
      p.eye_dy[s] = dy[s] / double(n[s]);
      p.eye_w[s] = ew[s] / double(n[s]);
      p.eye_h[s] = eh[s] / double(n[s]);
    }
  return p;
}

std::vector<Detection> prior_detections(const DetectPrior& p, int64_t height, int64_t width) {
  const double H = double(height), W = double(width);
  auto clipped = [&](double cx, double cy, double w, double h) {
    return BoxF{std::clamp(cx - w / 2, 0.0, W), std::clamp(cy - h / 2, 0.0, H), std::clamp(cx + w / 2, 0.0, W),
                std::clamp(cy + h / 2, 0.0, H)};
  };
  const double fcx = p.face_cx * W, fcy = p.face_cy * H, fw = p.face_w * W, fh = p.face_h * H;
  std::vector<Detection> d{{0, clipped(fcx, fcy, fw, fh), 1.0}};
  for (size_t s = 0; s < 2; ++s)
    d.push_back({1, clipped(fcx + p.eye_dx[s] * fw, fcy + p.eye_dy[s] * fh, p.eye_w[s] * fw, p.eye_h[s] * fh), 1.0});
  return d;
}

}  // namespace sakuga::redraw
