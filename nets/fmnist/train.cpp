#include "nets/fmnist/train.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "data/mnist.h"
#include "kernels/device.h"
#include "kernels/philox.h"
#include "nets/fmnist/model.h"
#include "nets/runner.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tensor/ops.h"

namespace sakuga::fmnist {

Json default_config() {
  return Json::parse(R"({
    "model": {"c1": 32, "c2": 64, "hidden": 128, "dropout": 0.25},
    "data": {"dir": "/usr/share/datasets/fashion-mnist", "train_limit": 0, "test_limit": 0, "batch": 64},
    "train": {
      "epochs": 2, "steps": 0, "seed": 0,
      "optimizer": "adam", "lr": 0.001, "lr_end": 0.0001, "schedule": "cosine", "warmup": 0,
      "weight_decay": 0.0, "momentum": 0.9, "clip_grad_norm": 0.0,
      "log_every": 50, "eval_every": 0, "checkpoint_every": 500
    }
  })");
}

namespace {

struct Batch {
  Tensor images, labels;
};

// Order of the training set in `epoch`: a permutation sorted by Philox keys, so it depends
// only on (seed, epoch) and a batch can be built from its step number alone.
std::vector<int32_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  const uint64_t key_seed = seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1;
  std::vector<uint32_t> key(idx.size());
  for (size_t i = 0; i < key.size(); ++i) key[i] = philox::word(key_seed, i);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    return key[size_t(a)] != key[size_t(b)] ? key[size_t(a)] < key[size_t(b)] : a < b;
  });
  return idx;
}

Batch make_batch(const data::MnistSet& set, const std::vector<int32_t>& order, int64_t pos, int64_t batch) {
  Tensor images = Tensor::empty({batch, 1, 28, 28});
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  const float* src = set.images.data<float>();
  const int32_t* lab = set.labels.data<int32_t>();
  float* dst = images.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    int32_t i = order[size_t(pos * batch + b)];
    std::copy(src + int64_t(i) * 784, src + int64_t(i + 1) * 784, dst + b * 784);
    labels[size_t(b)] = lab[i];
  }
  return {images, Tensor::from_vector_i32(labels, {batch})};
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& cfg, const optim::NamedParams& params) {
  const std::string kind = cfg.get<std::string>("train.optimizer");
  const double lr = cfg.get<double>("train.lr"), wd = cfg.get<double>("train.weight_decay");
  if (kind == "adam" || kind == "adamw") {
    optim::AdamOptions o;
    o.lr = lr;
    o.weight_decay = wd;
    if (kind == "adamw") return std::make_unique<optim::AdamW>(params, o);
    return std::make_unique<optim::Adam>(params, o);
  }
  if (kind == "sgd") {
    optim::SgdOptions o;
    o.lr = lr;
    o.momentum = cfg.get<double>("train.momentum");
    o.weight_decay = wd;
    return std::make_unique<optim::SGD>(params, o);
  }
  if (kind == "rmsprop") {
    optim::RmspropOptions o;
    o.lr = lr;
    o.weight_decay = wd;
    return std::make_unique<optim::RMSprop>(params, o);
  }
  SAKUGA_FAIL("config train.optimizer: expected adam, adamw, sgd or rmsprop, got '", kind, "'");
}

optim::Schedule make_schedule(const Config& cfg, int64_t total_steps) {
  const double lr = cfg.get<double>("train.lr"), lr_end = cfg.get<double>("train.lr_end");
  const int64_t warmup = cfg.get<int64_t>("train.warmup");
  const int64_t decay = std::max<int64_t>(total_steps - warmup, 0);
  optim::Schedule s;
  switch (optim::parse_schedule_kind(cfg.get<std::string>("train.schedule"))) {
    case optim::Schedule::Kind::constant: s = optim::Schedule::constant(lr); break;
    case optim::Schedule::Kind::linear: s = optim::Schedule::linear(lr, lr_end, decay); break;
    case optim::Schedule::Kind::cosine: s = optim::Schedule::cosine(lr, lr_end, decay); break;
    default: SAKUGA_FAIL("config train.schedule: fashion-mnist supports constant, linear and cosine");
  }
  return warmup > 0 ? s.with_warmup(warmup) : s;
}

