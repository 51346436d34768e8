// GCN training (gcn.md "Training") as a harness family, one for both tasks:
//   batch(step) → [variant input] → GcnNet → segmentation loss (+ adversarial term) → Adam
// Batches are a pure function of (seed, step): the prefetch workers build them ahead and a
// resumed run sees exactly the batches an uninterrupted one would.
#include "nets/gcn/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "data/canvas.h"
#include "data/gcn/augment.h"
#include "data/gcn/douga.h"
#include "data/gcn/synth.h"
#include "data/metrics.h"
#include "data/png.h"
#include "data/sampling.h"
#include "kernels/log.h"
#include "losses/gan.h"
#include "losses/segmentation.h"
#include "nets/gcn/discriminator.h"
#include "nets/harness/gan.h"
#include "nets/resnet/resnet.h"
#include "tensor/ops.h"

namespace sakuga::gcn {

using data::SegSample;
using data::SegTask;
using harness::Batch;

namespace {

// ---- data ---------------------------------------------------------------------------------------

// A batch: frame (N, 3, H, W); mask (N, 1, H, W) and/or douga (N, H, W) i32 when the data has them.
Batch collate(const std::vector<SegSample>& s) {
  std::vector<Tensor> frames, masks, dougas;
  for (const SegSample& x : s) {
    frames.push_back(x.frame);
    if (x.mask.defined()) masks.push_back(x.mask);
    if (x.douga.defined()) dougas.push_back(x.douga);
  }
  NoGradGuard ng;
  Batch b{{"frame", ops::stack(frames, 0)}};
  if (masks.size() == s.size()) b["mask"] = ops::stack(masks, 0);
  if (dougas.size() == s.size()) b["douga"] = ops::stack(dougas, 0);
  return b;
}

Tensor batch_tensor(const Batch& b, const char* key) {
  auto it = b.find(key);
  return it == b.end() ? Tensor() : it->second;
}

Tensor target_of(SegTask task, const Batch& b) {
  return task == SegTask::cel ? batch_tensor(b, "mask") : batch_tensor(b, "douga");
}

// Where training and validation samples come from: the synthetic stream, or a folder dataset
// with its hash split. Thread-safe (the prefetch workers ask for samples concurrently).
class SampleSource {
 public:
  SampleSource(SegTask task, const Settings& s, uint64_t seed, bool quiet)
      : task_(task), synthetic_(s.data.synthetic), seed_(seed) {
    SAKUGA_CHECK(s.data.size.size() == 2 && s.data.size[0] >= 64 && s.data.size[1] >= 64,
                 "config data.size: expected [H, W] with H, W >= 64, got ", Json(s.data.size).dump());
    h_ = s.data.size[0];
    w_ = s.data.size[1];
    batch_ = s.data.batch;
    SAKUGA_CHECK(batch_ >= 1, "config data.batch: expected >= 1, got ", batch_);
    if (synthetic_) {
      val_count_ = s.data.val_count;
      SAKUGA_CHECK(val_count_ >= 0, "config data.val_count: expected >= 0, got ", val_count_);
      return;
    }
    const std::string& dir = s.data.dir;
    SAKUGA_CHECK(!dir.empty(), "no training data: give --data DIR (or set data.dir), or use --synthetic");
    data::SegDatasetOptions o;
    o.skip_bad = s.data.skip_bad;
    o.require_masks = s.variant.kind == "manual-cel";
    dataset_ = std::make_unique<data::SegDataset>(dir, task, o);
    const double frac = s.data.val_fraction;
    SAKUGA_CHECK(frac >= 0 && frac < 1, "config data.val_fraction: expected [0, 1), got ", frac);
    train_ = dataset_->split(false, frac);
    val_ = dataset_->split(true, frac);
    SAKUGA_CHECK(!train_.empty(), dir, ": no training frames after the validation split (", dataset_->size(),
                 " frames, data.val_fraction ", frac, ")");
    for (const auto& f : dataset_->background_files()) sources_.backgrounds.push_back(data::read_png_tensor(f, 3));
    for (const auto& f : dataset_->texture_files()) sources_.textures.push_back(data::read_png_tensor(f, 1));
    if (!quiet)
      log::info("{}: {} training / {} validation frames{}, {} backgrounds, {} textures", dir, train_.size(),
                val_.size(), dataset_->skipped() ? fmt::format(" ({} bad pairs skipped)", dataset_->skipped()) : "",
                sources_.backgrounds.size(), sources_.textures.size());
  }

