// The redraw detect stage (nets/redraw/detect*.{h,cpp}): CenterNet targets of known boxes, the
// focal and L1 losses (values and finite-difference gradients), decoding and NMS of a hand-made
// heat map, AP@0.5 on hand-made cases, the fixed-prior baseline; end to end: a short run lowers
// the loss, a resumed run is bit-identical, infer and eval write their pinned JSON, and bad input
// (a checkpoint of another stage, a box outside its frame, a missing frames folder) is an error
// naming the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/png.h"
#include "kernels/device.h"
#include "data/redraw/synth.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/detect.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tests/run_util.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::redraw;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return test::temp_dir("redraw-detect", name); }

harness::RunOptions quiet(const std::string& out) { return test::quiet_run(out, "redraw"); }

// 64×64 synthetic frames, batch 2, a narrow neck and heads.
Config tiny(int64_t steps) {
  Config c(default_config());
  c.merge(Json::parse(R"({"detect": {"size": [64, 64], "batch": 2, "val_frames": 4, "prior_frames": 8, "samples": 2,
                                     "model": {"neck": 16, "head": 16},
                                     "optim": {"warmup": 0, "schedule": "constant"}},
                          "train": {"log_every": 1, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("detect.steps=" + std::to_string(steps));
  return c;
}

data::redraw::LabeledBox lbox(data::redraw::BoxKind k, int x0, int y0, int x1, int y1) {
  data::redraw::LabeledBox b;
  b.kind = k;
  b.box = {x0, y0, x1, y1};
  return b;
}

Detection det(int kind, double x0, double y0, double x1, double y1, double score) {
  return {kind, {x0, y0, x1, y1}, score};
}

float at(const Tensor& t, int64_t c, int64_t y, int64_t x) {
  return t.data<float>()[(c * t.size(1) + y) * t.size(2) + x];
}

// The detect loss of random heads against the targets of two boxes, as a function of the heads.
struct LossCase {
  Tensor heat, pos, size, offset, mask;
  LossCase() {
    std::vector<KindBox> boxes{{0, {4, 6, 28, 26}}, {1, {9, 9, 14, 13}}};
    DetectTargets t = make_targets(boxes, 32, 32);
    heat = ops::unsqueeze(t.heat, 0);
    pos = ops::unsqueeze(t.pos, 0);
    size = ops::unsqueeze(t.size, 0);
    offset = ops::unsqueeze(t.offset, 0);
    mask = ops::unsqueeze(t.mask, 0);
  }
  double loss(const DetectorOutput& o) const {
    return detect_loss(o, heat, pos, size, offset, mask, {1.0, 1.0, 1.0}).total.item();
  }
};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("redraw detect: CenterNet's gaussian radius") {
  // Reference values of CenterNet's gaussian_radius (numpy, min_overlap 0.7).
  CHECK(gaussian_radius(8, 8) == doctest::Approx(2.1865604245452097).epsilon(1e-12));
  CHECK(gaussian_radius(2, 3) == doctest::Approx(0.6581245772583584).epsilon(1e-12));
  CHECK(gaussian_radius(20, 10) == doctest::Approx(3.6779253585061333).epsilon(1e-12));
}

TEST_CASE("redraw detect: targets of known boxes") {
  // A face [16, 8, 48, 40): 8×8 cells centred exactly at cell (8, 6); an eye [1, 2, 8, 9):
  // centre (4.5, 5.5) px = (1.125, 1.375) cells, 1.75×1.75 cells.
  std::vector<KindBox> boxes{{0, {16, 8, 48, 40}}, {1, {1, 2, 8, 9}}};
  DetectTargets t = make_targets(boxes, 64, 64);
  CHECK(t.heat.shape() == Shape({2, 16, 16}));
  CHECK(t.mask.shape() == Shape({1, 16, 16}));
  CHECK(t.objects == 2);
  CHECK(at(t.heat, 0, 6, 8) == 1.0f);
  CHECK(at(t.heat, 1, 1, 1) == 1.0f);
  // radius ⌊2.19⌋ = 2, σ = 5/6: the neighbours follow the Gaussian, nothing beyond the radius.
  const double sigma = 5.0 / 6.0;
  CHECK(at(t.heat, 0, 6, 9) == doctest::Approx(std::exp(-1 / (2 * sigma * sigma))).epsilon(1e-6));
  CHECK(at(t.heat, 0, 8, 10) == doctest::Approx(std::exp(-8 / (2 * sigma * sigma))).epsilon(1e-6));
  CHECK(at(t.heat, 0, 6, 11) == 0.0f);
  // The eye: radius ⌊gaussian_radius(2, 2)⌋ = 0: one cell.
  CHECK(at(t.heat, 1, 1, 2) == 0.0f);
  CHECK(at(t.heat, 1, 2, 1) == 0.0f);
  // Positives exactly at the centres.
  CHECK(ops::sum(t.pos).item() == 2.0);
  CHECK(at(t.pos, 0, 6, 8) == 1.0f);
  CHECK(at(t.pos, 1, 1, 1) == 1.0f);
  // Size: log of the width and height in cells; offset: the centre's fraction of its cell.
  CHECK(at(t.size, 0, 6, 8) == doctest::Approx(std::log(8.0)));
  CHECK(at(t.size, 1, 6, 8) == doctest::Approx(std::log(8.0)));
  CHECK(at(t.offset, 0, 6, 8) == 0.0f);
  CHECK(at(t.size, 0, 1, 1) == doctest::Approx(std::log(1.75)));
  CHECK(at(t.offset, 0, 1, 1) == doctest::Approx(0.125));
  CHECK(at(t.offset, 1, 1, 1) == doctest::Approx(0.375));
  CHECK(ops::sum(t.mask).item() == 2.0);
  CHECK_ERROR(make_targets(boxes, 62, 64), "multiple of 4");
}

TEST_CASE("redraw detect: flipped and scaled boxes") {
  const auto b = scale_boxes({lbox(data::redraw::BoxKind::eye, 10, 20, 30, 40)}, 0.5, 2.0, true, 64);
  REQUIRE(b.size() == 1);
  CHECK(b[0].kind == 1);
  CHECK(b[0].box.x0 == 64 - 15);
  CHECK(b[0].box.x1 == 64 - 5);
  CHECK(b[0].box.y0 == 40);
  CHECK(b[0].box.y1 == 80);
}

TEST_CASE("redraw detect: focal loss by hand, L1 and finite-difference gradients") {
  // One positive (p = σ(1)), one negative of gt 0.5 (p = σ(−1)), one plain negative (p = σ(0)).
  Tensor x = Tensor::from_vector({1.f, -1.f, 0.f}, {1, 1, 1, 3});
  Tensor gt = Tensor::from_vector({1.f, 0.5f, 0.f}, {1, 1, 1, 3});
  Tensor pos = Tensor::from_vector({1.f, 0.f, 0.f}, {1, 1, 1, 3});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double p0 = sig(1), p1 = sig(-1), p2 = 0.5;
  const double expect = -(std::pow(1 - p0, 2) * std::log(p0) + std::pow(0.5, 4) * p1 * p1 * std::log(1 - p1) +
                          p2 * p2 * std::log(1 - p2));
  CHECK(centernet_focal_loss(x, gt, pos).item() == doctest::Approx(expect).epsilon(1e-6));
  // No positive: normalised by 1.
  CHECK(centernet_focal_loss(x, gt, Tensor::zeros({1, 1, 1, 3})).item() > 0);
  // L1 over the two channels of the one masked cell: (|1 − 0.5| + |3 − 1|) / (2·1).
  Tensor pred = Tensor::from_vector({1.f, 9.f, 3.f, 9.f}, {1, 2, 1, 2});
  Tensor tgt = Tensor::from_vector({0.5f, 0.f, 1.f, 0.f}, {1, 2, 1, 2});
  Tensor m = Tensor::from_vector({1.f, 0.f}, {1, 1, 1, 2});
  CHECK(masked_l1(pred, tgt, m).item() == doctest::Approx(2.5 / 2.0).epsilon(1e-4));

  // Gradients of the whole loss w.r.t. the three heads against central differences.
  LossCase lc;
  manual_seed(3);
  DetectorOutput o{ops::mul(sakuga::randn({1, 2, 8, 8}), 2.0), sakuga::randn({1, 2, 8, 8}), sakuga::randn({1, 2, 8, 8})};
  for (Tensor* t : {&o.heat, &o.size, &o.offset}) t->set_requires_grad(true);
  detect_loss(o, lc.heat, lc.pos, lc.size, lc.offset, lc.mask, {1.0, 1.0, 1.0}).total.backward();
  const double eps = 1e-2;
  for (Tensor DetectorOutput::*head : {&DetectorOutput::heat, &DetectorOutput::size, &DetectorOutput::offset}) {
    const Tensor g = (o.*head).grad();
    REQUIRE(g.defined());
    // The centre cells (where size / offset have gradients) and a few others.
    for (int64_t i : {0, 18, 35, 36, 82, 100, 127}) {
      DetectorOutput a{o.heat.detach().clone(), o.size.detach().clone(), o.offset.detach().clone()};
      DetectorOutput b{o.heat.detach().clone(), o.size.detach().clone(), o.offset.detach().clone()};
      (a.*head).data<float>()[i] += float(eps);
      (b.*head).data<float>()[i] -= float(eps);
      const double fd = (lc.loss(a) - lc.loss(b)) / (2 * eps);
      INFO("element ", i);
      CHECK(double(g.data<float>()[i]) == doctest::Approx(fd).epsilon(2e-2).scale(0.05));
    }
  }
}

TEST_CASE("redraw detect: decoding a hand-made heat map, NMS") {
  // 16×16 cells (a 64×64 input); heads: size log(4) (16 px), offset 0.5.
  Tensor heat = Tensor::zeros({2, 16, 16}), size = Tensor::full({2, 16, 16}, std::log(4.0)),
         offset = Tensor::full({2, 16, 16}, 0.5);
  float* h = heat.data<float>();
  h[5 * 16 + 4] = 0.9f;             // face peak at cell (x 4, y 5)
  h[5 * 16 + 5] = 0.8f;             // its neighbour: not a peak
  h[10 * 16 + 12] = 0.4f;           // a second face, far away
  h[256 + 2 * 16 + 10] = 0.6f;      // eye peak at (10, 2)
  h[256 + 2 * 16 + 12] = 0.5f;      // another eye peak 2 cells right: IoU (8 px shift of 16) = 1/3
  h[256 + 5 * 16 + 12] = 0.55f;     // and one below that: IoU 0.07 and 0.14 with the two
  h[256 + 9 * 16 + 9] = 0.05f;      // below the threshold
  DecodeSettings d;
  std::vector<Detection> out = decode(heat, size, offset, d, 0.1, 1.0, 1.0, 64, 64);
  REQUIRE(out.size() == 5);
  // By score: face 0.9, eye 0.6, eye 0.55, eye 0.5, face 0.4.
  CHECK(out[0].kind == 0);
  CHECK(out[0].score == doctest::Approx(0.9));
  // Centre ((4 + 0.5)·4, (5 + 0.5)·4) = (18, 22), 16 px square.
  CHECK(out[0].box.x0 == doctest::Approx(10));
  CHECK(out[0].box.y0 == doctest::Approx(14));
  CHECK(out[0].box.x1 == doctest::Approx(26));
  CHECK(out[0].box.y1 == doctest::Approx(30));
  CHECK(out[1].kind == 1);
  CHECK(out[4].kind == 0);
  CHECK(out[4].score == doctest::Approx(0.4));
  // Frame pixels: scaled by (2, 3) and clipped to the frame.
  std::vector<Detection> big = decode(heat, size, offset, d, 0.1, 2.0, 3.0, 100, 128);
  CHECK(big[0].box.x0 == doctest::Approx(20));
  CHECK(big[0].box.y1 == doctest::Approx(90));
  // top_k keeps the highest peaks.
  d.top_k = 2;
  CHECK(decode(heat, size, offset, d, 0.1, 1.0, 1.0, 64, 64).size() == 2);
  // A stricter NMS drops the eye of score 0.5 (IoU 1/3 with the one of 0.6).
  d.top_k = 100;
  d.nms_iou = 0.3;
  std::vector<Detection> strict = decode(heat, size, offset, d, 0.1, 1.0, 1.0, 64, 64);
  REQUIRE(strict.size() == 4);
  CHECK(strict[3].kind == 0);
  // NMS is per kind: a face and an eye on the same box both stay.
  std::vector<Detection> same{det(0, 0, 0, 10, 10, 0.9), det(1, 0, 0, 10, 10, 0.8), det(1, 1, 0, 11, 10, 0.7)};
  std::vector<Detection> kept = nms(same, 0.5);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].kind == 0);
  CHECK(kept[1].kind == 1);
  CHECK(kept[1].score == doctest::Approx(0.8));
}

