// GADN end to end (nets/gadn/): the three stages run in one harness run at test size, dump the
// first step of each stage, resume bit-identically across both stage boundaries; D starts from
// C2's body; a short stage 1 lowers L_rec; the shipped configs resolve to the published
// settings; eval and infer write their pinned outputs; bad input is an error naming the key.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/gadn/writer.h"
#include "nets/gadn/eval.h"
#include "nets/gadn/train.h"
#include "nets/harness/trainer.h"
#include "tensor/safetensors.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("sakuga-e2e-gadn-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

harness::RunOptions quiet(const std::string& out) {
  harness::RunOptions o;
  o.out = out;
  o.family = "gadn";
  o.quiet = true;
  return o;
}

// Fashion-MNIST × 4 artists at 32 px with narrow networks: 6 stage-1 steps, 3 of C2, 4 of stage 2.
Config tiny(int64_t stage1 = 6, int64_t c2 = 3, int64_t stage2 = 4) {
  Config c(gadn::default_config());
  c.merge(Json::parse(R"({"model": {"channels": [8, 16, 16], "fc": 32, "z": 8},
                          "data": {"artists": 4, "train_limit": 200, "val_count": 24, "batch": 4},
                          "eval": {"samples": 2, "styles": 2},
                          "train": {"log_every": 1, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("train.stages.stage1.steps=" + std::to_string(stage1));
  c.set("train.stages.c2.steps=" + std::to_string(c2));
  c.set("train.stages.c2.batch=4");
  c.set("train.stages.stage2.steps=" + std::to_string(stage2));
  return c;
}

using test::check_same_tensors;
using test::same_bytes;

double mean_of(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += v[i];
  return s / double(to - from);
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("gadn: three stages in one run, a dump per stage, bit-identical resume across both boundaries") {
  const std::string full = temp_dir("full"), parted = temp_dir("parted");
  const Config cfg = tiny();
  harness::RunOptions o = quiet(full);
  o.dump_first_step = full + "/first.safetensors";
  harness::RunSummary a = harness::train(*gadn::make_family(cfg, Device::cpu(), true), o);
  REQUIRE(a.scalars["rec"].size() == 6);
  REQUIRE(a.scalars["d"].size() == 4);
  REQUIRE(a.scalars["c2"].size() == 7);  // the pre-training, then stage 2's C2 loss

  // Stage 1 steps E, G, S and C1; the C2 pre-training only C2; stage 2 G, S, D and C2, not E.
  const auto s1 = io::load_safetensors(full + "/first.safetensors").tensors;
  const auto c2 = io::load_safetensors(full + "/first.c2.safetensors").tensors;
  const auto s2 = io::load_safetensors(full + "/first.stage2.safetensors").tensors;
  for (const char* k : {"grad.E.mu.weight", "grad.G.fc1.weight", "grad.S.mean", "grad.C1.head.weight", "batch.x",
                        "batch.a", "batch.a2", "loss"})
    CHECK_MESSAGE(s1.count(k) == 1, k);
  CHECK(s1.count("grad.D.head.weight") == 0);
  CHECK(c2.count("grad.C2.head.weight") == 1);
  CHECK(c2.count("grad.G.fc1.weight") == 0);
  CHECK(s2.count("grad.D.head.weight") == 1);
  CHECK(s2.count("grad.C2.head.weight") == 1);
  CHECK(s2.count("grad.G.fc1.weight") == 1);
  CHECK(s2.count("grad.E.mu.weight") == 0);
  // D's body starts stage 2 as the pre-trained C2's body (the stage's dumped starting weights).
  const auto w2 = io::load_safetensors(full + "/first.stage2.safetensors.weights.safetensors").tensors;
  size_t body = 0;
  for (const auto& [k, v] : w2)
    if (k.rfind("D.body.", 0) == 0) {
      ++body;
      CHECK_MESSAGE(same_bytes(v, w2.at("C2." + k.substr(2))), k);
    }
  CHECK(body > 0);

  // Interrupted inside stage 1, inside the C2 pre-training and right after the stage-2 boundary.
  std::map<std::string, std::vector<double>> parts;
  for (int64_t stop : {4, 7, 10, -1}) {
    harness::RunOptions p = quiet(parted);
    p.resume = stop != 4;
    p.stop_after = stop;
    harness::RunSummary s = harness::train(*gadn::make_family(cfg, Device::cpu(), true), p);
    for (const auto& [k, v] : s.scalars) parts[k].insert(parts[k].end(), v.begin(), v.end());
  }
  for (const char* k : {"rec", "kl_e", "c1", "c2", "d", "cont"}) {
    INFO("scalar ", k);
    REQUIRE(parts[k].size() == a.scalars[k].size());
    for (size_t i = 0; i < parts[k].size(); ++i)
      CHECK(std::memcmp(&parts[k][i], &a.scalars[k][i], sizeof(double)) == 0);
  }
  check_same_tensors(full + "/checkpoints/last.safetensors", parted + "/checkpoints/last.safetensors");
  // Pinned checkpoint names: the networks and each network's optimiser state.
  const auto ck = io::load_safetensors(full + "/checkpoints/last.safetensors");
  CHECK(ck.metadata.at("family") == "gadn");
  for (const char* prefix : {"E.", "S.", "G.", "D.", "C1.", "C2.", "optim.E.", "optim.G.", "optim.S.", "optim.C1.",
                             "optim.C2.", "optim.D.", "optim.G.stage2.", "optim.S.stage2.", "optim.C2.stage2."}) {
    bool found = false;
    for (const auto& [k, v] : ck.tensors) found |= k.rfind(prefix, 0) == 0;
    CHECK_MESSAGE(found, prefix);
  }
  fs::remove_all(full);
  fs::remove_all(parted);
}

TEST_CASE("gadn: a short stage 1 lowers the reconstruction loss") {
  const std::string dir = temp_dir("learn");
  Config c = tiny(120, 0, 0);
  c.set("data.train_limit=2000");
  harness::RunSummary s = harness::train(*gadn::make_family(c, Device::cpu(), true), quiet(dir));
  const auto& rec = s.scalars["rec"];
  REQUIRE(rec.size() == 120);
  const double first = mean_of(rec, 0, 10), last = mean_of(rec, 100, 120);
  INFO("L_rec first 10 steps ", first, ", last 20 ", last);
  CHECK(last < 0.7 * first);
  CHECK(s.last_eval.count("val_rec") == 1);
  CHECK(s.last_eval.count("top1_artist") == 1);
  CHECK(s.last_eval.count("top1_class_d2") == 1);
  CHECK(fs::exists(dir + "/samples"));
  fs::remove_all(dir);
}

// The demo's networks and rates on a shorter stage 1: with C1 (λ_C1 0.2) the artist is far less
// readable from E's leading code dimensions than in the plain conditional VAE (λ_C1 = 0), while
// the garment stays readable. Measured at 250 steps: artist top-1 from the first 2 dimensions
// 0.31 with C1 vs 0.56 without (chance 1/16; class top-1 0.33 vs 0.29, chance 0.1).
TEST_CASE("gadn: stage 1 against C1 disentangles beyond the plain VAE baseline") {
  auto run = [](double c1, const std::string& name) {
    Config c(gadn::default_config());
    c.merge(Json::parse(R"({"data": {"train_limit": 6000, "val_count": 256},
                            "eval": {"samples": 0},
                            "train": {"eval_every": 0, "checkpoint_every": 0, "log_every": 50}})"),
            "test");
    c.set("train.stages.stage1.steps=250");
    c.set("train.stages.c2.steps=0");
    c.set("train.stages.stage2.steps=0");
    c.set("loss.c1=" + std::to_string(c1));
    const std::string dir = temp_dir(name);
    harness::RunSummary s = harness::train(*gadn::make_family(c, Device::cpu(), true), quiet(dir));
    fs::remove_all(dir);
    return s.last_eval;
  };
  const auto adv = run(0.2, "adv"), vae = run(0.0, "vae");
  MESSAGE("artist top-1 (first 2 dims): GADN ", adv.at("top1_artist_d2"), ", VAE ", vae.at("top1_artist_d2"),
       "; class top-1 (all dims): GADN ", adv.at("top1_class"), ", VAE ", vae.at("top1_class"));
  CHECK(adv.at("top1_artist_d2") < vae.at("top1_artist_d2") - 0.15);
  CHECK(adv.at("top1_class") > 0.2);  // chance 0.1
}

TEST_CASE("gadn: the shipped configs resolve to the published settings") {
  const std::string root = std::string(SAKUGA_SOURCE_DIR) + "/configs/";
  Config paper(gadn::default_config());
  paper.merge_file(root + "gadn-paper.json");
  const gadn::Settings p = gadn::settings_of(paper);
  CHECK(p.data.size == 256);
  CHECK(gadn::stage_batch(p, "stage1") == 8);
  CHECK(gadn::stage_batch(p, "c2") == 16);
  CHECK(gadn::stage_batch(p, "stage2") == 8);
  CHECK(p.stages.stage1.steps == 400000);
  CHECK(p.stages.c2.steps == 200000);
  CHECK(p.stages.stage2.steps == 400000);
  CHECK(p.loss.c1 == doctest::Approx(0.2));
  CHECK(p.loss.s_kl == doctest::Approx(2e-5));
  CHECK(p.loss.cont == doctest::Approx(0.05));
  CHECK(p.stage1.lr == doctest::Approx(5e-5));
  CHECK(p.stage1_style.lr == doctest::Approx(5e-3));
  CHECK(p.stage2.kind == "rmsprop");
  CHECK(p.stage2.lr == doctest::Approx(2e-5));
  CHECK(p.stage2_style.lr == doctest::Approx(1e-2));
  CHECK(p.stage1.eps == doctest::Approx(1e-4));
  CHECK(p.stage1_style.eps == doctest::Approx(1e-8));
  const gadn::NetConfig n = gadn::net_config(p, 20);
  CHECK(n.channels == std::vector<int64_t>{32, 64, 128, 256, 512, 1024});
  CHECK(n.fc == 2048);
  CHECK(n.z == 256);
  CHECK(n.zs == 256);
  for (const char* name : {"gadn-nist-artist.json", "gadn-nist-class.json"}) {
    Config c(gadn::default_config());
    c.merge_file(root + name);
    const gadn::Settings s = gadn::settings_of(c);
    CHECK(s.data.size == 32);
    CHECK(s.loss.c1 == doctest::Approx(0.1));
    CHECK(s.loss.s_kl == doctest::Approx(1e-4));
    CHECK(s.stages.stage1.steps == 300000);
    CHECK(s.stages.stage2.steps == 320000);
  }
  // The demo is the built-in default: Fashion-MNIST × 16 artists at 32 px, all three stages.
  const gadn::Settings d = gadn::settings_of(Config(gadn::default_config()));
  CHECK(d.data.source == "fmnist-artists");
  CHECK(d.data.artists == 16);
  CHECK(d.stages.stage1.steps > 0);
  CHECK(d.stages.c2.steps > 0);
  CHECK(d.stages.stage2.steps > 0);
}

TEST_CASE("gadn: eval writes the pinned tables and infer the codes, transfers and grid") {
  const std::string dir = temp_dir("cli");
  Config c = tiny(4, 2, 2);
  harness::train(*gadn::make_family(c, Device::cpu(), true), quiet(dir + "/run"));
  const std::string ckpt = dir + "/run/checkpoints/last.safetensors";
  data::gadn::SynthOptions so;
  so.count = 16;
  so.artists = 4;
  so.max_garments = 64;
  data::gadn::write_gadn_dataset(dir + "/held", so);

  gadn::EvalOptions e;
  e.model.ckpt = ckpt;
  e.data_dir = dir + "/held";
  e.json_file = dir + "/eval.json";
  e.classifier_steps = 5;
  CHECK(gadn::run_eval(e) == 0);
  std::ifstream jf(e.json_file);
  const Json j = Json::parse(jf);
  for (const char* k : {"distance", "naive_bayes", "swap"}) CHECK_MESSAGE(j.contains(k), k);
  for (const char* f : {"style", "class"})
    for (const char* d : {"2", "8", "all"})
      for (const char* m : {"avg_prob", "avg_rank", "top1"}) CHECK(j["naive_bayes"][f][d].contains(m));
  CHECK(j["swap"].contains("style_accuracy"));
  CHECK(j["swap"]["content_factor"] == "class");

  // --encode: mu and sigma (N, Z) in input order; encoding one image alone gives its row.
  const std::string a = dir + "/held/artist-00/fmnist-000000.png", b = dir + "/held/artist-01/fmnist-000001.png";
  gadn::InferOptions i;
  i.model.ckpt = ckpt;
  i.encode = {a, b};
  i.out = dir + "/codes.safetensors";
  CHECK(gadn::run_infer(i) == 0);
  const auto codes = io::load_safetensors(i.out).tensors;
  REQUIRE(codes.count("mu") == 1);
  CHECK(codes.at("mu").shape() == std::vector<int64_t>{2, 8});
  CHECK(codes.at("sigma").shape() == std::vector<int64_t>{2, 8});
  i.encode = {b};
  i.out = dir + "/one.safetensors";
  gadn::run_infer(i);
  const std::vector<float> both = codes.at("mu").to_vector(),
                           one = io::load_safetensors(i.out).tensors.at("mu").to_vector();
  for (size_t k = 0; k < 8; ++k) CHECK(one[k] == doctest::Approx(both[8 + k]).epsilon(1e-5));

  gadn::InferOptions t;
  t.model.ckpt = ckpt;
  t.inputs = {a};
  t.styles = {"artist-02", "artist-03"};
  t.random_styles = 1;
  t.grid = true;
  t.out = dir + "/transfer";
  CHECK(gadn::run_infer(t) == 0);
  CHECK(fs::exists(dir + "/transfer/fmnist-000000.artist-02.png"));
  CHECK(fs::exists(dir + "/transfer/fmnist-000000.artist-03.png"));
  CHECK(fs::exists(dir + "/transfer/fmnist-000000.random-0.png"));
  CHECK(fs::exists(dir + "/transfer/grid.png"));
  t.styles = {"artist-99"};
  CHECK_ERROR(gadn::run_infer(t), "no label 'artist-99'");
  fs::remove_all(dir);
}

TEST_CASE("gadn: bad configs and checkpoints are errors naming the key or file") {
  const std::string dir = temp_dir("bad");
  Config c = tiny();
  c.set("train.stages.stage1.steps=0");
  CHECK_ERROR(gadn::make_family(c, Device::cpu(), true), "train.init");
  c.set("train.init=" + Json(dir + "/missing.safetensors").dump());
  CHECK_ERROR(gadn::make_family(c, Device::cpu(), true), "missing.safetensors");
  Config d = tiny();
  d.set("data.label=\"garment\"");
  CHECK_ERROR(gadn::make_family(d, Device::cpu(), true), "data.label");
  Config e = tiny();
  e.set("data.source=\"folder\"");
  CHECK_ERROR(gadn::make_family(e, Device::cpu(), true), "--data DIR");
  Config f = tiny();
  f.set("data.batch=1");
  CHECK_ERROR(gadn::make_family(f, Device::cpu(), true), "data.batch");
  // A checkpoint of another family, as train.init and for eval/infer.
  fs::create_directories(dir);
  io::save_safetensors(dir + "/other.safetensors", {{"w", Tensor::zeros({1})}}, {{"family", "douga"}});
  Config g = tiny();
  g.set("train.init=" + Json(dir + "/other.safetensors").dump());
  CHECK_ERROR(gadn::make_family(g, Device::cpu(), true), "family 'douga'");
  gadn::InferOptions i;
  i.model.ckpt = dir + "/other.safetensors";
  i.encode = {dir + "/x.png"};
  i.out = dir + "/codes.safetensors";
  CHECK_ERROR(gadn::run_infer(i), "family 'douga', not gadn");
  fs::remove_all(dir);
}

TEST_CASE("gadn: stage 2 alone starts from a stage-1 checkpoint (train.init)") {
  const std::string dir = temp_dir("init");
  harness::train(*gadn::make_family(tiny(3, 0, 0), Device::cpu(), true), quiet(dir + "/s1"));
  Config c = tiny(0, 2, 2);
  c.set("train.init=" + Json(dir + "/s1/checkpoints/last.safetensors").dump());
  harness::RunSummary s = harness::train(*gadn::make_family(c, Device::cpu(), true), quiet(dir + "/s2"));
  CHECK(s.scalars["d"].size() == 2);
  // E came from stage 1 and stays frozen in stage 2.
  const auto a = io::load_safetensors(dir + "/s1/checkpoints/last.safetensors").tensors;
  const auto b = io::load_safetensors(dir + "/s2/checkpoints/last.safetensors").tensors;
  CHECK(same_bytes(a.at("E.mu.weight"), b.at("E.mu.weight")));
  CHECK_FALSE(same_bytes(a.at("G.fc1.weight"), b.at("G.fc1.weight")));
  fs::remove_all(dir);
}

}  // TEST_SUITE
