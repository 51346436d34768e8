#pragma once
// toy-gan: a GAN on 2-D points, the shared harness's worked example (`sakuga train toy-gan`).
// Real points come from a ring of Gaussian modes; G maps noise to points, D tells real from fake.
// It shows every part a GAN family declares — two networks, two optimisers from "optim.G" /
// "optim.D" sections, a random stream (instance noise), two stages (D alone, then both) and
// state of its own — in a few hundred lines that train in seconds on a CPU.
#include <memory>

#include "nets/harness/family.h"
#include "nets/harness/trainer.h"

namespace sakuga::toygan {

struct ModelSettings {
  int64_t z_dim = 4;    // noise dimensions
  int64_t hidden = 64;  // width of the hidden layers of both MLPs
  int64_t layers = 3;   // linear layers per MLP
};
struct DataSettings {
  int64_t modes = 8;    // Gaussians evenly spaced on a circle
  double radius = 2.0;  // of the circle
  double std = 0.05;    // of each mode
  int64_t batch = 128;
};
struct LossSettings {
  std::string gan = "nonsaturating";  // nonsaturating | lsgan | hinge (losses/gan.h)
  double instance_noise = 0.1;        // σ of noise added to D's inputs, annealed linearly to 0
};
struct StageSettings {
  int64_t critic = 100;         // D alone against the untrained G
  int64_t adversarial = 1900;   // both
};
struct EvalSettings {
  int64_t samples = 2048;  // generated points per evaluation
};

Json default_config();
std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device);

}  // namespace sakuga::toygan
