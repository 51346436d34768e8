// The redraw detect stage: a CenterNet-style face / eye detector trained on synthetic frames (or
// the frames of a dataset folder), its evaluation against a fixed-prior baseline, and
// `sakuga eval|infer redraw --stage detect` (docs/redraw.md "Detector").
#include "nets/redraw/detect.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "data/canvas.h"
#include "data/draw.h"
#include "data/png.h"
#include "data/resize.h"
#include "data/sampling.h"
#include "kernels/common.h"
#include "kernels/log.h"
#include "nets/harness/config.h"
#include "nets/harness/trainer.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DetectorConfig, depth, neck, head, heat_bias)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DetectLossWeights, heat, size, offset)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DecodeSettings, top_k, score_threshold, eval_threshold, nms_iou)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DetectSettings, size, batch, steps, flip, val_frames, val_fraction,
                                                prior_frames, samples, model, optim, loss, decode)

namespace {

// The demo's optimiser: Adam 1e-3, 30 warm-up steps, cosine to 1e-5.
harness::OptimSpec default_optim() {
  harness::OptimSpec o;
  o.kind = "adam";
  o.lr = 1e-3;
  o.warmup = 30;
  o.schedule = "cosine";
  o.lr_end = 1e-5;
  return o;
}

}  // namespace

Json detect_defaults() {
  DetectSettings s;
  s.optim = default_optim();
  return Json(s);
}

DetectSettings detect_settings(const Config& cfg) {
  const auto s = cfg.get<DetectSettings>("detect");
  SAKUGA_CHECK(s.size.size() == 2, "config detect.size: expected [H, W], got ", Json(s.size).dump());
  for (int64_t v : s.size)
    SAKUGA_CHECK(v >= 64 && v <= 2048 && v % 32 == 0,
                 "config detect.size: each side must be a multiple of 32 in 64 … 2048, got ", Json(s.size).dump());
  SAKUGA_CHECK(s.batch >= 1 && s.batch <= 1024, "config detect.batch: expected 1 … 1024, got ", s.batch);
  SAKUGA_CHECK(s.steps >= 1, "config detect.steps: expected at least 1, got ", s.steps);
  SAKUGA_CHECK(s.val_frames >= 1 && s.val_frames <= 100000, "config detect.val_frames: expected 1 … 100000, got ",
               s.val_frames);
  SAKUGA_CHECK(s.val_fraction > 0 && s.val_fraction < 1, "config detect.val_fraction: expected (0, 1), got ",
               s.val_fraction);
  SAKUGA_CHECK(s.prior_frames >= 1 && s.prior_frames <= 100000,
               "config detect.prior_frames: expected 1 … 100000, got ", s.prior_frames);
  SAKUGA_CHECK(s.samples >= 0 && s.samples <= 64, "config detect.samples: expected 0 … 64, got ", s.samples);
  SAKUGA_CHECK(s.loss.heat >= 0 && s.loss.size >= 0 && s.loss.offset >= 0,
               "config detect.loss: weights must be non-negative");
  validate(s.decode, "detect.decode");
  harness::validate(s.optim, "detect.optim");
  return s;
}

// ---- running the network on frames -----------------------------------------------------------

