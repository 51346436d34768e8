// Scenimefy training, read top to bottom: data → networks and optimisers → batches → the step
// (D, D_p, then G with F and F_s) → evaluation → loading a generator for eval / infer.
#include "nets/scenimefy/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <regex>

#include "data/canvas.h"
#include "data/draw.h"
#include "data/frechet.h"
#include "data/image_quality.h"
#include "data/png.h"
#include "data/sampling.h"
#include "data/scenes.h"
#include "data/scenimefy/cut_folders.h"
#include "kernels/log.h"
#include "kernels/philox.h"
#include "losses/gan.h"
#include "nets/harness/gan.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/ops/nce.h"
#include "tensor/safetensors.h"

namespace sakuga::scenimefy {

using harness::Batch;
namespace fs = std::filesystem;

GeneratorConfig generator_config(const ModelSettings& m) {
  GeneratorConfig g;
  g.ngf = m.ngf;
  g.blocks = m.blocks;
  return g;
}

namespace {

uint64_t hash3(uint64_t a, uint64_t b, uint64_t c) { return data::draw::mix64(data::draw::mix64(a ^ data::draw::mix64(b)) + c); }

// Which stream a synthetic scene belongs to (distinct seeds for photos, anime, pairs, held-out).
enum SceneStream : uint64_t { kPhotoStream = 1, kAnimeStream = 2, kPairStream = 3, kValStream = 4, kValAnimeStream = 5 };

Tensor to_signed(const Tensor& unit) { return unit * 2.0 - 1.0; }   // [0, 1] → [−1, 1]
Tensor to_unit(const Tensor& signed_) { return ops::clamp((signed_ + 1.0) * 0.5, 0.0, 1.0); }

// ---- data ---------------------------------------------------------------------------------------

// Training images of both domains, the pseudo pairs and the held-out photos with their targets.
class SceneData {
 public:
  SceneData(const Settings& s, uint64_t seed, bool quiet) : s_(s), seed_(seed) {
    const DataSettings& d = s.data;
    crop_.crop = d.size;
    crop_.load = d.load > 0 ? d.load : (d.size * 286 + 128) / 256;  // CUT's 286 / 256
    crop_.flip = d.flip;
    data::scenimefy::check_crop(crop_);
    if (d.source == "folder") {
      folders_ = data::scenimefy::open_cut_folders(d.dir);
      const bool paired_terms = s.loss.gan_pair > 0 || s.loss.style > 0;
      SAKUGA_CHECK(!folders_.pairs.empty() || !paired_terms, d.dir,
                   ": no pseudo pairs (pairs/A + pairs/B); the paired branch needs them — supply pairs, or train "
                   "unpaired with --set loss.gan_pair=0 --set loss.style=0");
      if (!quiet)
        log::info("{}: {} photos (trainA), {} anime frames (trainB), {} pseudo pairs", d.dir, folders_.a.size(),
                  folders_.b.size(), folders_.pairs.size());
      if (!d.val_dir.empty()) open_val_folder(d.val_dir);
    } else {
      for (int64_t i = 0; i < d.val_count; ++i) {
        const data::scenes::Scene sc = scene(kValStream, i);
        val_photo_.push_back(data::draw::to_tensor(sc.photo));
        val_truth_.push_back(data::draw::to_tensor(sc.anime));
        val_anime_.push_back(data::draw::to_tensor(scene(kValAnimeStream, i).anime));  // other scenes
      }
    }
  }

