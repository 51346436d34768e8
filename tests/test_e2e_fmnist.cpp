// End-to-end: the Fashion-MNIST demo learns, and a checkpoint/resume continues bit-identically.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "nets/fmnist/train.h"
#include "tensor/safetensors.h"

using namespace sakuga;

namespace {

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("sakuga-e2e-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

bool fmnist_available() { return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); }

}  // namespace

TEST_SUITE("e2e") {
  TEST_CASE("fashion-mnist: a small CNN reaches >= 88% test accuracy on the CPU") {
    if (!fmnist_available()) {
      MESSAGE("dataset-fashion-mnist not installed: skipped (tools/setup installs it)");
      return;
    }
    Config cfg(fmnist::default_config());
    cfg.set("train.checkpoint_every=0");  // the default config: 2 epochs (1 epoch gives ~0.89)
    fmnist::TrainOptions opt;
    opt.out = fresh_dir("accuracy");
    opt.quiet = true;
    fmnist::TrainResult r = fmnist::train(cfg, opt);
    MESSAGE("fashion-mnist test accuracy after ", r.last_step, " steps: ", r.test_accuracy);
    CHECK(r.test_accuracy >= 0.88);
    // The loss went down: mean of the last 50 steps well below the first 50.
    REQUIRE(r.losses.size() > 100);
    double first = 0, last = 0;
    for (size_t i = 0; i < 50; ++i) {
      first += r.losses[i];
      last += r.losses[r.losses.size() - 1 - i];
    }
    CHECK(last < 0.5 * first);
    // The run folder has what a researcher expects.
    CHECK(std::filesystem::exists(opt.out + "/config.json"));
    CHECK(std::filesystem::exists(opt.out + "/metrics.jsonl"));
    CHECK(std::filesystem::exists(opt.out + "/checkpoints/last.safetensors"));
  }

  TEST_CASE("fashion-mnist: resuming from a checkpoint gives bit-identical losses and weights") {
    if (!fmnist_available()) {
      MESSAGE("dataset-fashion-mnist not installed: skipped");
      return;
    }
    Config cfg(fmnist::default_config());
    // Small and fast, but with every piece of state in play: dropout RNG, BN running stats,
    // Adam moments, the LR schedule and an epoch boundary (256 / 32 = 8 steps per epoch).
    for (const char* s : {"data.train_limit=256", "data.test_limit=64", "data.batch=32", "train.steps=20",
                          "train.checkpoint_every=0", "train.log_every=1", "model.c1=8", "model.c2=8",
                          "model.hidden=16", "model.dropout=0.3"})
      cfg.set(s);

    fmnist::TrainOptions straight;
    straight.out = fresh_dir("straight");
    straight.quiet = true;
    fmnist::TrainResult a = fmnist::train(cfg, straight);
    REQUIRE(a.losses.size() == 20);

    fmnist::TrainOptions first_half = straight;
    first_half.out = fresh_dir("resumed");
    first_half.stop_after = 11;
    fmnist::TrainResult b1 = fmnist::train(cfg, first_half);
    REQUIRE(b1.losses.size() == 11);

    fmnist::TrainOptions second_half = first_half;
    second_half.stop_after = -1;
    second_half.resume = true;
    fmnist::TrainResult b2 = fmnist::train(cfg, second_half);
    REQUIRE(b2.first_step == 11);
    REQUIRE(b2.losses.size() == 9);

    for (size_t i = 0; i < 20; ++i) {
      float resumed = i < 11 ? b1.losses[i] : b2.losses[i - 11];
      INFO("step ", i + 1, ": straight ", a.losses[i], " resumed ", resumed);
      CHECK(std::memcmp(&a.losses[i], &resumed, sizeof(float)) == 0);
    }
    // Final weights and optimizer state are bit-identical too.
    auto wa = io::load_safetensors(straight.out + "/checkpoints/last.safetensors");
    auto wb = io::load_safetensors(first_half.out + "/checkpoints/last.safetensors");
    REQUIRE(wa.tensors.size() == wb.tensors.size());
    for (const auto& [name, t] : wa.tensors) {
      REQUIRE(wb.tensors.count(name));
      const Tensor& u = wb.tensors.at(name);
      REQUIRE(u.nbytes() == t.nbytes());
      INFO(name);
      CHECK(std::memcmp(t.raw(), u.raw(), t.nbytes()) == 0);
    }
    // metrics.jsonl holds one line per step, without duplicates from the interrupted part.
    std::ifstream m(first_half.out + "/metrics.jsonl");
    int lines = 0;
    for (std::string l; std::getline(m, l);)
      if (l.find("\"loss\"") != std::string::npos) ++lines;
    CHECK(lines == 20);
  }
}
