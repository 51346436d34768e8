// End-to-end GCN training (nets/gcn/train.h) on the built-in synthetic data, at tiny sizes:
// the run folder, bit-identical resume, the first-step dump, variants, the adversarial switch,
// bad checkpoints, and the shipped configs.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/canvas.h"
#include "data/png.h"
#include "data/gcn/synth.h"
#include "nets/gcn/train.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("sakuga-e2e-gcn-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

// A config small enough for a test: 64×64 frames, ResNet-18, k 5, batch 2.
Config tiny(data::SegTask task, int64_t steps) {
  Config c(gcn::default_config(task));
  c.merge(Json::parse(R"({"model": {"k": 5}, "data": {"size": [64, 64], "batch": 2, "val_count": 2},
                          "train": {"log_every": 1, "eval_every": 3, "checkpoint_every": 3, "samples": 2}})"),
          "test");
  c.set("train.steps=" + std::to_string(steps));
  return c;
}

gcn::TrainOptions quiet(const std::string& out) {
  gcn::TrainOptions o;
  o.out = out;
  o.quiet = true;
  return o;
}

std::map<std::string, Tensor> weights_of(const std::string& ckpt) {
  std::map<std::string, Tensor> w;
  for (auto& [k, v] : io::load_safetensors(ckpt).tensors)
    if (k.rfind("optim.", 0) != 0) w[k] = v;
  return w;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.raw(), y.raw(), size_t(x.numel()) * dtype_size(x.dtype())) == 0;
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("gcn douga: run folder, and an interrupted run resumes bit-identically") {
  const std::string a = temp_dir("full"), b = temp_dir("resumed");
  Config cfg = tiny(data::SegTask::douga, 6);
  gcn::TrainResult full = gcn::train(data::SegTask::douga, cfg, quiet(a));
  REQUIRE(full.losses.size() == 6);
  for (float l : full.losses) CHECK(std::isfinite(l));
  CHECK(fs::exists(a + "/config.json"));
  CHECK(fs::exists(a + "/metrics.jsonl"));
  CHECK(fs::exists(a + "/checkpoints/step-0000003.safetensors"));
  CHECK(fs::exists(a + "/checkpoints/last.safetensors"));
  CHECK(fs::exists(a + "/samples/step-0000003.png"));
  data::PngInfo sheet = data::read_png_info(a + "/samples/step-0000006.png");
  // A labelled grid: two validation samples, one row each; frame | prediction | target.
  auto [grid_h, grid_w] = data::image_grid_size(2, 3, 64, 64, {{"frame", "prediction", "target"}, {}});
  CHECK(sheet.height == grid_h);
  CHECK(sheet.width == grid_w);
  CHECK(full.val_accuracy >= 0);
  CHECK(full.val_mean_iou >= 0);

  gcn::TrainOptions first = quiet(b);
  first.stop_after = 3;
  gcn::TrainResult part1 = gcn::train(data::SegTask::douga, cfg, first);
  CHECK(part1.last_step == 3);
  gcn::TrainOptions rest = quiet(b);
  rest.resume = true;
  gcn::TrainResult part2 = gcn::train(data::SegTask::douga, cfg, rest);
  CHECK(part2.first_step == 3);
  REQUIRE(part2.losses.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(part2.losses[i] == full.losses[3 + i]);
  auto wa = weights_of(a + "/checkpoints/last.safetensors"), wb = weights_of(b + "/checkpoints/last.safetensors");
  REQUIRE(wa.size() == wb.size());
  for (auto& [k, v] : wa) CHECK_MESSAGE(bit_equal(v, wb.at(k)), k);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("gcn: --dump-first-step writes input, target, logits, loss, every gradient and the weights") {
  const std::string dir = temp_dir("dump");
  gcn::TrainOptions o = quiet(dir);
  o.dump_first_step = dir + "/first.safetensors";
  gcn::train(data::SegTask::cel, tiny(data::SegTask::cel, 1), o);
  auto dump = io::load_safetensors(o.dump_first_step).tensors;
  CHECK(dump.at("input").shape() == Shape{2, 3, 64, 64});
  CHECK(dump.at("target").shape() == Shape{2, 1, 64, 64});
  CHECK(dump.at("logits").shape() == Shape{2, 1, 64, 64});
  CHECK(dump.at("loss").numel() == 1);
  CHECK(dump.count("grad.backbone.conv1.weight") == 1);
  CHECK(dump.count("grad.gcn1.l1.weight") == 1);
  CHECK(dump.count("grad.br9.conv2.bias") == 1);
  auto w = io::load_safetensors(o.dump_first_step + ".weights.safetensors").tensors;
  CHECK(w.count("backbone.bn1.running_mean") == 1);
  CHECK(w.count("gcn4.r2.weight") == 1);
  fs::remove_all(dir);
}

TEST_CASE("gcn: variants manual-cel / concatenated and the adversarial term train and resume") {
  const std::string cel = temp_dir("cel"), conc = temp_dir("conc"), adv = temp_dir("adv"), man = temp_dir("man");
  gcn::train(data::SegTask::cel, tiny(data::SegTask::cel, 2), quiet(cel));

  Config c = tiny(data::SegTask::douga, 2);
  c.set("variant.kind=concatenated");
  c.set("model.in_channels=4");
  c.set("variant.cel_ckpt=" + Json(cel + "/checkpoints/last.safetensors").dump());
  gcn::TrainResult r = gcn::train(data::SegTask::douga, c, quiet(conc));
  CHECK(r.last_step == 2);

  // The cel model's prediction feeds the loaded model too.
  gcn::LoadedModel m =
      gcn::load_model(data::SegTask::douga, conc + "/checkpoints/last.safetensors", {}, {}, Device::cpu());
  REQUIRE(m.cel_net);
  Tensor in = gcn::variant_input(m, Tensor::zeros({1, 3, 64, 64}), Tensor());
  CHECK(in.shape() == Shape{1, 4, 64, 64});

  Config mc = tiny(data::SegTask::douga, 2);
  mc.set("variant.kind=manual-cel");
  CHECK(gcn::train(data::SegTask::douga, mc, quiet(man)).last_step == 2);

  Config a = tiny(data::SegTask::douga, 4);
  a.set("loss.adversarial.enabled=true");
  a.set("loss.adversarial.encoding=argmax");
  gcn::TrainOptions first = quiet(adv);
  first.stop_after = 3;
  gcn::train(data::SegTask::douga, a, first);
  auto ck = io::load_safetensors(adv + "/checkpoints/last.safetensors").tensors;
  CHECK(ck.count("disc.fc.weight") == 1);
  size_t d_state = 0;
  for (const auto& [k, v] : ck) d_state += k.rfind("optim.D.", 0) == 0;
  CHECK(d_state > 0);
  gcn::TrainOptions rest = quiet(adv);
  rest.resume = true;
  CHECK(gcn::train(data::SegTask::douga, a, rest).last_step == 4);

  Config bad = tiny(data::SegTask::douga, 1);
  bad.set("variant.kind=synthetic-cel");
  CHECK_ERROR(gcn::train(data::SegTask::douga, bad, quiet(temp_dir("bad"))), "variant.cel_ckpt");
  for (const auto& d : {cel, conc, adv, man}) fs::remove_all(d);
}

TEST_CASE("gcn: truncated, hostile or mismatched checkpoints are clear errors naming the file") {
  const std::string dir = temp_dir("ckpt");
  fs::create_directories(dir);
  const std::string text = dir + "/not-a-checkpoint.safetensors";
  std::ofstream(text) << "hello";
  CHECK_ERROR(gcn::load_model(data::SegTask::douga, text, {}, {}, Device::cpu()), "not-a-checkpoint.safetensors");

  // A cel checkpoint is not a douga model: mis-shaped tensors are listed.
  const std::string run = temp_dir("celrun");
  gcn::train(data::SegTask::cel, tiny(data::SegTask::cel, 1), quiet(run));
  const std::string ck = run + "/checkpoints/last.safetensors";
  CHECK_ERROR(gcn::load_model(data::SegTask::douga, ck, {}, {}, Device::cpu()), "model.task");
  io::SafetensorsFile f = io::load_safetensors(ck);
  f.metadata.clear();  // weights only: the douga fallback config does not fit
  f.tensors.erase("gcn1.l1.weight");
  const std::string weights = dir + "/weights.safetensors";
  io::save_safetensors(weights, f.tensors);
  std::string msg = test::error_of([&] { gcn::load_model(data::SegTask::douga, weights, {}, {}, Device::cpu()); });
  CHECK(msg.find("weights.safetensors") != std::string::npos);
  CHECK(msg.find("gcn1.l1.weight") != std::string::npos);

  // Truncated last checkpoint: --resume names it.
  fs::resize_file(ck, fs::file_size(ck) / 2);
  gcn::TrainOptions o = quiet(run);
  o.resume = true;
  CHECK_ERROR(gcn::train(data::SegTask::cel, tiny(data::SegTask::cel, 2), o), "last.safetensors");
  fs::remove_all(dir);
  fs::remove_all(run);
}

TEST_CASE("gcn: shipped configs resolve; the demo configs are the built-in defaults") {
  for (auto task : {data::SegTask::cel, data::SegTask::douga}) {
    const std::string name = data::seg_task_name(task);
    Config demo(gcn::default_config(task));
    demo.merge_file(std::string(SAKUGA_SOURCE_DIR) + "/configs/" + name + "-demo.json");
    CHECK(demo.json() == gcn::default_config(task));
    Config thesis(gcn::default_config(task));
    thesis.merge_file(std::string(SAKUGA_SOURCE_DIR) + "/configs/" + name + "-thesis.json");
    gcn::GcnConfig m = gcn::model_config(task, thesis);
    CHECK(m.k == (task == data::SegTask::cel ? 25 : 49));
    CHECK(m.backbone == (task == data::SegTask::cel ? 101 : 50));
    CHECK(thesis.get<std::vector<int64_t>>("data.size") == std::vector<int64_t>{1080, 1920});
  }
  Config c(gcn::default_config(data::SegTask::cel));
  c.set("model.k=4");
  CHECK_ERROR(gcn::model_config(data::SegTask::cel, c), "model.k");
  Config d(gcn::default_config(data::SegTask::douga));
  d.set("model.classes=1");
  CHECK_ERROR(gcn::model_config(data::SegTask::douga, d), "model.classes");
}

}  // TEST_SUITE

TEST_SUITE("e2e") {

// The main job's promise at test scale: a short douga run on synthetic frames clearly beats
// the majority-class model on validation frames from another seed (the full demo reaches
// far more; see the README).
TEST_CASE("gcn douga learns: a short run beats the majority-class baseline") {
  const std::string dir = temp_dir("learn");
  Config c(gcn::default_config(data::SegTask::douga));
  c.merge(Json::parse(R"({"data": {"size": [64, 64], "val_count": 16},
                          "train": {"steps": 300, "eval_every": 300, "checkpoint_every": 0, "samples": 0}})"),
          "test");
  gcn::TrainResult r = gcn::train(data::SegTask::douga, c, quiet(dir));
  INFO("val accuracy ", r.val_accuracy, " mIoU ", r.val_mean_iou, "; baseline ", r.baseline_accuracy, " / ",
       r.baseline_mean_iou);
  // Mean IoU is the measure (pixel accuracy is dominated by flat_area, ~76 % of the pixels, and
  // the class-weighted loss trades some of it for the rare line classes early on).
  CHECK(r.val_mean_iou > 2 * r.baseline_mean_iou);
  const size_t n = r.losses.size();
  REQUIRE(n == 300);
  double first = 0, last = 0;
  for (size_t i = 0; i < 30; ++i) {
    first += r.losses[i];
    last += r.losses[n - 30 + i];
  }
  CHECK(last < 0.5 * first);
  fs::remove_all(dir);
}

}  // TEST_SUITE

