// `sakuga eval cel|douga` (metrics of a checkpoint on a dataset) and `sakuga infer cel|douga`
// (class maps for PNGs of any size), gcn.md "Metrics" and "Inference".
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/commands.h"
#include "data/gcn/douga.h"
#include "data/metrics.h"
#include "data/png.h"
#include "data/gcn/postprocess.h"
#include "data/gcn/synth.h"
#include "nets/gcn/train.h"
#include "nets/runner.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::app {

namespace fs = std::filesystem;
using data::SegTask;

namespace {

struct ModelArgs {
  std::string ckpt, config_file;
  std::vector<std::string> sets;
  ComputeOptions compute;
};

void add_model_options(CLI::App* cmd, ModelArgs& a) {
  cmd->add_option("--ckpt", a.ckpt, "checkpoint (or a weights-only safetensors file with --config/--set)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--config", a.config_file, "model config for a weights-only file")->check(CLI::ExistingFile);
  cmd->add_option("--set", a.sets, "override a config key (repeatable)");
  a.compute.add_to(cmd);
}

gcn::LoadedModel load(SegTask task, const ModelArgs& a, Device dev) {
  Config fallback(gcn::default_config(task));
  if (!a.config_file.empty()) fallback.merge_file(a.config_file);
  for (const auto& s : a.sets) fallback.set(s);
  return gcn::load_model(task, a.ckpt, fallback, dev);
}

using gcn::class_names;

// (1, C, H, W) logits → (H, W) i32 class map on the CPU, post-processed on request (douga).
Tensor classes_of(SegTask task, const Tensor& logits, bool postprocess) {
  NoGradGuard ng;
  if (postprocess) return data::douga_postprocess(ops::select(ops::softmax(logits, 1), 0, 0)).to(Device::cpu());
  return ops::select(gcn::predict_classes(task, logits), 0, 0).to(Device::cpu());
}

// ---- eval ------------------------------------------------------------------------------------

struct EvalArgs : ModelArgs {
  std::string data_dir, json_file, split = "all";
  int64_t synthetic = 0;
  uint64_t seed = 1;
  std::vector<int64_t> size{256, 256};
  bool postprocess = false, skip_bad = false;
  double val_fraction = 0.1;
};

void print_metrics(const char* title, const data::ConfusionMatrix& cm, SegTask task) {
  std::printf("\n== %s ==\n%s", title, cm.table(class_names(task)).c_str());
  std::printf("pixel accuracy %.4f   mean IoU %.4f\n", cm.pixel_accuracy(), cm.mean_iou());
  if (task == SegTask::douga) std::printf("\n%s", cm.lines_vs_areas_table().c_str());
}

int run_eval(SegTask task, const EvalArgs& a) {
  const Device dev = Device::parse(a.compute.apply());
  SAKUGA_CHECK(!a.postprocess || task == SegTask::douga, "--postprocess: post-processing is defined for douga only");
  SAKUGA_CHECK(a.data_dir.empty() != (a.synthetic == 0), "eval: give exactly one of --data DIR or --synthetic N");
  gcn::LoadedModel m = load(task, a, dev);
  const int C = task == SegTask::cel ? 2 : data::kDougaClasses;
  data::ConfusionMatrix raw(C), post(C);
  std::vector<int64_t> truth(size_t(C), 0);

  std::unique_ptr<data::SegDataset> ds;
  std::vector<size_t> items;
  if (!a.data_dir.empty()) {
    data::SegDatasetOptions o;
    o.skip_bad = a.skip_bad;
    o.require_masks = m.variant == "manual-cel";
    ds = std::make_unique<data::SegDataset>(a.data_dir, task, o);
    if (a.split == "all") {
      for (size_t i = 0; i < ds->size(); ++i) items.push_back(i);
    } else {
      items = ds->split(a.split == "val", a.val_fraction);
    }
    SAKUGA_CHECK(!items.empty(), a.data_dir, ": no frames in split '", a.split, "'");
  } else {
    SAKUGA_CHECK(a.size.size() == 2 && a.size[0] >= 16 && a.size[1] >= 16, "--size: expected H W >= 16");
    for (int64_t i = 0; i < a.synthetic; ++i) items.push_back(size_t(i));
  }
  for (size_t k = 0; k < items.size(); ++k) {
    data::SegSample s = ds ? ds->load(items[k])
                           : data::synth_sample(data::synth_sample_seed(a.seed, int64_t(items[k])), a.size[0], a.size[1]);
    Tensor frame = ops::unsqueeze(s.frame, 0).to(dev);
    Tensor mask = s.mask.defined() ? ops::unsqueeze(s.mask, 0).to(dev) : Tensor();
    Tensor logits = gcn::predict_logits(*m.net, gcn::variant_input(m, frame, mask));
    Tensor target = task == SegTask::cel ? ops::squeeze(s.mask, 0).to(DType::i32) : s.douga;
    raw.add(classes_of(task, logits, false), target);
    if (a.postprocess) post.add(classes_of(task, logits, true), target);
    for (int32_t v : target.contiguous().to_vector_i32()) ++truth[size_t(v)];
    std::fprintf(stderr, "\reval %zu/%zu", k + 1, items.size());
  }
  std::fprintf(stderr, "\n");

  // The trivial baseline: every pixel gets the most frequent class of the target.
  const int majority = int(std::max_element(truth.begin(), truth.end()) - truth.begin());
  data::ConfusionMatrix base(C);
  {
    // Each class's pixels as one block (only the counts matter).
    for (int c = 0; c < C; ++c)
      if (truth[size_t(c)] > 0) {
        Tensor tt = Tensor::full({truth[size_t(c)]}, c, DType::i32), pp = Tensor::full({truth[size_t(c)]}, majority, DType::i32);
        base.add(pp, tt);
      }
  }

  std::printf("%s: %zu frames, checkpoint %s\n", data::seg_task_name(task), items.size(), a.ckpt.c_str());
  print_metrics("network output (argmax)", raw, task);
  if (a.postprocess) print_metrics("post-processed (thinning, dilation, component averaging)", post, task);
  std::printf("\nmajority-class baseline (always '%s'): pixel accuracy %.4f, mean IoU %.4f\n",
              class_names(task)[size_t(majority)].c_str(), base.pixel_accuracy(), base.mean_iou());

  if (!a.json_file.empty()) {
    const auto names = class_names(task);
    Json j = (a.postprocess ? post : raw).to_json(names);
    j["postprocessed"] = a.postprocess;
    if (a.postprocess) j["raw"] = raw.to_json(names);
    j["baseline_majority"] = {{"class", names[size_t(majority)]},
                              {"pixel_accuracy", base.pixel_accuracy()},
                              {"mean_iou", base.mean_iou()}};
    if (task == SegTask::douga) j["lines_vs_areas"] = (a.postprocess ? post : raw).lines_vs_areas();
    j["frames"] = items.size();
    j["checkpoint"] = a.ckpt;
    write_file_atomic(a.json_file, j.dump(2) + "\n");
  }
  return 0;
}

// ---- infer -----------------------------------------------------------------------------------

struct InferArgs : ModelArgs {
  std::vector<std::string> inputs;
  std::string out;
  bool postprocess = false, save_logits = false;
};

int run_infer(SegTask task, const InferArgs& a) {
  const Device dev = Device::parse(a.compute.apply());
  SAKUGA_CHECK(!a.postprocess || task == SegTask::douga, "--postprocess: post-processing is defined for douga only");
  gcn::LoadedModel m = load(task, a, dev);
  SAKUGA_CHECK(m.variant != "manual-cel", "infer: the model was trained with variant manual-cel, which needs a "
                                         "hand-made cel mask per frame; use sakuga eval with a dataset instead");
  fs::create_directories(a.out);
  for (const std::string& path : a.inputs) {
    Tensor frame = ops::unsqueeze(data::read_png_tensor(path, 3), 0).to(dev);
    Tensor logits = gcn::predict_logits(*m.net, gcn::variant_input(m, frame, Tensor()));
    const std::string stem = a.out + "/" + fs::path(path).stem().string();
    Tensor classes = classes_of(task, logits, a.postprocess);
    if (task == SegTask::douga) {
      data::write_douga_png(stem + ".douga.png", classes);
    } else {
      data::write_png_tensor(stem + ".cel.png", ops::unsqueeze(classes.to(DType::f32), 0));
    }
    if (a.save_logits) io::save_safetensors(stem + ".logits.safetensors", {{"logits", logits.to(DType::f32)}});
    std::fprintf(stderr, "%s → %s.%s.png\n", path.c_str(), stem.c_str(), data::seg_task_name(task));
  }
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
  auto* eval = app.add_subcommand("eval", "metrics of a checkpoint on a dataset");
  eval->require_subcommand(1);
  for (SegTask task : {SegTask::cel, SegTask::douga}) {
    static EvalArgs args[2];
    EvalArgs& a = args[int(task)];
    auto* cmd = eval->add_subcommand(data::seg_task_name(task), std::string("evaluate a ") + data::seg_task_name(task) + " model");
    add_model_options(cmd, a);
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
    cmd->callback([&action, &a, task] { action = [&a, task] { return run_eval(task, a); }; });
  }
}

void add_infer(CLI::App& app, Action& action) {
  auto* infer = app.add_subcommand("infer", "class maps for PNG frames of any size");
  infer->require_subcommand(1);
  for (SegTask task : {SegTask::cel, SegTask::douga}) {
    static InferArgs args[2];
    InferArgs& a = args[int(task)];
    auto* cmd = infer->add_subcommand(data::seg_task_name(task), task == SegTask::cel ? "write NAME.cel.png masks"
                                                                                 : "write NAME.douga.png palette images");
    add_model_options(cmd, a);
    cmd->add_option("--input", a.inputs, "PNG frames")->required()->check(CLI::ExistingFile);
    cmd->add_option("--out", a.out, "output folder")->required();
    cmd->add_flag("--postprocess", a.postprocess, "thinning, dilation and component averaging (douga)");
    cmd->add_flag("--save-logits", a.save_logits, "also write NAME.logits.safetensors (1, C, H, W) f32");
    cmd->callback([&action, &a, task] { action = [&a, task] { return run_infer(task, a); }; });
  }
}

}  // namespace sakuga::app
