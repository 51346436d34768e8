#pragma once
// `sakuga eval redraw` and `sakuga infer redraw` (redraw.md "Pinned interfaces"): one set of
// options for every stage; `stage` picks the stage's own function (each in its stage's file).
#include <cstdint>
#include <string>
#include <vector>

#include "nets/redraw/family.h"

namespace sakuga::redraw {

// The model of a stage: a training checkpoint of that stage (RUN/checkpoints/last.safetensors),
// with config files and --set assignments over its saved config.
struct ModelSource {
  std::string ckpt;
  std::vector<std::string> config_files, sets;
  std::string device = "cpu";
};

struct EvalOptions {
  Stage stage = Stage::detect;
  ModelSource model;
  std::string data_dir;       // a dataset folder (frames/, crops/, redraw.json); empty: synthetic
  int64_t synthetic = 64;     // without data_dir: this many synthetic frames of stream `seed`
  uint64_t seed = 1;          // not a training stream (training uses train.seed, validation data.val_seed)
  std::string json_file;      // write the metrics as JSON
  int64_t classifier_steps = 400;  // redrawer: training steps of the held-out design classifier
  bool quiet = false;
};

struct InferOptions {
  Stage stage = Stage::detect;
  ModelSource model;
  std::vector<std::string> inputs;  // PNG frames (detect) or face crops (encoder)
  std::string json_file;            // detect: the boxes per input file name
  std::string out;                  // encoder: the embeddings (safetensors) / cluster file
  std::vector<std::string> style_refs;  // encoder: crops of the inputs' production (empty: the inputs)
  bool cluster = false;             // encoder: also cluster the crops
  bool quiet = false;
};

int run_eval(const EvalOptions& o);
int run_infer(const InferOptions& o);

// Per stage, in the stage's file.
int run_detect_eval(const EvalOptions& o);
int run_encoder_eval(const EvalOptions& o);
int run_redrawer_eval(const EvalOptions& o);
int run_detect_infer(const InferOptions& o);
int run_encoder_infer(const InferOptions& o);

}  // namespace sakuga::redraw