TEST_SUITE("e2e") {

// A folder dataset (written by the synthetic generator): hash split, epochs that straddle a
// batch (built by parallel workers), and a resumed run that reads the same batches.
TEST_CASE("gcn: training on a folder dataset, across epochs, resumes bit-identically") {
  const std::string ds = temp_dir("folder-data"), a = temp_dir("folder-a"), b = temp_dir("folder-b");
  data::write_synth_dataset(ds, data::SegTask::douga, 7, 3, 64, 64);
  Config c = tiny(data::SegTask::douga, 6);
  c.set("data.synthetic=false");
  c.set("data.dir=" + Json(ds).dump());
  c.set("data.batch=3");
  c.set("data.val_fraction=0.3");
  gcn::TrainResult full = gcn::train(data::SegTask::douga, c, quiet(a));
  REQUIRE(full.losses.size() == 6);
  gcn::TrainOptions first = quiet(b);
  first.stop_after = 3;
  gcn::train(data::SegTask::douga, c, first);
  gcn::TrainOptions rest = quiet(b);
  rest.resume = true;
  gcn::TrainResult part2 = gcn::train(data::SegTask::douga, c, rest);
  REQUIRE(part2.losses.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(part2.losses[i] == full.losses[3 + i]);
  for (const auto& d : {ds, a, b}) fs::remove_all(d);
}

}  // TEST_SUITE
