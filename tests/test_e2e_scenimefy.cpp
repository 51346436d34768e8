// scenimefy end to end (nets/scenimefy/): tiny runs resume bit-identically, batch 1 and batch 4
// train, the dump holds every pinned name; the schedules and the lr policy; eval / infer write
// their pinned outputs at sizes that are not multiples of 4; the paired metrics; bad input
// (missing pairs, a generator file with missing tensors, a crop not a multiple of 4) is an error
// naming the file or key, or a warning that says what was done.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/image_quality.h"
#include "data/png.h"
#include "data/scenes.h"
#include "kernels/log.h"
#include "nets/harness/trainer.h"
#include "nets/scenimefy/eval.h"
#include "nets/scenimefy/train.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("sakuga-e2e-scenimefy-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

harness::RunOptions quiet(const std::string& out) {
  harness::RunOptions o;
  o.out = out;
  o.family = "scenimefy";
  o.quiet = true;
  return o;
}

// 32² synthetic scenes with a narrow G (5 blocks: taps 12 and 16 exist), 24 patches per tap.
Config tiny(int64_t steps, int64_t batch = 1) {
  Config c(scenimefy::default_config());
  c.merge(Json::parse(R"({"model": {"ngf": 4, "blocks": 5, "ndf": 4, "nc": 16, "patches": 24},
                          "data": {"size": 32, "val_count": 2, "pairs": 4},
                          "eval": {"samples": 2},
                          "train": {"log_every": 1, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("train.steps=" + std::to_string(steps));
  c.set("data.batch=" + std::to_string(batch));
  return c;
}

using test::check_same_tensors;

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("scenimefy: a tiny run dumps the pinned names and resumes bit-identically") {
  const std::string full = temp_dir("full"), parted = temp_dir("parted");
  const Config cfg = tiny(4);
  harness::RunOptions o = quiet(full);
  o.dump_first_step = full + "/first.safetensors";
  const harness::RunSummary a = harness::train(*scenimefy::make_family(cfg, Device::cpu(), true), o);
  for (const char* k : {"G", "G_GAN", "pair_GAN", "hdce", "src", "style_nce", "nce", "D", "D_p"}) {
    INFO(k);
    REQUIRE(a.scalars.at(k).size() == 4);
    for (double v : a.scalars.at(k)) CHECK(std::isfinite(v));
  }
  CHECK(a.last_eval.count("val_psnr"));
  CHECK(a.last_eval.count("identity_psnr"));
  CHECK(fs::exists(full + "/samples/step-0000004.png"));

  const auto dump = io::load_safetensors(full + "/first.safetensors").tensors;
  for (const char* k : {"real_A", "real_B", "pair_A", "pair_B", "fake_B", "idt_B", "fake_pair", "loss.nce", "loss.hdce",
                        "loss.src", "loss.style_nce", "loss.G_GAN", "loss.pair_GAN", "loss.G", "loss.D", "loss.D_p",
                        "lambda_pair", "gamma", "grad.G.model.1.weight", "grad.F.mlp_0.0.weight",
                        "grad.F_s.mlp_4.2.weight"}) {
    INFO(k);
    CHECK(dump.count(k) == 1);
  }
  for (int l = 0; l < 5; ++l)
    for (const char* k : {"feat_q.", "feat_k.", "idt_q.", "idt_k.", "style_q.", "style_k."}) {
      const std::string name = k + std::to_string(l);
      INFO(name);
      REQUIRE(dump.count(name) == 1);
      CHECK(dump.at(name).shape() == Shape{24, 16});  // (B·patches, nc), rows image-major
    }

  for (int64_t stop : {2, -1}) {
    harness::RunOptions p = quiet(parted);
    p.resume = stop != 2;
    p.stop_after = stop;
    harness::train(*scenimefy::make_family(cfg, Device::cpu(), true), p);
  }
  check_same_tensors(full + "/checkpoints/last.safetensors", parted + "/checkpoints/last.safetensors");
  const auto ck = io::load_safetensors(full + "/checkpoints/last.safetensors");
  CHECK(ck.metadata.at("family") == "scenimefy");
  for (const char* k : {"G.model.1.weight", "G.model.7.filt", "D.model.0.weight", "D_p.model.0.weight",
                        "F.mlp_0.0.weight", "F_s.mlp_4.2.bias", "G_ema.model.1.weight"}) {
    INFO(k);
    CHECK(ck.tensors.count(k) == 1);
  }
  for (const char* prefix : {"optim.G.", "optim.D.", "optim.D_p.", "optim.F.", "optim.F_s."}) {
    bool found = false;
    for (const auto& [k, v] : ck.tensors) found |= k.rfind(prefix, 0) == 0;
    CHECK_MESSAGE(found, prefix);
  }
  fs::remove_all(full);
  fs::remove_all(parted);
}

TEST_CASE("scenimefy: a short run moves held-out photos towards the anime domain") {
  // The demo's losses at 32² with a narrow G: 300 steps of batch 1.
  const std::string out = temp_dir("learn");
  Config c(scenimefy::default_config());
  c.merge(Json::parse(R"({"model": {"ngf": 8, "blocks": 5, "ndf": 16, "nc": 64, "patches": 64},
                          "data": {"size": 32, "val_count": 32},
                          "eval": {"samples": 4},
                          "train": {"log_every": 50, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("train.steps=300");
  const harness::RunSummary r = harness::train(*scenimefy::make_family(c, Device::cpu(), true), quiet(out));
  const auto& m = r.last_eval;
  MESSAGE("after 300 steps: L1 ", m.at("val_l1"), " (identity ", m.at("identity_l1"), "), PSNR ", m.at("val_psnr"),
          " (", m.at("identity_psnr"), "), SSIM ", m.at("val_ssim"), " (", m.at("identity_ssim"), "), KID proxy ",
          m.at("val_kid_proxy"), " (", m.at("identity_kid_proxy"), ")");
  // The distribution moves to the anime domain (the KID proxy well below the photos' own); the
  // paired metrics are still below the identity baseline at this length (the 64² demo passes it on
  // PSNR and L1 from about step 900; docs/scenimefy.md), so they are reported, not asserted.
  CHECK(m.at("val_kid_proxy") < 0.5 * m.at("identity_kid_proxy"));
  CHECK(std::isfinite(m.at("val_psnr")));
  fs::remove_all(out);
}

TEST_CASE("scenimefy: G_ema copies G until model.ema_start, then averages G's iterates; eval and infer use it") {
  // 8 steps, ema_start 0.25: G_ema is G after 2 steps, the mean of G after 2 and 3 steps after
  // 3, the mean of G after 2, 3 and 4 steps after 4 (decay 0.999 is far from binding).
  const std::string out = temp_dir("ema");
  Config cfg = tiny(8);
  cfg.set("model.ema_start=0.25");
  std::map<int, std::map<std::string, Tensor>> g, ema;  // by steps done: G's and G_ema's weights
  for (int stop : {2, 3, 4}) {
    harness::RunOptions o = quiet(out);
    o.resume = stop != 2;
    o.stop_after = stop;
    harness::train(*scenimefy::make_family(cfg, Device::cpu(), true), o);
    for (const auto& [k, v] : io::load_safetensors(out + "/checkpoints/last.safetensors").tensors) {
      if (k.rfind("G.", 0) == 0) g[stop][k.substr(2)] = v;
      if (k.rfind("G_ema.", 0) == 0) ema[stop][k.substr(6)] = v;
    }
  }
  REQUIRE(ema[2].size() == g[2].size());
  auto max_abs = [](const Tensor& t) {
    double m = 0;
    for (float e : t.to_vector()) m = std::max(m, double(std::abs(e)));
    return m;
  };
  double err3 = 0, err4 = 0, moved = 0;
  for (const auto& [k, v] : g[2]) {
    INFO(k);
    CHECK(test::same_bytes(ema[2].at(k), v));
    const Tensor mean3 = (v + g[3].at(k)) * 0.5, mean4 = (v + g[3].at(k) + g[4].at(k)) * (1.0 / 3.0);
    err3 = std::max(err3, max_abs(ema[3].at(k) - mean3));
    err4 = std::max(err4, max_abs(ema[4].at(k) - mean4));
    moved = std::max(moved, max_abs(g[4].at(k) - v));
  }
  MESSAGE("G_ema against the mean of G's iterates: ", err3, " (2 iterates), ", err4, " (3); G moved ", moved);
  CHECK(moved > 1e-4);  // the iterates differ, so the means say something
  CHECK(err3 < 1e-6);
  CHECK(err4 < 1e-6);

  // eval / infer load G_ema from the checkpoint; a run without it (model.ema 0) keeps only G.
  const scenimefy::LoadedGenerator m = scenimefy::load_generator(out + "/checkpoints/last.safetensors", {}, {}, Device::cpu());
  CHECK(m.network == "G_ema");
  const std::string plain = temp_dir("no-ema");
  Config off = tiny(2);
  off.set("model.ema=0");
  harness::train(*scenimefy::make_family(off, Device::cpu(), true), quiet(plain));
  for (const auto& [k, v] : io::load_safetensors(plain + "/checkpoints/last.safetensors").tensors)
    CHECK_MESSAGE(k.rfind("G_ema.", 0) != 0, k);
  CHECK(scenimefy::load_generator(plain + "/checkpoints/last.safetensors", {}, {}, Device::cpu()).network == "G");
  fs::remove_all(out);
  fs::remove_all(plain);
}

TEST_CASE("scenimefy: batch 4 trains (SRC and HDCE per image)") {
  const std::string out = temp_dir("b4");
  const harness::RunSummary a = harness::train(*scenimefy::make_family(tiny(2, 4), Device::cpu(), true), quiet(out));
  for (const char* k : {"G", "src", "hdce", "D_p"})
    for (double v : a.scalars.at(k)) CHECK(std::isfinite(v));
  fs::remove_all(out);
}

TEST_CASE("scenimefy: epochs, λ_pair, γ and the CUT lr policy") {
  Config c = tiny(100);
  c.set("loss.pair_decay=true");  // the paper's schedule (the demo holds λ_pair at 1)
  scenimefy::Settings s = scenimefy::settings_of(c);
  CHECK(scenimefy::epoch_of(s, 0) == 1);
  CHECK(scenimefy::epoch_of(s, 4) == 1);
  CHECK(scenimefy::epoch_of(s, 5) == 2);
  CHECK(scenimefy::epoch_of(s, 99) == 20);
  CHECK(scenimefy::hdce_gamma(s, 1) == doctest::Approx(48));
  CHECK(scenimefy::hdce_gamma(s, 20) == doctest::Approx(10));
  CHECK(scenimefy::lambda_pair(s, 1) == doctest::Approx(1));
  CHECK(scenimefy::lambda_pair(s, 11) == doctest::Approx(std::cos(M_PI / 4)));
  CHECK(scenimefy::lambda_pair(s, 20) == doctest::Approx(std::cos(M_PI / 2 * 19 / 20)));
  // The reference's cos(π/2·E·(e − 1)): 1 at every epoch for E = 20, −1 at the even epochs for E = 6.
  c.set("loss.reference_schedule=true");
  s = scenimefy::settings_of(c);
  CHECK(scenimefy::lambda_pair(s, 11) == doctest::Approx(1));
  c.set("train.epochs=6");
  c.set("train.epochs_decay=3");
  s = scenimefy::settings_of(c);
  CHECK(scenimefy::lambda_pair(s, 2) == doctest::Approx(-1));
  c.set("loss.pair_decay=false");
  CHECK(scenimefy::lambda_pair(scenimefy::settings_of(c), 2) == 1.0);

  // lr: constant for E − E_decay epochs (50 of 100 steps), then linear to lr/(E_decay + 1).
  // (The harness builds the schedule from the spec when the run starts.)
  Config one = tiny(100);
  one.set("train.epochs=4");
  one.set("train.epochs_decay=2");
  auto f2 = scenimefy::make_family(one, Device::cpu(), true);
  const harness::OptimizerPart& g = f2->parts().optimizer("G");
  REQUIRE(g.spec);
  const optim::Schedule sched = harness::make_schedule(*g.spec, 100, "optim.G");
  CHECK(sched(0) == doctest::Approx(2e-4));
  CHECK(sched(49) == doctest::Approx(2e-4));
  CHECK(sched(75) == doctest::Approx(2e-4 - (2e-4 - 2e-4 / 3) * 25 / 50));
  CHECK(sched(100) == doctest::Approx(2e-4 / 3));
}

TEST_CASE("scenimefy: eval and infer write their pinned outputs at any size") {
  const std::string data_dir = temp_dir("data"), run = temp_dir("run"), out = temp_dir("infer");
  data::scenes::write_dataset(data_dir, 3, 7, 38, 45);  // not multiples of 4: padded and cropped back
  harness::train(*scenimefy::make_family(tiny(1), Device::cpu(), true), quiet(run));
  scenimefy::EvalOptions e;
  e.model.ckpt = run + "/checkpoints/last.safetensors";
  e.data_dir = data_dir;
  e.json_file = run + "/eval.json";
  e.quiet = true;
  REQUIRE(scenimefy::run_eval(e) == 0);
  std::ifstream jf(e.json_file);
  const Json j = Json::parse(jf);
  for (const char* k : {"l1", "psnr", "ssim", "fid", "kid", "features"}) CHECK_MESSAGE(j.contains(k), k);
  CHECK(j["identity"].contains("psnr"));
  CHECK(j["images"].get<int>() == 3);
  CHECK(j["features"].get<std::string>().find("proxy") != std::string::npos);

  scenimefy::InferOptions in;
  in.model.ckpt = e.model.ckpt;
  in.inputs = {data_dir + "/trainA/scene-000001.png"};
  in.out = out;
  REQUIRE(scenimefy::run_infer(in) == 0);
  const Tensor img = data::read_png_tensor(out + "/scene-000001.anime.png");
  CHECK(img.shape() == Shape{3, 38, 45});
  for (const auto& d : {data_dir, run, out}) fs::remove_all(d);
}

TEST_CASE("scenimefy: a converted generator loads by name; missing tensors are listed") {
  const std::string dir = temp_dir("gen");
  fs::create_directories(dir);
  scenimefy::GeneratorConfig gc;
  gc.ngf = 4;
  gc.blocks = 6;
  scenimefy::ResnetGenerator g(gc);
  std::map<std::string, Tensor> sd;
  for (const auto& [k, v] : g.state_dict()) sd[k] = v;  // CUT's names: model.<index>.…
  io::save_safetensors(dir + "/G.safetensors", sd);
  const scenimefy::LoadedGenerator m = scenimefy::load_generator(dir + "/G.safetensors", {}, {}, Device::cpu());
  CHECK(m.kind == "state_dict");
  CHECK(m.g->config.ngf == 4);
  CHECK(m.g->config.blocks == 6);
  sd.erase("model.13.conv_block.5.weight");
  sd.erase("model.27.bias");  // the last conv: 12 + 6 blocks + 9
  io::save_safetensors(dir + "/broken.safetensors", sd);
  const std::string err = test::error_of([&] { scenimefy::load_generator(dir + "/broken.safetensors", {}, {}, Device::cpu()); });
  CHECK(err.find("broken.safetensors") != std::string::npos);
  CHECK(err.find("model.13.conv_block.5.weight") != std::string::npos);
  CHECK(err.find("model.27.bias") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("scenimefy: bad data and config") {
  const std::string dir = temp_dir("bad");
  data::scenes::write_dataset(dir, 2, 3, 32, 32);
  fs::remove_all(dir + "/pairs");
  Config c = tiny(1);
  c.set("data.source=\"folder\"");
  c.set("data.dir=\"" + dir + "\"");
  CHECK_ERROR(scenimefy::make_family(c, Device::cpu(), true), "no pseudo pairs");
  c.set("loss.gan_pair=0");
  c.set("loss.style=0");
  CHECK(scenimefy::make_family(c, Device::cpu(), true) != nullptr);  // unpaired training is allowed
  fs::remove_all(dir);

  Config odd = tiny(1);
  odd.set("data.size=34");  // cropped to 32, with a warning (fatal in the tests)
  CHECK_ERROR(scenimefy::settings_of(odd), "not a multiple of 4");
  log::set_fatal_warnings(false);
  CHECK(scenimefy::settings_of(odd).data.size == 32);
  log::set_fatal_warnings(true);
  Config bad = tiny(1);
  bad.set("model.taps=[0,4,8,12,17]");  // 5 blocks: encoder layers end at 16
  CHECK_ERROR(scenimefy::settings_of(bad), "model.taps");
  bad = tiny(1);
  bad.set("train.epochs_decay=30");
  CHECK_ERROR(scenimefy::settings_of(bad), "train.epochs_decay");
}

}  // TEST_SUITE

TEST_SUITE("data") {
TEST_CASE("image quality: L1, PSNR and SSIM on known images") {
  const Tensor a = Tensor::full({3, 20, 24}, 0.5), b = Tensor::full({3, 20, 24}, 0.25);
  const data::ImageQuality same = data::image_quality(a, a);
  CHECK(same.l1 == 0);
  CHECK(same.psnr == 100);
  CHECK(same.ssim == doctest::Approx(1));
  const data::ImageQuality q = data::image_quality(a, b);
  CHECK(q.l1 == doctest::Approx(0.25));
  CHECK(q.psnr == doctest::Approx(-20 * std::log10(0.25)));
  // Flat images: SSIM = (2·μa·μb + C1) / (μa² + μb² + C1) (the variance terms are C2 / C2).
  const double c1 = 1e-4;
  CHECK(q.ssim == doctest::Approx((2 * 0.5 * 0.25 + c1) / (0.25 + 0.0625 + c1)));
  // Structure matters: a checkerboard against its inverse has a negative SSIM.
  std::vector<float> v(3 * 16 * 16), w(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t x = i % 16, y = (i / 16) % 16;
    v[i] = float((x + y) % 2);
    w[i] = 1.0f - v[i];
  }
  CHECK(data::image_quality(Tensor::from_vector(v, {3, 16, 16}), Tensor::from_vector(w, {3, 16, 16})).ssim < 0);
  CHECK_ERROR(data::image_quality(a, Tensor::full({3, 20, 20}, 0.5)), "one shape");
}
}
