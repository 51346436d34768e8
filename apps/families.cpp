// Command-line hooks per family. gcn (cel, douga): dataset flags for train, eval, infer, synth.
// gadn: data-source flags for train, eval, infer, synth. scenimefy: data and reference flags for
// train, eval, infer, synth.
#include "apps/families.h"

#include <filesystem>
#include <map>

#include "data/gadn/writer.h"
#include "data/gcn/synth.h"
#include "data/png.h"
#include "data/redraw/synth.h"
#include "data/scenes.h"
#include "kernels/log.h"
#include "nets/gadn/eval.h"
#include "nets/gcn/eval.h"
#include "nets/harness/config.h"
#include "nets/harness/run_files.h"
#include "nets/redraw/tools.h"
#include "nets/registry.h"
#include "nets/scenimefy/eval.h"

namespace sakuga::app {

namespace {

using data::SegTask;

void gcn_train_flags(CLI::App* cmd, std::vector<std::string>& sets) {
  auto* syn = cmd->add_flag_callback(
      "--synthetic", [&sets] { sets.push_back("data.synthetic=true"); },
      "train on the built-in synthetic cel generator (the default)");
  cmd->add_option_function<std::string>(
         "--data",
         [&sets](const std::string& dir) {
           sets.push_back("data.dir=" + Json(dir).dump());
           sets.push_back("data.synthetic=false");
         },
         "dataset folder (frames/ + masks/ or douga/, see docs/gcn.md)")
      ->excludes(syn);
  cmd->add_option_function<std::string>(
         "--pretrained", [&sets](const std::string& f) { sets.push_back("model.pretrained=" + Json(f).dump()); },
         "torchvision ResNet weights (safetensors, tools/convert_torchvision.py) for the backbone")
      ->check(CLI::ExistingFile);
  cmd->add_flag_callback(
      "--skip-bad", [&sets] { sets.push_back("data.skip_bad=true"); },
      "skip bad frame/label pairs with a warning instead of stopping");
}

struct ModelArgs {
  gcn::ModelSource src;
  ComputeOptions compute;
};

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--ckpt", a.src.ckpt, "checkpoint (or a weights-only safetensors file with --config/--set)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--config", a.src.config_files, "model config for a weights-only file")->check(CLI::ExistingFile);
  cmd->add_option("--set", a.src.sets, "override a config key (repeatable)");
  a.compute.add_to(cmd);
}

void gcn_eval(SegTask task, CLI::App* cmd, Action& action) {
  static std::map<SegTask, std::pair<ModelArgs, gcn::EvalOptions>> all;
  ModelArgs& m = all[task].first;
  gcn::EvalOptions& a = all[task].second;
  add_model_options(cmd, m);
  cmd->add_option("--data", a.data_dir, "dataset folder")->check(CLI::ExistingDirectory);
  cmd->add_option("--synthetic", a.synthetic, "evaluate on N synthetic frames instead (see --seed, --size)");
  cmd->add_option("--seed", a.seed, "seed of the synthetic frames (default 1: not the training stream)");
  cmd->add_option("--size", a.size, "H W of the synthetic frames")->expected(2);
  cmd->add_option("--split", a.split, "all | train | val (the training run's hash split)")
      ->check(CLI::IsMember({"all", "train", "val"}));
  cmd->add_option("--val-fraction", a.val_fraction, "validation fraction for --split");
  cmd->add_flag("--skip-bad", a.skip_bad, "skip bad pairs with a warning instead of stopping");
  cmd->add_flag("--postprocess", a.postprocess, "also evaluate the post-processed douga (thinning etc.)");
  cmd->add_option("--json", a.json_file, "write the metrics as JSON");
  cmd->callback([&action, task, &m, &a] {
    action = [task, &m, &a] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return gcn::run_eval(task, a);
    };
  });
}

void gcn_infer(SegTask task, CLI::App* cmd, Action& action) {
  static std::map<SegTask, std::pair<ModelArgs, gcn::InferOptions>> all;
  ModelArgs& m = all[task].first;
  gcn::InferOptions& a = all[task].second;
  add_model_options(cmd, m);
  cmd->add_option("--input", a.inputs, "PNG frames")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a.out, "output folder")->required();
  cmd->add_flag("--postprocess", a.postprocess, "thinning, dilation and component averaging (douga)");
  cmd->add_flag("--save-logits", a.save_logits, "also write NAME.logits.safetensors (1, C, H, W) f32");
  cmd->callback([&action, task, &m, &a] {
    action = [task, &m, &a] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return gcn::run_infer(task, a);
    };
  });
}