FramesResult detect_frames(Detector& net, const std::vector<Tensor>& frames, const DetectSettings& s,
                           double threshold, Device dev,
                           const std::vector<std::vector<data::redraw::LabeledBox>>* truth) {
  SAKUGA_CHECK(!truth || truth->size() == frames.size(), "detect_frames: ", frames.size(), " frames but ",
               truth->size(), " box lists");
  NoGradGuard ng;
  net.eval();
  const int64_t H = s.height(), W = s.width();
  FramesResult r;
  double loss_sum = 0;
  for (size_t start = 0; start < frames.size(); start += size_t(s.batch)) {
    const size_t n = std::min(frames.size() - start, size_t(s.batch));
    std::vector<Tensor> inputs;
    std::vector<DetectTargets> targets;
    for (size_t i = start; i < start + n; ++i) {
      const Tensor& f = frames[i];
      SAKUGA_CHECK(f.dim() == 3 && f.size(0) == 3, "redraw detector: expected a frame (3, H, W), got ",
                   shape_str(f.shape()));
      Tensor x = f.contiguous().to(Device::cpu()).to(DType::f32);
      if (f.size(1) != H || f.size(2) != W) x = data::resize_area(x, H, W);
      inputs.push_back(x);
      if (truth)
        targets.push_back(make_targets(
            scale_boxes((*truth)[i], double(W) / double(f.size(2)), double(H) / double(f.size(1))), H, W));
    }
    DetectorOutput out = net.run(ops::stack(inputs, 0).to(dev));
    if (truth) {
      auto cat = [&](Tensor DetectTargets::*m) {
        std::vector<Tensor> v;
        for (const auto& t : targets) v.push_back(t.*m);
        return ops::stack(v, 0).to(dev);
      };
      DetectLoss l = detect_loss(out, cat(&DetectTargets::heat), cat(&DetectTargets::pos), cat(&DetectTargets::size),
                                 cat(&DetectTargets::offset), cat(&DetectTargets::mask), s.loss);
      loss_sum += l.total.item() * double(n);
    }
    const Tensor heat = ops::sigmoid(out.heat).to(Device::cpu());
    const Tensor size = out.size.to(Device::cpu()), offset = out.offset.to(Device::cpu());
    for (size_t k = 0; k < n; ++k) {
      const Tensor& f = frames[start + k];
      const int64_t fh = f.size(1), fw = f.size(2);
      r.detections.push_back(decode(ops::select(heat, 0, int64_t(k)), ops::select(size, 0, int64_t(k)),
                                    ops::select(offset, 0, int64_t(k)), s.decode, threshold,
                                    double(fw) / double(W), double(fh) / double(H), fh, fw));
    }
  }
  r.loss = frames.empty() ? 0.0 : loss_sum / double(frames.size());
  return r;
}

Tensor draw_boxes(const Tensor& frame, const std::vector<Detection>& boxes) {
  data::Canvas c(frame.size(1), frame.size(2), data::kBlack);
  c.blit(frame, 0, 0);
  for (const Detection& d : boxes) {
    const data::Color col = d.kind == 0 ? data::Color{1.f, 0.9f, 0.f} : data::Color{0.f, 0.9f, 1.f};
    const int64_t x0 = int64_t(std::lround(d.box.x0)), y0 = int64_t(std::lround(d.box.y0));
    const int64_t x1 = int64_t(std::lround(d.box.x1)), y1 = int64_t(std::lround(d.box.y1));
    c.rect(x0, y0, std::max<int64_t>(1, x1 - x0), std::max<int64_t>(1, y1 - y0), col);
  }
  return c.tensor();
}

