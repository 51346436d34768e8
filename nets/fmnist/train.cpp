// Fashion-MNIST on the shared harness:
//   batch(step) = images of the step's slice of the epoch's permutation → FashionNet → CE → optimiser
#include "nets/fmnist/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "data/mnist.h"
#include "data/sampling.h"
#include "tensor/ops.h"

namespace sakuga::fmnist {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelConfig, c1, c2, hidden, dropout)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSettings, dir, train_limit, test_limit, batch)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainSettings, epochs, steps, optimizer, lr, lr_end, schedule, warmup,
                                                weight_decay, momentum, clip_grad_norm)

Json default_config() {
  Json j{{"model", ModelConfig{}}, {"data", DataSettings{}}, {"train", TrainSettings{}}};
  j["train"]["monitor"] = "test_accuracy";  // best.safetensors: the most accurate evaluation
  j["train"]["monitor_mode"] = "max";
  return harness::with_harness_defaults(j);
}

namespace {

// train.* → the optimiser spec of the harness (RMSprop without momentum, as before).
harness::OptimSpec optim_spec(const TrainSettings& t) {
  harness::OptimSpec s;
  s.kind = t.optimizer;
  s.lr = t.lr;
  s.lr_end = t.lr_end;
  s.schedule = t.schedule;
  s.warmup = t.warmup;
  s.weight_decay = t.weight_decay;
  s.momentum = t.optimizer == "sgd" ? t.momentum : 0.0;
  s.clip_grad_norm = t.clip_grad_norm;
  if (s.kind != "adam" && s.kind != "adamw" && s.kind != "sgd" && s.kind != "rmsprop")
    SAKUGA_FAIL("config train.optimizer: expected adam, adamw, sgd or rmsprop, got '", s.kind, "'");
  return s;
}

class FashionFamily : public harness::Family {
 public:
  FashionFamily(const Config& cfg, Device dev) : Family(cfg, dev) {
    const auto data = cfg.get<DataSettings>("data");
    const auto train = cfg.get<TrainSettings>("train");
    auto limit = [](int64_t v) { return v > 0 ? v : int64_t(-1); };
    train_set_ = data::load_fashion_mnist("train", limit(data.train_limit), data.dir);
    test_set_ = data::load_fashion_mnist("test", limit(data.test_limit), data.dir);
    batch_ = data.batch;
    SAKUGA_CHECK(batch_ > 0 && batch_ <= train_set_.size(), "config data.batch: ", batch_, " must be in [1, ",
                 train_set_.size(), "]");
    steps_per_epoch_ = train_set_.size() / batch_;
    int64_t total = train.steps > 0 ? train.steps : train.epochs * steps_per_epoch_;
    SAKUGA_CHECK(total > 0, "config: train.steps or train.epochs must give at least one step");
    seed_ = cfg.get<uint64_t>("train.seed");

    manual_seed(seed_);  // parameter initialisation
    model_ = parts().network("model", std::make_shared<FashionNet>(cfg.get<ModelConfig>("model")));
    model_->to(dev);
    dropout_ = Generator(seed_ + 1);
    model_->drop->set_generator(&dropout_);
    parts().rng("dropout", dropout_);
    parts().optimizer("model", optim_spec(train), {"model"}, std::nullopt, "train");
    parts().stage("train", total, {"model"});
  }

  harness::Batch make_batch(int64_t step) const override { return make_batch_slice(step, 0, batch_); }

