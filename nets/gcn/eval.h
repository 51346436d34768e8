#pragma once
// `sakuga eval cel|douga` (gcn.md "Metrics": confusion matrix like thesis Table 5.1, per-class
// precision / recall / IoU, lines vs areas like Table 5.5, the majority-class baseline; JSON with
// the pinned keys) and `sakuga infer cel|douga` (class maps for PNGs of any size).
#include <string>
#include <vector>

#include "data/gcn/seg_dataset.h"

namespace sakuga::gcn {

struct ModelSource {
  std::string ckpt;                 // checkpoint, or a weights-only file with config/sets
  std::vector<std::string> config_files, sets;
  std::string device = "cpu";
};

struct EvalOptions {
  ModelSource model;
  std::string data_dir;             // a dataset folder, or
  int64_t synthetic = 0;            // N synthetic frames (seed, size)
  uint64_t seed = 1;
  std::vector<int64_t> size{256, 256};
  std::string split = "all";        // all | train | val (the training run's hash split)
  double val_fraction = 0.1;
  bool postprocess = false, skip_bad = false;
  std::string json_file;
};
int run_eval(data::SegTask task, const EvalOptions& o);

struct InferOptions {
  ModelSource model;
  std::vector<std::string> inputs;
  std::string out;
  bool postprocess = false, save_logits = false;
};
int run_infer(data::SegTask task, const InferOptions& o);

}  // namespace sakuga::gcn
