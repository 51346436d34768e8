// The redraw redrawer stage (nets/redraw/redrawer.h has the step; redrawer_nets.h the networks).
#include "nets/redraw/redrawer.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "data/canvas.h"
#include "data/redraw/pairs.h"
#include "kernels/common.h"
#include "nets/harness/gan.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/family.h"
#include "tensor/ops.h"
#include "tensor/ops/redraw.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RedrawerNetSettings, channels, levels, d_channels, d_layers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RedrawerLossSettings, sigma, rec_a, rec_b, rec_c, adv_q, adv_c, context,
                                                band)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RedrawerDataSettings, size, low_sigma, other_design, val_count)

namespace {

harness::OptimSpec adam(double lr) {
  harness::OptimSpec o;
  o.kind = "adam";
  o.lr = lr;
  o.betas = {0.5, 0.999};  // pix2pix / CycleGAN
  return o;
}

// L_σ's radius: the L1 terms are taken over the region grown by it.
int lowpass_radius(double sigma) { return int(std::ceil(3 * sigma)); }

}  // namespace

Json redrawer_defaults() {
  const RedrawerSettings s;
  RedrawerNetSettings demo = s.net;
  // The demo: 64 px crops and a quarter of the published widths, so that it trains on a 2-core
  // CPU in about ten minutes; configs/redraw-paper.json has 128 px and 64 channels.
  demo.channels = 16;
  demo.d_channels = 16;
  return Json{{"steps", s.steps},
              {"batch", s.batch},
              {"net", demo},
              {"loss", s.loss},
              {"crops", s.crops},
              {"optim", {{"G", adam(2e-4)}, {"D", adam(2e-4)}}}};
}

RedrawerSettings redrawer_settings(const Config& cfg) {
  RedrawerSettings s;
  s.steps = cfg.get<int64_t>("redrawer.steps");
  s.batch = cfg.get<int64_t>("redrawer.batch");
  s.net = cfg.get<RedrawerNetSettings>("redrawer.net");
  s.loss = cfg.get<RedrawerLossSettings>("redrawer.loss");
  s.crops = cfg.get<RedrawerDataSettings>("redrawer.crops");
  s.optim_g = cfg.get<harness::OptimSpec>("redrawer.optim.G");
  s.optim_d = cfg.get<harness::OptimSpec>("redrawer.optim.D");
  SAKUGA_CHECK(s.steps >= 1, "config redrawer.steps: expected >= 1, got ", s.steps);
  SAKUGA_CHECK(s.batch >= 1, "config redrawer.batch: expected >= 1, got ", s.batch);
  SAKUGA_CHECK(s.net.levels >= 1 && s.net.levels <= 7, "config redrawer.net.levels: expected 1 … 7, got ",
               s.net.levels);
  const int64_t unit = int64_t(1) << s.net.levels;
  SAKUGA_CHECK(s.crops.size >= 16 && s.crops.size <= 512 && s.crops.size % unit == 0,
               "config redrawer.crops.size: expected a multiple of 2^net.levels = ", unit, " within 16 … 512, got ",
               s.crops.size);
  SAKUGA_CHECK(s.net.d_layers >= 1 && (s.crops.size >> s.net.d_layers) >= 4,
               "config redrawer.net.d_layers: ", s.net.d_layers, " stride-2 layers leave less than 4×4 of a ",
               s.crops.size, " px crop");
  SAKUGA_CHECK(s.loss.sigma > 0 && lowpass_radius(s.loss.sigma) < s.crops.size / 2,
               "config redrawer.loss.sigma: expected > 0 and 3σ below half the crop, got ", s.loss.sigma);
  SAKUGA_CHECK(s.loss.band >= 1, "config redrawer.loss.band: expected >= 1 pixel, got ", s.loss.band);
  SAKUGA_CHECK(s.crops.val_count >= 1, "config redrawer.crops.val_count: expected >= 1, got ", s.crops.val_count);
  SAKUGA_CHECK(s.crops.other_design >= 0 && s.crops.other_design <= 1,
               "config redrawer.crops.other_design: expected a probability, got ", s.crops.other_design);
  return s;
}

