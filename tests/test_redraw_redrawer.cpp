// The redraw redrawer (nets/redraw/redrawer.*, data/redraw/pairs.*): its samples (the truth
// differs from the input only inside the region), the band and the low-pass L_σ, the networks'
// shapes, the fused ops' errors, a run of the stage at test size with its first-step dump and
// bit-identical resume, the pinned checkpoint names, the checkpoint's stage check, a short run
// that lowers the translation's distance to the true redrawing, and bad config keys.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "data/redraw/pairs.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/family.h"
#include "nets/redraw/redrawer.h"
#include "nets/redraw/tools.h"
#include "tensor/ops.h"
#include "tensor/ops/redraw.h"
#include "tensor/safetensors.h"
#include "tests/run_util.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;
namespace rd = sakuga::data::redraw;

namespace {

std::string temp_dir(const std::string& name) { return test::temp_dir("redrawer", name); }

harness::RunOptions quiet(const std::string& out) { return test::quiet_run(out, "redraw"); }

// 32 px crops, 3 levels of 4 channels, batch 2.
Config tiny(int64_t steps) {
  Config c(redraw::default_config());
  c.merge(Json::parse(R"({"stage": "redrawer",
                          "redrawer": {"batch": 2, "net": {"channels": 4, "levels": 3, "d_channels": 4, "d_layers": 2},
                                       "crops": {"size": 32, "val_count": 3}, "loss": {"band": 2, "sigma": 1.0}},
                          "train": {"log_every": 1, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("redrawer.steps=" + std::to_string(steps));
  return c;
}

double max_abs_outside(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const int64_t n = mask.numel();
  const float *x = a.data<float>(), *y = b.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  double worst = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < n; ++i)
      if (!m[i]) worst = std::max(worst, double(std::fabs(x[c * n + i] - y[c * n + i])));
  return worst;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("redraw samples: pure, the truth differs from the input only inside the region") {
  const rd::World w = rd::make_world(3, 5, 1);
  rd::RedrawSampleOptions o;
  o.size = 48;
  int differing = 0;
  for (int64_t i = 0; i < 12; ++i) {
    const rd::RedrawSample a = rd::redraw_sample(w, 7, i, o), b = rd::redraw_sample(w, 7, i, o);
    CHECK(test::same_bytes(a.input, b.input));
    CHECK(test::same_bytes(a.truth, b.truth));
    CHECK(test::same_bytes(a.mask, b.mask));
    CHECK(a.input.shape() == Shape{3, 48, 48});
    CHECK(a.mask.shape() == Shape{48, 48});
    // Outside the region: the same pixels in the input, its low-detail version and the truth.
    CHECK(max_abs_outside(a.input, a.truth, a.mask) < 1e-6);
    CHECK(max_abs_outside(a.input, a.low, a.mask) == 0);
    int64_t set = 0;
    for (int64_t k = 0; k < a.mask.numel(); ++k) set += a.mask.data<uint8_t>()[k];
    CHECK(set > 10);
    CHECK(set < 48 * 48 / 3);
    if (a.target_design != a.design) {
      ++differing;
      CHECK(!test::same_bytes(a.input, a.truth));
      CHECK(!test::same_bytes(a.guide, a.own_guide));
    } else {
      CHECK(test::same_bytes(a.input, a.truth));
    }
  }
  CHECK(differing >= 4);  // other_design 0.75 of 12
  o.productions = {1};
  for (int64_t i = 0; i < 5; ++i) CHECK(rd::redraw_sample(w, 3, i, o).production == 1);
}

TEST_CASE("redraw samples: the boundary band and the dilation of a square") {
  Tensor m = Tensor::zeros({9, 9}, DType::u8);
  for (int y = 3; y < 6; ++y)
    for (int x = 3; x < 6; ++x) m.data<uint8_t>()[y * 9 + x] = 1;
  const Tensor band = rd::boundary_band(m, 1), grown = rd::dilate_mask(m, 1);
  int64_t nb = 0, ng = 0;
  for (int64_t i = 0; i < 81; ++i) {
    nb += band.data<uint8_t>()[i];
    ng += grown.data<uint8_t>()[i];
  }
  CHECK(ng == 25);      // 5×5
  CHECK(nb == 25 - 1);  // the 5×5 minus the eroded 1×1 centre
  CHECK(band.data<uint8_t>()[4 * 9 + 4] == 0);
  CHECK(band.data<uint8_t>()[2 * 9 + 2] == 1);
}

}  // TEST_SUITE

TEST_SUITE("layers") {

TEST_CASE("redrawer: L_σ keeps constants and matches a direct Gaussian inside the image") {
  manual_seed(3);
  const Tensor c = Tensor::full({1, 2, 12, 13}, 0.375);
  const Tensor lc = redraw::gaussian_lowpass(c, 1.5);
  for (int64_t i = 0; i < lc.numel(); ++i) CHECK(lc.data<float>()[i] == doctest::Approx(0.375).epsilon(1e-6));
  const Tensor x = randn({1, 3, 20, 20});
  const Tensor lx = redraw::gaussian_lowpass(x, 1.0);
  const Tensor ref = rd::gaussian_blur(ops::select(x, 0, 0).contiguous(), 1.0);  // clamped edges: same inside
  for (int64_t ch = 0; ch < 3; ++ch)
    for (int64_t y = 3; y < 17; ++y)
      for (int64_t xx = 3; xx < 17; ++xx)
        CHECK(lx.data<float>()[(ch * 20 + y) * 20 + xx] ==
              doctest::Approx(ref.data<float>()[(ch * 20 + y) * 20 + xx]).epsilon(1e-5));
  CHECK_ERROR(redraw::gaussian_lowpass(randn({1, 1, 4, 4}), 2.0), "too small");
}

TEST_CASE("redrawer: G and the patch classifiers' shapes") {
  manual_seed(1);
  redraw::RedrawerNetSettings s;
  s.channels = 4;
  s.levels = 3;
  redraw::RedrawGenerator g(s);
  const Tensor l = rand_uniform({2, 3, 32, 32}, 0.0, 1.0), h = rand_uniform({2, 3, 32, 32}, 0.0, 1.0);
  Tensor m = Tensor::zeros({2, 1, 32, 32});
  const Tensor out = g.redraw(l, h, m);
  CHECK(out.shape() == Shape{2, 3, 32, 32});
  for (int64_t i = 0; i < out.numel(); ++i) CHECK((out.data<float>()[i] > 0 && out.data<float>()[i] < 1));
  CHECK_ERROR(g.redraw(rand_uniform({2, 3, 36, 36}, 0.0, 1.0), rand_uniform({2, 3, 36, 36}, 0.0, 1.0), Tensor::zeros({2, 1, 36, 36})), "multiple of 2^levels");
  CHECK_ERROR(g.redraw(l, h, Tensor::zeros({2, 1, 16, 16})), "mask");
  redraw::PatchClassifier d(3, 6, 4, 3);
  CHECK(d.forward(rand_uniform({2, 3, 64, 64}, 0.0, 1.0)).shape() == Shape{2, 6, 6, 6});
}

TEST_CASE("redrawer: the Poisson patch continues G's region one pixel outward") {
  Tensor g = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3});
  Tensor m = Tensor::zeros({3, 3}, DType::u8);
  m.data<uint8_t>()[4] = 1;  // the centre
  m.data<uint8_t>()[5] = 1;  // and its right neighbour
  const std::vector<float> e = redraw::border_extended(g, m).to_vector();
  CHECK(e[4] == 5);  // inside: kept
  CHECK(e[5] == 6);
  CHECK(e[1] == 5);  // above the centre: its one inside neighbour
  CHECK(e[2] == 6);
  CHECK(e[3] == 5);
  CHECK(e[0] == 1);  // diagonal only: untouched
  CHECK(e[8] == 6);  // below the right one
  CHECK_ERROR(redraw::border_extended(g, Tensor::zeros({2, 3}, DType::u8)), "border_extended");
}

TEST_CASE("redrawer ops: errors name the argument") {
  const Tensor g = rand_uniform({2, 3, 8, 8}, 0.0, 1.0), m = Tensor::zeros({2, 1, 8, 8});
  CHECK_ERROR(ops::redraw_d_inputs(g, g, Tensor::zeros({2, 1, 4, 8}), m), "'m' must have shape");
  CHECK_ERROR(ops::redraw_d_inputs(g, rand_uniform({2, 3, 8, 7}, 0.0, 1.0), m, m), "'l' shape");
  const Tensor a = randn({2, 4, 3, 3});
  CHECK_ERROR(ops::patch_ce_pair(a, Tensor::from_vector_i32({0, 4}, {2}), a, Tensor::from_vector_i32({0, 1}, {2})),
              "outside [0, 4)");
  CHECK_ERROR(ops::patch_ce_pair(a, Tensor::from_vector_i32({0}, {1}), a, Tensor::from_vector_i32({0, 1}, {2})),
              "one label per image");
  CHECK_ERROR(ops::patch_ce_pair(a, Tensor::from_vector_i32({0, 1}, {2}), randn({3, 4, 3, 3}),
                                 Tensor::from_vector_i32({0, 1, 2}, {3})),
              "same batch");
}

TEST_CASE("redrawer ops: the D inputs and the patch losses on hand-made values") {
  // One pixel inside (m = 1), one outside in the band, one outside beyond it.
  const Tensor g = Tensor::from_vector({0.9f, 0.8f, 0.7f}, {1, 1, 1, 3});
  const Tensor l = Tensor::from_vector({0.1f, 0.2f, 0.3f}, {1, 1, 1, 3});
  const Tensor m = Tensor::from_vector({1.f, 0.f, 0.f}, {1, 1, 1, 3});
  const Tensor band = Tensor::from_vector({1.f, 1.f, 0.f}, {1, 1, 1, 3});
  const ops::RedrawDInputs r = ops::redraw_d_inputs(g, l, m, band);
  CHECK(r.t.to_vector() == std::vector<float>{0.9f, 0.2f, 0.3f});
  CHECK(r.q.to_vector() == std::vector<float>{0.9f, 0.f, 0.f});
  CHECK(r.c.to_vector() == std::vector<float>{0.9f, 0.2f, 0.3f});  // band inside: kept
  const ops::RedrawDInputs nb = ops::redraw_d_inputs(g, l, m, Tensor::zeros({1, 1, 1, 3}));
  CHECK(nb.c.to_vector() == std::vector<float>{0.f, 0.2f, 0.3f});  // no band: the interior masked out
  // Two classes, logits (0, ln 3) → p = (1/4, 3/4): label 1 costs ln(4/3), label 0 ln 4.
  const Tensor a = Tensor::from_vector({0.f, float(std::log(3.0))}, {1, 2, 1, 1});
  const Tensor pair = ops::patch_ce_pair(a, Tensor::from_vector_i32({1}, {1}), a, Tensor::from_vector_i32({0}, {1}));
  CHECK(pair.to_vector()[0] == doctest::Approx(std::log(4.0 / 3.0)));
  CHECK(pair.to_vector()[1] == doctest::Approx(std::log(4.0)));
}

}  // TEST_SUITE

TEST_SUITE("e2e") {

TEST_CASE("redraw redrawer: a run at test size, its first-step dump, bit-identical resume, pinned names") {
  const std::string full = temp_dir("full"), parted = temp_dir("parted");
  const Config cfg = tiny(6);
  harness::RunOptions o = quiet(full);
  o.dump_first_step = full + "/first.safetensors";
  harness::RunSummary a = harness::train(*redraw::make_family(cfg, Device::cpu(), true), o);
  for (const char* k : {"d_q", "d_c", "rec_a", "rec_b", "rec_c", "g_adv_q", "g_adv_c"}) {
    INFO(k);
    REQUIRE(a.scalars[k].size() == 6);
    for (double v : a.scalars[k]) CHECK(std::isfinite(v));
  }
  for (const char* k : {"val_loss", "l1_truth", "l1_truth_input", "lowpass_error"}) CHECK_MESSAGE(a.last_eval.count(k), k);
  const auto dump = io::load_safetensors(full + "/first.safetensors").tensors;
  for (const char* k : {"grad.G.inc.0.weight", "grad.G.guide.0.0.weight", "grad.D_q.model.0.0.weight",
                        "grad.D_c.model.0.0.weight", "batch.x", "batch.truth", "batch.mask", "batch.band", "loss.G",
                        "loss.D", "t_b"})
    CHECK_MESSAGE(dump.count(k) == 1, k);

  std::map<std::string, std::vector<double>> parts;
  for (int64_t stop : {3, -1}) {
    harness::RunOptions p = quiet(parted);
    p.resume = stop != 3;
    p.stop_after = stop;
    harness::RunSummary s = harness::train(*redraw::make_family(cfg, Device::cpu(), true), p);
    for (const auto& [k, v] : s.scalars) parts[k].insert(parts[k].end(), v.begin(), v.end());
  }
  for (const char* k : {"d_q", "d_c", "rec_a", "rec_b", "g_adv_c"}) {
    INFO("scalar ", k);
    REQUIRE(parts[k].size() == a.scalars[k].size());
    for (size_t i = 0; i < parts[k].size(); ++i) CHECK(std::memcmp(&parts[k][i], &a.scalars[k][i], sizeof(double)) == 0);
  }
  test::check_same_tensors(full + "/checkpoints/last.safetensors", parted + "/checkpoints/last.safetensors");
  const std::string ck_path = full + "/checkpoints/last.safetensors";
  const auto ck = io::load_safetensors(ck_path);
  for (const char* prefix : {"G.", "D_q.", "D_c.", "optim.G.", "optim.D_q.", "optim.D_c."}) {
    bool found = false;
    for (const auto& [k, v] : ck.tensors) found |= k.rfind(prefix, 0) == 0;
    CHECK_MESSAGE(found, prefix);
  }
  // A redrawer checkpoint is not a detector's or an encoder's.
  redraw::require_stage(ck, ck_path, redraw::Stage::redrawer);
  CHECK_ERROR(redraw::require_stage(ck, ck_path, redraw::Stage::detect), "redrawer stage, not the detect stage");
  CHECK_ERROR(redraw::require_stage(ck, ck_path, redraw::Stage::encoder), ck_path);

  // eval: the pinned metrics for seen and unseen productions, with both baselines.
  redraw::EvalOptions e;
  e.stage = redraw::Stage::redrawer;
  e.model.ckpt = ck_path;
  e.synthetic = 3;
  e.classifier_steps = 2;
  e.json_file = full + "/eval.json";
  e.quiet = true;
  CHECK(redraw::run_eval(e) == 0);
  const Json j = read_json_file(e.json_file);
  for (const char* split : {"seen", "unseen"})
    for (const char* k : {"design_accuracy", "design_accuracy_input", "design_accuracy_copy", "lowpass_error",
                          "lowpass_error_copy", "seam_error", "seam_error_copy", "seam_error_truth", "l1_truth",
                          "l1_truth_input", "l1_truth_copy"}) {
      INFO(split, " ", k);
      REQUIRE(j.contains(split));
      CHECK(j[split].contains(k));
    }
  CHECK(j["seen"]["l1_truth_copy"].get<double>() > 0);
  e.data_dir = full;
  CHECK_ERROR(redraw::run_eval(e), "synthetic crops");
  e.data_dir.clear();
  e.stage = redraw::Stage::redrawer;
  e.model.ckpt = full + "/first.safetensors.weights.safetensors";
  CHECK_ERROR(redraw::run_eval(e), "first.safetensors.weights.safetensors");
  fs::remove_all(full);
  fs::remove_all(parted);
}

TEST_CASE("redraw redrawer: the paper config resolves to the spec's sizes") {
  Config c(redraw::default_config());
  c.merge_file(std::string(SAKUGA_SOURCE_DIR) + "/configs/redraw-paper.json");
  CHECK(c.get<std::string>("stage") == "redrawer");
  const redraw::RedrawerSettings s = redraw::redrawer_settings(c);
  CHECK(s.crops.size == 128);
  CHECK(s.net.channels == 64);
  CHECK(s.net.levels == 4);
  CHECK(s.loss.sigma == doctest::Approx(2.0));
  CHECK(s.optim_g.lr == doctest::Approx(2e-4));
  CHECK(s.optim_d.betas == std::vector<double>{0.5, 0.999});
}

TEST_CASE("redraw redrawer: bad config keys are errors naming the key") {
  Config c = tiny(2);
  c.set("redrawer.crops.size=36");
  CHECK_ERROR(redraw::make_family(c, Device::cpu(), true), "redrawer.crops.size");
  Config d = tiny(2);
  d.set("data.synthetic=false");
  d.set("data.dir=\"/nowhere\"");
  CHECK_ERROR(redraw::make_family(d, Device::cpu(), true), "data.synthetic");
  Config e = tiny(2);
  e.set("stage=\"painter\"");
  CHECK_ERROR(redraw::make_family(e, Device::cpu(), true), "config stage");
}

}  // TEST_SUITE
