// The redraw encoder stage (nets/redraw/encoder.h): clustering and its scores on hand-made
// labelings, the triplet loss by hand and against finite differences, E's shape and affine map,
// batch purity, a short run lowering the loss, bit-identical resume, eval / infer outputs and bad
// input. (The PyTorch oracle of the loss: tests/oracle/test_triplet.py.)
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/png.h"
#include "data/redraw/synth.h"
#include "layers/init.h"
#include "losses/triplet.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/cluster.h"
#include "nets/redraw/encoder.h"
#include "nets/redraw/tools.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "tests/run_util.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::redraw;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return test::temp_dir("redraw-encoder", name); }

harness::RunOptions quiet(const std::string& out) { return test::quiet_run(out, "redraw"); }

// 3 productions (the last held out) × 4 designs, 32 px crops of 128 px frames, a narrow
// production encoder: a few seconds a run on one core.
Config tiny(int64_t steps = 6) {
  Config c(default_config());
  c.merge(Json::parse(R"({"stage": "encoder",
                          "data": {"productions": 3, "designs": 4, "held_out": 1},
                          "encoder": {"crop_size": 32, "frame_size": 128, "train_frames": 36, "val_frames": 18,
                                      "designs_per_batch": 4, "samples_per_design": 2, "style_refs": 1, "variants": 2,
                                      "production_width": 8, "optim": {"warmup": 0}},
                          "train": {"log_every": 1, "eval_every": 0, "checkpoint_every": 0}})"),
          "test");
  c.set("encoder.steps=" + std::to_string(steps));
  return c;
}

double mean_of(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += v[i];
  return s / double(to - from);
}

// max |a − b| ≤ tol · max(1, max |b|)
bool close(const Tensor& a, const Tensor& b, double tol) {
  const std::vector<double> x = a.contiguous().to_vector_f64(), y = b.contiguous().to_vector_f64();
  if (x.size() != y.size()) return false;
  double d = 0, m = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    d = std::max(d, std::fabs(x[i] - y[i]));
    m = std::max(m, std::fabs(y[i]));
  }
  return d <= tol * m;
}

Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_bytes(v.data(), shape, DType::f64); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("redraw encoder: NMI, ARI and purity of hand-made labelings") {
  struct Case {
    std::vector<int> truth, pred;
    double nmi, ari, purity;
  };
  // NMI with the arithmetic-mean normalisation, ARI and purity, computed by hand (the first:
  // V refines U, MI = H(U) = ln 2, H(V) = 1.5 ln 2, NMI = 1 / 1.25; ARI = (1 − 2·1/6)/(1.5 − 1/3))
  // and checked with the formulas of sklearn.metrics (not installed here) in plain Python.
  const std::vector<Case> cases = {
      {{0, 0, 1, 1}, {0, 0, 1, 2}, 0.8, 0.5714285714285715, 1.0},
      {{0, 0, 1, 1}, {1, 1, 0, 0}, 1.0, 1.0, 1.0},                     // a renaming
      {{0, 0, 1, 1}, {0, 1, 0, 1}, 0.0, -0.5, 0.5},                    // independent
      {{0, 0, 0, 1, 1, 1, 2, 2, 2}, {0, 0, 1, 1, 1, 2, 2, 2, 2}, 0.5895098274473048, 0.35714285714285715,
       0.7777777777777778},
      {{0, 0, 1, 1, 2, 2}, {0, 0, 0, 0, 0, 0}, 0.0, 0.0, 1.0 / 3},     // one cluster
      {{3, 3, 7, 7, 7, 1}, {5, 5, 5, 2, 2, 9}, 0.6853314789615864, 0.3181818181818182, 5.0 / 6},
      {{4, 4, 4}, {1, 1, 1}, 1.0, 1.0, 1.0},                           // neither splits: sklearn's 1
  };
  for (const auto& c : cases) {
    CHECK(nmi(c.truth, c.pred) == doctest::Approx(c.nmi).epsilon(1e-12));
    CHECK(ari(c.truth, c.pred) == doctest::Approx(c.ari).epsilon(1e-12));
    CHECK(purity(c.truth, c.pred) == doctest::Approx(c.purity).epsilon(1e-12));
  }
  CHECK(renumber({7, 3, 7, 9}) == std::vector<int>{0, 1, 0, 2});
  CHECK_ERROR(nmi({0, 1}, {0}), "same length");
}