namespace {

std::vector<Detection> as_detections(const std::vector<data::redraw::LabeledBox>& boxes) {
  std::vector<Detection> d;
  for (const KindBox& k : scale_boxes(boxes, 1.0, 1.0)) d.push_back({k.kind, k.box, 1.0});
  return d;
}

struct ApPair {
  double face = 0, eye = 0;
};

ApPair ap50(const std::vector<std::vector<data::redraw::LabeledBox>>& truth,
            const std::vector<std::vector<Detection>>& dets) {
  return {average_precision(boxes_of_kind(truth, 0), dets, 0, 0.5),
          average_precision(boxes_of_kind(truth, 1), dets, 1, 0.5)};
}

// A frame and its boxes at the training size.
struct Sample {
  Tensor image;  // (3, H, W)
  std::vector<KindBox> boxes;
};

uint64_t flip_hash(uint64_t seed, int64_t index) {
  return data::draw::mix64(seed ^ data::draw::mix64(uint64_t(index) + 0x464C4950ull));
}

// ---- the family --------------------------------------------------------------------------------

class DetectFamily : public harness::Family {
 public:
  DetectFamily(const Config& cfg, Device dev, bool quiet) : Family(cfg, dev) {
    s_ = detect_settings(cfg);
    data_ = data_settings(cfg);
    seed_ = cfg.get<uint64_t>("train.seed");
    if (data_.synthetic) {
      world_ = synthetic_world(data_);
      for (int64_t i = 0; i < s_.val_frames; ++i) {
        data::redraw::SynthFrame f = data::redraw::synth_frame(world_, data_.val_seed, i, s_.height(), s_.width());
        val_images_.push_back(f.image);
        val_boxes_.push_back(f.boxes);
      }
      std::vector<std::vector<data::redraw::LabeledBox>> boxes;
      std::vector<std::pair<int64_t, int64_t>> sizes;
      for (int64_t i = 0; i < s_.prior_frames; ++i) {
        boxes.push_back(data::redraw::synth_frame(world_, seed_, i, s_.height(), s_.width()).boxes);
        sizes.emplace_back(s_.height(), s_.width());
      }
      prior_ = fit_prior(boxes, sizes);
    } else {
      const std::string dir = (std::filesystem::path(data_.dir) / "frames").string();
      std::vector<data::redraw::FrameEntry> all = data::redraw::read_frames(dir);
      SAKUGA_CHECK(all.size() >= 2, dir, ": the detector needs at least 2 frames (training and validation), found ",
                   all.size());
      std::vector<data::redraw::FrameEntry> val;
      for (auto& e : all) (data::is_validation_name(e.name, s_.val_fraction) ? val : train_).push_back(e);
      // A tiny folder may hash all to one side: then its last frame validates.
      if (val.empty()) {
        val.push_back(train_.back());
        train_.pop_back();
      } else if (train_.empty()) {
        train_.push_back(val.front());
        val.erase(val.begin());
      }
      for (const auto& e : val) {
        val_images_.push_back(data::read_png_tensor(e.image, 3));
        val_boxes_.push_back(e.boxes);
      }
      std::vector<std::vector<data::redraw::LabeledBox>> boxes;
      std::vector<std::pair<int64_t, int64_t>> sizes;
      for (const auto& e : train_) {
        boxes.push_back(e.boxes);
        sizes.emplace_back(e.height, e.width);
      }
      prior_ = fit_prior(boxes, sizes);
    }
    for (size_t i = 0; i < val_images_.size(); ++i)
      prior_dets_.push_back(prior_detections(prior_, val_images_[i].size(1), val_images_[i].size(2)));
    prior_ap_ = ap50(val_boxes_, prior_dets_);

    manual_seed(seed_);  // parameter initialisation
    net_ = parts().network("detector", std::make_shared<Detector>(s_.model));
    net_->to(dev);
    parts().optimizer("detector", s_.optim, {"detector"}, std::nullopt, "detect.optim");
    parts().stage("train", s_.steps, {"detector"});
    (void)quiet;
  }

  harness::Batch make_batch(int64_t step) const override { return make_batch_slice(step, 0, s_.batch); }

