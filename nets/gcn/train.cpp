// GCN training (gcn.md "Training"): one loop for both tasks.
//   batch(step) → [variant input] → GcnNet → segmentation loss (+ adversarial term) → Adam
// Batches are a pure function of (seed, step): the prefetch thread builds them ahead and a
// resumed run sees exactly the batches an uninterrupted one would.
#include "nets/gcn/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <numeric>
#include <thread>
#include <tuple>

#include "data/gcn/augment.h"
#include "data/gcn/douga.h"
#include "data/metrics.h"
#include "data/png.h"
#include "data/gcn/synth.h"
#include "kernels/device.h"
#include "kernels/philox.h"
#include "losses/segmentation.h"
#include "nets/gcn/discriminator.h"
#include "nets/resnet/resnet.h"
#include "nets/runner.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "tensor/ops.h"

namespace sakuga::gcn {

namespace fs = std::filesystem;
using data::SegSample;
using data::SegTask;

// ---- config -----------------------------------------------------------------------------------

Json default_config(SegTask task) {
  const bool cel = task == SegTask::cel;
  Json j = Json::parse(R"({
    "model": {"task": "douga", "backbone": "resnet18", "k": 7, "classes": 10, "in_channels": 3,
              "dropout": 0.0, "pretrained": ""},
    "loss": {"kind": "focal", "gamma": 2.0, "alpha": -1.0, "class_weights": [],
             "adversarial": {"enabled": false, "weight": 0.01, "encoding": "softmax", "lr": 0.0001,
                             "optimizer": "adam", "depth": 34}},
    "variant": {"kind": "color", "cel_ckpt": ""},
    "data": {"dir": "", "synthetic": true, "size": [96, 96], "batch": 4, "val_fraction": 0.1,
             "val_count": 24, "skip_bad": false, "workers": 0, "prefetch": 2},
    "augment": {"brightness": false, "brightness_std": 0.25, "contrast": false, "contrast_std": 0.5,
                "hue": false, "hue_std_deg": 45.0, "scale": false, "scale_min": 0.5, "scale_max": 2.0,
                "rotate": false, "rotate_deg": 10.0, "flip": true, "flip_p": 0.5,
                "background": false, "texture": false, "erase": false, "erase_max": 0.5},
    "train": {"steps": 2000, "lr": 0.001, "lr_end": 0.0001, "seed": 0, "clip_grad_norm": 0.0,
              "log_every": 10, "eval_every": 250, "checkpoint_every": 250, "samples": 4,
              "early_stop": 0}
  })");
  // The synthetic stream never repeats a frame, so the demo needs no augmentation to generalise
  // and learns faster without it (measured: mean IoU 0.27 vs 0.18 after 500 steps); the thesis
  // configs switch the §4.2 augmentations on. Class weights: 1/sqrt(frequency of the class in
  // synthetic 96×96 frames), mean 1 — the 1-px line classes are < 1 % of the pixels (measured:
  // mean IoU 0.41 vs 0.37 unweighted after 1000 steps).
  if (cel) {
    j["model"]["task"] = "cel";
    j["model"]["classes"] = 1;
  } else {
    j["loss"]["class_weights"] = {0.12, 0.54, 1.40, 1.35, 1.92, 1.44, 0.54, 0.54, 1.68, 0.47};
  }
  return j;
}

namespace {

int parse_backbone(const std::string& s) {
  for (int d : {18, 34, 50, 101})
    if (s == "resnet" + std::to_string(d)) return d;
  SAKUGA_FAIL("config model.backbone: expected resnet18, resnet34, resnet50 or resnet101, got '", s, "'");
}

std::string task_key(const Config& cfg) { return cfg.get<std::string>("model.task"); }

}  // namespace

GcnConfig model_config(SegTask task, const Config& cfg) {
  SAKUGA_CHECK(task_key(cfg) == data::seg_task_name(task), "config model.task is '", task_key(cfg),
               "' but the command is for '", data::seg_task_name(task), "'");
  GcnConfig m;
  m.backbone = parse_backbone(cfg.get<std::string>("model.backbone"));
  m.classes = cfg.get<int64_t>("model.classes");
  m.k = cfg.get<int>("model.k");
  m.in_channels = cfg.get<int>("model.in_channels");
  m.dropout = cfg.get<double>("model.dropout");
  const int64_t want_classes = task == SegTask::cel ? 1 : data::kDougaClasses;
  SAKUGA_CHECK(m.classes == want_classes, "config model.classes: the ", data::seg_task_name(task), " task has ",
               want_classes, " output channel(s), got ", m.classes);
  SAKUGA_CHECK(m.k >= 1 && m.k % 2 == 1, "config model.k: expected an odd kernel size >= 1, got ", m.k);
  SAKUGA_CHECK(m.dropout >= 0 && m.dropout < 1, "config model.dropout: expected [0, 1), got ", m.dropout);
  const std::string variant = cfg.get<std::string>("variant.kind");
  const int want_cin = variant == "concatenated" ? 4 : 3;
  SAKUGA_CHECK(m.in_channels == want_cin, "config model.in_channels: variant '", variant, "' needs ", want_cin,
               " input channels, got ", m.in_channels);
  return m;
}

// ---- models from checkpoints ------------------------------------------------------------------

