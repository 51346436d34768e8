// The shared training harness (nets/harness/): the toy GAN family trains, dumps every stage and
// resumes bit-identically across a stage boundary; retention, best / last checkpoints, early stop
// on a monitored metric, the NaN/Inf stop, checkpoints written before the harness, the ordered
// prefetch, config resolution and the optimiser factory.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "data/canvas.h"
#include "data/png.h"
#include "kernels/log.h"
#include "layers/linear.h"
#include "nets/harness/checkpoint.h"
#include "nets/harness/prefetch.h"
#include "nets/harness/trainer.h"
#include "nets/registry.h"
#include "nets/toygan/toygan.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("sakuga-harness-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

harness::RunOptions quiet(const std::string& out, const std::string& family) {
  harness::RunOptions o;
  o.out = out;
  o.family = family;
  o.quiet = true;
  return o;
}

// The toy GAN at test size: 6 critic steps, then 10 adversarial ones.
Config tiny_gan() {
  Config c(toygan::default_config());
  c.merge(Json::parse(R"({"model": {"hidden": 16}, "data": {"batch": 32}, "eval": {"samples": 256},
                          "stages": {"critic": 6, "adversarial": 10},
                          "train": {"log_every": 1, "eval_every": 8, "checkpoint_every": 4}})"),
          "test");
  return c;
}

using test::check_same_tensors;
using test::same_bytes;

ino_t inode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// A one-network family whose loss and evaluation metric are scripted by the test.
class Scripted : public harness::Family {
 public:
  Scripted(const Config& cfg, std::function<double(int64_t)> loss_factor, std::vector<double> scores)
      : Family(cfg, Device::cpu()), factor_(std::move(loss_factor)), scores_(std::move(scores)) {
    manual_seed(1);
    net_ = parts().network("net", std::make_shared<nn::Linear>(3, 1));
    parts().rng("dropout", noise_);
    parts().optimizer("sgd", cfg.get<harness::OptimSpec>("optim.sgd"), {"net"});
    parts().stage("train", cfg.get<int64_t>("steps"), {"sgd"});
  }
  harness::Batch make_batch(int64_t step) const override {
    Generator g(uint64_t(step) + 11);
    return {{"x", randn({4, 3}, g)}};
  }
  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    Tensor x = b.at("x") * (randn(b.at("x").shape(), noise_) * 0.1 + 1.0);  // uses the declared stream
    Tensor loss = ops::mean(ops::square((*net_)(x))) * factor_(ctx.step());
    ctx.update("sgd", loss);
    ctx.log("loss", loss);
  }
  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    const double s = evals_ < scores_.size() ? scores_[evals_] : 0.0;
    ++evals_;
    return {{{"score", s}}, Tensor()};
  }

 private:
  std::shared_ptr<nn::Linear> net_;
  std::function<double(int64_t)> factor_;
  std::vector<double> scores_;
  size_t evals_ = 0;
  Generator noise_{5};
};

