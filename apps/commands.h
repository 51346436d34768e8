#pragma once
// Each subcommand of `sakuga` registers its CLI11 options and returns the action to run.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sakuga::app {

using Action = std::function<int()>;

// Options every computing command takes: --device and --precision.
struct ComputeOptions {
  std::string device = "auto";
  std::string precision = "";  // default: tf32 on GPU, fp32 on CPU
  bool nondeterministic = false;
  int threads = 0;  // 0: device::default_cpu_threads() (SAKUGA_THREADS, OMP_NUM_THREADS, the cores)
  void add_to(CLI::App* cmd);
  // Applies precision/determinism globally and returns the resolved device string.
  std::string apply() const;
};

void add_info(CLI::App& app, Action& action);
void add_train(CLI::App& app, Action& action);
void add_bench(CLI::App& app, Action& action);
void add_eval(CLI::App& app, Action& action);
void add_infer(CLI::App& app, Action& action);
void add_synth(CLI::App& app, Action& action);
void add_redraw(CLI::App& app, Action& action);
void add_blend(CLI::App& app, Action& action);  // redraw post-processing (apps/cmd_blend.cpp)

}  // namespace sakuga::app