struct SynthArgs {
  std::string out;
  int64_t count = 100;
  uint64_t seed = 0;
  std::vector<int64_t> size = {256, 256};
  bool overwrite = false, quiet = false;
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
      SAKUGA_CHECK(!ec, "synth: cannot remove ", p.string(), ": ", ec.message());
    }
  }
}

int run_synth(SegTask task, const SynthArgs& a) {
  namespace fs = std::filesystem;
  SAKUGA_CHECK(a.count >= 1, "synth: --count must be at least 1, got ", a.count);
  SAKUGA_CHECK(a.size.size() == 2, "synth: --size takes two numbers, H W");
  const int64_t h = a.size[0], w = a.size[1];
  SAKUGA_CHECK(h >= 16 && w >= 16, "synth: --size must be at least 16 16, got ", h, " ", w);
  SAKUGA_CHECK(h <= 16384 && w <= 16384, "synth: --size must be at most 16384 16384, got ", h, " ", w);
  std::error_code ec;
  const fs::path dir(a.out);
  if (fs::exists(dir, ec)) {
    SAKUGA_CHECK(fs::is_directory(dir, ec), "synth: --out ", a.out, " exists and is not a folder");
    if (!fs::is_empty(dir, ec)) {
      SAKUGA_CHECK(a.overwrite, "synth: --out ", a.out,
                   " exists and is not empty (pass --overwrite to replace its synth-*.png files)");
      remove_old_synth_files(dir);
    }
  }
  harness::Progress progress("synth " + std::string(data::seg_task_name(task)), 0, a.count, "sample");
  std::function<void(int64_t, int64_t)> report;
  if (!a.quiet) report = [&progress](int64_t done, int64_t) { progress.update(done); };
  data::write_synth_dataset(a.out, task, a.count, a.seed, h, w, report);
  if (!a.quiet) progress.finish();
  if (!a.quiet) log::info("synth: wrote {} {} samples of {}x{} to {}", a.count, data::seg_task_name(task), h, w, a.out);
  return 0;
}

void gcn_synth(SegTask task, CLI::App* cmd, Action& action) {
  static std::map<SegTask, SynthArgs> all;
  SynthArgs& a = all[task];
  cmd->add_option("--out", a.out, "dataset folder to write (must be absent or empty unless --overwrite)")->required();
  cmd->add_option("--count", a.count, "number of samples")->capture_default_str();
  cmd->add_option("--seed", a.seed, "base seed (sample i uses a hash of (seed, i))")->capture_default_str();
  cmd->add_option("--size", a.size, "frame height and width in pixels (each >= 16)")->expected(2)->capture_default_str();
  cmd->add_flag("--overwrite", a.overwrite, "write into a non-empty --out, removing its old synth-*.png files first");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action, task, &a] { action = [task, &a] { return run_synth(task, a); }; });
}

FamilyCli gcn_cli(SegTask task) {
  FamilyCli c;
  c.train_flags = gcn_train_flags;
  c.eval = [task](CLI::App* cmd, Action& action) { gcn_eval(task, cmd, action); };
  c.infer = [task](CLI::App* cmd, Action& action) { gcn_infer(task, cmd, action); };
  c.synth = [task](CLI::App* cmd, Action& action) { gcn_synth(task, cmd, action); };
  return c;
}


// ---- gadn ---------------------------------------------------------------------------------------

void gadn_train_flags(CLI::App* cmd, std::vector<std::string>& sets) {
  auto* folder = cmd->add_option_function<std::string>(
      "--data",
      [&sets](const std::string& dir) {
        sets.push_back("data.source=\"folder\"");
        sets.push_back("data.dir=" + Json(dir).dump());
      },
      "a folder per label: DIR/<label>/*.png (e.g. from sakuga synth gadn)");
  auto* fm = cmd->add_flag_callback(
      "--fmnist-artists", [&sets] { sets.push_back("data.source=\"fmnist-artists\""); },
      "Fashion-MNIST drawn by K artists (the default)");
  auto* portraits = cmd->add_flag_callback(
      "--portraits", [&sets] { sets.push_back("data.source=\"portraits\""); },
      "synthetic anime-like portraits drawn by K artists");
  folder->excludes(fm)->excludes(portraits);
  fm->excludes(portraits);
}