  harness::Batch make_batch_slice(int64_t step, int64_t begin, int64_t end) const override {
    const int64_t n = end - begin, H = s_.height(), W = s_.width(), h = H / kDetectStride, w = W / kDetectStride;
    Tensor images = Tensor::empty({n, 3, H, W});
    Tensor heat = Tensor::empty({n, kDetectClasses, h, w}), pos = Tensor::empty({n, kDetectClasses, h, w});
    Tensor size = Tensor::empty({n, 2, h, w}), offset = Tensor::empty({n, 2, h, w}), mask = Tensor::empty({n, 1, h, w});
    for (int64_t b = 0; b < n; ++b) {
      const Sample smp = sample(step * s_.batch + begin + b);
      const DetectTargets t = make_targets(smp.boxes, H, W);
      auto put = [b](Tensor& dst, const Tensor& src) {
        const int64_t m = src.numel();
        std::copy(src.data<float>(), src.data<float>() + m, dst.data<float>() + b * m);
      };
      put(images, smp.image);
      put(heat, t.heat);
      put(pos, t.pos);
      put(size, t.size);
      put(offset, t.offset);
      put(mask, t.mask);
    }
    return {{"images", images}, {"heat", heat}, {"pos", pos}, {"size", size}, {"offset", offset}, {"mask", mask}};
  }

  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    net_->train();
    DetectorOutput out = net_->run(b.at("images"));
    DetectLoss l = detect_loss(out, b.at("heat"), b.at("pos"), b.at("size"), b.at("offset"), b.at("mask"), s_.loss);
    ctx.dump("heat_logits", out.heat);
    ctx.dump("size", out.size);
    ctx.dump("offset", out.offset);
    ctx.dump("loss", l.total);
    ctx.update("detector", l.total);
    ctx.log("loss", l.total);
    ctx.log("heat", l.heat);
    ctx.log("size", l.size);
    ctx.log("offset", l.offset);
  }

  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    FramesResult fr = detect_frames(*net_, val_images_, s_, s_.decode.eval_threshold, ctx.device, &val_boxes_);
    const ApPair ap = ap50(val_boxes_, fr.detections);
    harness::EvalReport r;
    r.metrics = {{"val_loss", fr.loss},
                 {"ap50_face", ap.face},
                 {"ap50_eye", ap.eye},
                 {"baseline_ap50_face", prior_ap_.face},
                 {"baseline_ap50_eye", prior_ap_.eye}};
    std::vector<std::vector<Tensor>> rows;
    for (size_t i = 0; i < val_images_.size() && int64_t(i) < s_.samples; ++i) {
      std::vector<Detection> shown;
      for (const Detection& d : fr.detections[i])
        if (d.score >= s_.decode.score_threshold) shown.push_back(d);
      rows.push_back({draw_boxes(val_images_[i], shown), draw_boxes(val_images_[i], as_detections(val_boxes_[i])),
                      draw_boxes(val_images_[i], prior_dets_[i])});
    }
    if (!rows.empty())
      r.sheet = data::image_grid(
          rows, {{fmt::format("detected (score>={:g})", s_.decode.score_threshold), "true", "baseline"}, {}});
    return r;
  }

  std::string describe() const override {
    return fmt::format(
        "redraw detect: CenterNet on resnet{} (neck {}, head {}), {} parameters, {} frames {}x{}, batch {}, {} steps, "
        "{}; {} validation frames; baseline: fixed prior (mean face box, mean eye offsets) fitted on {} faces",
        s_.model.depth, s_.model.neck, s_.model.head, net_->num_parameters(),
        data_.synthetic ? "synthetic" : "folder " + data_.dir, s_.height(), s_.width(), s_.batch, s_.steps,
        device().str(), val_images_.size(), prior_.faces);
  }

  std::string summary(const std::map<std::string, double>& last) const override {
    if (!last.count("ap50_face")) return "";
    return fmt::format(
        "redraw detect: AP@0.5 on {} validation frames: face {:.3f}, eye {:.3f} (fixed-prior baseline: face {:.3f}, "
        "eye {:.3f})",
        val_images_.size(), last.at("ap50_face"), last.at("ap50_eye"), prior_ap_.face, prior_ap_.eye);
  }

  int64_t batch_size() const override { return s_.batch; }

  // The fitted baseline, for eval runs on other frames.
  Json state() const override { return Json{{"prior", prior_}}; }

 private:
  // Training sample `index` (step·batch + position): synthetic frame `index` of stream
  // train.seed, or the folder's training frame at that position of its epoch's permutation;
  // mirrored when flip is on and its hash says so.
  Sample sample(int64_t index) const {
    const int64_t H = s_.height(), W = s_.width();
    const bool flip = s_.flip && (flip_hash(seed_, index) & 1);
    Sample smp;
    if (data_.synthetic) {
      data::redraw::SynthFrame f = data::redraw::synth_frame(world_, seed_, index, H, W);
      smp.image = f.image;
      smp.boxes = scale_boxes(f.boxes, 1.0, 1.0, flip, double(W));
    } else {
      const int64_t n = int64_t(train_.size());
      const std::vector<int64_t> order = data::epoch_order(n, seed_, index / n);
      const data::redraw::FrameEntry& e = train_[size_t(order[size_t(index % n)])];
      Tensor img = data::read_png_tensor(e.image, 3);
      SAKUGA_CHECK(img.size(1) == e.height && img.size(2) == e.width, e.image, ": changed size since it was listed");
      if (e.height != H || e.width != W) img = data::resize_area(img, H, W);
      smp.image = img;
      smp.boxes = scale_boxes(e.boxes, double(W) / double(e.width), double(H) / double(e.height), flip, double(W));
    }
    if (flip) smp.image = ops::flip(smp.image, {2}).contiguous();
    return smp;
  }

  DetectSettings s_;
  DataSettings data_;
  uint64_t seed_ = 0;
  data::redraw::World world_;
  std::vector<data::redraw::FrameEntry> train_;
  std::vector<Tensor> val_images_;
  std::vector<std::vector<data::redraw::LabeledBox>> val_boxes_;
  DetectPrior prior_;
  std::vector<std::vector<Detection>> prior_dets_;
  ApPair prior_ap_;
  std::shared_ptr<Detector> net_;
};

}  // namespace