namespace {

void check_variant(SegTask task, const std::string& v, const std::string& cel_ckpt) {
  SAKUGA_CHECK(v == "color" || v == "synthetic-cel" || v == "concatenated" || v == "manual-cel",
               "config variant.kind: expected color, synthetic-cel, concatenated or manual-cel, got '", v, "'");
  SAKUGA_CHECK(task == SegTask::douga || v == "color", "config variant.kind: the cel task has no variants (got '", v,
               "')");
  if (v == "synthetic-cel" || v == "concatenated")
    SAKUGA_CHECK(!cel_ckpt.empty(), "config variant.cel_ckpt: variant '", v,
                 "' needs a trained cel model checkpoint (sakuga train cel ...)");
}

// Copies the weights of `file` into `net`: the model's keys only (optimizer state "optim." and
// the discriminator "disc." stay behind). Errors list every missing / mis-shaped tensor.
void load_weights(nn::Module& net, const io::SafetensorsFile& file, const std::string& path) {
  nn::StateDict sd;
  for (const auto& [k, v] : file.tensors)
    if (k.rfind("optim.", 0) != 0 && k.rfind("disc.", 0) != 0) sd[k] = v;
  try {
    net.load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(path, ": ", e.what());
  }
}

}  // namespace

LoadedModel load_model(SegTask task, const std::string& ckpt, const Config& fallback, Device dev) {
  io::SafetensorsFile file = io::load_safetensors(ckpt);
  LoadedModel m;
  m.cfg = fallback;
  auto it = file.metadata.find("config");
  if (it != file.metadata.end()) {
    Json saved;
    try {
      saved = Json::parse(it->second);
    } catch (const std::exception& e) {
      SAKUGA_FAIL(ckpt, ": metadata 'config' is not valid JSON (", e.what(), ")");
    }
    Config c(default_config(task));
    c.merge(saved, ckpt + " (metadata config)");
    // Overrides the caller resolved on top of the defaults (--config/--set) still win where they
    // differ from the defaults.
    Config d(default_config(task));
    for (auto& [section, obj] : fallback.json().items())
      if (obj.is_object())
        for (auto& [key, val] : obj.items())
          if (d.json().at(section).at(key) != val) c.merge(Json{{section, {{key, val}}}}, "--set/--config");
    m.cfg = c;
  }
  try {
    m.net = std::make_shared<GcnNet>(model_config(task, m.cfg));
  } catch (const Error& e) {
    SAKUGA_FAIL(ckpt, ": ", e.what());
  }
  load_weights(*m.net, file, ckpt);
  m.net->to(dev);
  m.net->eval();
  m.variant = m.cfg.get<std::string>("variant.kind");
  const std::string cel_ckpt = m.cfg.get<std::string>("variant.cel_ckpt");
  check_variant(task, m.variant, cel_ckpt);
  if (m.variant == "synthetic-cel" || m.variant == "concatenated") {
    LoadedModel cel = load_model(SegTask::cel, cel_ckpt, Config(default_config(SegTask::cel)), dev);
    m.cel_net = cel.net;
  }
  return m;
}

Tensor predict_logits(GcnNet& net, const Tensor& input) {
  NoGradGuard ng;
  const int64_t H = input.size(2), W = input.size(3);
  if (H >= 64 && W >= 64) return net(input);
  const int64_t ph = std::max<int64_t>(0, 64 - H), pw = std::max<int64_t>(0, 64 - W);
  Tensor padded = ops::pad(input, {0, pw, 0, ph});
  return ops::slice(ops::slice(net(padded), 2, 0, H), 3, 0, W).contiguous();
}

namespace {

// (N, 1, H, W) cel logits → (N, H, W) i32: 1 where the logit is > 0 (σ > 0.5), else 0.
Tensor cel_classes(const Tensor& logits) {
  NoGradGuard ng;
  Tensor zeros = Tensor::zeros(logits.shape(), logits.dtype(), logits.device());
  return ops::argmax(ops::concat({zeros, logits}, 1), 1);  // ties (logit 0) → 0
}

// Cel mask (N, 1, H, W) f32 in {0, 1} predicted by a cel network.
Tensor predicted_mask(GcnNet& cel, const Tensor& frame) {
  NoGradGuard ng;
  return ops::unsqueeze(cel_classes(predict_logits(cel, frame)), 1).to(DType::f32);
}

// The network input for `variant` (frame (N,3,H,W); mask (N,1,H,W) from the dataset or undefined).
Tensor make_input(const std::string& variant, GcnNet* cel_net, const Tensor& frame, const Tensor& mask) {
  if (variant == "color") return frame;
  if (variant == "manual-cel") {
    SAKUGA_CHECK(mask.defined(), "variant manual-cel: the data has no cel masks (masks/NAME.png)");
    return frame * mask;
  }
  Tensor m = predicted_mask(*cel_net, frame);
  if (variant == "synthetic-cel") return frame * m;
  return ops::concat({frame, m}, 1);  // concatenated
}

}  // namespace

Tensor variant_input(const LoadedModel& m, const Tensor& frame, const Tensor& mask) {
  return make_input(m.variant, m.cel_net.get(), frame, mask);
}