Tensor border_extended(const Tensor& g, const Tensor& mask) {
  SAKUGA_CHECK(g.dim() == 3 && mask.dim() == 2 && g.size(1) == mask.size(0) && g.size(2) == mask.size(1) &&
                   mask.dtype() == DType::u8,
               "border_extended: expected g (C, H, W) and an (H, W) u8 mask, got ", shape_str(g.shape()), " and ",
               shape_str(mask.shape()));
  Tensor out = g.contiguous().clone();
  const int64_t C = g.size(0), H = g.size(1), W = g.size(2), n = H * W;
  const uint8_t* m = mask.contiguous().data<uint8_t>();
  const float* src = g.contiguous().data<float>();
  float* o = out.data<float>();
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t i = y * W + x;
      if (m[i]) continue;
      int64_t nb[4], k = 0;
      if (x > 0 && m[i - 1]) nb[k++] = i - 1;
      if (x + 1 < W && m[i + 1]) nb[k++] = i + 1;
      if (y > 0 && m[i - W]) nb[k++] = i - W;
      if (y + 1 < H && m[i + W]) nb[k++] = i + W;
      if (k == 0) continue;
      for (int64_t c = 0; c < C; ++c) {
        float sum = 0;
        for (int64_t j = 0; j < k; ++j) sum += src[c * n + nb[j]];
        o[c * n + i] = sum / float(k);
      }
    }
  return out;
}

Tensor region_l1(const Tensor& a, const Tensor& b, const Tensor& w) {
  const Tensor num = ops::sum(ops::abs(a - b) * w);
  const Tensor den = ops::clamp(ops::sum(w), 1.0, 1e30) * double(a.size(1));
  return num / den;
}

Tensor redrawn(RedrawGenerator& g, const Tensor& l, const Tensor& h, const Tensor& m) {
  return ops::redraw_d_inputs(g.redraw(l, h, m), l, m, m).t;  // the band does not matter for t
}

RedrawerData::RedrawerData(const RedrawerSettings& s, const DataSettings& d) : s_(s), d_(d) {
  SAKUGA_CHECK(d.synthetic, "config data.synthetic: the redrawer stage trains on the synthetic world (a dataset "
               "folder of crops has no true redrawings to measure against); use --synthetic");
  world_ = synthetic_world(d);
  for (int p = 0; p < d.productions; ++p) (world_.is_held_out(p) ? unseen_ : seen_).push_back(p);
  for (int p = 0; p < d.productions; ++p)
    for (int k = 0; k < d.designs; ++k) guides_.push_back(data::redraw::guide_crop(world_, p, k, s.crops.size));
}

namespace {

// The discriminators' labels of [real ‖ fake]: the real ones, then the fake class `fake` for each.
std::vector<int32_t> with_fakes(std::vector<int32_t> real, int fake) {
  real.resize(2 * real.size(), fake);
  return real;
}

}  // namespace

harness::Batch RedrawerData::batch(uint64_t seed, const std::vector<int64_t>& ids, const std::vector<int>& productions,
                                   double other_design) const {
  data::redraw::RedrawSampleOptions o;
  o.size = s_.crops.size;
  o.low_sigma = s_.crops.low_sigma;
  o.other_design = other_design < 0 ? s_.crops.other_design : other_design;
  o.productions = productions;
  o.guides = false;  // from the cache
  const int64_t n = int64_t(ids.size()), S = o.size;
  std::vector<Tensor> x, low, truth, guide, own, mask, band, region;
  std::vector<int32_t> design, target, production;
  const int grow = lowpass_radius(s_.loss.sigma);
  for (int64_t id : ids) {
    const data::redraw::RedrawSample r = data::redraw::redraw_sample(world_, seed, id, o);
    x.push_back(r.input);
    low.push_back(r.low);
    truth.push_back(r.truth);
    guide.push_back(guides_[size_t(r.production * d_.designs + r.target_design)]);
    own.push_back(guides_[size_t(r.production * d_.designs + r.design)]);
    auto plane = [S](const Tensor& u8) { return ops::reshape(u8.to(DType::f32), {1, S, S}); };
    mask.push_back(plane(r.mask));
    band.push_back(plane(data::redraw::boundary_band(r.mask, s_.loss.band)));
    region.push_back(plane(data::redraw::dilate_mask(r.mask, grow)));
    design.push_back(r.design);
    target.push_back(r.target_design);
    production.push_back(r.production);
  }
  return {{"x", ops::stack(x, 0)},
          {"low", ops::stack(low, 0)},
          {"truth", ops::stack(truth, 0)},
          {"guide", ops::stack(guide, 0)},
          {"own_guide", ops::stack(own, 0)},
          {"mask", ops::stack(mask, 0)},
          {"band", ops::stack(band, 0)},
          {"region", ops::stack(region, 0)},
          {"design", Tensor::from_vector_i32(design, {n})},
          {"target", Tensor::from_vector_i32(target, {n})},
          {"production", Tensor::from_vector_i32(production, {n})},
          {"labels_q", Tensor::from_vector_i32(with_fakes(design, d_.designs), {2 * n})},
          {"labels_c", Tensor::from_vector_i32(with_fakes(production, d_.productions), {2 * n})}};
}