  int64_t height() const { return h_; }
  int64_t width() const { return w_; }
  int64_t batch() const { return batch_; }
  bool synthetic() const { return synthetic_; }
  const data::AugmentSources& sources() const { return sources_; }

  // The b-th raw (unaugmented) training sample of `step`.
  SegSample train_sample(int64_t step, int64_t b) const {
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
  std::vector<int64_t> class_counts(int classes, int samples) const {
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
  // The pos-th training index in the order of `epoch` (data/sampling.h). Read under the lock:
  // the workers of consecutive steps may straddle two epochs.
  size_t train_index(int64_t epoch, size_t pos) const {
    std::lock_guard<std::mutex> l(mu_);
    if (epoch != order_epoch_) {
      const std::vector<int64_t> perm = data::epoch_order(int64_t(train_.size()), seed_, epoch);
      order_.resize(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) order_[i] = train_[size_t(perm[i])];
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
  mutable std::mutex mu_;
  mutable int64_t order_epoch_ = -1;
  mutable std::vector<size_t> order_;
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

// ---- the family ---------------------------------------------------------------------------------

class GcnFamily : public harness::Family {
 public:
  GcnFamily(SegTask task, const Config& cfg, Device dev, bool quiet);

  Batch make_batch(int64_t step) const override { return make_batch_slice(step, 0, src_->batch()); }
  Batch make_batch_slice(int64_t step, int64_t begin, int64_t end) const override;
  void step(const Batch& b, harness::StepContext& ctx) override;
  harness::EvalReport evaluate(harness::EvalContext& ctx) override;
  std::string describe() const override;
  std::string summary(const std::map<std::string, double>& last) const override;
  int64_t batch_size() const override { return src_->batch(); }

  double baseline_accuracy = -1, baseline_mean_iou = -1;  // of the last evaluation

 private:
  // One batch through the variant, the network and the loss (+ the adversarial generator term
  // in training mode).
  struct Forward {
    Tensor input, target, logits, loss;
    Tensor g_adv;  // the adversarial generator loss, undefined when off
  };
  Forward forward(const Batch& b);

  SegTask task_;
  Settings s_;
  uint64_t seed_ = 0;
  std::unique_ptr<SampleSource> src_;
  losses::SegLossConfig loss_;
  std::shared_ptr<GcnNet> net_, cel_net_;
  Generator dropout_{0};
  bool adversarial_ = false;
  DougaEncoding encoding_ = DougaEncoding::softmax;
  std::shared_ptr<Discriminator> disc_;
};

GcnFamily::GcnFamily(SegTask task, const Config& cfg, Device dev, bool quiet)
    : Family(cfg, dev), task_(task), s_(settings_of(cfg)) {
  const GcnConfig mc = model_config(task, cfg);
  check_variant(task, s_.variant.kind, s_.variant.cel_ckpt);
  seed_ = cfg.get<uint64_t>("train.seed");
  SAKUGA_CHECK(s_.train.steps >= 1, "config train.steps: expected >= 1, got ", s_.train.steps);
  src_ = std::make_unique<SampleSource>(task, s_, seed_, quiet);
  data::validate(s_.augment);
  SAKUGA_CHECK(!s_.augment.background || task == SegTask::cel,
               "config augment.background: background replacement is for the cel task (douga labels of a replaced "
               "background would be wrong)");

  loss_ = s_.loss.seg;
  if (loss_.kind == "wce" && loss_.class_weights.empty()) {
    loss_.class_weights = losses::inverse_frequency_weights(src_->class_counts(int(mc.classes), 16));
    if (!quiet) log::info("wce: class weights from 16 training samples: {:.3g}", fmt::join(loss_.class_weights, " "));
  }
  losses::validate(loss_, mc.classes);

  manual_seed(seed_);  // parameter initialisation
  net_ = parts().network("gcn", std::make_shared<GcnNet>(mc), std::string());  // pinned: names at the root
  if (!s_.model.pretrained.empty()) resnet::load_torchvision_weights(*net_->backbone, s_.model.pretrained);
  net_->to(dev);
  dropout_ = Generator(seed_ + 1);
  net_->set_generator(&dropout_);
  parts().rng("dropout", dropout_);
  if (s_.variant.kind == "synthetic-cel" || s_.variant.kind == "concatenated")
    cel_net_ = load_model(SegTask::cel, s_.variant.cel_ckpt, {}, {}, dev).net;

  harness::OptimSpec g;  // thesis §4.6: Adam β 0.9 / 0.999, ε 1e-8, lr decaying linearly
  g.lr = s_.train.lr;
  g.lr_end = s_.train.lr_end;
  g.schedule = "linear";
  g.clip_grad_norm = s_.train.clip_grad_norm;
  parts().optimizer("G", g, {"gcn"}, std::string("optim."), "train");
  std::vector<std::string> active{"G"};

  const AdversarialSettings& adv = s_.loss.adversarial;
  adversarial_ = adv.enabled;
  if (adversarial_) {
    SAKUGA_CHECK(task == SegTask::douga, "config loss.adversarial.enabled: the adversarial term is for douga");
    encoding_ = parse_douga_encoding(adv.encoding);
    disc_ = parts().network("disc", std::make_shared<Discriminator>(encoding_channels(encoding_), adv.depth));
    disc_->to(dev);
    SAKUGA_CHECK(adv.optimizer == "adam" || adv.optimizer == "rmsprop",
                 "config loss.adversarial.optimizer: expected adam or rmsprop, got '", adv.optimizer, "'");
    harness::OptimSpec d;
    d.kind = adv.optimizer;
    d.lr = adv.lr;
    parts().optimizer("D", d, {"disc"}, std::string("optim.D."), "loss.adversarial");
    active.push_back("D");
  }
  parts().stage("train", s_.train.steps, active);
}

// Samples [begin, end) of the augmented batch of `step` (each sample's randomness is keyed by
// (seed, step, index), so a rank builds just its own slice).
Batch GcnFamily::make_batch_slice(int64_t step, int64_t begin, int64_t end) const {
  const int64_t n = src_->batch();
  std::vector<SegSample> samples;
  for (int64_t b = begin; b < end; ++b) {
    SegSample raw = src_->train_sample(step, b);
    const uint64_t s = data::synth_sample_seed(seed_ ^ 0x6175676Dull, step * n + b);
    samples.push_back(data::augment(raw, s_.augment, src_->height(), src_->width(), s, src_->sources()));
  }
  return collate(samples);
}

GcnFamily::Forward GcnFamily::forward(const Batch& b) {
  Forward f;
  f.target = target_of(task_, b);
  f.input = variant_input(s_.variant.kind, cel_net_.get(), b.at("frame"), batch_tensor(b, "mask"));
  f.logits = (*net_)(f.input);
  f.loss = losses::segmentation_loss(loss_, f.logits, f.target);
  if (adversarial_ && net_->is_training()) {
    harness::FreezeGuard frozen(*disc_);  // the generator step must not touch D
    f.g_adv = losses::gan_g_loss((*disc_)(encode_generated(encoding_, f.logits)));
    f.loss = f.loss + f.g_adv * s_.loss.adversarial.weight;
  }
  return f;
}

void GcnFamily::step(const Batch& b, harness::StepContext& ctx) {
  Forward f = forward(b);
  ctx.dump("input", f.input);
  ctx.dump("target", f.target.to(DType::f32));
  ctx.dump("logits", f.logits);
  ctx.dump("loss", f.loss);
  ctx.update("G", f.loss);
  ctx.log("loss", f.loss);
  if (adversarial_) {  // the discriminator's step: a second forward on the detached generation
    Tensor real = encode_real(encoding_, f.target);
    Tensor fake = encode_generated(encoding_, f.logits.detach());
    Tensor d_loss = losses::gan_d_loss((*disc_)(real), (*disc_)(fake));
    ctx.update("D", d_loss);
    ctx.log("g_adv", f.g_adv);
    ctx.log("d_loss", d_loss);
  }
}

harness::EvalReport GcnFamily::evaluate(harness::EvalContext& ctx) {
  harness::EvalReport r;
  const size_t n = src_->val_size();
  if (n == 0) return r;
  net_->eval();
  data::ConfusionMatrix cm(task_ == SegTask::cel ? 2 : data::kDougaClasses);
  double loss_sum = 0;
  std::vector<std::vector<Tensor>> rows;
  // Data-parallel: rank r counts the items i with i % world == r, and rank 0 also runs the first
  // train.samples items for the sample sheet it writes; the counts are added over the ranks.
  for (size_t i = 0; i < n; ++i) {
    const bool mine = int(i % size_t(ctx.world)) == ctx.rank;
    const bool picture = ctx.rank == 0 && int(i) < s_.train.samples;
    if (!mine && !picture) continue;
    SegSample s = src_->val_sample(i);
    const int64_t h = s.frame.size(1), w = s.frame.size(2);
    if (h < 64 || w < 64) s = data::fit_to_size(s, std::max<int64_t>(h, 64), std::max<int64_t>(w, 64));
    Batch b = collate({s});
    for (auto& [k, t] : b) t = t.to(ctx.device);
    Forward f = forward(b);
    Tensor pred = predict_classes(task_, f.logits);
    Tensor target = task_ == SegTask::cel ? ops::squeeze(b.at("mask"), 1).to(DType::i32) : b.at("douga");
    if (mine) {
      loss_sum += f.loss.item();
      cm.add(pred.to(Device::cpu()), target.to(Device::cpu()));
    }
    if (picture)
      rows.push_back({s.frame, class_picture(task_, ops::select(pred, 0, 0)),
                      class_picture(task_, ops::select(target, 0, 0))});
  }
  if (ctx.world > 1) {
    std::vector<double> values{loss_sum};
    for (int64_t c : cm.counts()) values.push_back(double(c));
    ctx.reduce_sum(values);
    loss_sum = values[0];
    std::vector<int64_t> counts;
    for (size_t k = 1; k < values.size(); ++k) counts.push_back(int64_t(values[k]));
    cm.set_counts(std::move(counts));
  }
  std::tie(baseline_accuracy, baseline_mean_iou) = majority_baseline(cm);
  r.metrics = {{"val_loss", loss_sum / double(n)},
               {"val_accuracy", cm.pixel_accuracy()},
               {"val_mean_iou", cm.mean_iou()}};
  if (!rows.empty()) r.sheet = data::image_grid(rows, {{"frame", "prediction", "target"}, {}});
  return r;
}

std::string GcnFamily::describe() const {
  return fmt::format("{}: GCN {} k={}, {} parameters, {}, {} data {}x{} batch {}, {} steps", data::seg_task_name(task_),
                     "resnet" + std::to_string(net_->config.backbone), net_->config.k, net_->num_parameters(), device().str(),
                     src_->synthetic() ? "synthetic" : "folder", src_->height(), src_->width(), src_->batch(),
                     s_.train.steps);
}

std::string GcnFamily::summary(const std::map<std::string, double>& last) const {
  if (!last.count("val_accuracy")) return "";
  return fmt::format("{}: validation pixel accuracy {:.4f}, mean IoU {:.4f} (majority-class baseline: {:.4f}, {:.4f})",
                     data::seg_task_name(task_), last.at("val_accuracy"), last.at("val_mean_iou"), baseline_accuracy,
                     baseline_mean_iou);
}

}  // namespace

std::unique_ptr<harness::Family> make_family(SegTask task, const Config& cfg, Device device, bool quiet) {
  return std::make_unique<GcnFamily>(task, cfg, device, quiet);
}

TrainResult train(SegTask task, const Config& cfg, const TrainOptions& opt) {
  GcnFamily family(task, cfg, Device::parse(opt.device), opt.quiet);
  harness::RunOptions o = opt;
  if (o.family.empty()) o.family = data::seg_task_name(task);
  harness::RunSummary s = harness::train(family, o);
  TrainResult r;
  r.first_step = s.first_step;
  r.last_step = s.last_step;
  for (double v : s.scalars["loss"]) r.losses.push_back(float(v));
  auto metric = [&](const char* k) { return s.last_eval.count(k) ? s.last_eval.at(k) : -1.0; };
  r.val_loss = metric("val_loss");
  r.val_accuracy = metric("val_accuracy");
  r.val_mean_iou = metric("val_mean_iou");
  if (r.val_accuracy >= 0) {
    r.baseline_accuracy = family.baseline_accuracy;
    r.baseline_mean_iou = family.baseline_mean_iou;
  }
  r.early_stopped = s.early_stopped;
  return r;
}

}  // namespace sakuga::gcn
