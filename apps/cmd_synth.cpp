// `sakuga synth cel|douga --out DIR --count N [--seed S] [--size H W] [--overwrite] [--quiet]`:
// writes a procedural dataset (data/gcn/synth.h) as PNG folders in the layout of data/gcn/seg_dataset.h.
//
// For apps/commands.h (the lead adds it there and calls it from apps/main.cpp):
//   void add_synth(CLI::App& app, Action& action);
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "data/gcn/synth.h"
#include "kernels/common.h"

namespace sakuga::app {

void add_synth(CLI::App& app, Action& action);

namespace {

struct SynthArgs {
  std::string task;
  std::string out;
  int64_t count = 100;
  uint64_t seed = 0;
  std::vector<int64_t> size = {256, 256};
  bool overwrite = false;
  bool quiet = false;
};

// The files an earlier `sakuga synth` wrote (only those: other files in DIR are left alone).
void remove_old_synth_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  for (const char* sub : {"frames", "masks", "douga", "backgrounds", "textures"}) {
    fs::path d = dir / sub;
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<fs::path> victims;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      std::string n = e.path().filename().string();
      if (e.is_regular_file() && n.rfind("synth-", 0) == 0 && e.path().extension() == ".png") victims.push_back(e.path());
    }
    for (const auto& p : victims) {
      fs::remove(p, ec);
      if (ec) throw Error("synth: cannot remove " + p.string() + ": " + ec.message());
    }
  }
}

int run_synth(const SynthArgs& a) {
  namespace fs = std::filesystem;
  const data::SegTask task = data::parse_seg_task(a.task);
  if (a.count < 1) throw Error("synth: --count must be at least 1, got " + std::to_string(a.count));
  if (a.size.size() != 2) throw Error("synth: --size takes two numbers, H W");
  const int64_t h = a.size[0], w = a.size[1];
  if (h < 16 || w < 16)
    throw Error("synth: --size must be at least 16 16, got " + std::to_string(h) + " " + std::to_string(w));
  if (h > 16384 || w > 16384)
    throw Error("synth: --size must be at most 16384 16384, got " + std::to_string(h) + " " + std::to_string(w));
  std::error_code ec;
  const fs::path dir(a.out);
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw Error("synth: --out " + a.out + " exists and is not a folder");
    if (!fs::is_empty(dir, ec)) {
      if (!a.overwrite)
        throw Error("synth: --out " + a.out + " exists and is not empty (pass --overwrite to replace its synth-*.png files)");
      remove_old_synth_files(dir);
    }
  }
  data::write_synth_dataset(a.out, task, a.count, a.seed, h, w, a.quiet);
  if (!a.quiet)
    std::fprintf(stderr, "synth: wrote %lld %s samples of %lldx%lld to %s\n", static_cast<long long>(a.count),
                 data::seg_task_name(task), static_cast<long long>(h), static_cast<long long>(w), a.out.c_str());
  return 0;
}

}  // namespace

void add_synth(CLI::App& app, Action& action) {
  static SynthArgs a;
  auto* cmd = app.add_subcommand("synth", "write a procedural cel / douga dataset (PNG folders)");
  cmd->add_option("task", a.task, "cel (frames/ + masks/) or douga (frames/ + douga/ + masks/)")
      ->required()
      ->check(CLI::IsMember({"cel", "douga"}));
  cmd->add_option("--out", a.out, "dataset folder to write (must be absent or empty unless --overwrite)")->required();
  cmd->add_option("--count", a.count, "number of samples")->capture_default_str();
  cmd->add_option("--seed", a.seed, "base seed (sample i uses a hash of (seed, i))")->capture_default_str();
  cmd->add_option("--size", a.size, "frame height and width in pixels (each >= 16)")
      ->expected(2)
      ->capture_default_str();
  cmd->add_flag("--overwrite", a.overwrite, "write into a non-empty --out, removing its old synth-*.png files first");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] { action = [] { return run_synth(a); }; });
}

}  // namespace sakuga::app