std::unique_ptr<harness::Family> make_detect_family(const Config& cfg, Device device, bool quiet) {
  return std::make_unique<DetectFamily>(cfg, device, quiet);
}

// ---- checkpoints, eval, infer --------------------------------------------------------------

LoadedDetector load_detector(const ModelSource& m) {
  const io::SafetensorsFile f = io::load_safetensors(m.ckpt);
  require_stage(f, m.ckpt, Stage::detect);
  ConfigSources src;
  src.files = m.config_files;
  src.sets = m.sets;
  src.saved = Json::parse(f.metadata.at("config"));  // require_stage checked it parses
  src.saved_source = m.ckpt + " (metadata config)";
  LoadedDetector out;
  out.cfg = resolve_config(default_config(), src);
  out.settings = detect_settings(out.cfg);
  out.device = Device::parse(m.device);
  out.net = std::make_shared<Detector>(out.settings.model);
  nn::StateDict sd;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind("detector.", 0) == 0) sd[k.substr(9)] = v;
  SAKUGA_CHECK(!sd.empty(), m.ckpt, ": no detector.* tensors (not a detect-stage checkpoint)");
  try {
    out.net->load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(m.ckpt, ": network detector: ", e.what());
  }
  out.net->to(out.device);
  out.net->eval();
  if (auto it = f.metadata.find("harness"); it != f.metadata.end()) {
    try {
      const Json h = Json::parse(it->second);
      if (h.contains("family") && h["family"].contains("prior")) {
        out.prior = h["family"]["prior"].get<DetectPrior>();
        out.has_prior = true;
      }
    } catch (const std::exception& e) {
      SAKUGA_FAIL(m.ckpt, ": unreadable harness state in its metadata: ", e.what());
    }
  }
  return out;
}

namespace {

Json ap_json(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

std::string ap_str(double v) { return std::isnan(v) ? "n/a (no true boxes)" : fmt::format("{:.4f}", v); }

}  // namespace

int run_detect_eval(const EvalOptions& o) {
  LoadedDetector m = load_detector(o.model);
  const DetectSettings& s = m.settings;
  std::vector<Tensor> images;
  std::vector<std::vector<data::redraw::LabeledBox>> truth;
  std::string source;
  if (!o.data_dir.empty()) {
    const std::string dir = (std::filesystem::path(o.data_dir) / "frames").string();
    for (const auto& e : data::redraw::read_frames(dir)) {
      images.push_back(data::read_png_tensor(e.image, 3));
      truth.push_back(e.boxes);
    }
    source = dir;
  } else {
    SAKUGA_CHECK(o.synthetic >= 1, "eval redraw: --synthetic: expected at least 1 frame, got ", o.synthetic);
    const data::redraw::World world = synthetic_world([&] {
      DataSettings d = data_settings(m.cfg);
      d.synthetic = true;  // the checkpoint's world, also for a run trained on a folder
      return d;
    }());
    for (int64_t i = 0; i < o.synthetic; ++i) {
      data::redraw::SynthFrame f = data::redraw::synth_frame(world, o.seed, i, s.height(), s.width());
      images.push_back(f.image);
      truth.push_back(f.boxes);
    }
    source = fmt::format("{} synthetic frames {}x{} of seed {}", o.synthetic, s.height(), s.width(), o.seed);
  }
  FramesResult fr = detect_frames(*m.net, images, s, s.decode.eval_threshold, m.device);
  const ApPair ap = ap50(truth, fr.detections);
  int64_t faces = 0, eyes = 0;
  for (const auto& t : truth)
    for (const auto& b : t) (b.kind == data::redraw::BoxKind::face ? faces : eyes)++;
  Json j{{"stage", "detect"},
         {"ckpt", o.model.ckpt},
         {"data", source},
         {"frames", int64_t(images.size())},
         {"boxes", {{"face", faces}, {"eye", eyes}}},
         {"iou", 0.5},
         {"ap50", {{"face", ap_json(ap.face)}, {"eye", ap_json(ap.eye)}}}};
  std::string line = fmt::format("eval redraw detect: {}: AP@0.5 face {}, eye {}", source, ap_str(ap.face),
                                 ap_str(ap.eye));
  if (m.has_prior) {
    std::vector<std::vector<Detection>> pd;
    for (const Tensor& im : images) pd.push_back(prior_detections(m.prior, im.size(1), im.size(2)));
    const ApPair b = ap50(truth, pd);
    j["baseline"] = {{"name", "fixed prior: the training set's mean face box and mean eye offsets"},
                     {"ap50", {{"face", ap_json(b.face)}, {"eye", ap_json(b.eye)}}}};
    line += fmt::format(" (fixed-prior baseline: face {}, eye {})", ap_str(b.face), ap_str(b.eye));
  }
  fmt::print("{}\n", line);
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    SAKUGA_CHECK(out.good(), o.json_file, ": cannot write");
    out << j.dump(2) << "\n";
    SAKUGA_CHECK(out.good(), o.json_file, ": write failed");
  }
  return 0;
}