  // Sample j of each training stream, (3, S, S) in [−1, 1]: photo x, anime y, pair (x_p, y_p).
  Tensor photo(int64_t j) const {
    if (!folder()) return flipped(to_signed(data::draw::to_tensor(scene(kPhotoStream, j).photo)), key(kPhotoStream, j));
    const int64_t n = int64_t(folders_.a.size());
    return data::scenimefy::load_crop(folders_.a[size_t(ordered(j, n))], crop_, key(kPhotoStream, j));
  }
  Tensor anime(int64_t j) const {
    if (!folder()) return flipped(to_signed(data::draw::to_tensor(scene(kAnimeStream, j).anime)), key(kAnimeStream, j));
    // CUT draws the B image at random (serial_batches off).
    const uint64_t k = key(kAnimeStream, j);
    return data::scenimefy::load_crop(folders_.b[size_t(k % folders_.b.size())], crop_, k);
  }
  std::pair<Tensor, Tensor> pair(int64_t j) const {
    const uint64_t k = key(kPairStream, j);
    if (!folder()) {
      const data::scenes::Scene sc = scene(kPairStream, int64_t(k % uint64_t(s_.data.pairs)));
      return {flipped(to_signed(data::draw::to_tensor(sc.photo)), k), flipped(to_signed(data::draw::to_tensor(sc.anime)), k)};
    }
    if (folders_.pairs.empty()) {  // an unpaired run: the paired branch has weight 0
      const Tensor x = photo(j);
      return {x, x};
    }
    const auto& [a, b] = folders_.pairs[size_t(k % folders_.pairs.size())];
    return data::scenimefy::load_pair_crop(a, b, crop_, k);
  }

  // Held-out photos and their true renderings, (3, H, W) in [0, 1].
  const std::vector<Tensor>& val_photos() const { return val_photo_; }
  const std::vector<Tensor>& val_truths() const { return val_truth_; }
  // Anime frames of other scenes (the target domain for the KID proxy); the truths when a
  // val_dir has no trainB.
  const std::vector<Tensor>& val_anime() const { return val_anime_.empty() ? val_truth_ : val_anime_; }

  // Steps of one epoch at batch `batch` (CUT: max(|A|, |B|) images); 0 for the endless synthetic streams.
  int64_t epoch_steps(int64_t batch) const {
    if (!folder()) return 0;
    return std::max<int64_t>(1, int64_t(std::max(folders_.a.size(), folders_.b.size())) / batch);
  }

  std::string describe() const {
    if (!folder()) return fmt::format("synthetic scenes {}², {} pseudo pairs", s_.data.size, s_.data.pairs);
    return fmt::format("{} ({} / {} / {} pairs), crops {}² of {}²", s_.data.dir, folders_.a.size(), folders_.b.size(),
                       folders_.pairs.size(), crop_.crop, crop_.load);
  }

 private:
  bool folder() const { return s_.data.source == "folder"; }
  uint64_t key(uint64_t stream, int64_t j) const { return hash3(seed_, stream, uint64_t(j)); }
  data::scenes::Scene scene(uint64_t stream, int64_t j) const {
    const int size = int(s_.data.size);
    return data::scenes::render_scene(hash3(seed_ ^ 0x5343454E45ull, stream, uint64_t(j)), size, size);
  }
  Tensor flipped(const Tensor& img, uint64_t k) const {
    return s_.data.flip && (data::draw::mix64(k ^ 0x666C6970ull) & 1) ? ops::flip(img, {2}).contiguous() : img;
  }
  int64_t ordered(int64_t j, int64_t n) const {  // trainA epoch by epoch, in a seeded order
    std::lock_guard<std::mutex> l(mu_);
    if (j / n != order_epoch_) {
      order_ = data::epoch_order(n, seed_, j / n);
      order_epoch_ = j / n;
    }
    return order_[size_t(j % n)];
  }
  // DIR/trainA/x.png with DIR/truth/x.png: resized to data.size² (no crop, no flip).
  void open_val_folder(const std::string& dir) {
    const fs::path a = fs::path(dir) / "trainA", t = fs::path(dir) / "truth";
    SAKUGA_CHECK(fs::is_directory(a) && fs::is_directory(t), "config data.val_dir: ", dir,
                 " needs trainA/ and truth/ (e.g. from sakuga synth scenimefy)");
    data::scenimefy::CropSettings whole{s_.data.size, s_.data.size, false};
    for (const std::string& f : data::scenimefy::list_pngs(a.string(), false, "")) {
      if (int64_t(val_photo_.size()) >= s_.data.val_count) break;
      const fs::path truth = t / fs::path(f).filename();
      SAKUGA_CHECK(fs::exists(truth), "config data.val_dir: ", f, " has no true rendering ", truth.string());
      val_photo_.push_back(to_unit(data::scenimefy::load_crop(f, whole, 0)));
      val_truth_.push_back(to_unit(data::scenimefy::load_crop(truth.string(), whole, 0)));
    }
    SAKUGA_CHECK(!val_photo_.empty(), "config data.val_dir: ", a.string(), " has no .png photos");
    for (const std::string& f : data::scenimefy::list_pngs((fs::path(dir) / "trainB").string(), false, "")) {
      if (int64_t(val_anime_.size()) >= s_.data.val_count) break;
      val_anime_.push_back(to_unit(data::scenimefy::load_crop(f, whole, 0)));
    }
  }

