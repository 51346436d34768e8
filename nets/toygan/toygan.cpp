// toy-gan, read top to bottom: config → networks → batch → step → evaluation.
#include "nets/toygan/toygan.h"

#include <fmt/format.h>

#include <cmath>

#include "data/canvas.h"
#include "kernels/philox.h"
#include "layers/activation.h"
#include "layers/linear.h"
#include "layers/sequential.h"
#include "losses/gan.h"
#include "nets/harness/gan.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/random.h"

namespace sakuga::toygan {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelSettings, z_dim, hidden, layers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSettings, modes, radius, std, batch)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LossSettings, gan, instance_noise)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StageSettings, critic, adversarial)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EvalSettings, samples)

Json default_config() {
  harness::OptimSpec adam;  // the usual GAN Adam: β1 0.5
  adam.lr = 1e-3;
  adam.betas = {0.5, 0.999};
  Json j{{"model", ModelSettings{}}, {"data", DataSettings{}},   {"loss", LossSettings{}},
         {"stages", StageSettings{}}, {"eval", EvalSettings{}}, {"optim", {{"G", adam}, {"D", adam}}},
         {"train", {{"log_every", 50}, {"eval_every", 500}, {"checkpoint_every", 500}, {"monitor", "quality"},
                    {"monitor_mode", "max"}}}};
  return harness::with_harness_defaults(j);
}

namespace {

// Linear → LeakyReLU(0.2) → … → Linear.
std::shared_ptr<nn::Sequential> mlp(int64_t in, int64_t hidden, int64_t out, int64_t layers) {
  SAKUGA_CHECK(layers >= 2 && hidden >= 1, "config model.layers / model.hidden: expected layers >= 2, hidden >= 1");
  auto m = std::make_shared<nn::Sequential>();
  for (int64_t i = 0; i < layers; ++i) {
    m->push_back(std::make_shared<nn::Linear>(i == 0 ? in : hidden, i + 1 == layers ? out : hidden));
    if (i + 1 < layers) m->push_back(std::make_shared<nn::LeakyReLU>(0.2));
  }
  return m;
}

class ToyGan : public harness::Family {
 public:
  ToyGan(const Config& cfg, Device dev)
      : Family(cfg, dev), model_(cfg.get<ModelSettings>("model")), data_(cfg.get<DataSettings>("data")),
        loss_(cfg.get<LossSettings>("loss")), eval_(cfg.get<EvalSettings>("eval")),
        gan_(losses::parse_gan_loss(loss_.gan, "loss.gan")), seed_(cfg.get<uint64_t>("train.seed")) {
    SAKUGA_CHECK(data_.modes >= 1 && data_.batch >= 1 && data_.std > 0, "config data: expected modes >= 1, batch >= 1, std > 0");
    SAKUGA_CHECK(loss_.instance_noise >= 0, "config loss.instance_noise: expected >= 0");
    const auto stages = cfg.get<StageSettings>("stages");
    manual_seed(seed_);  // parameter initialisation
    g_ = parts().network("G", mlp(model_.z_dim, model_.hidden, 2, model_.layers));
    d_ = parts().network("D", mlp(2, model_.hidden, 1, model_.layers));
    g_->to(dev);
    d_->to(dev);
    parts().optimizer("G", cfg.get<harness::OptimSpec>("optim.G"), {"G"});
    parts().optimizer("D", cfg.get<harness::OptimSpec>("optim.D"), {"D"});
    noise_ = Generator(seed_ + 7);
    parts().rng("instance_noise", noise_);
    if (stages.critic > 0) parts().stage("critic", stages.critic, {"D"});
    parts().stage("adversarial", stages.adversarial, {"G", "D"});
    NoGradGuard ng;
    untrained_quality_ = quality(generate(dev));  // the baseline a trained G must beat
  }

  // Real points and generator noise of `step`, from a Philox stream keyed by (seed, step).
  harness::Batch make_batch(int64_t step) const override {
    Generator gen(philox::word(seed_ ^ 0x746F7967ull, uint64_t(step)) | uint64_t(step) << 32);
    return {{"real", real_points(data_.batch, gen)}, {"z", randn({data_.batch, model_.z_dim}, gen)}};
  }

  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    // Instance noise on D's inputs, annealed to 0 over the run (a curriculum on ctx.progress()).
    const double sigma = loss_.instance_noise * (1.0 - ctx.progress());
    auto noisy = [&](const Tensor& x) { return sigma > 0 ? x + randn(x.shape(), noise_, DType::f32, x.device()) * sigma : x; };
    // D's update on a detached generation.
    Tensor fake = (*g_)(b.at("z")).detach();
    Tensor d_loss = losses::gan_d_loss(gan_, (*d_)(noisy(b.at("real"))), (*d_)(noisy(fake)));
    ctx.dump("d_loss", d_loss);
    ctx.update("D", d_loss);
    ctx.log("d_loss", d_loss);
    ++d_updates_;
    if (!ctx.active("G")) return;
    // G's update: a second forward through the frozen D (the first graph was freed by backward).
    harness::FreezeGuard frozen(*d_);
    Tensor g_loss = losses::gan_g_loss(gan_, (*d_)(noisy((*g_)(b.at("z")))));
    ctx.dump("g_loss", g_loss);
    ctx.update("G", g_loss);
    ctx.log("g_loss", g_loss);
  }