struct GadnModelArgs {
  gadn::ModelSource src;
  ComputeOptions compute;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--ckpt", src.ckpt, "a gadn training checkpoint (RUN/checkpoints/last.safetensors)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--config", src.config_files, "config files over the checkpoint's own")->check(CLI::ExistingFile);
    cmd->add_option("--set", src.sets, "override a config key (repeatable)");
    compute.add_to(cmd);
  }
};

void gadn_eval(CLI::App* cmd, Action& action) {
  static GadnModelArgs m;
  static gadn::EvalOptions a;
  m.add_to(cmd);
  cmd->add_option("--data", a.data_dir, "held-out folder DIR/<label>/*.png + factors.jsonl (sakuga synth gadn)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--json", a.json_file, "write the tables as JSON (keys distance, naive_bayes, swap)");
  cmd->add_option("--classifier-steps", a.classifier_steps,
                  "training steps of each swap-accuracy classifier (0: no swap accuracy)")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "seed of the swap classifiers and the swapped labels")->capture_default_str();
  cmd->callback([&action] {
    action = [] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return gadn::run_eval(a);
    };
  });
}

void gadn_infer(CLI::App* cmd, Action& action) {
  static GadnModelArgs m;
  static gadn::InferOptions a;
  m.add_to(cmd);
  auto* enc = cmd->add_option("--encode", a.encode, "images to encode: writes mu and sigma (N, Z) to --out")
                  ->check(CLI::ExistingFile);
  auto* in = cmd->add_option("--input", a.inputs, "images to redraw in other styles")->check(CLI::ExistingFile);
  enc->excludes(in);
  cmd->add_option("--style", a.styles, "labels to draw the inputs in (comma-separated or repeated)")->delimiter(',');
  cmd->add_option("--random-styles", a.random_styles, "also N styles drawn from the prior N(0, I)");
  cmd->add_flag("--grid", a.grid, "also write one content x style sheet, DIR/grid.png");
  cmd->add_option("--seed", a.seed, "seed of the random styles")->capture_default_str();
  cmd->add_option("--out", a.out, "codes file (--encode) or output folder (--input)")->required();
  cmd->callback([&action] {
    action = [] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return gadn::run_infer(a);
    };
  });
}

struct GadnSynthArgs {
  std::string kind = "fmnist-artists", out, split = "test";
  int64_t count = 512, size = 0;
  uint64_t seed = 0;
  int artists = data::gadn::kDefaultArtists;
  bool overwrite = false, quiet = false;
};

int run_gadn_synth(const GadnSynthArgs& a) {
  data::gadn::SynthOptions o;
  o.kind = data::gadn::parse_synth_kind(a.kind);
  o.count = a.count;
  o.seed = a.seed;
  o.size = a.size;
  o.split = a.split;
  o.artists = a.artists;
  o.overwrite = a.overwrite;
  harness::Progress progress("synth gadn", 0, a.count, "image");
  if (!a.quiet) o.progress = [&progress](int64_t done, int64_t) { progress.update(done); };
  data::gadn::write_gadn_dataset(a.out, o);
  if (!a.quiet) {
    progress.finish();
    log::info("synth gadn: wrote {} {} images to {}", a.count, a.kind, a.out);
  }
  return 0;
}

void gadn_synth(CLI::App* cmd, Action& action) {
  static GadnSynthArgs a;
  cmd->add_option("--kind", a.kind, "fmnist-artists | portraits")
      ->check(CLI::IsMember({"fmnist-artists", "portraits"}))
      ->capture_default_str();
  cmd->add_option("--out", a.out, "dataset folder to write (absent or empty unless --overwrite)")->required();
  cmd->add_option("--count", a.count, "number of images (image i is drawn by artist i mod K)")->capture_default_str();
  cmd->add_option("--seed", a.seed, "which garments / portrait contents")->capture_default_str();
  cmd->add_option("--size", a.size, "image size R (fmnist-artists: 32 only; 0: the kind's default)");
  cmd->add_option("--split", a.split, "fmnist-artists: garments of the test split (held out) or train")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  cmd->add_option("--artists", a.artists, "number of artists K (as the training run's data.artists)")
      ->capture_default_str();
  cmd->add_flag("--overwrite", a.overwrite, "replace a previous gadn dataset in --out");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] { action = [] { return run_gadn_synth(a); }; });
}

FamilyCli gadn_cli() {
  FamilyCli c;
  c.train_flags = gadn_train_flags;
  c.eval = gadn_eval;
  c.infer = gadn_infer;
  c.synth = gadn_synth;
  return c;
}

// ---- scenimefy ----------------------------------------------------------------------------------