  Settings s_;
  uint64_t seed_;
  data::scenimefy::CropSettings crop_;
  data::scenimefy::CutFolders folders_;
  std::vector<Tensor> val_photo_, val_truth_, val_anime_;
  mutable std::mutex mu_;
  mutable int64_t order_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

// `count` distinct flat positions of n, a pure function of (key): the first `count` entries of a
// Fisher–Yates shuffle driven by the Philox stream of `key` (CUT: randperm(n)[:count]).
Tensor sample_positions(uint64_t key, int64_t n, int64_t count) {
  count = std::min(count, n);
  std::vector<int32_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = int32_t(i);
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t r = (uint64_t(philox::word(key, uint64_t(2 * i))) << 32) | philox::word(key, uint64_t(2 * i + 1));
    const int64_t j = i + int64_t(r % uint64_t(n - i));
    std::swap(perm[size_t(i)], perm[size_t(j)]);
  }
  perm.resize(size_t(count));
  return Tensor::from_vector_i32(perm, {count});
}

// Rows (n·P, C) of n images → (n, P, C).
Tensor per_image(const Tensor& rows, int64_t n) { return ops::reshape(rows, {n, rows.size(0) / n, rows.size(1)}); }

// The mean over taps of f(l).
template <class F>
Tensor mean_over_taps(size_t taps, F&& f) {
  Tensor sum = f(size_t(0));
  for (size_t l = 1; l < taps; ++l) sum = sum + f(l);
  return sum * (1.0 / double(taps));
}

// Every tap's feature map, images [begin, end).
std::vector<Tensor> images_of(const std::vector<Tensor>& taps, int64_t begin, int64_t end) {
  std::vector<Tensor> out;
  for (const Tensor& t : taps) out.push_back(ops::slice(t, 0, begin, end));
  return out;
}

// ---- the family ---------------------------------------------------------------------------------

class ScenimefyFamily : public harness::Family {
 public:
  ScenimefyFamily(const Config& cfg, Device dev, bool quiet)
      : Family(cfg, dev), s_(settings_of(cfg)), seed_(cfg.get<uint64_t>("train.seed")), data_(s_, seed_, quiet) {
    if (s_.steps == 0) {
      s_.steps = s_.epochs * data_.epoch_steps(s_.data.batch);
      if (!quiet) log::info("scenimefy: train.steps 0: {} epochs of {} steps = {} steps", s_.epochs,
                            data_.epoch_steps(s_.data.batch), s_.steps);
    }
    manual_seed(seed_);  // parameter initialisation
    g_ = parts().network("G", std::make_shared<ResnetGenerator>(generator_config(s_.model)));
    d_ = parts().network("D", std::make_shared<PatchDiscriminator>(3, s_.model.ndf, s_.model.d_layers));
    d_p_ = parts().network("D_p", std::make_shared<PatchDiscriminator>(6, s_.model.ndf, s_.model.d_layers));
    const std::vector<int64_t> widths = g_->tap_channels(s_.model.taps);
    f_ = parts().network("F", std::make_shared<PatchSampleF>(widths, s_.model.nc));
    f_s_ = parts().network("F_s", std::make_shared<PatchSampleF>(widths, s_.model.nc));
    for (nn::Module* m : std::initializer_list<nn::Module*>{g_.get(), d_.get(), d_p_.get(), f_.get(), f_s_.get()})
      m->to(dev);
    if (s_.model.ema > 0) {  // declared last: the other networks' initialisation stays as without it
      g_ema_ = parts().network("G_ema", std::make_shared<ResnetGenerator>(generator_config(s_.model)));
      g_ema_->to(dev);
      g_ema_->set_requires_grad(false);
      ema_start_ = int64_t(s_.model.ema_start * double(s_.steps));
      follow_g(-1);
    }
    const std::vector<std::pair<const char*, harness::OptimSpec>> specs{
        {"G", s_.g}, {"D", s_.d}, {"D_p", s_.d_p}, {"F", s_.f}, {"F_s", s_.f_s}};
    for (const auto& [name, spec] : specs) parts().optimizer(name, cut_schedule(spec), {name});
    parts().stage("train", s_.steps, {"G", "D", "D_p", "F", "F_s"});
  }

