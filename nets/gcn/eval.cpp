#include "nets/gcn/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "data/gcn/douga.h"
#include "data/gcn/postprocess.h"
#include "data/gcn/synth.h"
#include "data/metrics.h"
#include "data/png.h"
#include "kernels/log.h"
#include "nets/gcn/inference.h"
#include "nets/harness/run_files.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::gcn {

namespace fs = std::filesystem;
using data::SegTask;

namespace {

LoadedModel load(SegTask task, const ModelSource& m) {
  return load_model(task, m.ckpt, m.config_files, m.sets, Device::parse(m.device));
}

// (1, C, H, W) logits → (H, W) i32 class map on the CPU, post-processed on request (douga).
Tensor classes_of(SegTask task, const Tensor& logits, bool postprocess) {
  NoGradGuard ng;
  if (postprocess) return data::douga_postprocess(ops::select(ops::softmax(logits, 1), 0, 0)).to(Device::cpu());
  return ops::select(predict_classes(task, logits), 0, 0).to(Device::cpu());
}

void print_metrics(const char* title, const data::ConfusionMatrix& cm, SegTask task) {
  fmt::print("\n== {} ==\n{}", title, cm.table(class_names(task)));
  fmt::print("pixel accuracy {:.4f}   mean IoU {:.4f}\n", cm.pixel_accuracy(), cm.mean_iou());
  if (task == SegTask::douga) fmt::print("\n{}", cm.lines_vs_areas_table());
}

}  // namespace

int run_eval(SegTask task, const EvalOptions& a) {
  SAKUGA_CHECK(!a.postprocess || task == SegTask::douga, "--postprocess: post-processing is defined for douga only");
  SAKUGA_CHECK(a.data_dir.empty() != (a.synthetic == 0), "eval: give exactly one of --data DIR or --synthetic N");
  LoadedModel m = load(task, a.model);
  const Device dev = Device::parse(a.model.device);
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
  harness::Progress progress("eval", 0, int64_t(items.size()), "frame");
  for (size_t k = 0; k < items.size(); ++k) {
    data::SegSample s = ds ? ds->load(items[k])
                           : data::synth_sample(data::synth_sample_seed(a.seed, int64_t(items[k])), a.size[0], a.size[1]);
    Tensor frame = ops::unsqueeze(s.frame, 0).to(dev);
    Tensor mask = s.mask.defined() ? ops::unsqueeze(s.mask, 0).to(dev) : Tensor();
    Tensor logits = predict_logits(*m.net, variant_input(m, frame, mask));
    Tensor target = task == SegTask::cel ? ops::squeeze(s.mask, 0).to(DType::i32) : s.douga;
    raw.add(classes_of(task, logits, false), target);
    if (a.postprocess) post.add(classes_of(task, logits, true), target);
    for (int32_t v : target.contiguous().to_vector_i32()) ++truth[size_t(v)];
    progress.update(int64_t(k + 1));
  }
  progress.finish();

  // The trivial baseline: every pixel gets the most frequent class of the target.
  const int majority = int(std::max_element(truth.begin(), truth.end()) - truth.begin());
  data::ConfusionMatrix base(C);
  for (int c = 0; c < C; ++c)  // each class's pixels as one block (only the counts matter)
    if (truth[size_t(c)] > 0)
      base.add(Tensor::full({truth[size_t(c)]}, majority, DType::i32), Tensor::full({truth[size_t(c)]}, c, DType::i32));

  fmt::print("{}: {} frames, checkpoint {}\n", data::seg_task_name(task), items.size(), a.model.ckpt);
  print_metrics("network output (argmax)", raw, task);
  if (a.postprocess) print_metrics("post-processed (thinning, dilation, component averaging)", post, task);
  fmt::print("\nmajority-class baseline (always '{}'): pixel accuracy {:.4f}, mean IoU {:.4f}\n",
             class_names(task)[size_t(majority)], base.pixel_accuracy(), base.mean_iou());

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
    j["checkpoint"] = a.model.ckpt;
    harness::write_file_atomic(a.json_file, j.dump(2) + "\n");
  }
  return 0;
}

int run_infer(SegTask task, const InferOptions& a) {
  SAKUGA_CHECK(!a.postprocess || task == SegTask::douga, "--postprocess: post-processing is defined for douga only");
  LoadedModel m = load(task, a.model);
  const Device dev = Device::parse(a.model.device);
  SAKUGA_CHECK(m.variant != "manual-cel", "infer: the model was trained with variant manual-cel, which needs a "
                                         "hand-made cel mask per frame; use sakuga eval with a dataset instead");
  fs::create_directories(a.out);
  harness::Progress progress("infer", 0, int64_t(a.inputs.size()), "frame");
  for (size_t k = 0; k < a.inputs.size(); ++k) {
    const std::string& path = a.inputs[k];
    Tensor frame = ops::unsqueeze(data::read_png_tensor(path, 3), 0).to(dev);
    Tensor logits = predict_logits(*m.net, variant_input(m, frame, Tensor()));
    const std::string stem = a.out + "/" + fs::path(path).stem().string();
    Tensor classes = classes_of(task, logits, a.postprocess);
    if (task == SegTask::douga) {
      data::write_douga_png(stem + ".douga.png", classes);
    } else {
      data::write_png_tensor(stem + ".cel.png", ops::unsqueeze(classes.to(DType::f32), 0));
    }
    if (a.save_logits) io::save_safetensors(stem + ".logits.safetensors", {{"logits", logits.to(DType::f32)}});
    progress.update(int64_t(k + 1));
  }
  progress.finish();
  log::info("infer: wrote {} {} map(s) to {}", a.inputs.size(), data::seg_task_name(task), a.out);
  return 0;
}

}  // namespace sakuga::gcn
