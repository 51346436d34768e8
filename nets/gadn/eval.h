#pragma once
// `sakuga eval gadn` (the disentanglement tables of paper Tables 4–7 and the swap accuracy) and
// `sakuga infer gadn` (codes, style transfer, content × style sheets, random styles).
#include <string>
#include <vector>

namespace sakuga::gadn {

struct ModelSource {
  std::string ckpt;
  std::vector<std::string> config_files, sets;
  std::string device = "cpu";
};

// On DIR/<label>/*.png (+ factors.jsonl, e.g. written by `sakuga synth gadn`): E's μ of every
// image → the distance and naive-Bayes tables over the folder label and each content factor;
// then the swap accuracy: two classifiers trained here on half the real images (the label and
// the first content factor) read G(μ(x), m_a') of the other half, a' ≠ a; their accuracy on the
// real images of that half is printed beside it as the reference. JSON keys: distance,
// naive_bayes, swap.
struct EvalOptions {
  ModelSource model;
  std::string data_dir, json_file;
  int64_t classifier_steps = 400;  // training steps of each swap classifier (0: no swap accuracy)
  uint64_t seed = 1;
};
int run_eval(const EvalOptions& o);

struct InferOptions {
  ModelSource model;
  std::vector<std::string> encode;       // --encode: images → codes (mu, sigma) in out (a .safetensors)
  std::vector<std::string> inputs;       // --input: images to redraw
  std::vector<std::string> styles;       // --style L1,L2: labels to draw them in
  int64_t random_styles = 0;             // also N styles drawn from the prior N(0, I)
  bool grid = false;                     // one content × style sheet (grid.png)
  std::string out;
  uint64_t seed = 0;                     // the random styles
};
int run_infer(const InferOptions& o);

}  // namespace sakuga::gadn
