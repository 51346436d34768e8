#pragma once
// Every config key of the scenimefy family with its default (default_settings()): the synthetic
// demo at 64² with a narrower G that trains on a 2-core CPU in about 15 minutes. The demo's loss
// weights and discriminator rate differ from the paper's (config.cpp says why);
// configs/scenimefy-paper.json restores them.
// configs/scenimefy-paper.json holds the published settings (256², batch 1, ngf 64, 9 blocks,
// 20 epochs of which the last 10 decay the lr). Harness keys (train.seed, train.steps' siblings
// log_every, eval_every, …) come from nets/harness/trainer.h.
#include <cstdint>
#include <string>
#include <vector>

#include "nets/harness/config.h"
#include "nets/harness/optim_spec.h"

namespace sakuga::scenimefy {

// model.*: the networks (scenimefy.md "Networks").
struct ModelSettings {
  int64_t ngf = 16;        // G's first width (paper 64)
  int64_t blocks = 9;      // G's residual blocks (taps 12 and 16 need at least 5)
  int64_t ndf = 32;        // D / D_p first width (paper 64)
  int64_t d_layers = 3;    // PatchGAN layers
  int64_t nc = 256;        // PatchSampleF width
  int64_t patches = 256;   // positions per tap (fewer when a tap has fewer)
  std::vector<int64_t> taps{0, 4, 8, 12, 16};
  // G_ema, an average of G's weights (ours; the reference has none): a copy of G until step
  // ema_start · train.steps, from there the running mean of G's iterates, turning into an
  // exponential moving average with this decay once the mean spans 1/(1 − decay) steps.
  // Evaluation, samples, `sakuga eval` and `infer` use it when on. 0 = off (the paper config).
  double ema = 0.999;
  double ema_start = 0.25;
};

// data.*: synthetic scenes (data/scenes.h) or a folder in CUT's layout (data/scenimefy/cut_folders.h).
struct DataSettings {
  std::string source = "synthetic";  // synthetic | folder
  std::string dir;                   // folder: DIR/trainA, DIR/trainB, DIR/pairs/{A,B}
  std::string val_dir;               // folder: DIR/trainA + DIR/truth for the paired metrics ("" = none)
  int64_t size = 64;                 // crop size (synthetic: the rendered size); a multiple of 4
  int64_t load = 0;                  // folder: resize to load × load before the crop (0: 286/256 · size)
  bool flip = true;                  // random horizontal flips (one per pair)
  int64_t batch = 1;                 // images per domain per step (x, y and x_p each)
  int64_t pairs = 1024;              // synthetic: the pseudo-pair pool (scenes with their rendering)
  int64_t val_count = 32;            // synthetic: held-out photos with their true rendering
};

// loss.*: weights of the reference (scenimefy.md "Losses") and its reproduction switches.
struct LossSettings {
  double gan = 1;            // λ_GAN (LSGAN)
  double gan_pair = 1;       // λ_GAN_p inside the paired branch
  double hdce = 0.1;         // λ_HDCE (the demo's default: 1)
  double src = 0.05;         // λ_SRC
  double style = 0.05;       // λ_s (StylePatchNCE; the demo's default: 1)
  double tau = 0.07;         // NCE temperature
  double gamma_start = 50;   // HDCE γ = start − (start − end)·e/E
  double gamma_end = 10;
  bool identity = true;      // the HDCE identity term on target images (dce_idt)
  bool pair_decay = true;    // λ_pair = cos(π/2·(e − 1)/E); false: 1 (the demo's default)
  bool reference_weighting = false;  // λ_s² as the reference (its double weighting)
  bool reference_schedule = false;   // λ_pair = cos(π/2·E·(e − 1)) as the reference
};

struct EvalSettings {
  int64_t samples = 4;  // rows photo | G(photo) | truth of the sample sheet
};

struct Settings {
  ModelSettings model;
  DataSettings data;
  LossSettings loss;
  EvalSettings eval;
  int64_t steps = 2400;  // 0 (folder data): train.epochs × max(|trainA|, |trainB|) / data.batch, CUT's epoch
  int64_t epochs = 20, epochs_decay = 10;  // E (the schedules' epochs over the run) and the decaying tail
  // optim.<net> for G, D, D_p, F, F_s: Adam (0.5, 0.999), lr 2e-4. Their lr schedule is CUT's
  // policy from train.epochs / train.epochs_decay (the optim.*.schedule keys are not used).
  harness::OptimSpec g, d, d_p, f, f_s;
};

Settings default_settings();
Json default_config();
Settings settings_of(const Config& cfg);  // validated; errors name the key

// Epoch e = 1 + ⌊E·step/steps⌋ (1 … E) and the schedules read from it.
int64_t epoch_of(const Settings& s, int64_t step);
double lambda_pair(const Settings& s, int64_t epoch);
double hdce_gamma(const Settings& s, int64_t epoch);

}  // namespace sakuga::scenimefy