TEST_CASE("redraw detect: AP@0.5 on hand-made cases") {
  const std::vector<std::vector<BoxF>> one{{{0, 0, 10, 10}}};
  const std::vector<std::vector<BoxF>> two{{{0, 0, 10, 10}, {20, 20, 30, 30}}};
  // Perfect detections.
  CHECK(average_precision(two, {{det(0, 0, 0, 10, 10, 0.9), det(0, 20, 20, 30, 30, 0.8)}}, 0) == 1.0);
  // A false positive ranked first: precision 1/2 at recall 1.
  CHECK(average_precision(one, {{det(0, 50, 50, 60, 60, 0.9), det(0, 0, 0, 10, 10, 0.8)}}, 0) ==
        doctest::Approx(0.5));
  // A false positive ranked last changes nothing.
  CHECK(average_precision(one, {{det(0, 0, 0, 10, 10, 0.9), det(0, 50, 50, 60, 60, 0.1)}}, 0) == 1.0);
  // A missed box: recall stops at 1/2.
  CHECK(average_precision(two, {{det(0, 0, 0, 10, 10, 0.9)}}, 0) == doctest::Approx(0.5));
  // A duplicate: the second match of one box is a false positive after full recall: AP 1; ranked
  // before the second true box it costs precision there (2/3 at recall 1): AP (1 + 2/3)/2.
  CHECK(average_precision(one, {{det(0, 0, 0, 10, 10, 0.9), det(0, 1, 0, 11, 10, 0.8)}}, 0) == 1.0);
  CHECK(average_precision(two, {{det(0, 0, 0, 10, 10, 0.9), det(0, 1, 0, 11, 10, 0.8), det(0, 20, 20, 30, 30, 0.7)}},
                          0) == doctest::Approx((1.0 + 2.0 / 3.0) / 2.0));
  // IoU below 0.5 is a miss: a box shifted by half its width has IoU 1/3.
  CHECK(average_precision(one, {{det(0, 5, 0, 15, 10, 0.9)}}, 0) == 0.0);
  // Other kinds and other frames do not count; ranking is across frames.
  const std::vector<std::vector<BoxF>> frames{{{0, 0, 10, 10}}, {{0, 0, 10, 10}}};
  CHECK(average_precision(frames, {{det(1, 0, 0, 10, 10, 0.9)}, {det(0, 0, 0, 10, 10, 0.5)}}, 0) ==
        doctest::Approx(0.5));
  CHECK(average_precision(frames, {{det(0, 0, 0, 10, 10, 0.4)}, {det(0, 50, 50, 60, 60, 0.9)}}, 0) ==
        doctest::Approx(0.25));
  // No detections: 0; no true boxes: NaN.
  CHECK(average_precision(one, {{}}, 0) == 0.0);
  CHECK(std::isnan(average_precision({{}}, {{det(0, 0, 0, 10, 10, 0.9)}}, 0)));
  CHECK(iou({0, 0, 10, 10}, {5, 0, 15, 10}) == doctest::Approx(1.0 / 3.0));
}