  // Sample j = step·B + b of each stream.
  Batch make_batch(int64_t step) const override {
    const int64_t B = s_.data.batch;
    std::vector<Tensor> x, y, xp, yp;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t j = step * B + b;
      x.push_back(data_.photo(j));
      y.push_back(data_.anime(j));
      auto [pa, pb] = data_.pair(j);
      xp.push_back(pa);
      yp.push_back(pb);
    }
    NoGradGuard ng;
    return {{"x", ops::stack(x, 0)}, {"y", ops::stack(y, 0)}, {"xp", ops::stack(xp, 0)}, {"yp", ops::stack(yp, 0)}};
  }

  void step(const Batch& b, harness::StepContext& ctx) override;
  harness::EvalReport evaluate(harness::EvalContext& ctx) override;
  std::string describe() const override;
  std::string summary(const std::map<std::string, double>& last) const override;
  int64_t batch_size() const override { return s_.data.batch; }

 private:
  // CUT's lr policy: constant for E − E_decay epochs, then linear to lr/(E_decay + 1) at the end
  // (the reference's last epoch runs at that rate), over this run's steps.
  harness::OptimSpec cut_schedule(harness::OptimSpec spec) const {
    const int64_t hold = s_.steps * (s_.epochs - s_.epochs_decay) / s_.epochs;
    spec.warmup = 0;
    if (s_.epochs_decay == 0) {
      spec.schedule = "constant";
      return spec;
    }
    spec.schedule = "linear";
    spec.hold = hold;
    spec.decay_steps = std::max<int64_t>(s_.steps - hold, 1);
    spec.lr_end = spec.lr / double(s_.epochs_decay + 1);
    return spec;
  }

  // G_ema after `step` (−1: at initialisation): a copy of G up to ema_start_, then the mean of
  // G's iterates from there, an exponential moving average once the mean would span more than
  // 1/(1 − decay) steps. A pure function of G's iterates, so resumed runs and data-parallel
  // ranks (one G) agree.
  void follow_g(int64_t step) {
    NoGradGuard ng;
    const int64_t n = step - ema_start_ + 1;  // G's iterates averaged after this one, beyond the first
    const double decay = n <= 0 ? 0.0 : std::min(s_.model.ema, double(n) / double(n + 1));
    const nn::NamedTensors live = g_->named_parameters(), avg = g_ema_->named_parameters();
    for (size_t i = 0; i < live.size(); ++i) {
      const Tensor& a = avg[i].second;
      if (decay == 0) a.copy_(live[i].second);
      else a.copy_(a * decay + live[i].second * (1 - decay));
    }
  }

  // The generator that evaluation shows: the average once it averages, else G.
  ResnetGenerator& shown_generator(int64_t steps_done) const {
    return g_ema_ && steps_done > ema_start_ ? *g_ema_ : *g_;
  }

