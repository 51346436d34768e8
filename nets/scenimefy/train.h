#pragma once
// Scenimefy (scenimefy.md) on the shared harness: `sakuga train scenimefy`. One stage; per step
//   D    LSGAN on y (real) and G(x) (fake)
//   D_p  LSGAN on x_p ‖ y_p (real) and x_p ‖ G(x_p) (fake)
//   G, F, F_s  GAN(D(G(x))) + λ_HDCE·½[HDCE(x, G(x)) + HDCE(y, G(y))] + λ_SRC·SRC(x, G(x))
//              + λ_pair·[GAN(D_p(x_p ‖ G(x_p))) + λ_s·StylePatchNCE(G(x_p), y_p)]
// with one encoder pass per image: G's translation pass over (x, y, x_p) hands out the sources'
// tap features, one encoder pass over (G(x), G(y), G(x_p)) the outputs', and y_p's runs once
// without a tape. Checkpoint names (pinned): G.model.…, D., D_p., F.mlp_<l>.…, F_s., optim.<net>.
#include <memory>
#include <string>
#include <vector>

#include "nets/harness/trainer.h"
#include "nets/scenimefy/config.h"
#include "nets/scenimefy/networks.h"

namespace sakuga::scenimefy {

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet = false);

// G's config from the settings.
GeneratorConfig generator_config(const ModelSettings& m);

// A trained generator, in eval mode: from a scenimefy checkpoint (its G. tensors, the config from
// its metadata ← files ← sets) or from a CUT / Scenimefy state_dict converted with
// tools/convert_cut.py (names model.<index>.…; ngf and the block count read from the shapes).
// Missing or unexpected tensors are an error naming the file and listing them.
struct LoadedGenerator {
  Config cfg{Json::object()};
  std::shared_ptr<ResnetGenerator> g;
  std::string kind;     // "checkpoint" | "state_dict"
  std::string network;  // checkpoint: "G_ema" (the weight average, when the run kept one) or "G"
};
LoadedGenerator load_generator(const std::string& file, const std::vector<std::string>& config_files,
                               const std::vector<std::string>& sets, Device dev);

// G(x) for one image (3, H, W) in [−1, 1] of any size: reflect-padded to multiples of 4 and cropped back.
Tensor translate_any_size(ResnetGenerator& g, const Tensor& image, Device dev);

}  // namespace sakuga::scenimefy