int run_detect_infer(const InferOptions& o) {
  SAKUGA_CHECK(!o.json_file.empty(), "infer redraw --stage detect: --json FILE is required (the boxes per input)");
  SAKUGA_CHECK(!o.inputs.empty(), "infer redraw --stage detect: no --input frames");
  std::set<std::string> names;
  for (const std::string& in : o.inputs) {
    const std::string name = std::filesystem::path(in).filename().string();
    SAKUGA_CHECK(names.insert(name).second, "infer redraw: two inputs named ", name,
                 " (the JSON is keyed by file name)");
  }
  LoadedDetector m = load_detector(o.model);
  std::vector<Tensor> images;
  for (const std::string& in : o.inputs) images.push_back(data::read_png_tensor(in, 3));
  FramesResult fr = detect_frames(*m.net, images, m.settings, m.settings.decode.score_threshold, m.device);
  Json j = Json::object();
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    const int64_t H = images[i].size(1), W = images[i].size(2);
    Json list = Json::array();
    int64_t faces = 0, eyes = 0;
    for (const Detection& d : fr.detections[i]) {
      // Whole pixels, x1 / y1 exclusive, at least one pixel wide, inside the frame.
      int64_t x0 = std::clamp<int64_t>(int64_t(std::lround(d.box.x0)), 0, W - 1);
      int64_t y0 = std::clamp<int64_t>(int64_t(std::lround(d.box.y0)), 0, H - 1);
      int64_t x1 = std::clamp<int64_t>(int64_t(std::lround(d.box.x1)), x0 + 1, W);
      int64_t y1 = std::clamp<int64_t>(int64_t(std::lround(d.box.y1)), y0 + 1, H);
      list.push_back({{"kind", d.kind == 0 ? "face" : "eye"}, {"box", {x0, y0, x1, y1}}, {"score", d.score}});
      (d.kind == 0 ? faces : eyes)++;
    }
    const std::string name = std::filesystem::path(o.inputs[i]).filename().string();
    j[name] = list;
    if (!o.quiet) log::info("infer redraw detect: {} ({}x{}): {} faces, {} eyes", name, H, W, faces, eyes);
  }
  std::ofstream out(o.json_file);
  SAKUGA_CHECK(out.good(), o.json_file, ": cannot write");
  out << j.dump(2) << "\n";
  SAKUGA_CHECK(out.good(), o.json_file, ": write failed");
  if (!o.quiet) log::info("infer redraw detect: wrote {}", o.json_file);
  return 0;
}

}  // namespace sakuga::redraw
