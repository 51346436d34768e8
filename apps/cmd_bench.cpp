// `sakuga bench train FAMILY`: time a registered family's real training step (each stage's)
// on one fixed batch; the family's PyTorch twin in bench/ times the same step for the ratio.
#include <fmt/format.h>

#include <map>

#include "apps/commands.h"
#include "apps/families.h"
#include "kernels/cpu/blas_kernels.h"
#include "kernels/device.h"
#include "kernels/log.h"
#include "nets/harness/trainer.h"
#include "nets/registry.h"

namespace sakuga::app {

namespace {

struct BenchArgs {
  std::vector<std::string> config_files, sets, family_sets;  // family_sets: from the family's flags (--stage)
  std::string json_file;
  int64_t steps = 10, warmup = 3;
  ComputeOptions compute;
};

int run_bench(const FamilyEntry& fam, const BenchArgs& a) {
  ConfigSources src;
  src.files = a.config_files;
  src.sets = a.sets;
  src.sets.insert(src.sets.end(), a.family_sets.begin(), a.family_sets.end());
  const Config cfg = resolve_config(fam.defaults(), src);
  const Device dev = Device::parse(a.compute.apply());
  auto family = fam.make(cfg, dev, true);
  const auto timings = harness::bench(*family, a.steps, a.warmup);
  const std::string device_name = dev.is_cuda() ? device::devices().at(size_t(dev.index)).name : "cpu";
  if (!fam.torch_twin.empty()) log::info("the PyTorch twin of this step: {}", fam.torch_twin);
  Json stages = Json::array();
  for (const auto& t : timings) {
    const double batch = double(t.batch);
    fmt::print("{} [{}] on {}: {:.2f} ms/step, {:.2f} images/s, peak {:.1f} MiB\n", fam.name, t.stage, device_name,
               t.ms_per_step, batch * t.batches_per_s, double(t.peak_bytes) / (1 << 20));
    stages.push_back({{"stage", t.stage},
                      {"ms_per_step", t.ms_per_step},
                      {"images_per_s", batch * t.batches_per_s},
                      {"batch", t.batch},
                      {"peak_bytes", t.peak_bytes}});
  }
  if (!a.json_file.empty()) {
    // The first stage's numbers at the top level (gcn.md "Pinned interfaces"), every stage's below.
    Json j{{"family", fam.name},      {"task", fam.name},
           {"ms_per_step", stages[0]["ms_per_step"]}, {"images_per_s", stages[0]["images_per_s"]},
           {"peak_bytes", stages[0]["peak_bytes"]},   {"device", device_name},
           {"steps", a.steps},        {"warmup", a.warmup},
           {"threads", device::cpu_threads()},
           {"blas_core", kernels::cpu::blas_core()},  // the twins run PyTorch's OpenBLAS on the same kernels
           {"stages", stages},        {"config", cfg.json()}};
    harness::write_file_atomic(a.json_file, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, Action& action) {
  auto* bench = app.add_subcommand("bench", "time whole training steps");
  bench->require_subcommand(1);
  auto* train = bench->add_subcommand("train", "time a family's training step (forward, losses, backward, optimisers)");
  train->require_subcommand(1);
  static std::map<std::string, BenchArgs> args;
  for (const FamilyEntry& fam : families()) {
    BenchArgs& a = args[fam.name];
    auto* cmd = train->add_subcommand(fam.name, "time the training step of " + fam.name);
    cmd->add_option("--config", a.config_files, "JSON config (e.g. configs/douga-thesis.json)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--set", a.sets, "override a config key (repeatable)");
    // The family's own train flags (redraw's --stage, the data sources) time what they train.
    if (const auto& hook = family_cli(fam.name).train_flags) hook(cmd, a.family_sets);
    cmd->add_option("--steps", a.steps, "timed steps")->capture_default_str();
    cmd->add_option("--warmup", a.warmup, "untimed steps first")->capture_default_str();
    cmd->add_option("--json", a.json_file, "write the result as JSON");
    a.compute.add_to(cmd);
    cmd->callback([&action, &fam, &a] { action = [&fam, &a] { return run_bench(fam, a); }; });
  }
}

}  // namespace sakuga::app