Config scripted_config(int64_t steps) {
  harness::OptimSpec sgd;
  sgd.kind = "sgd";
  sgd.lr = 0.1;
  Json j{{"steps", steps}, {"optim", {{"sgd", sgd}}}, {"train", {{"log_every", 1}, {"eval_every", 1}}}};
  return Config(harness::with_harness_defaults(j));
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("toy GAN: trains, dumps each stage, and resumes bit-identically across the stage boundary") {
  const std::string full = temp_dir("gan-full"), parted = temp_dir("gan-parted");
  const Config cfg = tiny_gan();

  harness::RunOptions o = quiet(full, "toy-gan");
  o.dump_first_step = full + "/first.safetensors";
  auto fam = toygan::make_family(cfg, Device::cpu());
  harness::RunSummary a = harness::train(*fam, o);
  REQUIRE(a.scalars["d_loss"].size() == 16);
  REQUIRE(a.scalars["g_loss"].size() == 10);  // G is active in the second stage only
  CHECK(a.last_eval.count("quality") == 1);

  // One dump per stage, at the step where it starts: gradients of the networks stepped there.
  auto critic = io::load_safetensors(full + "/first.safetensors").tensors;
  auto adversarial = io::load_safetensors(full + "/first.adversarial.safetensors").tensors;
  CHECK(critic.count("grad.D.0.weight") == 1);
  CHECK(critic.count("grad.G.0.weight") == 0);
  CHECK(critic.count("batch.real") == 1);
  CHECK(critic.count("d_loss") == 1);
  CHECK(adversarial.count("grad.G.0.weight") == 1);
  CHECK(adversarial.count("grad.D.0.weight") == 1);
  CHECK(adversarial.count("g_loss") == 1);
  CHECK(io::load_safetensors(full + "/first.adversarial.safetensors.weights.safetensors").tensors.count("G.0.weight"));

  // Interrupted inside the first stage and again right after the boundary, resumed each time.
  std::vector<double> d_losses, g_losses;
  for (int64_t stop : {4, 7, -1}) {
    harness::RunOptions p = quiet(parted, "toy-gan");
    p.resume = stop != 4;
    p.stop_after = stop;
    auto f = toygan::make_family(cfg, Device::cpu());
    harness::RunSummary s = harness::train(*f, p);
    d_losses.insert(d_losses.end(), s.scalars["d_loss"].begin(), s.scalars["d_loss"].end());
    g_losses.insert(g_losses.end(), s.scalars["g_loss"].begin(), s.scalars["g_loss"].end());
  }
  REQUIRE(d_losses.size() == 16);
  for (size_t i = 0; i < 16; ++i) CHECK(std::memcmp(&d_losses[i], &a.scalars["d_loss"][i], sizeof(double)) == 0);
  REQUIRE(g_losses.size() == 10);
  for (size_t i = 0; i < 10; ++i) CHECK(std::memcmp(&g_losses[i], &a.scalars["g_loss"][i], sizeof(double)) == 0);
  check_same_tensors(full + "/checkpoints/last.safetensors", parted + "/checkpoints/last.safetensors");
  // The harness state travels: rng offset and the family's own counter.
  auto meta = io::load_safetensors(parted + "/checkpoints/last.safetensors").metadata;
  Json h = Json::parse(meta.at("harness"));
  CHECK(h["family"]["d_updates"] == 16);
  CHECK(h["rng"]["instance_noise"]["offset"].get<uint64_t>() > 0);
  CHECK(meta.at("family") == "toy-gan");
  fs::remove_all(full);
  fs::remove_all(parted);
}

TEST_CASE("toy GAN: the generator learns the ring (quality far above the untrained generator)") {
  const std::string dir = temp_dir("gan-learn");
  Config c(toygan::default_config());
  c.set("stages.adversarial=1200");
  c.set("train.eval_every=0");
  c.set("train.checkpoint_every=0");
  auto fam = toygan::make_family(c, Device::cpu());
  harness::RunSummary s = harness::train(*fam, quiet(dir, "toy-gan"));
  INFO("quality ", s.last_eval["quality"], " coverage ", s.last_eval["coverage"]);
  CHECK(s.last_eval["quality"] > 0.2);
  CHECK(s.last_eval["coverage"] >= 0.5);
  data::PngInfo sheet = data::read_png_info(dir + "/samples/step-0001300.png");
  CHECK(sheet.width == 256);
  CHECK(fs::exists(dir + "/plots/train.png"));
  CHECK(fs::exists(dir + "/plots/eval.png"));
  fs::remove_all(dir);
}

}  // TEST_SUITE

