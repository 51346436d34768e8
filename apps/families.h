#pragma once
// The command-line hooks of the registered families (nets/registry.h): extra `train` flags and
// the eval / infer / synth subcommands of the families that have them. A family without a hook
// simply has no such subcommand.
#include <functional>
#include <string>
#include <vector>

#include "apps/commands.h"

namespace sakuga::app {

struct FamilyCli {
  // Extra `sakuga train <family>` flags; each becomes --set assignments appended to `sets`
  // after the user's own (e.g. --data DIR → data.dir=DIR, data.synthetic=false).
  std::function<void(CLI::App* cmd, std::vector<std::string>& sets)> train_flags;
  // Options of `sakuga eval|infer|synth <family>` on `cmd`, and the action they run.
  std::function<void(CLI::App* cmd, Action& action)> eval, infer, synth;
};

// The hooks of `family` (an empty FamilyCli when it has none).
const FamilyCli& family_cli(const std::string& family);

// Families that have command-line hooks but no registered training family yet (redraw: only
// `sakuga synth redraw` so far); `sakuga eval|infer|synth` list them after the registered ones.
const std::vector<std::string>& unregistered_cli_families();

}  // namespace sakuga::app