  // Images [begin, end) of the step's slice of the epoch's permutation.
  harness::Batch make_batch_slice(int64_t step, int64_t begin, int64_t end) const override {
    std::shared_ptr<const std::vector<int64_t>> order = epoch(step / steps_per_epoch_);
    const int64_t pos = step % steps_per_epoch_, n = end - begin;
    Tensor images = Tensor::empty({n, 1, 28, 28});
    std::vector<int32_t> labels(static_cast<size_t>(n));
    const float* src = train_set_.images.data<float>();
    const int32_t* lab = train_set_.labels.data<int32_t>();
    float* dst = images.data<float>();
    for (int64_t b = 0; b < n; ++b) {
      const int64_t i = (*order)[size_t(pos * batch_ + begin + b)];
      std::copy(src + i * 784, src + (i + 1) * 784, dst + b * 784);
      labels[size_t(b)] = lab[i];
    }
    return {{"images", images}, {"labels", Tensor::from_vector_i32(labels, {n})}};
  }

  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    const Tensor& x = b.at("images");
    const Tensor& y = b.at("labels");
    Tensor logits = (*model_)(x);
    Tensor loss = ops::cross_entropy(logits, y);
    ctx.dump("input", x);
    ctx.dump("target", y.to(DType::f32));
    ctx.dump("logits", logits);
    ctx.dump("loss", loss);
    ctx.update("model", loss);
    ctx.log("loss", loss);
  }

  // Top-1 accuracy over the whole test set, in eval mode, in batches of 500 (data-parallel: the
  // ranks take turns with the batches and add their counts).
  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    model_->eval();
    int64_t correct = 0;
    const int64_t n = test_set_.size();
    for (int64_t start = 500 * ctx.rank; start < n; start += 500 * ctx.world) {
      const int64_t b = std::min<int64_t>(500, n - start);
      Tensor x = ops::slice(test_set_.images, 0, start, start + b).contiguous().to(ctx.device);
      std::vector<int32_t> pred = ops::argmax((*model_)(x), 1).to_vector_i32();
      const int32_t* lab = test_set_.labels.data<int32_t>() + start;
      for (int64_t i = 0; i < b; ++i) correct += pred[size_t(i)] == lab[i];
    }
    std::vector<double> counts{double(correct)};
    ctx.reduce_sum(counts);
    return {{{"test_accuracy", n ? counts[0] / double(n) : 0.0}}, Tensor()};
  }

  std::string describe() const override {
    return fmt::format("fashion-mnist: {} train / {} test images, {} parameters, {}, {} steps", train_set_.size(),
                       test_set_.size(), model_->num_parameters(), device().str(), parts().total_steps());
  }

  int64_t batch_size() const override { return batch_; }

  std::string summary(const std::map<std::string, double>& last) const override {
    auto it = last.find("test_accuracy");
    return it == last.end() ? "" : fmt::format("fashion-mnist: test accuracy {:.4f}", it->second);
  }

 private:
  // The permutation of an epoch; the last two are kept (a prefetch worker may be one ahead).
  std::shared_ptr<const std::vector<int64_t>> epoch(int64_t e) const {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, v] : orders_)
      if (k == e) return v;
    auto order = std::make_shared<const std::vector<int64_t>>(data::epoch_order(train_set_.size(), seed_, e));
    orders_.emplace_back(e, order);
    if (orders_.size() > 2) orders_.erase(orders_.begin());
    return order;
  }

  data::MnistSet train_set_, test_set_;
  int64_t batch_ = 1, steps_per_epoch_ = 1;
  uint64_t seed_ = 0;
  std::shared_ptr<FashionNet> model_;
  Generator dropout_{0};
  mutable std::mutex mu_;
  mutable std::vector<std::pair<int64_t, std::shared_ptr<const std::vector<int64_t>>>> orders_;
};

}  // namespace

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device) {
  return std::make_unique<FashionFamily>(cfg, device);
}

TrainResult train(const Config& cfg, const TrainOptions& opt) {
  auto family = make_family(cfg, Device::parse(opt.device));
  harness::RunOptions o = opt;
  if (o.family.empty()) o.family = "fashion-mnist";
  harness::RunSummary s = harness::train(*family, o);
  TrainResult r;
  r.first_step = s.first_step;
  r.last_step = s.last_step;
  for (double v : s.scalars["loss"]) r.losses.push_back(float(v));
  if (auto it = s.last_eval.find("test_accuracy"); it != s.last_eval.end()) r.test_accuracy = it->second;
  return r;
}

}  // namespace sakuga::fmnist