TEST_CASE("redraw detect: cuda: the detector's loss and gradients agree with the CPU's") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("skipped: no GPU answered");
    return;
  }
  // Two 64×64 synthetic frames with their targets; one detector (neck 16, head 16), first on the
  // CPU, then moved to the GPU: the loss, its parts and the gradients of the heads' last layers
  // and of the first convolution within tf32 bounds (max-norm relative 2e-2).
  const data::redraw::World world = data::redraw::make_world(4, 8, 1);
  std::vector<Tensor> images, heat, pos, size, offset, mask;
  for (int64_t i = 0; i < 2; ++i) {
    data::redraw::SynthFrame f = data::redraw::synth_frame(world, 3, i, 64, 64);
    DetectTargets t = make_targets(scale_boxes(f.boxes, 1.0, 1.0), 64, 64);
    images.push_back(f.image);
    heat.push_back(t.heat);
    pos.push_back(t.pos);
    size.push_back(t.size);
    offset.push_back(t.offset);
    mask.push_back(t.mask);
  }
  manual_seed(5);
  DetectorConfig mc;
  mc.neck = 16;
  mc.head = 16;
  Detector net(mc);
  const char* watched[] = {"backbone.conv1.weight", "heat.2.weight", "size.2.weight", "offset.2.weight"};
  auto run = [&](Device dev) {
    net.to(dev);
    net.zero_grad();
    auto on = [&](const std::vector<Tensor>& v) { return ops::stack(v, 0).to(dev); };
    DetectorOutput o = net.run(on(images));
    DetectLoss l = detect_loss(o, on(heat), on(pos), on(size), on(offset), on(mask), {1.0, 1.0, 1.0});
    l.total.backward();
    std::map<std::string, Tensor> r{{"loss", l.total.cpu()}, {"heat", l.heat.cpu()}, {"size", l.size.cpu()},
                                    {"offset", l.offset.cpu()}};
    const auto params = net.named_parameters();
    for (const auto& [name, p] : params)
      for (const char* w : watched)
        if (name == w) r["grad." + name] = p.grad().cpu();
    return r;
  };
  const auto cpu = run(Device::cpu());
  REQUIRE(cpu.size() == 8);  // 4 losses, 4 gradients
  const auto gpu = run(Device::cuda(0));
  for (const auto& [k, want] : cpu) {
    INFO(k);
    REQUIRE(gpu.count(k) == 1);
    const std::vector<double> a = want.to_vector_f64(), b = gpu.at(k).to_vector_f64();
    REQUIRE(a.size() == b.size());
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      diff = std::max(diff, std::fabs(a[i] - b[i]));
      scale = std::max(scale, std::fabs(a[i]));
    }
    MESSAGE(k, ": max |CUDA - CPU| ", diff, " of max |CPU| ", scale);
    CHECK(diff <= 2e-2 * scale + 1e-6);
  }
}