// Top-1 accuracy over a whole set, in eval mode, in batches.
double evaluate(FashionNet& model, const data::MnistSet& set, Device dev, int64_t batch) {
  NoGradGuard ng;
  model.eval();
  int64_t correct = 0, n = set.size();
  for (int64_t start = 0; start < n; start += batch) {
    int64_t b = std::min(batch, n - start);
    Tensor x = ops::slice(set.images, 0, start, start + b).contiguous().to(dev);
    std::vector<int32_t> pred = ops::argmax(model(x), 1).to_vector_i32();
    const int32_t* lab = set.labels.data<int32_t>() + start;
    for (int64_t i = 0; i < b; ++i) correct += pred[size_t(i)] == lab[i];
  }
  model.train();
  return n ? double(correct) / double(n) : 0.0;
}

}  // namespace

TrainResult train(const Config& cfg, const TrainOptions& opt) {
  const Device dev = Device::parse(opt.device);
  RunDir run(opt.out);

  // --- data ------------------------------------------------------------------------------
  const std::string dir = cfg.get<std::string>("data.dir");
  auto limit = [](int64_t v) { return v > 0 ? v : int64_t(-1); };
  data::MnistSet train_set = data::load_fashion_mnist("train", limit(cfg.get<int64_t>("data.train_limit")), dir);
  data::MnistSet test_set = data::load_fashion_mnist("test", limit(cfg.get<int64_t>("data.test_limit")), dir);
  const int64_t batch = cfg.get<int64_t>("data.batch");
  SAKUGA_CHECK(batch > 0 && batch <= train_set.size(), "config data.batch: ", batch, " must be in [1, ",
               train_set.size(), "]");
  const int64_t steps_per_epoch = train_set.size() / batch;
  int64_t total = cfg.get<int64_t>("train.steps");
  if (total <= 0) total = cfg.get<int64_t>("train.epochs") * steps_per_epoch;
  SAKUGA_CHECK(total > 0, "config: train.steps or train.epochs must give at least one step");
  const uint64_t seed = cfg.get<uint64_t>("train.seed");

  // --- model, optimizer, RNG ---------------------------------------------------------------
  manual_seed(seed);  // parameter initialisation
  ModelConfig mc;
  mc.c1 = cfg.get<int64_t>("model.c1");
  mc.c2 = cfg.get<int64_t>("model.c2");
  mc.hidden = cfg.get<int64_t>("model.hidden");
  mc.dropout = cfg.get<double>("model.dropout");
  FashionNet model(mc);
  model.to(dev);
  Generator dropout_rng(seed + 1);
  model.drop->set_generator(&dropout_rng);
  auto optimizer = make_optimizer(cfg, model.named_parameters());
  const optim::Schedule schedule = make_schedule(cfg, total);

  int64_t step = 0;  // steps completed
  if (opt.resume) {
    SAKUGA_CHECK(std::filesystem::exists(run.last_checkpoint()), "--resume: no checkpoint at ", run.last_checkpoint());
    io::SafetensorsFile ck = model.load(run.last_checkpoint());
    optimizer->load_state_dict(ck.tensors);
    auto meta = [&](const char* key) {
      auto it = ck.metadata.find(key);
      SAKUGA_CHECK(it != ck.metadata.end(), run.last_checkpoint(), ": metadata '", key, "' missing");
      return it->second;
    };
    step = std::stoll(meta("step"));
    dropout_rng.offset = std::stoull(meta("dropout_rng_offset"));
    SAKUGA_CHECK(step <= total, run.last_checkpoint(), ": checkpoint step ", step, " is past the run's ", total, " steps");
  }
  write_file_atomic(run.config(), cfg.dump() + "\n");
  MetricsLog metrics(run.metrics(), opt.resume ? step : -1);
  if (!opt.quiet)
    std::fprintf(stderr, "fashion-mnist: %lld train / %lld test images, %lld parameters, %s, %lld steps%s\n",
                 static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()),
                 static_cast<long long>(model.num_parameters()), dev.str().c_str(), static_cast<long long>(total),
                 opt.resume ? (" (resuming at step " + std::to_string(step) + ")").c_str() : "");

  auto checkpoint = [&](int64_t s) {
    CheckpointParts parts;
    parts.model = &model;
    parts.optimizers = {{optimizer.get(), "optim."}};
    parts.metadata = {{"config", cfg.json().dump()}, {"dropout_rng_offset", std::to_string(dropout_rng.offset)}};
    save_checkpoint(run, s, parts);
  };

  // --- loop --------------------------------------------------------------------------------
  const int64_t end = opt.stop_after >= 0 ? std::min(total, opt.stop_after) : total;
  const int64_t log_every = std::max<int64_t>(1, cfg.get<int64_t>("train.log_every"));
  const int64_t eval_every = cfg.get<int64_t>("train.eval_every");
  const int64_t ckpt_every = cfg.get<int64_t>("train.checkpoint_every");
  const double clip = cfg.get<double>("train.clip_grad_norm");
  TrainResult result;
  result.first_step = step;
  // Batch for step s (0-based) is a pure function of s: the prefetch thread builds them ahead.
  int64_t cached_epoch = -1;
  std::vector<int32_t> order;
  Prefetcher<Batch> batches(
      [&](int64_t s) {
        int64_t epoch = s / steps_per_epoch;
        if (epoch != cached_epoch) {
          order = epoch_order(train_set.size(), seed, epoch);
          cached_epoch = epoch;
        }
        return make_batch(train_set, order, s % steps_per_epoch, batch);
      },
      step, end);
  Progress progress("train", step, total);
  std::vector<Tensor> pending_losses;  // read back every log_every steps (no sync per step)
  model.train();
  auto flush_losses = [&](int64_t s) {
    double sum = 0;
    for (const Tensor& l : pending_losses) {
      float v = float(l.item());
      SAKUGA_CHECK(std::isfinite(v), "training loss became ", v, " at or before step ", s,
                   "; the last good checkpoint is ", run.last_checkpoint());
      result.losses.push_back(v);
      sum += v;
    }
    double mean = pending_losses.empty() ? 0 : sum / double(pending_losses.size());
    if (!pending_losses.empty())
      metrics.write({{"step", s}, {"loss", mean}, {"lr", optimizer->lr()}});
    pending_losses.clear();
    return mean;
  };
  double shown_loss = NAN, shown_acc = NAN;
  while (step < end) {
    Batch b = batches.next();
    Tensor x = b.images.to(dev), y = b.labels.to(dev);
    optimizer->set_lr(schedule(step));
    if (!opt.dump_first_step.empty() && step == 0) model.save(opt.dump_first_step + ".weights.safetensors");
    Tensor logits = model(x);
    Tensor loss = ops::cross_entropy(logits, y);
    optimizer->zero_grad();
    loss.backward();
    if (clip > 0) optim::clip_grad_norm(model.parameters(), clip);
    if (!opt.dump_first_step.empty() && step == 0)
      dump_first_step(opt.dump_first_step, model, {{"input", x}, {"target", y.to(DType::f32)}, {"logits", logits}, {"loss", loss}});
    optimizer->step();
    pending_losses.push_back(loss.detach());
    ++step;
    const bool last = step == end;
    if (step % log_every == 0 || last) shown_loss = flush_losses(step);
    if ((eval_every > 0 && step % eval_every == 0) || step == total) {
      shown_acc = evaluate(model, test_set, dev, 500);
      metrics.write({{"step", step}, {"test_accuracy", shown_acc}});
      result.test_accuracy = shown_acc;
    }
    if ((ckpt_every > 0 && step % ckpt_every == 0) || last) {
      flush_losses(step);  // never checkpoint past an unchecked loss
      checkpoint(step);
    }
    if (!opt.quiet) {
      std::map<std::string, double> shown{{"loss", shown_loss}};
      if (!std::isnan(shown_acc)) shown["test_acc"] = shown_acc;
      progress.update(step, shown);
    }
  }
  if (!opt.quiet) {
    progress.finish();
    if (result.test_accuracy >= 0)
      std::fprintf(stderr, "fashion-mnist: test accuracy %.4f after %lld steps; run folder %s\n", result.test_accuracy,
                   static_cast<long long>(step), opt.out.c_str());
  }
  result.last_step = step;
  return result;
}

}  // namespace sakuga::fmnist