TEST_CASE("redraw encoder: k-means and agglomerative clustering find separated groups, deterministically") {
  // Three groups of five unit-ish rows around orthogonal directions of R^4, interleaved.
  std::vector<float> rows;
  std::vector<int> truth;
  for (int i = 0; i < 15; ++i) {
    const int g = i % 3;
    for (int d = 0; d < 4; ++d) rows.push_back((d == g ? 1.f : 0.f) + 0.05f * float(((i * 7 + d * 3) % 5) - 2));
    truth.push_back(g);
  }
  const std::vector<int> km = kmeans(rows, 15, 4, 3, 42);
  CHECK(nmi(truth, km) == doctest::Approx(1.0));
  CHECK(km == kmeans(rows, 15, 4, 3, 42));  // the same seed, the same clusters
  CHECK(km[0] == 0);                         // numbered by first appearance
  const std::vector<int> ag = agglomerative(rows, 15, 4, 3);
  CHECK(ari(truth, ag) == doctest::Approx(1.0));
  // Stopping at a cosine distance: the groups are ~1 apart, rows within a group < 0.1.
  CHECK(nmi(truth, agglomerative(rows, 15, 4, 0, 0.3)) == doctest::Approx(1.0));
  CHECK(agglomerative(rows, 15, 4, 0, 1.9) == std::vector<int>(15, 0));
  CHECK(agglomerative(rows, 15, 4, 15) == renumber(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  CHECK(kmeans(rows, 15, 4, 1, 0) == std::vector<int>(15, 0));
  CHECK(kmeans(rows, 15, 4, 20, 0).size() == 15);  // k > n: n clusters at most
  CHECK_ERROR(agglomerative(rows, 15, 4, 0, 0), "threshold");
  CHECK_ERROR(kmeans(rows, 14, 4, 3, 0), "kmeans");
}

TEST_CASE("redraw encoder: the triplet loss by hand (hard and all mining)") {
  // Unit rows (1, 0), (0, 1) of design 0 and (0.8, 0.6), (−1, 0) of design 1, margin 0.2:
  // per anchor max(0, farthest positive − closest negative + 0.2), in plain Python.
  Tensor e = Tensor::from_vector({1, 0, 0, 1, 0.8f, 0.6f, -1, 0}, {4, 2});
  const std::vector<int> labels{0, 0, 1, 1};
  CHECK(losses::triplet_loss(e, labels, 0.2, losses::TripletMining::hard).item() ==
        doctest::Approx(0.9624025902332825).epsilon(1e-5));
  CHECK(losses::triplet_loss(e, labels, 0.2, losses::TripletMining::all).item() ==
        doctest::Approx(0.6687394375884717).epsilon(1e-5));
  // Labels in an arbitrary order: the same value with the rows permuted alike.
  Tensor p = ops::index_select(e, 0, Tensor::from_vector_i32({2, 0, 3, 1}, {4}));
  CHECK(losses::triplet_loss(p, {1, 0, 1, 0}, 0.2).item() == doctest::Approx(0.9624025902332825).epsilon(1e-5));
  // l2_normalize: unit rows.
  Tensor n = losses::l2_normalize(Tensor::from_vector({3, 4, 0, 0.5f}, {2, 2}));
  CHECK(n.to_vector() == std::vector<float>{0.6f, 0.8f, 0.f, 1.f});
  CHECK_ERROR(losses::triplet_loss(e, {0, 0, 0, 0}, 0.2), "no anchor");
  CHECK_ERROR(losses::triplet_loss(e, {0, 1, 2, 3}, 0.2, losses::TripletMining::all), "no triplet");
  CHECK_ERROR(losses::triplet_loss(e, {0, 1}, 0.2), "labels");
}

TEST_CASE("redraw encoder: the triplet loss's gradient against central differences (f64)") {
  const std::vector<int> labels{0, 0, 1, 1, 2, 2, 0};
  std::vector<double> v;
  for (int i = 0; i < 7 * 3; ++i) v.push_back(std::sin(1.7 * i + 0.3) + 0.2 * std::cos(0.9 * i));
  for (auto mining : {losses::TripletMining::hard, losses::TripletMining::all}) {
    INFO("mining ", losses::triplet_mining_name(mining));
    auto f = [&](const std::vector<double>& x) {
      return losses::triplet_loss(losses::l2_normalize(f64(x, {7, 3})), labels, 0.5, mining).item();
    };
    Tensor x = f64(v, {7, 3});
    x.set_requires_grad(true);
    Tensor loss = losses::triplet_loss(losses::l2_normalize(x), labels, 0.5, mining);
    CHECK(loss.item() > 0);
    loss.backward();
    const std::vector<double> g = x.grad().to_vector_f64();
    for (size_t i = 0; i < v.size(); ++i) {
      std::vector<double> a = v, b = v;
      a[i] += 1e-6;
      b[i] -= 1e-6;
      const double fd = (f(a) - f(b)) / 2e-6;
      INFO("element ", i);
      CHECK(g[i] == doctest::Approx(fd).epsilon(1e-5).scale(1));
    }
  }
}

TEST_CASE("redraw encoder: E's shape, unit rows and the affine map A = 1 + tanh(a), b") {
  manual_seed(3);
  StyleEncoder net(EncoderNetConfig{128, 8});
  net.eval();
  Generator gen(5);
  Tensor x = rand_uniform({3, 3, 32, 32}, 0, 1, gen), refs = rand_uniform({3, 2, 3, 32, 32}, 0, 1, gen);
  Tensor e = net.embed(x, refs);
  REQUIRE(e.shape() == Shape{3, 128});
  const std::vector<float> ev = e.to_vector();
  for (int i = 0; i < 3; ++i) {
    double s = 0;
    for (int d = 0; d < 128; ++d) s += double(ev[size_t(i * 128 + d)]) * ev[size_t(i * 128 + d)];
    CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
  }
  // The head starts at zero: A = 1, b = 0, so E = c / ‖c‖ (the baseline).
  CHECK(close(e, net.baseline(x), 1e-5));
  // A known head bias: a = 0.5 → A = 1 + tanh(0.5); b = −0.1 + 0.002·d.
  std::vector<float> bias(256);
  for (int d = 0; d < 128; ++d) {
    bias[size_t(d)] = 0.5f;
    bias[size_t(128 + d)] = -0.1f + 0.002f * float(d);
  }
  net.production->head->bias.copy_(Tensor::from_vector(bias, {256}));
  const std::vector<float> c = (*net.content)(x).to_vector(), got = net.embed(x, refs).to_vector();
  const double A = 1 + std::tanh(0.5);
  for (int i = 0; i < 3; ++i) {
    std::vector<double> y(128);
    double s = 0;
    for (int d = 0; d < 128; ++d) {
      y[size_t(d)] = A * c[size_t(i * 128 + d)] + bias[size_t(128 + d)];
      s += y[size_t(d)] * y[size_t(d)];
    }
    for (int d = 0; d < 128; ++d) CHECK(got[size_t(i * 128 + d)] == doctest::Approx(y[size_t(d)] / std::sqrt(s)).epsilon(1e-4));
  }
  // Gradients reach both networks (the head's weight once it is not zero).
  net.train();
  nn::init::normal_(net.production->head->weight, 0, 0.01);
  Tensor loss = losses::triplet_loss(net.embed(x, refs), {0, 0, 1}, 0.2);
  loss.backward();
  CHECK(net.production->head->weight.grad().defined());
  CHECK(net.production->convs->parameters()[0].grad().defined());
  CHECK(net.content->fc->weight.grad().defined());
  CHECK(net.content->backbone->conv1->weight.grad().defined());
  CHECK_ERROR(net.embed(x, ops::slice(refs, 0, 0, 2)), "references");
}

}  // TEST_SUITE

TEST_SUITE("data") {

TEST_CASE("redraw encoder: a data-parallel run needs whole designs, two at least, in every rank's slice") {
  const Config cfg = tiny();  // 4 designs per batch × 2 samples
  auto fam = make_encoder_family(cfg, Device::cpu(), true);
  REQUIRE(fam->batch_size() == 8);
  CHECK_NOTHROW(fam->check_data_parallel(2));  // 2 designs (4 crops) per rank
  CHECK_ERROR(fam->check_data_parallel(4), "encoder.designs_per_batch");  // one design per rank: no negatives
  CHECK_ERROR(fam->check_data_parallel(3), "must split into 3 equal groups");
  // Rank slices of make_batch_slice hold whole designs when the check passes.
  const harness::Batch whole = fam->make_batch(3), half = fam->make_batch_slice(3, 4, 8);
  const std::vector<int32_t> d = whole.at("host.design").to_vector_i32(), h = half.at("host.design").to_vector_i32();
  CHECK(h == std::vector<int32_t>(d.begin() + 4, d.end()));
  CHECK(std::set<int32_t>(h.begin(), h.end()).size() == 2);
  for (int32_t v : h) CHECK(std::count(d.begin(), d.begin() + 4, v) == 0);
}

TEST_CASE("redraw encoder: make_batch is pure in (seed, step), designs × samples from seen productions only") {
  const Config cfg = tiny();
  auto fam = make_encoder_family(cfg, Device::cpu(), true);
  auto fam2 = make_encoder_family(cfg, Device::cpu(), true);
  for (int64_t step : {0, 1, 5}) {
    harness::Batch a = fam->make_batch(step), b = fam2->make_batch(step);
    for (const char* k : {"x", "refs", "design", "host.design", "production"})
      CHECK_MESSAGE(test::same_bytes(a.at(k), b.at(k)), k);
    CHECK(a.at("x").shape() == Shape{8, 3, 32, 32});
    CHECK(a.at("refs").shape() == Shape{8, 1, 3, 32, 32});
    CHECK(test::same_bytes(a.at("host.design"), a.at("design")));  // the labels the step mines with, kept on the host
    const std::vector<int32_t> d = a.at("design").to_vector_i32(), p = a.at("production").to_vector_i32();
    for (int32_t v : p) CHECK(v / 2 < 2);  // production 2 (ids 4, 5: its two colour variants) is held out
    for (size_t i = 0; i < d.size(); i += 2) CHECK(d[i] == d[i + 1]);  // samples per design together
    CHECK(std::set<int32_t>(d.begin(), d.end()).size() == 4);
  }
  CHECK_FALSE(test::same_bytes(fam->make_batch(0).at("x"), fam->make_batch(1).at("x")));
  // Style references are crops of the sample's production, never the sample itself.
  SplitCrops s = synthetic_crops(synthetic_world(data_settings(cfg)), 0, 12, 128, 32, false);
  REQUIRE(s.seen.size() > 3);
  for (int64_t i = 0; i < s.seen.size(); ++i)
    for (int64_t j : reference_indices(s.seen, i, 3, 9)) {
      CHECK(j != i);
      CHECK(s.seen.production[size_t(j)] == s.seen.production[size_t(i)]);
    }
  for (int p : s.unseen.production) CHECK(p == 2);
  // With colour variants: ids p·V + v, frame i of variant (i div P) mod V.
  SplitCrops v = synthetic_crops(synthetic_world(data_settings(cfg)), 0, 12, 128, 32, false, 2, 1.0, 7);
  REQUIRE(v.seen.size() == s.seen.size());
  std::set<int> ids(v.seen.production.begin(), v.seen.production.end());
  CHECK(ids == std::set<int>{0, 1, 2, 3});
  for (int p : v.unseen.production) CHECK(p / 2 == 2);
  for (int64_t i = 0; i < s.seen.size(); ++i) {
    const bool v0 = v.seen.production[size_t(i)] % 2 == 0;  // variant 0: the world as drawn
    CHECK(test::same_bytes(ops::select(v.seen.images, 0, i).contiguous(), ops::select(s.seen.images, 0, i).contiguous()) == v0);
  }
  CHECK(reference_indices(s.seen, 2, 3, 9) == reference_indices(s.seen, 2, 3, 9));
  // embed_set: one (A, b) per production (refs 0) or references per crop; at the zero-initialised
  // head both give E = c/|c|.
  manual_seed(1);
  StyleEncoder net(EncoderNetConfig{128, 8});
  net.eval();
  for (int refs : {0, 2}) {
    const SetEmbeddings e = embed_set(net, s.seen, refs, 9, Device::cpu());
    CHECK(e.e.shape() == Shape{s.seen.size(), 128});
    CHECK(close(e.e, e.base, 1e-5));
  }
  nn::init::normal_(net.production->head->weight, 0, 0.1);
  const SetEmbeddings m = embed_set(net, s.seen, 0, 9, Device::cpu());
  CHECK_FALSE(close(m.e, m.base, 1e-3));
  CHECK(close(embed_set(net, s.seen, 0, 9, Device::cpu(), false).e, m.base, 0));  // the ablation: E = c/|c|
}

TEST_CASE("redraw encoder: a dataset folder: crops by folder, held-out productions never in a batch") {
  const std::string dir = temp_dir("dataset");
  data::redraw::SynthOptions o;
  o.count = 24;
  o.height = o.width = 128;
  o.productions = 3;
  o.designs = 4;
  o.held_out = 1;
  o.crop_size = 40;  // not the model's 32: area-resampled when read
  data::redraw::write_redraw_dataset(dir, o);
  Config c = tiny();
  c.set("data.synthetic=false");
  c.set("data.dir=" + Json(dir).dump());
  auto fam = make_encoder_family(c, Device::cpu(), true);
  INFO(fam->describe());
  CHECK(fam->describe().find("2 seen productions") != std::string::npos);
  for (int64_t step : {0, 3}) {
    const harness::Batch b = fam->make_batch(step);
    CHECK(b.at("x").shape() == Shape{8, 3, 32, 32});
    for (int32_t p : b.at("production").to_vector_i32()) CHECK(p != 2);
  }
  const SplitCrops all = dataset_crops(dir, 32);
  CHECK(all.unseen.size() > 0);
  for (int p : all.unseen.production) CHECK(p == 2);
  for (const auto& n : all.seen.names) CHECK(n.find("/crops/2/") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("redraw encoder: colour variants: variant 0 is the identity, the others a pure function of (seed, p, v)") {
  Generator gen(1);
  Tensor im = rand_uniform({3, 8, 8}, 0, 1, gen), a = im.clone(), b = im.clone(), c = im.clone();
  apply_colour_variant(colour_variant(7, 1, 0, 1.0), a);
  CHECK(test::same_bytes(a, im));
  apply_colour_variant(colour_variant(7, 1, 2, 1.0), b);
  apply_colour_variant(colour_variant(7, 1, 2, 1.0), c);
  CHECK(test::same_bytes(b, c));
  CHECK_FALSE(test::same_bytes(b, im));
  for (float x : b.to_vector()) CHECK((x >= 0 && x <= 1));
  // Hue rotation alone keeps greys grey and turns red by 120° into green.
  ColourVariant h;
  h.hue = 2 * 3.14159265358979323846 / 3;
  Tensor g = Tensor::from_vector({0.5f, 1.f, 0.5f, 0.f, 0.5f, 0.f}, {3, 1, 2});  // grey, red
  apply_colour_variant(h, g);
  const std::vector<float> gv = g.to_vector();
  CHECK(gv[0] == doctest::Approx(0.5).epsilon(1e-5));
  CHECK(gv[2] == doctest::Approx(0.5).epsilon(1e-5));
  CHECK(gv[4] == doctest::Approx(0.5).epsilon(1e-5));
  CHECK(gv[1] == doctest::Approx(0).scale(1).epsilon(1e-5));
  CHECK(gv[3] == doctest::Approx(1).epsilon(1e-5));
  CHECK(gv[5] == doctest::Approx(0).scale(1).epsilon(1e-5));
}

TEST_CASE("redraw encoder: the palette world: one family's designs share every shape and differ in colour") {
  const data::redraw::World drawn = data::redraw::make_world(3, 8, 1, 5);
  const data::redraw::World w = palette_world(drawn, 2, 0.3, 5);
  REQUIRE(w.designs.size() == 8);
  CHECK(w.productions.size() == drawn.productions.size());
  CHECK(w.held_out == drawn.held_out);
  auto same_shape = [](const data::redraw::Design& a, const data::redraw::Design& b) {
    return a.eye_shape == b.eye_shape && a.iris == b.iris && a.highlights == b.highlights && a.hair == b.hair;
  };
  auto rgb = [](const data::draw::Rgb& c) { return std::array<float, 3>{c.r, c.g, c.b}; };
  for (int d = 0; d < 8; ++d) {
    const data::redraw::Design& x = w.designs[size_t(d)];
    const data::redraw::Design& base = drawn.designs[size_t(d % 2)];
    CHECK(x.id == d);
    CHECK(same_shape(x, base));
    // Every palette colour is the family's times one gain per channel in 1 ± 0.3 (clamped at 1).
    for (auto [got, want] : {std::pair{x.iris_color, base.iris_color}, std::pair{x.hair_color, base.hair_color},
                             std::pair{x.clothes, base.clothes}}) {
      const auto g = rgb(got), b = rgb(want);
      for (int ch = 0; ch < 3; ++ch) {
        CHECK(g[size_t(ch)] >= std::min(1.f, 0.7f * b[size_t(ch)]) - 1e-6f);
        CHECK(g[size_t(ch)] <= std::min(1.f, 1.3f * b[size_t(ch)]) + 1e-6f);
      }
    }
    for (int e = 0; e < d; ++e) CHECK(rgb(x.iris_color) != rgb(w.designs[size_t(e)].iris_color));
  }
  CHECK_FALSE(same_shape(w.designs[0], w.designs[1]));  // the world drew two different families
  // A pure function of its arguments; the encoder stage draws it only when asked.
  const data::redraw::World again = palette_world(drawn, 2, 0.3, 5);
  for (int d = 0; d < 8; ++d) CHECK(rgb(again.designs[size_t(d)].skin) == rgb(w.designs[size_t(d)].skin));
  Config c = tiny();
  c.set("encoder.shape_families=0");
  const data::redraw::World as_drawn = encoder_world(data_settings(c), encoder_settings(c));
  CHECK(rgb(as_drawn.designs[2].iris_color) == rgb(data::redraw::make_world(3, 4, 1, data_settings(c).world_seed)
                                                        .designs[2].iris_color));
  c.set("encoder.shape_families=2");
  const data::redraw::World pal = encoder_world(data_settings(c), encoder_settings(c));
  CHECK(same_shape(pal.designs[2], pal.designs[0]));
  c.set("encoder.palette_spread=1");
  CHECK_ERROR(encoder_settings(c), "encoder.palette_spread");
}

TEST_CASE("redraw encoder: bad input names the file or key") {
  // A production folder with no design folders (list_crops' error through the stage).
  const std::string dir = temp_dir("bad");
  fs::create_directories(dir + "/crops/0");
  Config c = tiny();
  c.set("data.synthetic=false");
  c.set("data.dir=" + Json(dir).dump());
  CHECK_ERROR(make_encoder_family(c, Device::cpu(), true), dir + "/crops/0");
  // A crop that is not square.
  const std::string png = dir + "/wide.png";
  data::write_png_tensor(png, Tensor::zeros({3, 32, 40}));
  CHECK_ERROR(prepare_crop(data::read_png_tensor(png, 3), 32, png), png + ": a face crop must be square");
  // Config keys.
  Config k = tiny();
  k.set("encoder.samples_per_design=1");
  CHECK_ERROR(make_encoder_family(k, Device::cpu(), true), "encoder.samples_per_design");
  Config m = tiny();
  m.set("encoder.cluster.method=\"spectral\"");
  CHECK_ERROR(make_encoder_family(m, Device::cpu(), true), "encoder.cluster.method");
  // A checkpoint of another redraw stage.
  Json detect = tiny().json();
  detect["stage"] = "detect";
  const std::string ck = dir + "/detect.safetensors";
  io::save_safetensors(ck, {{"detector.w", Tensor::zeros({1})}}, {{"family", "redraw"}, {"config", detect.dump()}});
  CHECK_ERROR(load_encoder(ck, {}, {}, Device::cpu()), ck + ": a checkpoint of the redraw detect stage");
  fs::remove_all(dir);
}

}  // TEST_SUITE

TEST_SUITE("e2e") {

TEST_CASE("redraw encoder: a short run lowers the triplet loss") {
  const std::string dir = temp_dir("learn");
  Config c = tiny(40);
  c.set("encoder.optim.lr=0.001");
  harness::RunSummary s = harness::train(*make_encoder_family(c, Device::cpu(), true), quiet(dir));
  const auto& loss = s.scalars["loss"];
  REQUIRE(loss.size() == 40);
  const double first = mean_of(loss, 0, 8), last = mean_of(loss, 32, 40);
  INFO("triplet loss first 8 steps ", first, ", last 8 ", last);
  CHECK(last < 0.7 * first);
  for (const char* k : {"val_loss", "nmi_seen", "ari_seen", "purity_seen", "nmi_unseen", "ari_unseen",
                        "purity_unseen", "base_nmi_seen", "base_nmi_unseen", "untrained_nmi_unseen"})
    CHECK_MESSAGE(s.last_eval.count(k) == 1, k);
  fs::remove_all(dir);
}

TEST_CASE("redraw encoder: the ablation production_map false trains c(x) alone") {
  const std::string dir = temp_dir("ablation");
  Config c = tiny(3);
  c.set("encoder.production_map=false");
  c.set("encoder.untrained_baseline=false");
  harness::RunSummary s = harness::train(*make_encoder_family(c, Device::cpu(), true), quiet(dir));
  REQUIRE(s.scalars["loss"].size() == 3);
  for (const char* k : {"nmi_seen", "ari_seen", "nmi_unseen", "ari_unseen"})
    CHECK(s.last_eval.at(k) == s.last_eval.at(std::string("base_") + k));  // E is c/|c|
  CHECK(s.last_eval.count("untrained_nmi_seen") == 0);
  // The production encoder never gets a gradient: its head stays at its zero start.
  const auto ck = io::load_safetensors(dir + "/checkpoints/last.safetensors").tensors;
  for (float v : ck.at("encoder.production.head.weight").to_vector()) REQUIRE(v == 0.f);
  fs::remove_all(dir);
}

TEST_CASE("redraw encoder: resume is bit-identical; pinned names; eval and infer write their outputs") {
  const std::string full = temp_dir("full"), parted = temp_dir("parted");
  const Config cfg = tiny(6);
  harness::RunSummary a = harness::train(*make_encoder_family(cfg, Device::cpu(), true), quiet(full));
  REQUIRE(a.scalars["loss"].size() == 6);
  std::vector<double> parts;
  for (int64_t stop : {3, -1}) {
    harness::RunOptions p = quiet(parted);
    p.resume = stop != 3;
    p.stop_after = stop;
    harness::RunSummary s = harness::train(*make_encoder_family(cfg, Device::cpu(), true), p);
    parts.insert(parts.end(), s.scalars["loss"].begin(), s.scalars["loss"].end());
  }
  REQUIRE(parts.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(std::memcmp(&parts[i], &a.scalars["loss"][i], sizeof(double)) == 0);
  const std::string ckpt = full + "/checkpoints/last.safetensors";
  test::check_same_tensors(ckpt, parted + "/checkpoints/last.safetensors");
  const auto ck = io::load_safetensors(ckpt);
  for (const char* k : {"encoder.content.backbone.layer1.0.conv1.weight", "encoder.content.fc.weight",
                        "encoder.production.convs.0.weight", "encoder.production.head.weight"})
    CHECK_MESSAGE(ck.tensors.count(k) == 1, k);
  bool optim = false;
  for (const auto& [k, v] : ck.tensors) {
    CHECK_MESSAGE((k.rfind("encoder.", 0) == 0 || k.rfind("optim.encoder.", 0) == 0), k);
    optim |= k.rfind("optim.encoder.", 0) == 0;
  }
  CHECK(optim);

  // eval: seen, unseen and the baselines.
  EvalOptions e;
  e.stage = Stage::encoder;
  e.model.ckpt = ckpt;
  e.synthetic = 9;
  e.seed = 3;
  e.json_file = full + "/eval.json";
  e.quiet = true;
  CHECK(run_eval(e) == 0);
  const Json j = read_json_file(e.json_file);
  for (const char* set : {"seen", "unseen"}) {
    INFO(set);
    for (const char* k : {"nmi", "ari", "purity"}) {
      CHECK(j[set][k].is_number());
      CHECK(j["baseline"][set][k].is_number());
      CHECK(j["untrained"][set][k].is_number());
    }
  }

  // infer: (N, 128) f32 `embedding`, rows in input order; the clusters beside it.
  SplitCrops s = synthetic_crops(synthetic_world(data_settings(cfg)), 5, 6, 128, 32, false);
  REQUIRE(s.seen.size() >= 3);
  std::vector<std::string> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(full + "/crop" + std::to_string(i) + ".png");
    // A crop written at 48 px: infer area-resamples it to the model's 32.
    data::write_png_tensor(files.back(), prepare_crop(ops::select(s.seen.images, 0, i), 48, "test"));
  }
  InferOptions in;
  in.stage = Stage::encoder;
  in.model.ckpt = ckpt;
  in.inputs = files;
  in.style_refs = {files[0], files[1]};
  in.out = full + "/emb.safetensors";
  in.cluster = true;
  in.quiet = true;
  CHECK(run_infer(in) == 0);
  const Tensor emb = io::load_safetensors(in.out).tensors.at("embedding");
  CHECK(emb.shape() == Shape{3, 128});
  CHECK(emb.dtype() == DType::f32);
  const Json clusters = read_json_file(full + "/emb.clusters.json");
  CHECK(clusters.size() == 3);
  for (const auto& f : files) CHECK(clusters[f].is_number_integer());
  // The inputs reversed: the rows reversed (each row depends on its crop and the references only).
  in.inputs = {files[2], files[1], files[0]};
  in.out = full + "/rev.safetensors";
  in.cluster = false;
  CHECK(run_infer(in) == 0);
  const Tensor rev = io::load_safetensors(in.out).tensors.at("embedding");
  for (int i = 0; i < 3; ++i)
    CHECK(close(ops::select(rev, 0, i), ops::select(emb, 0, 2 - i), 1e-5));
  // A crop that is not square.
  const std::string wide = full + "/wide.png";
  data::write_png_tensor(wide, Tensor::zeros({3, 32, 40}));
  in.inputs = {wide};
  CHECK_ERROR(run_infer(in), wide + ": a face crop must be square");
  fs::remove_all(full);
  fs::remove_all(parted);
}

}  // TEST_SUITE