Tensor predict_classes(SegTask task, const Tensor& logits) {
  NoGradGuard ng;
  if (task == SegTask::cel) return cel_classes(logits);
  return ops::argmax(logits, 1);
}

std::vector<std::string> class_names(SegTask task) {
  if (task == SegTask::cel) return {"background", "cel"};
  std::vector<std::string> n;
  for (const char* s : data::douga_class_names()) n.push_back(s);
  return n;
}

// ---- data ---------------------------------------------------------------------------------------

namespace {

struct Batch {
  Tensor frame;  // (N, 3, H, W)
  Tensor mask;   // (N, 1, H, W) or undefined
  Tensor douga;  // (N, H, W) i32 or undefined
};

Batch collate(const std::vector<SegSample>& s) {
  std::vector<Tensor> frames, masks, dougas;
  for (const SegSample& x : s) {
    frames.push_back(x.frame);
    if (x.mask.defined()) masks.push_back(x.mask);
    if (x.douga.defined()) dougas.push_back(x.douga);
  }
  NoGradGuard ng;
  Batch b;
  b.frame = ops::stack(frames, 0);
  if (masks.size() == s.size()) b.mask = ops::stack(masks, 0);
  if (dougas.size() == s.size()) b.douga = ops::stack(dougas, 0);
  return b;
}

// loss.* keys; an empty class-weight list for wce is filled by the caller.
losses::SegLossConfig loss_config(const Config& cfg) {
  losses::SegLossConfig c;
  c.kind = cfg.get<std::string>("loss.kind");
  c.gamma = cfg.get<double>("loss.gamma");
  c.alpha = cfg.get<double>("loss.alpha");
  c.class_weights = cfg.get<std::vector<double>>("loss.class_weights");
  return c;
}

data::AugmentConfig augment_config(const Config& cfg) {
  data::AugmentConfig a;
  a.brightness = cfg.get<bool>("augment.brightness");
  a.brightness_std = cfg.get<double>("augment.brightness_std");
  a.contrast = cfg.get<bool>("augment.contrast");
  a.contrast_std = cfg.get<double>("augment.contrast_std");
  a.hue = cfg.get<bool>("augment.hue");
  a.hue_std_deg = cfg.get<double>("augment.hue_std_deg");
  a.scale = cfg.get<bool>("augment.scale");
  a.scale_min = cfg.get<double>("augment.scale_min");
  a.scale_max = cfg.get<double>("augment.scale_max");
  a.rotate = cfg.get<bool>("augment.rotate");
  a.rotate_deg = cfg.get<double>("augment.rotate_deg");
  a.flip = cfg.get<bool>("augment.flip");
  a.flip_p = cfg.get<double>("augment.flip_p");
  a.background = cfg.get<bool>("augment.background");
  a.texture = cfg.get<bool>("augment.texture");
  a.erase = cfg.get<bool>("augment.erase");
  a.erase_max = cfg.get<double>("augment.erase_max");
  data::validate(a);
  return a;
}

// Where training and validation samples come from: the synthetic stream, or a folder dataset
// with its hash split. Thread-safe (the prefetch workers call sample() concurrently).
class SampleSource {
 public:
  SampleSource(SegTask task, const Config& cfg, const std::string& data_dir, bool synthetic, bool quiet)
      : task_(task), synthetic_(synthetic), seed_(cfg.get<uint64_t>("train.seed")) {
    auto size = cfg.get<std::vector<int64_t>>("data.size");
    SAKUGA_CHECK(size.size() == 2 && size[0] >= 64 && size[1] >= 64,
                 "config data.size: expected [H, W] with H, W >= 64, got ", cfg.at("data.size").dump());
    h_ = size[0];
    w_ = size[1];
    batch_ = cfg.get<int64_t>("data.batch");
    SAKUGA_CHECK(batch_ >= 1, "config data.batch: expected >= 1, got ", batch_);
    if (synthetic_) {
      val_count_ = cfg.get<int64_t>("data.val_count");
      SAKUGA_CHECK(val_count_ >= 0, "config data.val_count: expected >= 0, got ", val_count_);
      return;
    }
    SAKUGA_CHECK(!data_dir.empty(), "no training data: give --data DIR (or set data.dir), or use --synthetic");
    data::SegDatasetOptions o;
    o.skip_bad = cfg.get<bool>("data.skip_bad");
    o.require_masks = cfg.get<std::string>("variant.kind") == "manual-cel";
    dataset_ = std::make_unique<data::SegDataset>(data_dir, task, o);
    const double frac = cfg.get<double>("data.val_fraction");
    SAKUGA_CHECK(frac >= 0 && frac < 1, "config data.val_fraction: expected [0, 1), got ", frac);
    train_ = dataset_->split(false, frac);
    val_ = dataset_->split(true, frac);
    SAKUGA_CHECK(!train_.empty(), data_dir, ": no training frames after the validation split (", dataset_->size(),
                 " frames, data.val_fraction ", frac, ")");
    for (const auto& f : dataset_->background_files()) sources_.backgrounds.push_back(data::read_png_tensor(f, 3));
    for (const auto& f : dataset_->texture_files()) sources_.textures.push_back(data::read_png_tensor(f, 1));
    if (!quiet)
      std::fprintf(stderr, "%s: %zu training / %zu validation frames%s, %zu backgrounds, %zu textures\n",
                   data_dir.c_str(), train_.size(), val_.size(),
                   dataset_->skipped() ? (" (" + std::to_string(dataset_->skipped()) + " bad pairs skipped)").c_str() : "",
                   sources_.backgrounds.size(), sources_.textures.size());
  }