namespace {

class RedrawerFamily : public harness::Family {
 public:
  RedrawerFamily(const Config& cfg, Device dev) : Family(cfg, dev) {
    s_ = redrawer_settings(cfg);
    data_ = data_settings(cfg);
    source_ = std::make_unique<RedrawerData>(s_, data_);
    seed_ = cfg.get<uint64_t>("train.seed");

    manual_seed(seed_);  // parameter initialisation
    g_ = parts().network("G", std::make_shared<RedrawGenerator>(s_.net));
    dq_ = parts().network("D_q", std::make_shared<PatchClassifier>(3, data_.designs + 1, s_.net.d_channels,
                                                                    s_.net.d_layers));
    dc_ = parts().network("D_c", std::make_shared<PatchClassifier>(3, data_.productions + 1, s_.net.d_channels,
                                                                    s_.net.d_layers));
    for (nn::Module* m : {(nn::Module*)g_.get(), (nn::Module*)dq_.get(), (nn::Module*)dc_.get()}) m->to(dev);
    parts().optimizer("G", s_.optim_g, {"G"}, std::nullopt, "redrawer.optim.G");
    parts().optimizer("D_q", s_.optim_d, {"D_q"}, std::nullopt, "redrawer.optim.D");
    parts().optimizer("D_c", s_.optim_d, {"D_c"}, std::nullopt, "redrawer.optim.D");
    parts().stage("redrawer", s_.steps, {"G", "D_q", "D_c"});
  }

  harness::Batch make_batch(int64_t step) const override { return make_batch_slice(step, 0, s_.batch); }

  // Samples [begin, end) of the step: sample i of the stream is the (step·batch + i)-th.
  harness::Batch make_batch_slice(int64_t step, int64_t begin, int64_t end) const override {
    std::vector<int64_t> ids;
    for (int64_t i = begin; i < end; ++i) ids.push_back(step * s_.batch + i);
    return source_->batch(seed_, ids, source_->seen());
  }

  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    const Tensor &x = b.at("x"), &low = b.at("low"), &truth = b.at("truth"), &guide = b.at("guide"),
                 &own = b.at("own_guide"), &m = b.at("mask"), &band = b.at("band"), &region = b.at("region");

    // D_q and D_c on the real crop and the translation of the low-detail input.
    {
      Tensor g;
      {
        NoGradGuard ng;
        g = g_->redraw(low, guide, m);
      }
      const ops::RedrawDInputs fake = ops::redraw_d_inputs(g, low, m, band);
      const ops::RedrawDInputs real = ops::redraw_d_inputs(x, x, m, band);
      const Tensor lq = (*dq_)(ops::concat({real.q, fake.q}, 0)), lc = (*dc_)(ops::concat({real.c, fake.c}, 0));
      const Tensor pair = ops::patch_ce_pair(lq, b.at("labels_q"), lc, b.at("labels_c"));
      const Tensor d_loss = ops::select(pair, 0, 0) + ops::select(pair, 0, 1);
      ctx.zero_grad("D_q");
      ctx.zero_grad("D_c");
      d_loss.backward();
      ctx.step_optimizer("D_q");
      ctx.step_optimizer("D_c");
      ctx.log("d_q", ops::select(pair, 0, 0));
      ctx.log("d_c", ops::select(pair, 0, 1));
      ctx.dump("loss.D", d_loss);
    }

