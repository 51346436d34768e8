// `sakuga train TASK`: train a network from a config (defaults + --config file + --set).
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "nets/fmnist/train.h"
#include "nets/gcn/train.h"

namespace sakuga::app {

namespace {

struct TrainArgs {
  std::string config_file;
  std::vector<std::string> sets;
  std::string out;
  bool resume = false;
  std::string dump_first_step;
  ComputeOptions compute;
  // gcn tasks
  bool synthetic = false, skip_bad = false;
  std::string data_dir, pretrained;
};

// defaults ← (on --resume) the run's own config.json ← --config ← --set.
Config resolve(Json defaults, const TrainArgs& a) {
  Config cfg(std::move(defaults));
  const std::string saved = a.out + "/config.json";
  if (a.resume && std::filesystem::exists(saved)) cfg.merge_file(saved);
  if (!a.config_file.empty()) cfg.merge_file(a.config_file);
  for (const auto& s : a.sets) cfg.set(s);
  return cfg;
}

void add_common(CLI::App* cmd, TrainArgs& a) {
  cmd->add_option("--config", a.config_file, "JSON config (every key optional; defaults in the README)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--set", a.sets, "override a config key: --set train.lr=0.0005 (repeatable)");
  cmd->add_option("--out", a.out, "run folder (config.json, metrics.jsonl, checkpoints/, samples/)")->required();
  cmd->add_flag("--resume", a.resume, "continue from OUT/checkpoints/last.safetensors");
  cmd->add_option("--dump-first-step", a.dump_first_step,
                  "write the first step's input, target, logits, loss and gradients to FILE (safetensors)");
  a.compute.add_to(cmd);
}

}  // namespace

void add_train(CLI::App& app, Action& action) {
  auto* train = app.add_subcommand("train", "train a network");
  train->require_subcommand(1);

  static TrainArgs fm;
  auto* fmnist = train->add_subcommand("fashion-mnist", "small CNN on Fashion-MNIST (Debian dataset-fashion-mnist)");
  add_common(fmnist, fm);
  fmnist->callback([&action] {
    action = [] {
      fmnist::TrainOptions o;
      o.out = fm.out;
      o.resume = fm.resume;
      o.dump_first_step = fm.dump_first_step;
      o.device = fm.compute.apply();
      fmnist::train(resolve(fmnist::default_config(), fm), o);
      return 0;
    };
  });

  for (data::SegTask task : {data::SegTask::cel, data::SegTask::douga}) {
    static TrainArgs args[2];
    TrainArgs& a = args[int(task)];
    const bool cel = task == data::SegTask::cel;
    auto* cmd = train->add_subcommand(
        data::seg_task_name(task),
        cel ? "GCN cel segmentation (1 logit: cel vs background)" : "GCN douga reconstruction (10 line-art classes)");
    add_common(cmd, a);
    auto* syn = cmd->add_flag("--synthetic", a.synthetic, "train on the built-in synthetic cel generator (the default)");
    cmd->add_option("--data", a.data_dir, "dataset folder (frames/ + masks/ or douga/, see the README)")
        ->excludes(syn);
    cmd->add_option("--pretrained", a.pretrained,
                    "torchvision ResNet weights (safetensors, tools/convert_torchvision.py) for the backbone")
        ->check(CLI::ExistingFile);
    cmd->add_flag("--skip-bad", a.skip_bad, "skip bad frame/label pairs with a warning instead of stopping");
    cmd->callback([&action, &a, task] {
      action = [&a, task] {
        Config cfg = resolve(gcn::default_config(task), a);
        if (!a.data_dir.empty()) {
          cfg.set("data.dir=" + Json(a.data_dir).dump());
          cfg.set("data.synthetic=false");
        } else if (a.synthetic) {
          cfg.set("data.synthetic=true");
        }
        if (!a.pretrained.empty()) cfg.set("model.pretrained=" + Json(a.pretrained).dump());
        if (a.skip_bad) cfg.set("data.skip_bad=true");
        gcn::TrainOptions o;
        o.out = a.out;
        o.resume = a.resume;
        o.dump_first_step = a.dump_first_step;
        o.device = a.compute.apply();
        gcn::train(task, cfg, o);
        return 0;
      };
    });
  }
}

}  // namespace sakuga::app
