#pragma once
// `sakuga eval scenimefy` (paired L1 / PSNR / SSIM to the true renderings against the identity
// baseline; FID / KID against the anime frames) and `sakuga infer scenimefy` (any image size).
#include <cstdint>
#include <string>
#include <vector>

namespace sakuga::scenimefy {

struct ModelSource {
  std::string ckpt;  // a training checkpoint, or a converted CUT / Scenimefy generator
  std::vector<std::string> config_files, sets;
  std::string device = "cpu";
};

// On DIR/trainA/*.png with DIR/truth/<same name> (sakuga synth scenimefy writes both): G(photo)
// at each photo's own size against its truth, and the photo itself against it (the identity
// baseline). FID / KID of G(photos) against DIR/trainB (else DIR/truth): from Inception-v3 pool
// features when --inception gives torchvision's weights as safetensors, else from the labelled
// proxy features (8×8 area-mean RGB, 192 dims: not comparable to published FID).
// JSON: l1, psnr, ssim, identity {l1, psnr, ssim}, images, and fid, kid, kid_std, features.
struct EvalOptions {
  ModelSource model;
  std::string data_dir, json_file, inception;
  int64_t limit = 0;  // evaluate the first N photos (0: all)
  bool quiet = false;
};
int run_eval(const EvalOptions& o);

// DIR/<name>.anime.png for every input (padded to multiples of 4 and cropped back).
struct InferOptions {
  ModelSource model;
  std::vector<std::string> inputs;
  std::string out;
};
int run_infer(const InferOptions& o);

}  // namespace sakuga::scenimefy
