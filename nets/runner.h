#pragma once
// Pieces every training loop shares: the run folder, a progress bar with step/s and ETA,
// metrics.jsonl, a background batch prefetcher, and checkpoint file naming.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "layers/module.h"
#include "nets/config.h"
#include "optim/optimizer.h"
#include "tensor/safetensors.h"

namespace sakuga {

// What every training run takes besides its config (`sakuga train TASK` flags).
struct RunOptions {
  std::string out;                  // run folder (required)
  bool resume = false;              // continue from OUT/checkpoints/last.safetensors
  std::string device = "cpu";       // resolved device string ("cpu", "cuda:0")
  std::string dump_first_step;      // FILE: first step's tensors and gradients
  int64_t stop_after = -1;          // stop (as if interrupted) after this step; -1 = run to the end
  bool quiet = false;               // no progress output (tests)
};

// The layout of a run folder: config.json, metrics.jsonl, checkpoints/, samples/.
struct RunDir {
  std::string root;
  explicit RunDir(std::string dir);  // creates the folders
  std::string config() const { return root + "/config.json"; }
  std::string metrics() const { return root + "/metrics.jsonl"; }
  std::string checkpoints() const { return root + "/checkpoints"; }
  std::string samples() const { return root + "/samples"; }
  std::string last_checkpoint() const { return checkpoints() + "/last.safetensors"; }
  std::string checkpoint_for(int64_t step) const;  // checkpoints/step-0000042.safetensors
};

// Writes `text` to `path` atomically (temporary file + rename).
void write_file_atomic(const std::string& path, const std::string& text);

// One line per step/validation in metrics.jsonl. On resume, lines past the resumed step are
// dropped so the file stays one consistent history.
class MetricsLog {
 public:
  MetricsLog(const std::string& path, int64_t resume_step /* -1 = fresh run */);
  void write(const Json& record);

 private:
  std::string path_;
};

// Progress on stderr: a redrawn bar on a terminal, a line every ~5% or 15 s otherwise.
class Progress {
 public:
  Progress(std::string label, int64_t first_step, int64_t total_steps);
  void update(int64_t step, const std::map<std::string, double>& values);
  void finish();

 private:
  std::string label_;
  int64_t first_, total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int64_t last_line_step_ = -1;
};

// Produces batches for steps [first, end) on a background thread, `depth` ahead, in order.
// An exception in the producer is rethrown by next().
template <class Batch>
class Prefetcher {
 public:
  Prefetcher(std::function<Batch(int64_t)> make, int64_t first, int64_t end, size_t depth = 2)
      : make_(std::move(make)), next_step_(first), end_(end), depth_(depth) {
    worker_ = std::thread([this] { run(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  Batch next() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !queue_.empty() || error_; });
    if (queue_.empty() && error_) std::rethrow_exception(error_);
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  void run() {
    for (int64_t s = next_step_; s < end_; ++s) {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
      }
      try {
        Batch b = make_(s);
        std::lock_guard<std::mutex> l(mu_);
        queue_.push_back(std::move(b));
      } catch (...) {
        std::lock_guard<std::mutex> l(mu_);
        error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      cv_.notify_all();
    }
  }

  std::function<Batch(int64_t)> make_;
  int64_t next_step_, end_;
  size_t depth_;
  std::deque<Batch> queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace sakuga

namespace sakuga {

// --- checkpoints ----------------------------------------------------------------------------

// One safetensors file: the module's state_dict, each optimizer's state under its prefix
// ("optim." or "optim.G." ...), and string metadata (config JSON, step, RNG offsets).
// Written to checkpoints/step-NNNNNNN.safetensors and copied to last.safetensors, both atomically.
struct CheckpointParts {
  const nn::Module* model = nullptr;
  std::vector<std::pair<const optim::Optimizer*, std::string>> optimizers;  // (optimizer, prefix)
  std::vector<std::pair<const nn::Module*, std::string>> extra_modules;      // (module, prefix), e.g. "disc."
  std::map<std::string, std::string> metadata;
};
std::string save_checkpoint(const RunDir& run, int64_t step, const CheckpointParts& parts);

// The first training step for parity checks: `tensors` (input, target, logits, loss, ...) plus
// grad.<name> for every parameter with a gradient, in FILE; the weights before the step in
// FILE.weights.safetensors (the caller saves those before stepping, see save_weights).
void dump_first_step(const std::string& path, const nn::Module& model, const std::map<std::string, Tensor>& tensors);

}  // namespace sakuga