  // The positions of tap l (flat indices into its H·W) for one use ("main": x, G(x), y, G(y);
  // "style": y_p, G(x_p)) at `step`: a pure function of (seed, step), so resumed and data-parallel
  // runs draw the same ones.
  std::vector<Tensor> positions(const std::vector<Tensor>& taps, int64_t step, uint64_t use) const {
    std::vector<Tensor> pos;
    for (size_t l = 0; l < taps.size(); ++l) {
      const int64_t hw = taps[l].size(2) * taps[l].size(3);
      pos.push_back(sample_positions(hash3(seed_ ^ 0x504F53ull, uint64_t(step) * 4 + use, l), hw, s_.model.patches)
                        .to(device()));
    }
    return pos;
  }

  Settings s_;
  uint64_t seed_;
  SceneData data_;
  std::shared_ptr<ResnetGenerator> g_;
  std::shared_ptr<PatchDiscriminator> d_, d_p_;
  std::shared_ptr<PatchSampleF> f_, f_s_;
  std::shared_ptr<ResnetGenerator> g_ema_;  // null when model.ema is 0
  int64_t ema_start_ = 0;                   // the step from which G_ema averages
};

void ScenimefyFamily::step(const Batch& b, harness::StepContext& ctx) {
  const Tensor &x = b.at("x"), &y = b.at("y"), &xp = b.at("xp"), &yp = b.at("yp");
  const int64_t B = x.size(0);
  const LossSettings& L = s_.loss;
  const std::vector<int64_t>& taps = s_.model.taps;
  const size_t T = taps.size();
  const int64_t epoch = epoch_of(s_, ctx.step());
  const double lam_pair = lambda_pair(s_, epoch), gamma = hdce_gamma(s_, epoch);
  const double lam_style = L.reference_weighting ? L.style * L.style : L.style;
  const auto lsgan = losses::GanLoss::lsgan;

  // One translation pass over (x, y, x_p): the outputs and the sources' tap features.
  std::vector<Tensor> src_taps;
  const Tensor fake_all = g_->forward_with_taps(ops::concat({x, y, xp}, 0), taps, src_taps);
  const Tensor fake_B = ops::slice(fake_all, 0, 0, B), idt_B = ops::slice(fake_all, 0, B, 2 * B),
               fake_pair = ops::slice(fake_all, 0, 2 * B, 3 * B);

  // D and D_p on the detached outputs.
  const Tensor d_loss = losses::gan_d_loss(lsgan, (*d_)(y), (*d_)(fake_B.detach()));
  ctx.update("D", d_loss);
  const Tensor dp_loss = losses::gan_d_loss(lsgan, (*d_p_)(ops::concat({xp, yp}, 1)),
                                            (*d_p_)(ops::concat({xp, fake_pair.detach()}, 1)));
  ctx.update("D_p", dp_loss);

  // G, F and F_s through the frozen discriminators.
  harness::FreezeGuard frozen({d_.get(), d_p_.get()});
  const Tensor g_gan = losses::gan_g_loss(lsgan, (*d_)(fake_B));
  const Tensor pair_gan = losses::gan_g_loss(lsgan, (*d_p_)(ops::concat({xp, fake_pair}, 1)));
  // One encoder pass over the outputs (G(x), G(y), G(x_p)); y_p's without a tape.
  const std::vector<Tensor> out_taps = g_->encode(fake_all, taps);
  std::vector<Tensor> yp_taps;
  {
    NoGradGuard ng;
    yp_taps = g_->encode(yp, taps);
  }
  const std::vector<Tensor> pos = positions(src_taps, ctx.step(), 0), style_pos = positions(yp_taps, ctx.step(), 1);
  // Patch features after the heads, (2B·P, nc) per tap: rows of x then y (k), G(x) then G(y) (q).
  std::vector<Tensor> k_main, k_style;
  {
    NoGradGuard ng;  // the source side is a constant of every loss (CUT detaches it)
    k_main = f_->sample(images_of(src_taps, 0, 2 * B), pos);
    k_style = f_s_->sample(yp_taps, style_pos);
  }
  const std::vector<Tensor> q_main = f_->sample(images_of(out_taps, 0, 2 * B), pos);
  const std::vector<Tensor> q_style = f_s_->sample(images_of(out_taps, 2 * B, 3 * B), style_pos);

  // Per tap: the (B, P, nc) features of x / G(x) (first half of the rows) and y / G(y) (second).
  auto half = [B](const Tensor& rows, int which) {
    const int64_t n = rows.size(0) / 2;
    return per_image(ops::slice(rows, 0, which * n, (which + 1) * n), B);
  };
  std::vector<Tensor> feat_q(T), feat_k(T), idt_q(T), idt_k(T), style_q(T), style_k(T);
  for (size_t l = 0; l < T; ++l) {
    feat_q[l] = half(q_main[l], 0);
    feat_k[l] = half(k_main[l], 0);
    idt_q[l] = half(q_main[l], 1);
    idt_k[l] = half(k_main[l], 1);
    style_q[l] = per_image(q_style[l], B);
    style_k[l] = per_image(k_style[l], B);
  }
  const Tensor hdce_x = mean_over_taps(T, [&](size_t l) {
    return ops::hdce_loss(feat_q[l], feat_k[l], ops::hdce_weights(feat_k[l], gamma), L.tau);
  });
  const Tensor hdce_y = mean_over_taps(T, [&](size_t l) {
    return ops::hdce_loss(idt_q[l], idt_k[l], ops::hdce_weights(idt_k[l], gamma), L.tau);
  });
  const Tensor hdce = L.identity ? (hdce_x + hdce_y) * 0.5 : hdce_x;
  const Tensor src = mean_over_taps(T, [&](size_t l) { return ops::src_loss(feat_q[l], feat_k[l]); });
  const Tensor style = mean_over_taps(T, [&](size_t l) { return ops::patch_nce_loss(style_q[l], style_k[l], L.tau); });
  Tensor nce;
  {
    NoGradGuard ng;  // reported only: HDCE replaces PatchNCE in the total
    nce = mean_over_taps(T, [&](size_t l) { return ops::patch_nce_loss(feat_q[l].detach(), feat_k[l], L.tau); });
  }
  const Tensor g_loss = g_gan * L.gan + hdce * L.hdce + src * L.src + (pair_gan * L.gan_pair + style * lam_style) * lam_pair;

  if (ctx.dumping()) {
    for (const auto& [name, t] : std::vector<std::pair<const char*, Tensor>>{
             {"real_A", x}, {"real_B", y}, {"pair_A", xp}, {"pair_B", yp},
             {"fake_B", fake_B}, {"idt_B", idt_B}, {"fake_pair", fake_pair}})
      ctx.dump(name, t);
    auto rows = [](const Tensor& t) { return ops::reshape(t, {t.size(0) * t.size(1), t.size(2)}); };
    for (size_t l = 0; l < T; ++l) {
      const std::string i = std::to_string(l);
      ctx.dump("feat_q." + i, rows(feat_q[l]));
      ctx.dump("feat_k." + i, rows(feat_k[l]));
      ctx.dump("idt_q." + i, rows(idt_q[l]));
      ctx.dump("idt_k." + i, rows(idt_k[l]));
      ctx.dump("style_q." + i, rows(style_q[l]));
      ctx.dump("style_k." + i, rows(style_k[l]));
      ctx.dump("positions." + i, pos[l]);
      ctx.dump("style_positions." + i, style_pos[l]);
    }
    for (const auto& [name, t] : std::vector<std::pair<const char*, Tensor>>{
             {"loss.nce", nce}, {"loss.hdce", hdce}, {"loss.src", src}, {"loss.style_nce", style},
             {"loss.G_GAN", g_gan}, {"loss.pair_GAN", pair_gan}, {"loss.G", g_loss}, {"loss.D", d_loss},
             {"loss.D_p", dp_loss}})
      ctx.dump(name, t);
    ctx.dump("lambda_pair", Tensor::scalar(lam_pair));
    ctx.dump("gamma", Tensor::scalar(gamma));
  }
  for (const char* o : {"G", "F", "F_s"}) ctx.zero_grad(o);
  g_loss.backward();
  for (const char* o : {"G", "F", "F_s"}) ctx.step_optimizer(o);
  if (g_ema_) follow_g(ctx.step());

  ctx.log("G", g_loss);
  ctx.log("G_GAN", g_gan);
  ctx.log("pair_GAN", pair_gan);
  ctx.log("hdce", hdce);
  ctx.log("src", src);
  ctx.log("style_nce", style);
  ctx.log("nce", nce);
  ctx.log("D", d_loss);
  ctx.log("D_p", dp_loss);
}

harness::EvalReport ScenimefyFamily::evaluate(harness::EvalContext& ctx) {
  harness::EvalReport r;
  const auto& photos = data_.val_photos();
  const auto& truths = data_.val_truths();
  if (photos.empty()) return r;
  ResnetGenerator& g = shown_generator(ctx.step);
  g.eval();
  double l1 = 0, psnr = 0, ssim = 0, il1 = 0, ipsnr = 0, issim = 0;
  std::vector<std::vector<Tensor>> grid;
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < photos.size(); ++i) {
    const Tensor out = to_unit(translate_any_size(g, to_signed(photos[i]), ctx.device));
    const data::ImageQuality q = data::image_quality(out, truths[i]), id = data::image_quality(photos[i], truths[i]);
    l1 += q.l1, psnr += q.psnr, ssim += q.ssim, il1 += id.l1, ipsnr += id.psnr, issim += id.ssim;
    outputs.push_back(out);
    if (int64_t(i) < s_.eval.samples) grid.push_back({photos[i], out, truths[i]});
  }
  const double n = double(photos.size());
  r.metrics = {{"val_l1", l1 / n},           {"val_psnr", psnr / n},           {"val_ssim", ssim / n},
               {"identity_l1", il1 / n},     {"identity_psnr", ipsnr / n},     {"identity_ssim", issim / n}};
  // The distribution distance to anime frames of other scenes (the KID proxy: 8×8 colour
  // features, unbiased at these small counts), for G(photo) and for the photos themselves.
  if (photos.size() >= 2 && data_.val_anime().size() >= 2) {
    const Tensor ref = data::proxy_features(data_.val_anime());
    r.metrics["val_kid_proxy"] = data::kernel_inception_distance(data::proxy_features(outputs), ref, 1, 1000, 0).mean;
    r.metrics["identity_kid_proxy"] = data::kernel_inception_distance(data::proxy_features(photos), ref, 1, 1000, 0).mean;
  }
  if (!grid.empty()) {
    data::GridLabels gl;
    gl.columns = {"photo", "G(photo)", "truth"};
    r.sheet = data::image_grid(grid, gl);
  }
  return r;
}

