// `sakuga bench train cel|douga`: time training steps of a GCN config on synthetic batches
// (gcn.md "Pinned interfaces"); bench/torch_gcn_train.py times the same step in PyTorch.
#include <cstdio>

#include "apps/commands.h"
#include "nets/gcn/train.h"
#include "nets/runner.h"

namespace sakuga::app {

namespace {

struct BenchArgs {
  std::string config_file, json_file;
  std::vector<std::string> sets;
  int64_t steps = 10, warmup = 3;
  ComputeOptions compute;
};

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto* bench = app.add_subcommand("bench", "time whole training steps");
  bench->require_subcommand(1);
  auto* train = bench->add_subcommand("train", "time GCN training steps (forward, loss, backward, Adam)");
  train->require_subcommand(1);
  for (data::SegTask task : {data::SegTask::cel, data::SegTask::douga}) {
    static BenchArgs args[2];
    BenchArgs& a = args[int(task)];
    auto* cmd = train->add_subcommand(data::seg_task_name(task), "time the training step of this task");
    cmd->add_option("--config", a.config_file, "JSON config (e.g. configs/douga-thesis.json)")->check(CLI::ExistingFile);
    cmd->add_option("--set", a.sets, "override a config key (repeatable)");
    cmd->add_option("--steps", a.steps, "timed steps")->capture_default_str();
    cmd->add_option("--warmup", a.warmup, "untimed steps first")->capture_default_str();
    cmd->add_option("--json", a.json_file, "write the result as JSON");
    a.compute.add_to(cmd);
    cmd->callback([&action, &a, task] {
      action = [&a, task] {
        Config cfg(gcn::default_config(task));
        if (!a.config_file.empty()) cfg.merge_file(a.config_file);
        for (const auto& s : a.sets) cfg.set(s);
        const std::string dev = a.compute.apply();
        gcn::BenchResult r = gcn::bench_train(task, cfg, dev, a.steps, a.warmup);
        auto size = cfg.get<std::vector<int64_t>>("data.size");
        std::printf("%s %s k=%d %lldx%lld batch %lld on %s: %.2f ms/step, %.2f images/s, peak %.1f MiB\n",
                    data::seg_task_name(task), cfg.get<std::string>("model.backbone").c_str(), cfg.get<int>("model.k"),
                    static_cast<long long>(size[0]), static_cast<long long>(size[1]),
                    static_cast<long long>(cfg.get<int64_t>("data.batch")), r.device.c_str(), r.ms_per_step,
                    r.images_per_s, double(r.peak_bytes) / (1 << 20));
        if (!a.json_file.empty()) {
          Json j{{"task", data::seg_task_name(task)}, {"ms_per_step", r.ms_per_step},
                 {"images_per_s", r.images_per_s}, {"peak_bytes", r.peak_bytes}, {"device", r.device},
                 {"steps", a.steps}, {"warmup", a.warmup}, {"config", cfg.json()}};
          write_file_atomic(a.json_file, j.dump(2) + "\n");
        }
        return 0;
      };
    });
  }
}

}  // namespace sakuga::app