void scenimefy_train_flags(CLI::App* cmd, std::vector<std::string>& sets) {
  auto* syn = cmd->add_flag_callback(
      "--synthetic", [&sets] { sets.push_back("data.source=\"synthetic\""); },
      "train on built-in synthetic scenes with known anime renderings (the default)");
  cmd->add_option_function<std::string>(
         "--data",
         [&sets](const std::string& dir) {
           sets.push_back("data.source=\"folder\"");
           sets.push_back("data.dir=" + Json(dir).dump());
         },
         "CUT layout: DIR/trainA, DIR/trainB, DIR/pairs/A + DIR/pairs/B (matched by name)")
      ->excludes(syn);
  cmd->add_flag_callback(
      "--reference-weighting", [&sets] { sets.push_back("loss.reference_weighting=true"); },
      "StylePatchNCE weighted λ_s² as the reference code does (0.0025 instead of 0.05)");
  cmd->add_flag_callback(
      "--reference-schedule", [&sets] { sets.push_back("loss.reference_schedule=true"); },
      "λ_pair = cos(π/2·E·(e − 1)) as the reference code (constantly 1 for E ≡ 0 mod 4)");
}

struct ScenimefyModelArgs {
  scenimefy::ModelSource src;
  ComputeOptions compute;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--ckpt", src.ckpt,
                    "a scenimefy checkpoint (RUN/checkpoints/last.safetensors) or a CUT / Scenimefy generator "
                    "converted with tools/convert_cut.py")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--config", src.config_files, "config files over the checkpoint's own")->check(CLI::ExistingFile);
    cmd->add_option("--set", src.sets, "override a config key (repeatable)");
    compute.add_to(cmd);
  }
};

void scenimefy_eval(CLI::App* cmd, Action& action) {
  static ScenimefyModelArgs m;
  static scenimefy::EvalOptions a;
  m.add_to(cmd);
  cmd->add_option("--data", a.data_dir, "DIR/trainA photos with DIR/truth renderings (sakuga synth scenimefy)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--json", a.json_file, "write the metrics as JSON (l1, psnr, ssim, identity, fid, kid)");
  cmd->add_option("--inception", a.inception,
                  "torchvision Inception-v3 weights as safetensors (tools/convert_torchvision.py) for FID / KID")
      ->check(CLI::ExistingFile);
  cmd->add_option("--limit", a.limit, "evaluate the first N photos only (0: all)");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] {
    action = [] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return scenimefy::run_eval(a);
    };
  });
}

void scenimefy_infer(CLI::App* cmd, Action& action) {
  static ScenimefyModelArgs m;
  static scenimefy::InferOptions a;
  m.add_to(cmd);
  cmd->add_option("--input", a.inputs, "PNG photos (any size)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a.out, "output folder: NAME.anime.png per input")->required();
  cmd->callback([&action] {
    action = [] {
      a.model = m.src;
      a.model.device = m.compute.apply();
      return scenimefy::run_infer(a);
    };
  });
}

int run_scenimefy_synth(const SynthArgs& a) {
  namespace fs = std::filesystem;
  SAKUGA_CHECK(a.size.size() == 2, "synth: --size takes two numbers, H W");
  const int64_t h = a.size[0], w = a.size[1];
  SAKUGA_CHECK(h >= 16 && w >= 16 && h <= 8192 && w <= 8192, "synth scenimefy: --size must be within 16 … 8192, got ",
               h, " ", w);
  std::error_code ec;
  if (fs::exists(a.out, ec)) {
    SAKUGA_CHECK(fs::is_directory(a.out, ec), "synth: --out ", a.out, " exists and is not a folder");
    if (!fs::is_empty(a.out, ec)) {
      SAKUGA_CHECK(a.overwrite, "synth: --out ", a.out, " exists and is not empty (pass --overwrite to replace ",
                   "its trainA, trainB, truth and pairs folders)");
      for (const char* sub : {"trainA", "trainB", "truth", "pairs"}) fs::remove_all(fs::path(a.out) / sub, ec);
    }
  }
  harness::Progress progress("synth scenimefy", 0, 2 * a.count + (a.count + 3) / 4, "image");
  std::function<void(int64_t, int64_t)> report;
  if (!a.quiet) report = [&progress](int64_t done, int64_t) { progress.update(done); };
  data::scenes::write_dataset(a.out, a.count, a.seed, int(h), int(w), report);
  if (!a.quiet) {
    progress.finish();
    log::info("synth scenimefy: wrote {} photos with their truth, {} anime frames and {} pairs of {}x{} to {}", a.count,
              a.count, (a.count + 3) / 4, h, w, a.out);
  }
  return 0;
}

void scenimefy_synth(CLI::App* cmd, Action& action) {
  static SynthArgs a;
  a.count = 32;
  cmd->add_option("--out", a.out, "dataset folder to write (absent or empty unless --overwrite)")->required();
  cmd->add_option("--count", a.count, "photos in trainA (each with its truth), as many trainB frames, ⌈N/4⌉ pairs")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "which scenes (use another seed than training for a held-out set)")
      ->capture_default_str();
  cmd->add_option("--size", a.size, "image height and width in pixels")->expected(2)->capture_default_str();
  cmd->add_flag("--overwrite", a.overwrite, "replace the scenimefy folders of a non-empty --out");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] { action = [] { return run_scenimefy_synth(a); }; });
}