    // G against the updated, frozen discriminators, with the triple reconstruction loss.
    harness::FreezeGuard freeze({dq_.get(), dc_.get()});
    const double sg = s_.loss.sigma;
    const Tensor g_a = g_->redraw(x, guide, m), g_b = g_->redraw(low, guide, m), g_c = g_->redraw(low, own, m);
    const Tensor t_a = ops::redraw_d_inputs(g_a, x, m, band).t;
    const ops::RedrawDInputs in_b = ops::redraw_d_inputs(g_b, low, m, band);
    const Tensor t_c = ops::redraw_d_inputs(g_c, low, m, band).t;
    const Tensor outside = ops::neg(m) + 1.0;
    const Tensor context = (region_l1(g_a, x, outside) + region_l1(g_b, low, outside) + region_l1(g_c, low, outside)) *
                           (1.0 / 3.0);
    const Tensor low_lp = gaussian_lowpass(low, sg);
    const Tensor rec_a = region_l1(gaussian_lowpass(t_a, sg), gaussian_lowpass(truth, sg), region);
    const Tensor rec_b = region_l1(gaussian_lowpass(in_b.t, sg), low_lp, region);
    const Tensor rec_c = region_l1(gaussian_lowpass(t_c, sg), low_lp, region);
    const Tensor adv = ops::patch_ce_pair((*dq_)(in_b.q), b.at("target"), (*dc_)(in_b.c), b.at("production"));
    const Tensor adv_q = ops::select(adv, 0, 0), adv_c = ops::select(adv, 0, 1);
    const Tensor g_loss = rec_a * s_.loss.rec_a + rec_b * s_.loss.rec_b + rec_c * s_.loss.rec_c +
                          adv_q * s_.loss.adv_q + adv_c * s_.loss.adv_c + context * s_.loss.context;
    ctx.update("G", g_loss);
    ctx.log("context", context);
    ctx.log("rec_a", rec_a);
    ctx.log("rec_b", rec_b);
    ctx.log("rec_c", rec_c);
    ctx.log("g_adv_q", adv_q);
    ctx.log("g_adv_c", adv_c);
    ctx.dump("t_a", t_a);
    ctx.dump("t_b", in_b.t);
    ctx.dump("t_c", t_c);
    for (auto [name, v] : {std::pair<const char*, const Tensor*>{"rec_a", &rec_a}, {"rec_b", &rec_b},
                           {"rec_c", &rec_c}, {"adv_q", &adv_q}, {"adv_c", &adv_c}, {"context", &context},
                           {"G", &g_loss}})
      ctx.dump(std::string("loss.") + name, *v);
  }