  int64_t height() const { return h_; }
  int64_t width() const { return w_; }
  int64_t batch() const { return batch_; }
  const data::AugmentSources& sources() const { return sources_; }

  // The b-th raw (unaugmented) training sample of `step`.
  SegSample train_sample(int64_t step, int64_t b) {
    const int64_t i = step * batch_ + b;
    if (synthetic_) return data::synth_sample(data::synth_sample_seed(seed_, i), h_, w_);
    const int64_t n = int64_t(train_.size());
    return dataset_->load(train_index(i / n, size_t(i % n)));
  }

  size_t val_size() const { return synthetic_ ? size_t(val_count_) : val_.size(); }
  // Validation samples come from a different seed than any training sample.
  SegSample val_sample(size_t i) const {
    if (synthetic_) return data::synth_sample(data::synth_sample_seed(seed_ ^ 0x76616C6964ull, int64_t(i)), h_, w_);
    return dataset_->load(val_[i]);
  }

  // Pixel counts per class over a few training samples (for wce weights).
  std::vector<int64_t> class_counts(int classes, int samples) {
    std::vector<int64_t> counts(size_t(classes), 0);
    for (int s = 0; s < samples; ++s) {
      SegSample x = train_sample(0, s);
      Tensor labels = task_ == SegTask::cel ? x.mask.to(DType::i32) : x.douga;
      for (int32_t v : labels.contiguous().to_vector_i32())
        if (v >= 0 && v < classes) ++counts[size_t(v)];
    }
    return counts;
  }

 private:
  // The pos-th training index in the order of `epoch`: sorted by Philox keys of (seed, epoch).
  // Read under the lock: the workers of a batch that straddles two epochs ask for both.
  size_t train_index(int64_t epoch, size_t pos) {
    std::lock_guard<std::mutex> l(mu_);
    if (epoch != order_epoch_) {
      std::vector<uint32_t> key(train_.size());
      const uint64_t ks = seed_ * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1;
      for (size_t i = 0; i < key.size(); ++i) key[i] = philox::word(ks, i);
      std::vector<size_t> pos(train_.size());
      std::iota(pos.begin(), pos.end(), size_t(0));
      std::sort(pos.begin(), pos.end(), [&](size_t a, size_t b) { return key[a] != key[b] ? key[a] < key[b] : a < b; });
      order_.resize(pos.size());
      for (size_t i = 0; i < pos.size(); ++i) order_[i] = train_[pos[i]];
      order_epoch_ = epoch;
    }
    return order_[pos];
  }

  SegTask task_;
  bool synthetic_;
  uint64_t seed_;
  int64_t h_ = 0, w_ = 0, batch_ = 1, val_count_ = 0;
  std::unique_ptr<data::SegDataset> dataset_;
  std::vector<size_t> train_, val_;
  data::AugmentSources sources_;
  std::mutex mu_;
  int64_t order_epoch_ = -1;
  std::vector<size_t> order_;
};

// The augmented batch of `step`: samples built on up to `workers` threads (order-independent:
// each sample's randomness is keyed by (seed, step, index)).
Batch make_batch(SampleSource& src, const data::AugmentConfig& aug, uint64_t seed, int64_t step, int workers) {
  const int64_t n = src.batch();
  std::vector<SegSample> samples(static_cast<size_t>(n), SegSample{});
  auto one = [&](int64_t b) {
    SegSample raw = src.train_sample(step, b);
    const uint64_t s = data::synth_sample_seed(seed ^ 0x6175676Dull, step * n + b);
    samples[size_t(b)] = data::augment(raw, aug, src.height(), src.width(), s, src.sources());
  };
  if (workers <= 1 || n == 1) {
    for (int64_t b = 0; b < n; ++b) one(b);
  } else {
    std::vector<std::future<void>> jobs;
    for (int64_t b = 0; b < n; ++b) jobs.push_back(std::async(std::launch::async, one, b));
    for (auto& j : jobs) j.get();  // rethrows the first failure
  }
  return collate(samples);
}

// ---- evaluation and samples --------------------------------------------------------------------

// (3, H, W) RGB picture of a class map (H, W): palette (douga) or black/white (cel).
Tensor picture(SegTask task, const Tensor& classes) {
  if (task == SegTask::douga) return data::douga_to_rgb(classes.to(Device::cpu()));
  Tensor g = ops::unsqueeze(classes.to(Device::cpu()).to(DType::f32), 0);
  return ops::concat({g, g, g}, 0);
}

struct EvalResult {
  double loss = NAN;
  data::ConfusionMatrix cm{1};
  std::vector<Tensor> rows;  // sample-sheet rows (3, H, 3W)
};

// Pixel accuracy and mean IoU of the trivial model that predicts the target's most frequent
// class everywhere: what "learns" has to beat.
std::pair<double, double> majority_baseline(const data::ConfusionMatrix& cm) {
  std::vector<int64_t> truth(size_t(cm.classes()), 0);
  for (int t = 0; t < cm.classes(); ++t)
    for (int p = 0; p < cm.classes(); ++p) truth[size_t(t)] += cm.count(t, p);
  const int64_t total = cm.total();
  if (total == 0) return {NAN, NAN};
  const int64_t majority = *std::max_element(truth.begin(), truth.end());
  const auto present = std::count_if(truth.begin(), truth.end(), [](int64_t n) { return n > 0; });
  const double acc = double(majority) / double(total);
  return {acc, acc / double(present)};  // IoU(majority) = its share; every other present class 0
}

Tensor target_of(SegTask task, const Batch& b) { return task == SegTask::cel ? b.mask : b.douga; }

}  // namespace