TEST_CASE("redraw detect: the fixed prior") {
  using data::redraw::BoxKind;
  // Two 100×200 frames, one face each with its two eyes.
  std::vector<std::vector<data::redraw::LabeledBox>> frames{
      {lbox(BoxKind::face, 40, 20, 80, 60), lbox(BoxKind::eye, 45, 30, 55, 36), lbox(BoxKind::eye, 65, 30, 75, 36)},
      {lbox(BoxKind::face, 120, 40, 160, 80), lbox(BoxKind::eye, 125, 50, 135, 56),
       lbox(BoxKind::eye, 145, 50, 155, 56), lbox(BoxKind::eye, 0, 0, 4, 4)}};  // an eye in no face
  DetectPrior p = fit_prior(frames, {{100, 200}, {100, 200}});
  CHECK(p.faces == 2);
  CHECK(p.eyes == 4);
  CHECK(p.face_cx == doctest::Approx((60.0 + 140.0) / 2 / 200));
  CHECK(p.face_cy == doctest::Approx((40.0 + 60.0) / 2 / 100));
  CHECK(p.face_w == doctest::Approx(0.2));
  CHECK(p.eye_dx[0] == doctest::Approx(-10.0 / 40));
  CHECK(p.eye_dx[1] == doctest::Approx(10.0 / 40));
  CHECK(p.eye_dy[0] == doctest::Approx(-7.0 / 40));
  CHECK(p.eye_w[1] == doctest::Approx(0.25));
  std::vector<Detection> d = prior_detections(p, 100, 200);
  REQUIRE(d.size() == 3);
  CHECK(d[0].box.x0 == doctest::Approx(80));
  CHECK(d[0].box.x1 == doctest::Approx(120));
  CHECK(d[1].kind == 1);
  CHECK(d[1].box.x0 == doctest::Approx(85));
  // JSON round trip (the checkpoint keeps it).
  CHECK(nlohmann::json(nlohmann::json(p).get<DetectPrior>()) == nlohmann::json(p));
  CHECK_ERROR(fit_prior({{lbox(BoxKind::eye, 0, 0, 4, 4)}}, {{10, 10}}), "no face box");
}

}  // TEST_SUITE