std::string ScenimefyFamily::describe() const {
  const std::string ema =
      g_ema_ ? fmt::format(", G_ema (decay {}) from step {}", s_.model.ema, ema_start_) : std::string(", no G_ema");
  return fmt::format("scenimefy: {}; G ngf {} × {} blocks ({} parameters){}, D/D_p ndf {}, F/F_s {}×{} on taps {}, "
                     "batch {}, {}",
                     data_.describe(), s_.model.ngf, s_.model.blocks, g_->num_parameters(), ema, s_.model.ndf,
                     s_.model.patches, s_.model.nc, fmt::join(s_.model.taps, ","), s_.data.batch, device().str());
}

std::string ScenimefyFamily::summary(const std::map<std::string, double>& last) const {
  if (!last.count("val_psnr")) return "";
  std::string kid;
  if (last.count("val_kid_proxy"))
    kid = fmt::format("; KID proxy (8×8 colour features, not Inception) to anime frames {:.4f} (identity {:.4f})",
                      last.at("val_kid_proxy"), last.at("identity_kid_proxy"));
  return fmt::format("scenimefy: held-out photos → their true anime rendering: PSNR {:.2f} dB (identity {:.2f}), "
                     "SSIM {:.3f} (identity {:.3f}), L1 {:.4f} (identity {:.4f}){}",
                     last.at("val_psnr"), last.at("identity_psnr"), last.at("val_ssim"), last.at("identity_ssim"),
                     last.at("val_l1"), last.at("identity_l1"), kid);
}

