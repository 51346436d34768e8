// `sakuga train FAMILY`: train a registered family (nets/registry.h) on the shared harness.
// Config: the family's defaults ← (on --resume) the run's own config.json ← --config ← --set ←
// the family's own flags.
#include <filesystem>
#include <map>

#include "apps/commands.h"
#include "apps/families.h"
#include "nets/harness/trainer.h"
#include "nets/registry.h"

namespace sakuga::app {

namespace {

struct TrainArgs {
  std::vector<std::string> config_files, sets, family_sets;
  std::string out;
  bool resume = false;
  std::string dump_first_step;
  int64_t stop_after = -1;
  ComputeOptions compute;
};

int run_train(const FamilyEntry& fam, const TrainArgs& a) {
  ConfigSources src;
  const std::string saved = a.out + "/config.json";
  if (a.resume && std::filesystem::exists(saved)) {
    src.saved = read_json_file(saved);
    src.saved_source = saved;
  }
  src.files = a.config_files;
  src.sets = a.sets;
  src.sets.insert(src.sets.end(), a.family_sets.begin(), a.family_sets.end());
  const Config cfg = resolve_config(fam.defaults(), src);
  const Device dev = Device::parse(a.compute.apply());
  auto family = fam.make(cfg, dev, false);
  harness::RunOptions o;
  o.out = a.out;
  o.family = fam.name;
  o.resume = a.resume;
  o.dump_first_step = a.dump_first_step;
  o.stop_after = a.stop_after;
  harness::train(*family, o);
  return 0;
}

}  // namespace

void add_train(CLI::App& app, Action& action) {
  auto* train = app.add_subcommand("train", "train a registered family (the subcommands; `sakuga train FAMILY --help`)");
  train->require_subcommand(1);
  static std::map<std::string, TrainArgs> args;
  for (const FamilyEntry& fam : families()) {
    TrainArgs& a = args[fam.name];
    auto* cmd = train->add_subcommand(fam.name, fam.summary);
    cmd->add_option("--config", a.config_files, "JSON config (every key optional; defaults in docs/)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--set", a.sets, "override a config key: --set train.lr=0.0005 (repeatable)");
    cmd->add_option("--out", a.out, "run folder (config.json, metrics.jsonl, checkpoints/, samples/, plots/)")
        ->required();
    cmd->add_flag("--resume", a.resume, "continue from OUT/checkpoints/last.safetensors");
    cmd->add_option("--dump-first-step", a.dump_first_step,
                    "write the first step of each stage (batch, outputs, losses, every gradient) to FILE");
    cmd->add_option("--stop-after", a.stop_after,
                    "stop after step N as if interrupted (a checkpoint is written; --resume continues)")
        ->check(CLI::NonNegativeNumber);
    a.compute.add_to(cmd);
    if (const auto& hook = family_cli(fam.name).train_flags) hook(cmd, a.family_sets);
    cmd->callback([&action, &fam, &a] { action = [&fam, &a] { return run_train(fam, a); }; });
  }
}

}  // namespace sakuga::app