FamilyCli scenimefy_cli() {
  FamilyCli c;
  c.train_flags = scenimefy_train_flags;
  c.eval = scenimefy_eval;
  c.infer = scenimefy_infer;
  c.synth = scenimefy_synth;
  return c;
}

// ---- redraw ---------------------------------------------------------------------------------------

struct RedrawSynthArgs {
  std::string out, sheet;
  int64_t count = 64;
  uint64_t seed = 0;
  std::vector<int64_t> size = {data::redraw::kDefaultFrameHeight, data::redraw::kDefaultFrameWidth};
  int productions = data::redraw::kDefaultProductions, designs = data::redraw::kDefaultDesigns,
      held_out = data::redraw::kDefaultHeldOut;
  int64_t crop_size = data::redraw::kDefaultCropSize;
  bool overwrite = false, quiet = false;
};

int run_redraw_synth(const RedrawSynthArgs& a) {
  SAKUGA_CHECK(a.size.size() == 2, "synth redraw: --size takes two numbers, H W");
  data::redraw::SynthOptions o;
  o.count = a.count;
  o.seed = a.seed;
  o.height = a.size[0];
  o.width = a.size[1];
  o.productions = a.productions;
  o.designs = a.designs;
  o.held_out = a.held_out;
  o.crop_size = a.crop_size;
  o.overwrite = a.overwrite;
  harness::Progress progress("synth redraw", 0, a.count, "frame");
  if (!a.quiet) o.progress = [&progress](int64_t done, int64_t) { progress.update(done); };
  data::redraw::write_redraw_dataset(a.out, o);
  if (!a.sheet.empty()) {
    const data::redraw::World world = data::redraw::make_world(a.productions, a.designs, a.held_out, o.world_seed);
    data::write_png_tensor(a.sheet, data::redraw::world_sheet(world));
  }
  if (!a.quiet) {
    progress.finish();
    log::info("synth redraw: wrote {} frames of {}x{} ({} productions, the last {} held out; {} designs) and their "
              "{}x{} face crops to {}",
              a.count, o.height, o.width, a.productions, a.held_out, a.designs, a.crop_size, a.crop_size, a.out);
  }
  return 0;
}

void redraw_synth(CLI::App* cmd, Action& action) {
  static RedrawSynthArgs a;
  cmd->add_option("--out", a.out, "dataset folder to write (absent or empty unless --overwrite)")->required();
  cmd->add_option("--count", a.count, "number of frames (frame i is drawn by production i mod P)")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "which frames (the productions and designs do not depend on it)")
      ->capture_default_str();
  cmd->add_option("--size", a.size, "frame height and width in pixels (each 64 … 4096)")
      ->expected(2)
      ->capture_default_str();
  cmd->add_option("--productions", a.productions, "number of productions P (rendering styles)")->capture_default_str();
  cmd->add_option("--designs", a.designs, "number of character designs D (every production draws each)")
      ->capture_default_str();
  cmd->add_option("--held-out", a.held_out, "the last K productions are held out (listed in DIR/redraw.json)")
      ->capture_default_str();
  cmd->add_option("--crop-size", a.crop_size, "side of the face crops in pixels")->capture_default_str();
  cmd->add_option("--sheet", a.sheet, "also write a PNG of every design (rows) drawn by every production (columns)");
  cmd->add_flag("--overwrite", a.overwrite, "replace a previous redraw dataset in --out (one with a redraw.json)");
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] { action = [] { return run_redraw_synth(a); }; });
}