namespace {

class Trainer {
 public:
  Trainer(SegTask task, const Config& cfg, const TrainOptions& opt);
  TrainResult run();

 private:
  // One batch on the device through the variant, the network and the loss (+ the adversarial
  // generator term in training mode).
  struct Forward {
    Tensor input, target, logits, loss;
    Tensor g_adv;  // the adversarial generator loss, undefined when off
  };
  Forward forward(const Batch& b);
  EvalResult evaluate(int samples);
  void checkpoint(int64_t step);
  void load_checkpoint();

  SegTask task_;
  const Config& cfg_;
  TrainOptions opt_;
  Device dev_;
  RunDir run_;
  int64_t total_ = 0, step_ = 0;
  uint64_t seed_ = 0;
  std::string variant_;
  std::unique_ptr<SampleSource> src_;
  data::AugmentConfig aug_;
  losses::SegLossConfig loss_cfg_;
  std::shared_ptr<GcnNet> net_;
  std::shared_ptr<GcnNet> cel_net_;
  Generator dropout_rng_{0};
  std::unique_ptr<optim::Optimizer> opt_g_;
  optim::Schedule schedule_;
  // adversarial term
  bool adversarial_ = false;
  double adv_weight_ = 0;
  DougaEncoding encoding_ = DougaEncoding::softmax;
  std::shared_ptr<Discriminator> disc_;
  std::unique_ptr<optim::Optimizer> opt_d_;
  // early stopping
  double best_val_loss_ = INFINITY;
  int64_t bad_evals_ = 0;
};

Trainer::Trainer(SegTask task, const Config& cfg, const TrainOptions& opt)
    : task_(task), cfg_(cfg), opt_(opt), dev_(Device::parse(opt.device)), run_(opt.out) {
  GcnConfig mc = model_config(task, cfg);
  variant_ = cfg.get<std::string>("variant.kind");
  check_variant(task, variant_, cfg.get<std::string>("variant.cel_ckpt"));
  seed_ = cfg.get<uint64_t>("train.seed");
  total_ = cfg.get<int64_t>("train.steps");
  SAKUGA_CHECK(total_ >= 1, "config train.steps: expected >= 1, got ", total_);

  src_ = std::make_unique<SampleSource>(task, cfg, cfg.get<std::string>("data.dir"), cfg.get<bool>("data.synthetic"),
                                        opt.quiet);
  aug_ = augment_config(cfg);
  SAKUGA_CHECK(!aug_.background || task == SegTask::cel,
               "config augment.background: background replacement is for the cel task (douga labels of a replaced "
               "background would be wrong)");

  loss_cfg_ = loss_config(cfg);
  if (loss_cfg_.kind == "wce" && loss_cfg_.class_weights.empty()) {
    auto counts = src_->class_counts(int(mc.classes), 16);
    loss_cfg_.class_weights = losses::inverse_frequency_weights(counts);
    if (!opt.quiet) {
      std::fprintf(stderr, "wce: class weights from 16 training samples:");
      for (double w : loss_cfg_.class_weights) std::fprintf(stderr, " %.3g", w);
      std::fprintf(stderr, "\n");
    }
  }
  losses::validate(loss_cfg_, mc.classes);

  manual_seed(seed_);  // parameter initialisation
  net_ = std::make_shared<GcnNet>(mc);
  const std::string pretrained = cfg.get<std::string>("model.pretrained");
  if (!pretrained.empty()) resnet::load_torchvision_weights(*net_->backbone, pretrained);
  net_->to(dev_);
  dropout_rng_ = Generator(seed_ + 1);
  net_->set_generator(&dropout_rng_);
  if (variant_ == "synthetic-cel" || variant_ == "concatenated")
    cel_net_ = load_model(SegTask::cel, cfg.get<std::string>("variant.cel_ckpt"), Config(default_config(SegTask::cel)),
                          dev_)
                   .net;

  optim::AdamOptions ao;  // thesis §4.6: β 0.9 / 0.999, ε 1e-8
  ao.lr = cfg.get<double>("train.lr");
  opt_g_ = std::make_unique<optim::Adam>(net_->named_parameters(), ao);
  schedule_ = optim::Schedule::linear(ao.lr, cfg.get<double>("train.lr_end"), total_);

  adversarial_ = cfg.get<bool>("loss.adversarial.enabled");
  if (adversarial_) {
    SAKUGA_CHECK(task == SegTask::douga, "config loss.adversarial.enabled: the adversarial term is for douga");
    adv_weight_ = cfg.get<double>("loss.adversarial.weight");
    encoding_ = parse_douga_encoding(cfg.get<std::string>("loss.adversarial.encoding"));
    disc_ = std::make_shared<Discriminator>(encoding_channels(encoding_), cfg.get<int>("loss.adversarial.depth"));
    disc_->to(dev_);
    const std::string kind = cfg.get<std::string>("loss.adversarial.optimizer");
    const double dlr = cfg.get<double>("loss.adversarial.lr");
    if (kind == "adam") {
      optim::AdamOptions d;
      d.lr = dlr;
      opt_d_ = std::make_unique<optim::Adam>(disc_->named_parameters(), d);
    } else if (kind == "rmsprop") {
      optim::RmspropOptions d;
      d.lr = dlr;
      opt_d_ = std::make_unique<optim::RMSprop>(disc_->named_parameters(), d);
    } else {
      SAKUGA_FAIL("config loss.adversarial.optimizer: expected adam or rmsprop, got '", kind, "'");
    }
  }
  if (opt.resume) load_checkpoint();
}

void Trainer::load_checkpoint() {
  const std::string path = run_.last_checkpoint();
  SAKUGA_CHECK(fs::exists(path), "--resume: no checkpoint at ", path);
  io::SafetensorsFile ck = io::load_safetensors(path);
  load_weights(*net_, ck, path);
  std::map<std::string, Tensor> g_state, d_state, d_weights;
  for (const auto& [k, v] : ck.tensors) {
    if (k.rfind("optim.D.", 0) == 0) d_state[k] = v;
    else if (k.rfind("optim.", 0) == 0) g_state[k] = v;
    else if (k.rfind("disc.", 0) == 0) d_weights[k.substr(5)] = v;
  }
  opt_g_->load_state_dict(g_state, "optim.");
  if (adversarial_) {
    SAKUGA_CHECK(!d_weights.empty(), path, ": the run has loss.adversarial.enabled but the checkpoint has no "
                                           "discriminator (disc.*)");
    disc_->load_state_dict(d_weights, true);
    opt_d_->load_state_dict(d_state, "optim.D.");
  }
  auto meta = [&](const char* key) {
    auto it = ck.metadata.find(key);
    SAKUGA_CHECK(it != ck.metadata.end(), path, ": metadata '", key, "' missing");
    return it->second;
  };
  try {
    step_ = std::stoll(meta("step"));
    dropout_rng_.offset = std::stoull(meta("dropout_rng_offset"));
    best_val_loss_ = std::stod(meta("best_val_loss"));
    bad_evals_ = std::stoll(meta("bad_evals"));
  } catch (const std::logic_error&) {
    SAKUGA_FAIL(path, ": malformed numeric metadata (step / dropout_rng_offset / best_val_loss / bad_evals)");
  }
  SAKUGA_CHECK(step_ >= 0 && step_ <= total_, path, ": checkpoint step ", step_, " is outside the run's ", total_,
               " steps");
}

void Trainer::checkpoint(int64_t step) {
  CheckpointParts parts;
  parts.model = net_.get();
  parts.optimizers = {{opt_g_.get(), "optim."}};
  if (adversarial_) {
    parts.optimizers.push_back({opt_d_.get(), "optim.D."});
    parts.extra_modules.push_back({disc_.get(), "disc."});
  }
  char best[64];
  std::snprintf(best, sizeof best, "%.17g", best_val_loss_);
  parts.metadata = {{"config", cfg_.json().dump()},
                    {"dropout_rng_offset", std::to_string(dropout_rng_.offset)},
                    {"best_val_loss", best},
                    {"bad_evals", std::to_string(bad_evals_)}};
  save_checkpoint(run_, step, parts);
}

Trainer::Forward Trainer::forward(const Batch& b) {
  Forward f;
  Tensor frame = b.frame.to(dev_);
  Tensor mask = b.mask.defined() ? b.mask.to(dev_) : Tensor();
  f.target = target_of(task_, b).to(dev_);
  f.input = make_input(variant_, cel_net_.get(), frame, mask);
  f.logits = (*net_)(f.input);
  f.loss = losses::segmentation_loss(loss_cfg_, f.logits, f.target);
  if (adversarial_ && net_->is_training()) {
    disc_->set_requires_grad(false);  // the generator step must not touch D
    f.g_adv = losses::gan_g_loss((*disc_)(encode_generated(encoding_, f.logits)));
    disc_->set_requires_grad(true);
    f.loss = f.loss + f.g_adv * adv_weight_;
  }
  return f;
}

EvalResult Trainer::evaluate(int samples) {
  NoGradGuard ng;
  net_->eval();
  EvalResult r;
  r.cm = data::ConfusionMatrix(task_ == SegTask::cel ? 2 : data::kDougaClasses);
  double loss_sum = 0;
  size_t count = 0;
  const size_t n = src_->val_size();
  for (size_t i = 0; i < n; ++i) {
    SegSample s = src_->val_sample(i);
    const int64_t h = s.frame.size(1), w = s.frame.size(2);
    if (h < 64 || w < 64) s = data::fit_to_size(s, std::max<int64_t>(h, 64), std::max<int64_t>(w, 64));
    Batch b = collate({s});
    Forward f = forward(b);
    loss_sum += f.loss.item();
    ++count;
    Tensor pred = predict_classes(task_, f.logits);
    Tensor target = task_ == SegTask::cel ? ops::squeeze(b.mask, 1).to(DType::i32) : b.douga;
    r.cm.add(pred.to(Device::cpu()), target);
    if (int(i) < samples) {
      Tensor row = ops::concat({s.frame, picture(task_, ops::select(pred, 0, 0)), picture(task_, ops::select(target, 0, 0))}, 2);
      r.rows.push_back(row);
    }
  }
  r.loss = count ? loss_sum / double(count) : NAN;
  net_->train();
  return r;
}

TrainResult Trainer::run() {
  write_file_atomic(run_.config(), cfg_.dump() + "\n");
  MetricsLog metrics(run_.metrics(), opt_.resume ? step_ : -1);
  if (!opt_.quiet) {
    std::fprintf(stderr, "%s: GCN %s k=%d, %lld parameters, %s, %s data %lldx%lld batch %lld, %lld steps%s\n",
                 data::seg_task_name(task_), cfg_.get<std::string>("model.backbone").c_str(), net_->config.k,
                 static_cast<long long>(net_->num_parameters()), dev_.str().c_str(),
                 cfg_.get<bool>("data.synthetic") ? "synthetic" : "folder", static_cast<long long>(src_->height()),
                 static_cast<long long>(src_->width()), static_cast<long long>(src_->batch()),
                 static_cast<long long>(total_),
                 opt_.resume ? (" (resuming at step " + std::to_string(step_) + ")").c_str() : "");
  }
  TrainResult result;
  result.first_step = step_;
  double baseline_acc = NAN, baseline_miou = NAN;
  const int64_t end = opt_.stop_after >= 0 ? std::min(total_, opt_.stop_after) : total_;
  const int64_t log_every = std::max<int64_t>(1, cfg_.get<int64_t>("train.log_every"));
  const int64_t eval_every = cfg_.get<int64_t>("train.eval_every");
  const int64_t ckpt_every = cfg_.get<int64_t>("train.checkpoint_every");
  const int64_t patience = cfg_.get<int64_t>("train.early_stop");
  const int samples = cfg_.get<int>("train.samples");
  const double clip = cfg_.get<double>("train.clip_grad_norm");
  int workers = cfg_.get<int>("data.workers");
  if (workers <= 0) workers = int(std::min<int64_t>(src_->batch(), std::max(1u, std::thread::hardware_concurrency())));
  const size_t prefetch = size_t(std::max(1, cfg_.get<int>("data.prefetch")));

  Prefetcher<Batch> batches([&](int64_t s) { return make_batch(*src_, aug_, seed_, s, workers); }, step_, end,
                            prefetch);
  Progress progress(data::seg_task_name(task_), step_, total_);
  // Losses of the steps since the last flush, kept on the device and read back every
  // log_every steps (no host sync per step). g_adv / d_loss only with the adversarial term.
  struct Pending {
    Tensor loss, g_adv, d_loss;
  };
  std::vector<Pending> pending;
  std::map<std::string, double> shown;
  auto flush = [&](int64_t s) {
    if (pending.empty()) return;
    double sum = 0, g_adv = 0, d_loss = 0;
    for (const Pending& p : pending) {
      float v = float(p.loss.item());
      SAKUGA_CHECK(std::isfinite(v), "training loss became ", v, " at or before step ", s,
                   "; stopping. The last good checkpoint is ", run_.last_checkpoint());
      result.losses.push_back(v);
      sum += v;
      if (adversarial_) {
        g_adv += p.g_adv.item();
        d_loss += p.d_loss.item();
      }
    }
    const double n = double(pending.size());
    shown["loss"] = sum / n;
    Json rec{{"step", s}, {"loss", shown["loss"]}, {"lr", opt_g_->lr()}};
    if (adversarial_) {
      rec["g_adv"] = shown["g_adv"] = g_adv / n;
      rec["d_loss"] = shown["d_loss"] = d_loss / n;
    }
    metrics.write(rec);
    pending.clear();
  };

  net_->train();
  while (step_ < end) {
    Batch b = batches.next();
    opt_g_->set_lr(schedule_(step_));
    const bool dump = !opt_.dump_first_step.empty() && step_ == 0;
    if (dump) net_->save(opt_.dump_first_step + ".weights.safetensors");
    Forward f = forward(b);
    opt_g_->zero_grad();
    f.loss.backward();
    if (clip > 0) optim::clip_grad_norm(net_->parameters(), clip);
    if (dump)
      dump_first_step(opt_.dump_first_step, *net_,
                      {{"input", f.input}, {"target", f.target.to(DType::f32)}, {"logits", f.logits}, {"loss", f.loss}});
    opt_g_->step();
    Pending done{f.loss.detach(), Tensor(), Tensor()};
    if (adversarial_) {  // discriminator step on the detached generation
      Tensor real = encode_real(encoding_, f.target);
      Tensor fake = encode_generated(encoding_, f.logits.detach());
      Tensor d_loss = losses::gan_d_loss((*disc_)(real), (*disc_)(fake));
      opt_d_->zero_grad();
      d_loss.backward();
      opt_d_->step();
      done.g_adv = f.g_adv.detach();
      done.d_loss = d_loss.detach();
    }
    pending.push_back(done);
    ++step_;
    const bool last = step_ == end;
    if (step_ % log_every == 0 || last) flush(step_);
    bool stop_early = false;
    if ((eval_every > 0 && step_ % eval_every == 0) || step_ == total_) {
      if (src_->val_size() > 0) {
        EvalResult ev = evaluate(samples);
        result.val_loss = ev.loss;
        result.val_accuracy = ev.cm.pixel_accuracy();
        result.val_mean_iou = ev.cm.mean_iou();
        std::tie(baseline_acc, baseline_miou) = majority_baseline(ev.cm);
        result.baseline_accuracy = baseline_acc;
        result.baseline_mean_iou = baseline_miou;
        shown["val_acc"] = result.val_accuracy;
        shown["val_miou"] = result.val_mean_iou;
        metrics.write({{"step", step_}, {"val_loss", ev.loss}, {"val_accuracy", result.val_accuracy},
                       {"val_mean_iou", result.val_mean_iou}});
        if (!ev.rows.empty()) {
          char name[64];
          std::snprintf(name, sizeof name, "/step-%07lld.png", static_cast<long long>(step_));
          data::write_png_tensor(run_.samples() + name, ops::concat(ev.rows, 1));
        }
        if (ev.loss < best_val_loss_) {
          best_val_loss_ = ev.loss;
          bad_evals_ = 0;
        } else if (++bad_evals_ >= patience && patience > 0) {
          stop_early = true;
        }
      }
    }
    if ((ckpt_every > 0 && step_ % ckpt_every == 0) || last || stop_early) {
      flush(step_);  // never checkpoint past an unchecked loss
      checkpoint(step_);
    }
    if (!opt_.quiet) progress.update(step_, shown);
    if (stop_early) {
      result.early_stopped = true;
      if (!opt_.quiet)
        std::fprintf(stderr, "\nearly stop: validation loss has not improved for %lld evaluations (best %.4g)\n",
                     static_cast<long long>(bad_evals_), best_val_loss_);
      break;
    }
  }
  if (!opt_.quiet) {
    progress.finish();
    if (result.val_accuracy >= 0)
      std::fprintf(stderr,
                   "%s: validation pixel accuracy %.4f, mean IoU %.4f after %lld steps (majority-class baseline: "
                   "%.4f, %.4f); run folder %s\n",
                   data::seg_task_name(task_), result.val_accuracy, result.val_mean_iou,
                   static_cast<long long>(step_), baseline_acc, baseline_miou, opt_.out.c_str());
  }
  result.last_step = step_;
  return result;
}

}  // namespace