// A checkpoint of another family is an error naming it.
void require_scenimefy(const io::SafetensorsFile& f, const std::string& file) {
  if (auto it = f.metadata.find("family"); it != f.metadata.end())
    SAKUGA_CHECK(it->second == "scenimefy", file, ": a checkpoint of family '", it->second, "', not scenimefy");
}

}  // namespace

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet) {
  return std::make_unique<ScenimefyFamily>(cfg, device, quiet);
}

Tensor translate_any_size(ResnetGenerator& g, const Tensor& image, Device dev) {
  NoGradGuard ng;
  SAKUGA_CHECK(image.dim() == 3 && image.size(0) == 3, "scenimefy: expected an RGB image (3, H, W), got ",
               shape_str(image.shape()));
  const int64_t h = image.size(1), w = image.size(2);
  const int64_t ph = (4 - h % 4) % 4, pw = (4 - w % 4) % 4;
  Tensor x = ops::unsqueeze(image, 0).to(dev);
  if (ph || pw) {
    const bool reflect = h > ph && w > pw;
    x = ops::pad(x, {0, pw, 0, ph}, reflect ? ops::PadMode::reflect : ops::PadMode::replicate);
  }
  Tensor y = g(x);
  if (ph || pw) y = ops::slice(ops::slice(y, 2, 0, h), 3, 0, w);
  return ops::select(y, 0, 0).contiguous().to(Device::cpu());
}