  // On the fixed validation crops (seen productions): the three reconstruction terms (their sum
  // is val_loss), the L1 of the translation t_b to the true redrawing inside the region against
  // the input's (the baseline: the input itself), and the low-pass error of t_b to its input.
  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    g_->eval();
    const harness::Batch& val = validation();
    const int64_t n = val.at("x").size(0), bs = std::max<int64_t>(1, s_.batch);
    double rec[3] = {0, 0, 0}, l1_truth = 0, l1_input = 0, lowpass = 0;
    std::vector<Tensor> shown;
    for (int64_t lo = 0; lo < n; lo += bs) {
      const int64_t hi = std::min(n, lo + bs), k = hi - lo;
      auto part = [&](const char* name) { return ops::slice(val.at(name), 0, lo, hi).contiguous().to(ctx.device); };
      const Tensor x = part("x"), low = part("low"), truth = part("truth"), guide = part("guide"),
                   own = part("own_guide"), m = part("mask"), band = part("band"), region = part("region");
      const double sg = s_.loss.sigma;
      const Tensor t_a = redrawn(*g_, x, guide, m), t_b = redrawn(*g_, low, guide, m), t_c = redrawn(*g_, low, own, m);
      const Tensor low_lp = gaussian_lowpass(low, sg);
      const double w = double(k) / double(n);
      rec[0] += w * region_l1(gaussian_lowpass(t_a, sg), gaussian_lowpass(truth, sg), region).item();
      rec[1] += w * region_l1(gaussian_lowpass(t_b, sg), low_lp, region).item();
      rec[2] += w * region_l1(gaussian_lowpass(t_c, sg), low_lp, region).item();
      l1_truth += w * region_l1(t_b, truth, m).item();
      l1_input += w * region_l1(low, truth, m).item();
      lowpass += w * ops::mean(ops::abs(gaussian_lowpass(t_b, sg) - low_lp)).item();
      if (lo == 0) shown = {low.to(Device::cpu()), guide.to(Device::cpu()), t_b.to(Device::cpu()),
                            truth.to(Device::cpu())};
    }
    harness::EvalReport r;
    r.metrics = {{"val_loss", rec[0] + rec[1] + rec[2]},
                 {"rec_a", rec[0]},
                 {"rec_b", rec[1]},
                 {"rec_c", rec[2]},
                 {"l1_truth", l1_truth},
                 {"l1_truth_input", l1_input},
                 {"lowpass_error", lowpass}};
    r.sheet = sheet(shown);
    return r;
  }

  std::string describe() const override {
    return fmt::format("redraw redrawer: G U-Net {} levels from {} channels ({} parameters), D_q {} classes, D_c {} "
                       "classes ({} + {} parameters), {} px crops of {} seen productions x {} designs, batch {}, {}, "
                       "{} steps",
                       s_.net.levels, s_.net.channels, g_->num_parameters(), data_.designs + 1, data_.productions + 1,
                       dq_->num_parameters(), dc_->num_parameters(), s_.crops.size, source_->seen().size(), data_.designs,
                       s_.batch, device().str(), parts().total_steps());
  }

  std::string summary(const std::map<std::string, double>& last) const override {
    auto get = [&](const char* k) {
      auto it = last.find(k);
      return it == last.end() ? -1.0 : it->second;
    };
    if (get("l1_truth") < 0) return "";
    return fmt::format("redraw redrawer: L1 to the true redrawing inside the eye region {:.4f} (the input itself: "
                       "{:.4f}); low-pass error to the input {:.4f}",
                       get("l1_truth"), get("l1_truth_input"), get("lowpass_error"));
  }

  int64_t batch_size() const override { return s_.batch; }

 private:
  const harness::Batch& validation() {
    std::lock_guard<std::mutex> l(mu_);
    if (val_.empty()) {
      std::vector<int64_t> ids;
      for (int64_t i = 0; i < s_.crops.val_count; ++i) ids.push_back(i);
      val_ = source_->batch(data_.val_seed, ids, source_->seen());
    }
    return val_;
  }

  // Up to 6 validation samples as rows: low-detail input, guide, redrawn, true redrawing.
  static Tensor sheet(const std::vector<Tensor>& cols) {
    if (cols.empty()) return Tensor();
    const int64_t rows = std::min<int64_t>(6, cols[0].size(0));
    std::vector<std::vector<Tensor>> grid;
    data::GridLabels labels{{"input", "guide", "redrawn", "truth"}, {}};
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<Tensor> row;
      for (const Tensor& c : cols) row.push_back(ops::clamp(ops::select(c, 0, r), 0.0, 1.0).contiguous());
      grid.push_back(row);
    }
    return data::image_grid(grid, labels);
  }

  RedrawerSettings s_;
  DataSettings data_;
  std::unique_ptr<RedrawerData> source_;
  uint64_t seed_ = 0;
  std::shared_ptr<RedrawGenerator> g_;
  std::shared_ptr<PatchClassifier> dq_, dc_;
  std::mutex mu_;
  harness::Batch val_;
};

}  // namespace

RedrawerModel load_redrawer(const ModelSource& src) {
  io::SafetensorsFile f = io::load_safetensors(src.ckpt);
  require_stage(f, src.ckpt, Stage::redrawer);
  ConfigSources cs;
  cs.files = src.config_files;
  cs.sets = src.sets;
  cs.saved = Json::parse(f.metadata.at("config"));
  cs.saved_source = src.ckpt + " (metadata config)";
  RedrawerModel m{resolve_config(default_config(), cs), {}, {}, nullptr};
  m.settings = redrawer_settings(m.cfg);
  m.data = data_settings(m.cfg);
  m.g = std::make_shared<RedrawGenerator>(m.settings.net);
  nn::StateDict sd;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind("G.", 0) == 0) sd[k.substr(2)] = v;
  try {
    m.g->load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(src.ckpt, ": network G: ", e.what());
  }
  m.g->to(Device::parse(src.device));
  m.g->eval();
  return m;
}

std::unique_ptr<harness::Family> make_redrawer_family(const Config& cfg, Device device, bool) {
  return std::make_unique<RedrawerFamily>(cfg, device);
}


}  // namespace sakuga::redraw