  // quality: share of generated points within 4σ of a mode; coverage: share of modes that got
  // at least a tenth of their fair share of those points.
  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    const Tensor points = generate(ctx.device);
    const auto [q, coverage] = quality(points);
    harness::EvalReport r;
    r.metrics = {{"quality", q}, {"coverage", coverage}};
    r.sheet = scatter(points);
    return r;
  }

  std::string describe() const override {
    return fmt::format("toy-gan: {}-mode ring, MLPs G ({} parameters) and D ({}), {} loss, {}", data_.modes,
                       g_->num_parameters(), d_->num_parameters(), loss_.gan, device().str());
  }
  std::string summary(const std::map<std::string, double>& last) const override {
    if (!last.count("quality")) return "";
    return fmt::format(
        "toy-gan: {:.1f} % of generated points on a mode, {:.0f} % of modes covered (untrained G: {:.1f} %, {:.0f} %)",
        100 * last.at("quality"), 100 * last.at("coverage"), 100 * untrained_quality_.first,
        100 * untrained_quality_.second);
  }
  int64_t batch_size() const override { return data_.batch; }
  Json state() const override { return {{"d_updates", d_updates_}}; }
  void load_state(const Json& s) override { d_updates_ = s.is_null() ? 0 : s.at("d_updates").get<int64_t>(); }

 private:
  // eval.samples points of G from a fixed noise draw, on the CPU.
  Tensor generate(Device dev) const {
    Generator gen(seed_ ^ 0x6576616Cull);
    return (*g_)(randn({eval_.samples, model_.z_dim}, gen).to(dev)).to(Device::cpu());
  }

  // (share of points within 4σ of a mode, share of modes with at least a tenth of their fair
  // share of those points).
  std::pair<double, double> quality(const Tensor& points) const {
    const std::vector<float> p = points.contiguous().to_vector();
    const int64_t n = points.size(0);
    std::vector<int64_t> per_mode(size_t(data_.modes), 0);
    int64_t good = 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto [m, dist] = nearest_mode(p[size_t(2 * i)], p[size_t(2 * i + 1)]);
      if (dist <= 4 * data_.std) {
        ++good;
        ++per_mode[size_t(m)];
      }
    }
    int64_t covered = 0;
    for (int64_t c : per_mode) covered += double(c) >= 0.1 * double(n) / double(data_.modes);
    return {double(good) / double(n), double(covered) / double(data_.modes)};
  }

  Tensor real_points(int64_t n, Generator& gen) const {
    Tensor u = rand_uniform({n}, 0.0, double(data_.modes), gen);
    Tensor e = randn({n, 2}, gen);
    std::vector<float> out(size_t(2 * n));
    const std::vector<float> uu = u.to_vector(), ee = e.to_vector();
    for (int64_t i = 0; i < n; ++i) {
      const double a = 2 * M_PI * std::floor(uu[size_t(i)]) / double(data_.modes);
      out[size_t(2 * i)] = float(data_.radius * std::cos(a) + data_.std * ee[size_t(2 * i)]);
      out[size_t(2 * i + 1)] = float(data_.radius * std::sin(a) + data_.std * ee[size_t(2 * i + 1)]);
    }
    return Tensor::from_vector(out, {n, 2});
  }

  std::pair<int64_t, double> nearest_mode(double x, double y) const {
    int64_t best = 0;
    double best_d = INFINITY;
    for (int64_t m = 0; m < data_.modes; ++m) {
      const double a = 2 * M_PI * double(m) / double(data_.modes);
      const double d = std::hypot(x - data_.radius * std::cos(a), y - data_.radius * std::sin(a));
      if (d < best_d) best = m, best_d = d;
    }
    return {best, best_d};
  }

  // Real modes (gray rings) and generated points (blue) in [−1.5 r, 1.5 r]².
  Tensor scatter(const Tensor& points) const {
    const int64_t size = 256;
    const double half = 1.5 * data_.radius;
    data::Canvas c(size + 12, size, data::kWhite);
    auto to_px = [&](double v) { return int64_t(std::lround((v + half) / (2 * half) * double(size - 1))); };
    for (int64_t m = 0; m < data_.modes; ++m) {
      const double a = 2 * M_PI * double(m) / double(data_.modes);
      const int64_t cx = to_px(data_.radius * std::cos(a)), cy = to_px(-data_.radius * std::sin(a));
      c.rect(cx - 3, cy - 3, 7, 7, data::kGray);
    }
    const std::vector<float> p = points.contiguous().to_vector();
    for (size_t i = 0; i + 1 < p.size(); i += 2) c.pixel(to_px(p[i]), to_px(-p[i + 1]), {0.1f, 0.35f, 0.75f});
    c.text(2, size + 2, "gray: real modes  blue: G(z)", data::kBlack);
    return c.tensor();
  }

  ModelSettings model_;
  DataSettings data_;
  LossSettings loss_;
  EvalSettings eval_;
  losses::GanLoss gan_;
  uint64_t seed_;
  std::shared_ptr<nn::Sequential> g_, d_;
  Generator noise_{0};
  int64_t d_updates_ = 0;
  std::pair<double, double> untrained_quality_{0, 0};
};

}  // namespace

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device) {
  return std::make_unique<ToyGan>(cfg, device);
}

}  // namespace sakuga::toygan