TEST_SUITE("unit") {

TEST_CASE("harness: retention keeps the newest step files and the best; last/best are links, not copies") {
  const std::string dir = temp_dir("retain");
  Config c = scripted_config(8);
  c.set("train.checkpoint_every=1");
  c.set("train.keep_checkpoints=2");
  c.set("train.monitor=score");
  c.set("train.monitor_mode=max");
  Scripted fam(c, [](int64_t) { return 1.0; }, {0.1, 0.9, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1});
  harness::train(fam, quiet(dir, "scripted"));
  std::vector<std::string> steps;
  for (const auto& e : fs::directory_iterator(dir + "/checkpoints"))
    if (e.path().filename().string().rfind("step-", 0) == 0) steps.push_back(e.path().filename().string());
  std::sort(steps.begin(), steps.end());
  CHECK(steps == std::vector<std::string>{"step-0000002.safetensors", "step-0000007.safetensors",
                                          "step-0000008.safetensors"});
  CHECK(inode(dir + "/checkpoints/best.safetensors") == inode(dir + "/checkpoints/step-0000002.safetensors"));
  CHECK(inode(dir + "/checkpoints/last.safetensors") == inode(dir + "/checkpoints/step-0000008.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("harness: early stop on a monitored metric (max), and resume keeps its state") {
  const std::string dir = temp_dir("early");
  Config c = scripted_config(20);
  c.set("train.early_stop=2");
  c.set("train.monitor=score");
  c.set("train.monitor_mode=max");
  Scripted fam(c, [](int64_t) { return 1.0; }, {1, 2, 2, 1.5, 9});
  harness::RunSummary s = harness::train(fam, quiet(dir, "scripted"));
  CHECK(s.early_stopped);
  CHECK(s.last_step == 4);  // no better score at evaluations 3 and 4
  Json h = Json::parse(io::load_safetensors(dir + "/checkpoints/last.safetensors").metadata.at("harness"));
  CHECK(h["early_stop"]["best"] == 2.0);
  CHECK(h["early_stop"]["best_step"] == 2);
  CHECK(h["early_stop"]["bad_evals"] == 2);
  fs::remove_all(dir);
}

TEST_CASE("harness: a NaN loss stops the run naming the last good checkpoint, which stays intact") {
  const std::string dir = temp_dir("nan");
  Config c = scripted_config(10);
  c.set("train.checkpoint_every=2");
  c.set("train.eval_every=0");
  Scripted fam(c, [](int64_t step) { return step == 4 ? std::nan("") : 1.0; }, {});
  std::string msg = test::error_of([&] { harness::train(fam, quiet(dir, "scripted")); });
  CHECK(msg.find("'loss' became nan at step 5") != std::string::npos);
  CHECK(msg.find(dir + "/checkpoints/last.safetensors") != std::string::npos);
  auto ck = io::load_safetensors(dir + "/checkpoints/last.safetensors");
  CHECK(ck.metadata.at("step") == "4");
  for (const auto& [k, v] : ck.tensors)
    for (float x : v.to_vector()) CHECK(std::isfinite(x));
  fs::remove_all(dir);
}

TEST_CASE("harness: checkpoints of another family, foreign tensors and inactive optimisers are clear errors") {
  const std::string dir = temp_dir("foreign");
  Config c = scripted_config(2);
  Scripted fam(c, [](int64_t) { return 1.0; }, {});
  harness::train(fam, quiet(dir, "scripted"));
  Scripted again(c, [](int64_t) { return 1.0; }, {});
  harness::RunOptions o = quiet(dir, "other-family");
  o.resume = true;
  CHECK_ERROR(harness::train(again, o), "a checkpoint of family 'scripted'");
  // A tensor no declared part owns.
  auto f = io::load_safetensors(dir + "/checkpoints/last.safetensors");
  f.tensors["stray.weight"] = Tensor::zeros({1});
  io::save_safetensors(dir + "/checkpoints/last.safetensors", f.tensors, f.metadata);
  Scripted third(c, [](int64_t) { return 1.0; }, {});
  o.family = "scripted";
  CHECK_ERROR(harness::train(third, o), "stray.weight");
  // Stepping an optimiser its stage does not list.
  Json j{{"steps", 1}, {"optim", {{"sgd", harness::OptimSpec{}}}}};
  struct Wrong : Scripted {
    using Scripted::Scripted;
    void step(const harness::Batch& b, harness::StepContext& ctx) override { ctx.step_optimizer("nope"); }
  } wrong(Config(harness::with_harness_defaults(j)), [](int64_t) { return 1.0; }, {});
  CHECK_ERROR(harness::train(wrong, quiet(temp_dir("wrong"), "scripted")), "'nope' is not active");
  fs::remove_all(dir);
}

TEST_CASE("harness: checkpoints written before the harness (legacy metadata) resume") {
  // The same run once straight, once interrupted with its checkpoint rewritten in the old layout
  // (dropout_rng_offset / best_val_loss / bad_evals instead of "harness", no "family").
  const std::string a = temp_dir("legacy-a"), b = temp_dir("legacy-b");
  Config c = scripted_config(6);
  c.set("train.eval_every=0");
  Scripted straight(c, [](int64_t) { return 1.0; }, {});
  harness::RunSummary s = harness::train(straight, quiet(a, "scripted"));
  Scripted first(c, [](int64_t) { return 1.0; }, {});
  harness::RunOptions o = quiet(b, "scripted");
  o.stop_after = 3;
  harness::train(first, o);
  const std::string last = b + "/checkpoints/last.safetensors";
  auto f = io::load_safetensors(last);
  const Json h = Json::parse(f.metadata.at("harness"));
  f.metadata = {{"config", f.metadata.at("config")},
                {"step", "3"},
                {"dropout_rng_offset", std::to_string(h["rng"]["dropout"]["offset"].get<uint64_t>())},
                {"best_val_loss", "inf"},
                {"bad_evals", "0"}};
  fs::remove(last);
  io::save_safetensors(last, f.tensors, f.metadata);
  Scripted rest(c, [](int64_t) { return 1.0; }, {});
  o.stop_after = -1;
  o.resume = true;
  harness::RunSummary r = harness::train(rest, o);
  REQUIRE(r.scalars["loss"].size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(r.scalars["loss"][i] == s.scalars["loss"][3 + i]);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("OrderedPrefetch: batches in step order from several workers; a failure surfaces at its step") {
  harness::OrderedPrefetch<int64_t> p(
      [](int64_t s) {
        if (s == 7) throw Error("step 7 is broken");
        std::this_thread::sleep_for(std::chrono::microseconds((s * 37) % 5 * 200));
        return s * 10;
      },
      3, 12, 3, 4);
  for (int64_t s = 3; s < 7; ++s) CHECK(p.next() == s * 10);
  CHECK_ERROR(p.next(), "step 7 is broken");
}

TEST_CASE("config: defaults ← saved ← files ← sets; optimiser sections; unknown keys name their source") {
  Json defaults = harness::with_harness_defaults(Json{{"optim", {{"G", harness::OptimSpec{}}}}});
  CHECK(defaults["train"]["keep_checkpoints"] == 3);
  CHECK(defaults["data"]["prefetch"] == 2);
  ConfigSources src;
  src.saved = Json{{"optim", {{"G", {{"lr", 0.5}, {"kind", "sgd"}}}}}};
  src.saved_source = "run/config.json";
  src.sets = {"optim.G.lr=0.25", "optim.G.betas=[0.5,0.9]"};
  Config c = resolve_config(defaults, src);
  harness::OptimSpec g = c.get<harness::OptimSpec>("optim.G");
  CHECK(g.kind == "sgd");
  CHECK(g.lr == 0.25);
  CHECK(g.betas == std::vector<double>{0.5, 0.9});
  src.sets = {"optim.G.lrr=1"};
  CHECK_ERROR(resolve_config(defaults, src), "optim.G.lrr");
  src.sets = {};
  src.saved = Json{{"optim", {{"D", Json::object()}}}};
  CHECK_ERROR(resolve_config(defaults, src), "run/config.json");

  harness::OptimSpec bad;
  bad.kind = "adagrad";
  CHECK_ERROR(harness::validate(bad, "optim.G"), "optim.G.kind");
  bad = {};
  bad.schedule = "exp";
  CHECK_ERROR(harness::validate(bad, "optim.D"), "optim.D.schedule");
  harness::OptimSpec lin;
  lin.lr = 1.0;
  lin.lr_end = 0.0;
  lin.schedule = "linear";
  lin.warmup = 2;
  optim::Schedule s = harness::make_schedule(lin, 12, "optim.G");  // 2 warm-up + 10 decay steps
  CHECK(s(0) == doctest::Approx(0.5));
  CHECK(s(2) == doctest::Approx(1.0));
  CHECK(s(7) == doctest::Approx(0.5));
  CHECK(s(12) == doctest::Approx(0.0));
}

TEST_CASE("registry: every family resolves its defaults; an unknown family lists the known ones") {
  for (const auto& f : families()) {
    INFO(f.name);
    Json d = f.defaults();
    CHECK(d.contains("train"));
    CHECK(d["train"].contains("keep_checkpoints"));
  }
  CHECK_ERROR(find_family("dragon"), "douga");
}

TEST_CASE("image_grid: labelled cells; its size function agrees") {
  Tensor red = Tensor::zeros({3, 10, 12});
  red.copy_(Tensor::full({3, 10, 12}, 0.5));
  data::GridLabels labels{{"a", "bb"}, {"row one", "2"}};
  Tensor g = data::image_grid({{red, red}, {red}}, labels);
  auto [h, w] = data::image_grid_size(2, 2, 10, 12, labels);
  CHECK(g.size(1) == h);
  CHECK(g.size(2) == w);
  CHECK_ERROR(data::image_grid({{red}}, {{}, {"x", "y"}}), "row labels");
}

TEST_CASE("log: warnings are fatal in the tests unless captured") {
  CHECK(log::fatal_warnings());
  CHECK_ERROR(log::warn("something odd"), "something odd");
  log::CaptureWarnings cap;
  log::warn("expected {}", 42);
  CHECK(cap.contains("expected 42"));
}

}  // TEST_SUITE
