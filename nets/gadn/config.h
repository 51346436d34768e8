#pragma once
// Every config key of the gadn family with its default, in one place (default_settings()): the
// Fashion-MNIST × 16 artists demo at 32 px that runs all three stages on a 2-core CPU in about
// 15 minutes. configs/gadn-paper.json holds the paper's 256-px settings (Table 2),
// configs/gadn-nist-*.json the NIST Table 3 weights at 32 px. The harness keys (train.seed,
// train.log_every, ...) come from nets/harness/trainer.h.
#include <string>
#include <vector>

#include "nets/gadn/networks.h"
#include "nets/harness/config.h"
#include "nets/harness/optim_spec.h"

namespace sakuga::gadn {

// model.*: the network sizes; empty / 0 = the spec's default for data.size and the label count
// (nets/gadn/networks.h default_net_config).
struct ModelSettings {
  std::vector<int64_t> channels;  // per level
  int64_t fc = 0, z = 0, zs = 0;
  bool alpha = false;  // E/D/C see an alpha channel (folder data with transparency)
};

// data.*: where images and labels come from.
struct DataSettings {
  std::string source = "fmnist-artists";  // fmnist-artists | portraits | folder
  std::string dir;                        // folder: DIR/<label>/*.png (+ factors.jsonl)
  std::string label = "artist";           // artist | class (fmnist-artists): the labelled factor
  int64_t size = 32;                      // R (fmnist-artists: 32 only)
  int64_t batch = 16;                     // every stage's batch unless train.stages.<stage>.batch is set
  int artists = 16;                       // fmnist-artists / portraits: K rendering styles
  uint64_t artist_seed = 2019;            // the artists' styles (data/gadn/fmnist_artists.h)
  int64_t train_limit = 0;                // fmnist-artists: use the first N training garments (0 = all)
  std::string fmnist_dir = "/usr/share/datasets/fashion-mnist";
  int64_t val_count = 512;                // held-out images for the metrics (synthetic sources)
  double val_fraction = 0.1;              // folder: hash split
};

// loss.*: the weights of paper Table 2 (NIST Table 3 in the small configs) and the code's switches.
struct LossSettings {
  double c1 = 0.2;          // λ_C1: stage 1 adversarial classifier term (0 = a plain VAE)
  double e_kl = 1e-4;       // λ_E-KL
  double s_kl = 2e-5;       // λ_S-KL (both stages)
  double d = 1;             // λ_D: stage 2 discriminator term
  double c2 = 1;            // λ_C2: stage 2 classifier term
  double cont = 0.05;       // λ_cont: stage 2 content consistency
  bool adv_cap = true;      // cap the stage 1 adversarial term at chance (the code's default)
  bool roll_labels = false; // a' = the next sample's label (the code) instead of uniform a' ≠ a
  bool nested_dropout = true;
};

// train.stages.<stage1|c2|stage2>: steps and batch of each stage (gadn.md "Pinned interfaces").
struct StageSettings {
  int64_t steps = 0;
  int64_t batch = 0;  // 0: data.batch
};
struct StagesSettings {
  StageSettings stage1{1500, 0}, c2{300, 32}, stage2{300, 0};
};

struct EvalSettings {
  int64_t samples = 6;  // content rows of the sample sheet
  int64_t styles = 6;   // style columns of the sample sheet
};

struct Settings {
  ModelSettings model;
  DataSettings data;
  LossSettings loss;
  StagesSettings stages;
  EvalSettings eval;
  // optim.*: one spec per role; each network gets its own optimiser of that spec.
  harness::OptimSpec stage1, stage1_style, c2, stage2, stage2_style;
  // train.init: a gadn checkpoint whose networks start this run (e.g. stage 1's, for a run of the
  // later stages only); "" = fresh networks.
  std::string init;
};

Settings default_settings();
Json default_config();
Settings settings_of(const Config& cfg);

// The network sizes for `labels` labels (model.* over the spec's defaults), validated.
NetConfig net_config(const Settings& s, int64_t labels);

// The batch of a stage ("stage1" | "c2" | "stage2"): its own, else data.batch.
int64_t stage_batch(const Settings& s, const std::string& stage);

}  // namespace sakuga::gadn
