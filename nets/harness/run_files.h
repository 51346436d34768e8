#pragma once
// The files and terminal output of a run: the run folder's layout, atomic writes,
// metrics.jsonl, and a progress line for every long command (train, eval, infer, synth).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "nets/harness/config.h"

namespace sakuga::harness {

// The layout of a run folder: config.json, metrics.jsonl, checkpoints/, samples/, plots/.
struct RunDir {
  std::string root;
  // Creates the folders unless `create` is false (the other ranks of a data-parallel job only
  // read rank 0's run folder).
  explicit RunDir(std::string dir, bool create = true);
  std::string config() const { return root + "/config.json"; }
  std::string metrics() const { return root + "/metrics.jsonl"; }
  std::string checkpoints() const { return root + "/checkpoints"; }
  std::string samples() const { return root + "/samples"; }
  std::string plots() const { return root + "/plots"; }
  std::string last_checkpoint() const { return checkpoints() + "/last.safetensors"; }
  std::string best_checkpoint() const { return checkpoints() + "/best.safetensors"; }
  std::string checkpoint_for(int64_t step) const;  // checkpoints/step-0000042.safetensors
  std::string sample_for(int64_t step) const;      // samples/step-0000042.png
};

// "step-0000042" (the stem of a step's checkpoint and sample files).
std::string step_stem(int64_t step);

// Writes `text` to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const std::string& text);

// One line per logged step and per evaluation in metrics.jsonl. On resume, lines past the
// resumed step are dropped so the file stays one consistent history.
class MetricsLog {
 public:
  MetricsLog(const std::string& path, int64_t resume_step /* -1 = fresh run */);
  void write(const Json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Progress on stderr: a redrawn bar on a terminal, otherwise a line every ~5 % or 15 s (so logs
// of runs in the background stay short). `unit` names what is counted ("step", "frame").
class Progress {
 public:
  Progress(std::string label, int64_t first, int64_t total, std::string unit = "step");
  void update(int64_t done, const std::map<std::string, double>& values = {});
  void finish();  // ends the terminal line
  void set_label(std::string label) { label_ = std::move(label); }

 private:
  std::string label_, unit_;
  int64_t first_, total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int64_t last_line_ = -1;
  bool drew_ = false;
};

// "1m05s", "2h03m" ("?" for a negative or infinite value).
std::string format_duration(double seconds);

}  // namespace sakuga::harness