TEST_SUITE("e2e") {

TEST_CASE("redraw detect: a short run lowers the loss and reports AP against the baseline") {
  const std::string dir = temp_dir("learn");
  Config c = tiny(30);
  harness::RunSummary s = harness::train(*make_family(c, Device::cpu(), true), quiet(dir));
  const auto& loss = s.scalars["loss"];
  REQUIRE(loss.size() == 30);
  double first = 0, last = 0;
  for (size_t i = 0; i < 5; ++i) first += loss[i] / 5;
  for (size_t i = 25; i < 30; ++i) last += loss[i] / 5;
  INFO("loss first 5 steps ", first, ", last 5 ", last);
  CHECK(last < 0.7 * first);
  for (const char* k : {"val_loss", "ap50_face", "ap50_eye", "baseline_ap50_face", "baseline_ap50_eye"})
    CHECK_MESSAGE(s.last_eval.count(k) == 1, k);
  CHECK(fs::exists(dir + "/samples"));
  fs::remove_all(dir);
}

TEST_CASE("redraw detect: bit-identical resume, pinned names, infer and eval JSON, bad input") {
  const std::string full = temp_dir("full"), parted = temp_dir("parted");
  const Config cfg = tiny(4);
  harness::RunSummary a = harness::train(*make_family(cfg, Device::cpu(), true), quiet(full));
  REQUIRE(a.scalars["loss"].size() == 4);
  std::vector<double> parts;
  for (int64_t stop : {2, -1}) {
    harness::RunOptions p = quiet(parted);
    p.resume = stop != 2;
    p.stop_after = stop;
    harness::RunSummary s = harness::train(*make_family(cfg, Device::cpu(), true), p);
    parts.insert(parts.end(), s.scalars["loss"].begin(), s.scalars["loss"].end());
  }
  REQUIRE(parts.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(std::memcmp(&parts[i], &a.scalars["loss"][i], sizeof(double)) == 0);
  const std::string ckpt = full + "/checkpoints/last.safetensors";
  test::check_same_tensors(ckpt, parted + "/checkpoints/last.safetensors");
  const auto ck = io::load_safetensors(ckpt);
  bool net = false, opt = false;
  for (const auto& [k, v] : ck.tensors) {
    net |= k.rfind("detector.backbone.conv1.weight", 0) == 0;
    opt |= k.rfind("optim.detector.", 0) == 0;
    CHECK_MESSAGE((k.rfind("detector.", 0) == 0 || k.rfind("optim.detector.", 0) == 0), k);
  }
  CHECK(net);
  CHECK(opt);

  // infer: frames of any size (here 80×96 and 64×64), the pinned {"kind", "box", "score"} lists.
  const data::redraw::World world = data::redraw::make_world(4, 8, 1);
  const std::string png1 = full + "/a.png", png2 = full + "/b.png", boxes = full + "/boxes.json";
  data::write_png_tensor(png1, data::redraw::synth_frame(world, 5, 0, 80, 96).image);
  data::write_png_tensor(png2, data::redraw::synth_frame(world, 5, 1, 64, 64).image);
  InferOptions io;
  io.stage = Stage::detect;
  io.model.ckpt = ckpt;
  io.model.sets = {"detect.decode.score_threshold=0"};  // an untrained net: keep every peak
  io.inputs = {png1, png2};
  io.json_file = boxes;
  io.quiet = true;
  CHECK(run_infer(io) == 0);
  const Json j = read_json_file(boxes);
  REQUIRE(j.is_object());
  CHECK(j.size() == 2);
  REQUIRE(j.contains("a.png"));
  REQUIRE(j["a.png"].is_array());
  CHECK(!j["a.png"].empty());
  for (const auto& d : j["a.png"]) {
    CHECK(d.size() == 3);
    CHECK((d["kind"] == "face" || d["kind"] == "eye"));
    const auto b = d["box"].get<std::vector<int64_t>>();
    REQUIRE(b.size() == 4);
    CHECK((0 <= b[0] && b[0] < b[2] && b[2] <= 96 && 0 <= b[1] && b[1] < b[3] && b[3] <= 80));
    CHECK(d["score"].get<double>() >= 0);
  }
  // eval: ap50 per kind and the baseline's.
  EvalOptions eo;
  eo.stage = Stage::detect;
  eo.model.ckpt = ckpt;
  eo.synthetic = 3;
  eo.seed = 11;
  eo.json_file = full + "/eval.json";
  eo.quiet = true;
  CHECK(run_eval(eo) == 0);
  const Json e = read_json_file(eo.json_file);
  CHECK(e["ap50"].contains("face"));
  CHECK(e["ap50"].contains("eye"));
  CHECK(e["baseline"]["ap50"].contains("face"));
  CHECK(e["frames"] == 3);

  // A checkpoint of another stage (the same file with its metadata config's stage changed).
  io::SafetensorsFile other = io::load_safetensors(ckpt);
  Json saved = Json::parse(other.metadata.at("config"));
  saved["stage"] = "encoder";
  other.metadata["config"] = saved.dump();
  const std::string enc = full + "/encoder.safetensors";
  io::save_safetensors(enc, other.tensors, other.metadata);
  InferOptions bad = io;
  bad.model.ckpt = enc;
  CHECK_ERROR(run_infer(bad), enc + ": a checkpoint of the redraw encoder stage, not the detect stage");
  EvalOptions bad_eval = eo;
  bad_eval.model.ckpt = enc;
  CHECK_ERROR(run_eval(bad_eval), "encoder stage");
  fs::remove_all(full);
  fs::remove_all(parted);
}

}  // TEST_SUITE

TEST_SUITE("data") {

TEST_CASE("redraw detect: user frames train; a box outside its frame and a missing folder are errors") {
  const std::string dir = temp_dir("folder");
  data::redraw::SynthOptions so;
  so.count = 4;
  so.height = 64;
  so.width = 96;  // resized to the 64×64 input, boxes scaled
  data::redraw::write_redraw_dataset(dir, so);
  Config c = tiny(2);
  c.set("data.synthetic=false");
  c.set("data.dir=" + Json(dir).dump());
  const std::string run = temp_dir("folder-run");
  harness::RunSummary s = harness::train(*make_family(c, Device::cpu(), true), quiet(run));
  CHECK(s.scalars["loss"].size() == 2);
  CHECK(std::isfinite(s.scalars["loss"][1]));
  CHECK(s.last_eval.count("ap50_face") == 1);

  // A box beyond the frame's right edge in one frame's JSON.
  const std::string js = dir + "/frames/" + data::redraw::frame_name(2) + ".json";
  Json bad = read_json_file(js);
  bad["boxes"][0]["box"] = {0, 0, 97, 10};
  std::ofstream(js) << bad.dump();
  CHECK_ERROR(make_family(c, Device::cpu(), true), js);
  // A dataset folder without frames/.
  fs::remove_all(dir + "/frames");
  CHECK_ERROR(make_family(c, Device::cpu(), true), dir + "/frames");
  fs::remove_all(dir);
  fs::remove_all(run);
}

}  // TEST_SUITE