LoadedGenerator load_generator(const std::string& file, const std::vector<std::string>& config_files,
                               const std::vector<std::string>& sets, Device dev) {
  const io::SafetensorsFile f = io::load_safetensors(file);
  require_scenimefy(f, file);
  LoadedGenerator out;
  ConfigSources src;
  src.files = config_files;
  src.sets = sets;
  nn::StateDict sd;
  const bool checkpoint = f.tensors.count("G.model.1.weight") > 0;
  if (checkpoint) {
    out.kind = "checkpoint";
    if (auto it = f.metadata.find("config"); it != f.metadata.end()) {
      src.saved = Json::parse(it->second);
      src.saved_source = file + " (metadata config)";
    }
    // The weight average when the run kept one (model.ema), else G itself.
    const std::string prefix = f.tensors.count("G_ema.model.1.weight") ? "G_ema." : "G.";
    out.network = prefix.substr(0, prefix.size() - 1);
    for (const auto& [k, v] : f.tensors)
      if (k.rfind(prefix, 0) == 0) sd[k.substr(prefix.size())] = v;
  } else {
    out.kind = "state_dict";
    SAKUGA_CHECK(f.tensors.count("model.1.weight"), file,
                 ": neither a scenimefy checkpoint (G.model.1.weight) nor a converted CUT / Scenimefy generator "
                 "(model.1.weight; convert a .pth with tools/convert_cut.py)");
    sd = f.tensors;
    // ngf from the first conv, the blocks from the conv_block names.
    const int64_t ngf = f.tensors.at("model.1.weight").size(0);
    int64_t blocks = 0;
    const std::regex block_re(R"(model\.(\d+)\.conv_block\.1\.weight)");
    for (const auto& [k, v] : f.tensors) {
      std::smatch m;
      if (std::regex_match(k, m, block_re)) ++blocks;
    }
    // (Taps matter for training only: any valid ones.)
    src.sets.insert(src.sets.begin(),
                    {"model.ngf=" + std::to_string(ngf), "model.blocks=" + std::to_string(blocks), "model.taps=[0]"});
  }
  out.cfg = resolve_config(default_config(), src);
  const Settings s = settings_of(out.cfg);
  out.g = std::make_shared<ResnetGenerator>(generator_config(s.model));
  // The blur filters are fixed buffers: a converted state_dict carries them, a checkpoint too.
  try {
    out.g->load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(file, ": generator: ", e.what());
  }
  out.g->to(dev);
  out.g->eval();
  if (out.kind == "checkpoint")
    log::info("scenimefy: {}: generator {}", file, out.network == "G_ema" ? "G_ema (the weight average)" : "G");
  return out;
}

}  // namespace sakuga::scenimefy