void redraw_train_flags(CLI::App* cmd, std::vector<std::string>& sets) {
  cmd->add_option_function<std::string>(
         "--stage", [&sets](const std::string& s) { sets.push_back("stage=" + Json(s).dump()); },
         "which network to train: detect (faces and eyes), encoder (style-aware clustering) or redrawer")
      ->check(CLI::IsMember({"detect", "encoder", "redrawer"}));
  auto* syn = cmd->add_flag_callback(
      "--synthetic", [&sets] { sets.push_back("data.synthetic=true"); },
      "train on the built-in synthetic productions x designs (the default)");
  cmd->add_option_function<std::string>(
         "--data",
         [&sets](const std::string& dir) {
           sets.push_back("data.dir=" + Json(dir).dump());
           sets.push_back("data.synthetic=false");
         },
         "dataset folder: frames/ (+ NAME.json boxes) and crops/<production>/<design>/ (docs/redraw.md)")
      ->excludes(syn);
}

struct RedrawModelArgs {
  std::string stage;
  redraw::ModelSource src;
  ComputeOptions compute;
  void add_to(CLI::App* cmd) {
    cmd->add_option("--stage", stage, "detect | encoder | redrawer: the stage the checkpoint was trained for")
        ->required()
        ->check(CLI::IsMember({"detect", "encoder", "redrawer"}));
    cmd->add_option("--ckpt", src.ckpt, "a redraw training checkpoint of that stage (RUN/checkpoints/last.safetensors)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--config", src.config_files, "config files over the checkpoint's own")->check(CLI::ExistingFile);
    cmd->add_option("--set", src.sets, "override a config key (repeatable)");
    compute.add_to(cmd);
  }
  redraw::Stage resolve() {
    src.device = compute.apply();
    return redraw::parse_stage(stage, "--stage");
  }
};

void redraw_eval(CLI::App* cmd, Action& action) {
  static RedrawModelArgs m;
  static redraw::EvalOptions a;
  m.add_to(cmd);
  auto* data = cmd->add_option("--data", a.data_dir, "dataset folder (frames/, crops/, redraw.json)")
                   ->check(CLI::ExistingDirectory);
  cmd->add_option("--synthetic", a.synthetic, "without --data: evaluate on N synthetic frames (see --seed)")
      ->excludes(data)
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "stream of the synthetic frames (not the training one)")->capture_default_str();
  cmd->add_option("--json", a.json_file, "write the metrics as JSON");
  cmd->add_option("--classifier-steps", a.classifier_steps,
                  "redrawer: training steps of the held-out design classifier that reads the redrawn eyes")
      ->capture_default_str();
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] {
    action = [] {
      a.stage = m.resolve();
      a.model = m.src;
      return redraw::run_eval(a);
    };
  });
}

void redraw_infer(CLI::App* cmd, Action& action) {
  static RedrawModelArgs m;
  static redraw::InferOptions a;
  m.add_to(cmd);
  cmd->add_option("--input", a.inputs, "PNG frames (detect) or face crops (encoder)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--json", a.json_file, "detect: write the boxes of every input, by file name");
  cmd->add_option("--out", a.out, "encoder: the embeddings file (f32 embedding (N, 128), rows in input order)");
  cmd->add_flag("--cluster", a.cluster, "encoder: also cluster the crops (printed and written beside --out)");
  cmd->add_option("--style-ref", a.style_refs,
                  "encoder: style references, crops of the inputs' production (default: the inputs themselves)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([&action] {
    action = [] {
      a.stage = m.resolve();
      a.model = m.src;
      return redraw::run_infer(a);
    };
  });
}

FamilyCli redraw_cli() {
  FamilyCli c;
  c.train_flags = redraw_train_flags;
  c.eval = redraw_eval;
  c.infer = redraw_infer;
  c.synth = redraw_synth;
  return c;
}

}  // namespace

const std::vector<std::string>& unregistered_cli_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const char* n : {"redraw"}) {
      bool registered = false;
      for (const FamilyEntry& f : families()) registered = registered || f.name == n;
      if (!registered) v.push_back(n);
    }
    return v;
  }();
  return names;
}

const FamilyCli& family_cli(const std::string& family) {
  static const std::map<std::string, FamilyCli> hooks{{"cel", gcn_cli(SegTask::cel)},
                                                      {"douga", gcn_cli(SegTask::douga)},
                                                      {"gadn", gadn_cli()},
                                                      {"scenimefy", scenimefy_cli()},
                                                      {"redraw", redraw_cli()}};
  static const FamilyCli none;
  auto it = hooks.find(family);
  return it == hooks.end() ? none : it->second;
}

}  // namespace sakuga::app