TrainResult train(SegTask task, const Config& cfg, const TrainOptions& opt) {
  Trainer t(task, cfg, opt);
  return t.run();
}

}  // namespace sakuga::gcn

namespace sakuga::gcn {

BenchResult bench_train(SegTask task, const Config& cfg, const std::string& device, int64_t steps, int64_t warmup) {
  SAKUGA_CHECK(steps >= 1 && warmup >= 0, "bench train: --steps must be >= 1 and --warmup >= 0");
  const Device dev = Device::parse(device);
  GcnConfig mc = model_config(task, cfg);
  SAKUGA_CHECK(mc.in_channels == 3, "bench train: times the color variant (model.in_channels 3)");
  losses::SegLossConfig lc = loss_config(cfg);
  if (lc.kind == "wce" && lc.class_weights.empty()) lc.class_weights.assign(size_t(mc.classes), 1.0);
  losses::validate(lc, mc.classes);
  auto size = cfg.get<std::vector<int64_t>>("data.size");
  SAKUGA_CHECK(size.size() == 2, "config data.size: expected [H, W]");
  const int64_t batch = cfg.get<int64_t>("data.batch");

  manual_seed(cfg.get<uint64_t>("train.seed"));
  GcnNet net(mc);
  net.to(dev);
  net.train();
  optim::AdamOptions ao;
  ao.lr = cfg.get<double>("train.lr");
  optim::Adam adam(net.named_parameters(), ao);
  std::vector<SegSample> samples;
  for (int64_t b = 0; b < batch; ++b) samples.push_back(data::synth_sample(data::synth_sample_seed(7, b), size[0], size[1]));
  Batch bt = collate(samples);
  Tensor x = bt.frame.to(dev), y = target_of(task, bt).to(dev);

  auto step = [&] {
    Tensor loss = losses::segmentation_loss(lc, net(x), y);
    adam.zero_grad();
    loss.backward();
    adam.step();
    return loss;
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  if (dev.is_cuda()) {
    device::synchronize(dev.index);
    device::reset_peak(dev.index);
  }
  const auto t0 = std::chrono::steady_clock::now();
  Tensor last;
  for (int64_t i = 0; i < steps; ++i) last = step();
  const double v = last.item();  // synchronises
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  SAKUGA_CHECK(std::isfinite(v), "bench train: the loss became ", v);
  BenchResult r;
  r.ms_per_step = s * 1e3 / double(steps);
  r.images_per_s = double(batch * steps) / s;
  if (dev.is_cuda()) r.peak_bytes = int64_t(device::mem_stats(dev.index).peak_bytes);
  r.device = dev.is_cuda() ? device::devices().at(size_t(dev.index)).name : "cpu";
  return r;
}

}  // namespace sakuga::gcn
