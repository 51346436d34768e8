// GADN training, read top to bottom: data → networks and optimisers → batches → the three
// stages' steps → evaluation.
#include "nets/gadn/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "data/canvas.h"
#include "data/gadn/fmnist_artists.h"
#include "data/gadn/label_folders.h"
#include "data/mnist.h"
#include "data/portraits.h"
#include "data/sampling.h"
#include "kernels/log.h"
#include "kernels/philox.h"
#include "losses/gadn.h"
#include "nets/harness/checkpoint.h"
#include "nets/harness/gan.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::gadn {

using harness::Batch;

namespace {

// A 64-bit hash of (a, b): the per-sample choices of the streams (artist, a').
uint64_t hash2(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A checkpoint of another family is an error naming it (`where`: the file, or the key and file).
void require_gadn(const io::SafetensorsFile& f, const std::string& where) {
  if (auto it = f.metadata.find("family"); it != f.metadata.end())
    SAKUGA_CHECK(it->second == "gadn", where, ": a checkpoint of family '", it->second, "', not gadn");
}

// The tensors under `prefix` ("E."), with the prefix removed.
nn::StateDict sub_state(const io::SafetensorsFile& f, const std::string& prefix) {
  nn::StateDict sd;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind(prefix, 0) == 0) sd[k.substr(prefix.size())] = v;
  return sd;
}

}  // namespace

// ---- data -----------------------------------------------------------------------------------------

struct Dataset::Impl {
  Settings s;
  uint64_t seed = 0;
  std::vector<std::string> names;
  std::vector<double> freq;
  int64_t channels = 3;
  // fmnist-artists
  std::unique_ptr<data::gadn::FmnistArtists> fm_train, fm_val;
  // portraits
  std::vector<data::PortraitStyle> styles;
  // folder
  std::unique_ptr<data::gadn::LabelFolderDataset> folder;
  std::vector<size_t> train_idx, val_idx;
  // held-out set
  std::vector<std::pair<std::string, std::vector<int>>> factors;
  int64_t val_n = 0;
  // epoch orders (shared by the prefetch workers)
  mutable std::mutex mu;
  mutable int64_t order_epoch = -1;
  mutable std::vector<int64_t> order;

  int64_t train_n() const {
    if (fm_train) return fm_train->size();
    if (folder) return int64_t(train_idx.size());
    return 0;
  }
  int64_t ordered(int64_t j) const {  // the j-th item of the training stream, epoch by epoch
    const int64_t n = train_n();
    std::lock_guard<std::mutex> l(mu);
    if (j / n != order_epoch) {
      order = data::epoch_order(n, seed, j / n);
      order_epoch = j / n;
    }
    return order[size_t(j % n)];
  }
};

Dataset::Dataset(const Settings& s, uint64_t seed, bool quiet) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.s = s;
  d.seed = seed;
  const DataSettings& ds = s.data;
  if (ds.source == "fmnist-artists") {
    const int64_t limit = ds.train_limit > 0 ? ds.train_limit : -1;
    d.fm_train = std::make_unique<data::gadn::FmnistArtists>("train", limit, ds.artists, ds.artist_seed, ds.fmnist_dir);
    d.fm_val = std::make_unique<data::gadn::FmnistArtists>("test", ds.val_count, ds.artists, ds.artist_seed, ds.fmnist_dir);
    d.val_n = d.fm_val->size();
    std::vector<int> artist(size_t(d.val_n)), cls(size_t(d.val_n));
    for (int64_t i = 0; i < d.val_n; ++i) {
      artist[size_t(i)] = int(i % ds.artists);
      cls[size_t(i)] = d.fm_val->garment_class(i);
    }
    if (ds.label == "artist") {
      for (int k = 0; k < ds.artists; ++k) d.names.push_back(data::gadn::artist_label(k));
      d.freq.assign(size_t(ds.artists), 1.0 / ds.artists);
      d.factors = {{"artist", artist}, {"class", cls}};
    } else {
      std::vector<int64_t> counts(10, 0);
      for (int64_t i = 0; i < d.fm_train->size(); ++i) ++counts[size_t(d.fm_train->garment_class(i))];
      for (int c = 0; c < 10; ++c) {
        d.names.push_back(data::fashion_mnist_class_name(c));
        d.freq.push_back(double(counts[size_t(c)]) / double(d.fm_train->size()));
      }
      d.factors = {{"class", cls}, {"artist", artist}};
    }
  } else if (ds.source == "portraits") {
    d.styles = data::portrait_artist_styles(ds.artists, ds.artist_seed);
    for (int k = 0; k < ds.artists; ++k) d.names.push_back(data::gadn::artist_label(k));
    d.freq.assign(size_t(ds.artists), 1.0 / ds.artists);
    d.val_n = ds.val_count;
    std::vector<int> artist(size_t(d.val_n)), yaw(size_t(d.val_n)), hair(size_t(d.val_n)), mouth(size_t(d.val_n)),
        eyes(size_t(d.val_n));
    for (int64_t i = 0; i < d.val_n; ++i) {
      const int k = int(i % ds.artists);
      const data::PortraitContent c = data::sample_portrait_content(seed ^ 0x76616C6964ull, i);
      artist[size_t(i)] = k;
      yaw[size_t(i)] = c.yaw + 2;
      hair[size_t(i)] = c.hair;
      mouth[size_t(i)] = c.mouth;
      eyes[size_t(i)] = c.eye_openness;
    }
    d.factors = {{"artist", artist}, {"yaw", yaw}, {"hair", hair}, {"mouth", mouth}, {"eye_openness", eyes}};
  } else {
    SAKUGA_CHECK(!ds.dir.empty(), "data.source folder: give --data DIR (DIR/<label>/*.png)");
    d.folder = std::make_unique<data::gadn::LabelFolderDataset>(ds.dir, data::gadn::LabelFolderOptions{ds.size, s.model.alpha});
    d.names = d.folder->labels();
    d.train_idx = d.folder->split(false, ds.val_fraction);
    d.val_idx = d.folder->split(true, ds.val_fraction);
    SAKUGA_CHECK(!d.train_idx.empty(), ds.dir, ": no training images after the validation split (data.val_fraction ",
                 ds.val_fraction, ")");
    std::vector<int64_t> counts(size_t(d.folder->label_count()), 0);
    for (size_t i : d.train_idx) ++counts[size_t(d.folder->label(i))];
    for (int64_t c : counts) d.freq.push_back(double(std::max<int64_t>(c, 1)) / double(d.train_idx.size()));
    d.val_n = int64_t(d.val_idx.size());
    std::vector<int> label;
    for (size_t i : d.val_idx) label.push_back(int(d.folder->label(i)));
    d.factors = {{"artist", label}};
    if (d.folder->has_factors())
      for (const auto& name : d.folder->content_factor_names()) {
        const std::vector<int64_t> all = d.folder->factor_classes(name);
        std::vector<int> v;
        for (size_t i : d.val_idx) v.push_back(int(all[i]));
        d.factors.emplace_back(name, v);
      }
    d.channels = d.folder->channels();
    if (!quiet)
      log::info("{}: {} labels, {} training / {} validation images", ds.dir, d.names.size(), d.train_idx.size(),
                d.val_idx.size());
  }
  SAKUGA_CHECK(d.val_n >= 4, "gadn: the held-out set has ", d.val_n, " images; the metrics need at least 4 ",
               "(data.val_count / data.val_fraction)");
}

Dataset::~Dataset() = default;
int64_t Dataset::labels() const { return int64_t(impl_->names.size()); }
const std::vector<std::string>& Dataset::label_names() const { return impl_->names; }
int64_t Dataset::channels() const { return impl_->channels; }
std::vector<double> Dataset::label_freq() const { return impl_->freq; }
int64_t Dataset::val_size() const { return impl_->val_n; }
const std::vector<std::pair<std::string, std::vector<int>>>& Dataset::val_factors() const { return impl_->factors; }

std::pair<Tensor, int> Dataset::train_sample(int64_t j) const {
  const Impl& d = *impl_;
  const int artists = d.s.data.artists;
  if (d.fm_train) {
    const int64_t g = d.ordered(j);
    const int k = int(hash2(d.seed, uint64_t(j)) % uint64_t(artists));
    return {d.fm_train->sample(g, k), d.s.data.label == "artist" ? k : d.fm_train->garment_class(g)};
  }
  if (d.folder) {
    const data::gadn::LabelledImage im = d.folder->load(d.train_idx[size_t(d.ordered(j))]);
    return {im.image, int(im.label)};
  }
  const int k = int(hash2(d.seed, uint64_t(j)) % uint64_t(artists));
  data::Portrait p = data::sample_portrait(d.seed, j, d.s.data.size, d.styles[size_t(k)]);
  return {p.image * 2.0 - 1.0, k};
}

std::pair<Tensor, int> Dataset::val_sample(int64_t i) const {
  const Impl& d = *impl_;
  const int artists = d.s.data.artists;
  if (d.fm_val) {
    const int k = int(i % artists);
    return {d.fm_val->sample(i, k), d.s.data.label == "artist" ? k : d.fm_val->garment_class(i)};
  }
  if (d.folder) {
    const data::gadn::LabelledImage im = d.folder->load(d.val_idx[size_t(i)]);
    return {im.image, int(im.label)};
  }
  const int k = int(i % artists);
  data::Portrait p = data::sample_portrait(d.seed ^ 0x76616C6964ull, i, d.s.data.size, d.styles[size_t(k)]);
  return {p.image * 2.0 - 1.0, k};
}

Codes encode_all(Encoder& e, const Tensor& images, Device dev) {
  NoGradGuard ng;
  Codes c;
  c.n = images.size(0);
  for (int64_t start = 0; start < c.n; start += 64) {
    const int64_t b = std::min<int64_t>(64, c.n - start);
    Tensor mu = e.encode(ops::slice(images, 0, start, start + b).contiguous().to(dev)).mean;
    c.z = mu.size(1);
    const std::vector<float> v = mu.to(Device::cpu()).contiguous().to_vector();
    c.values.insert(c.values.end(), v.begin(), v.end());
  }
  return c;
}

// ---- the family ---------------------------------------------------------------------------------

namespace {

class GadnFamily : public harness::Family {
 public:
  GadnFamily(const Config& cfg, Device dev, bool quiet)
      : Family(cfg, dev), s_(settings_of(cfg)), seed_(cfg.get<uint64_t>("train.seed")), data_(s_, seed_, quiet) {
    net_ = net_config(s_, data_.labels());
    SAKUGA_CHECK(net_.image_channels() == data_.channels(), "config model.alpha: the data has ", data_.channels(),
                 " channels");
    manual_seed(seed_);  // parameter initialisation
    e_ = add_net<Encoder>("E");
    s_bank_ = add_net<StyleBank>("S");
    g_ = add_net<ImageGenerator>("G");
    c1_ = add_net<Classifier>("C1");
    c2_ = add_net<Classifier>("C2");
    d_ = add_net<Discriminator>("D");
    if (!s_.init.empty()) init_from(s_.init);
    noise_ = Generator(seed_ + 1);
    parts().rng("noise", noise_);
    const std::vector<double> freq = data_.label_freq();
    const std::vector<float> f(freq.begin(), freq.end());
    freq_ = Tensor::from_vector(f, {int64_t(f.size())}).to(dev);
    if (s_.loss.nested_dropout) keep_ = losses::nested_dropout_keep_probs(net_.z, losses::nested_dropout_p(net_.z), dev);

    // Optimisers (one per network and role) and stages; a stage with 0 steps is left out.
    const auto& st = s_.stages;
    if (st.stage1.steps > 0) {
      parts().optimizer("E", s_.stage1, {"E"}, std::nullopt, "optim.stage1");
      parts().optimizer("G", s_.stage1, {"G"}, std::nullopt, "optim.stage1");
      parts().optimizer("S", s_.stage1_style, {"S"}, std::nullopt, "optim.stage1_style");
      parts().optimizer("C1", s_.stage1, {"C1"}, std::nullopt, "optim.stage1");
      parts().stage("stage1", st.stage1.steps, {"E", "G", "S", "C1"});
    }
    if (st.c2.steps > 0) {
      parts().optimizer("C2", s_.c2, {"C2"}, std::nullopt, "optim.c2");
      parts().stage("c2", st.c2.steps, {"C2"});
    }
    if (st.stage2.steps > 0) {
      parts().optimizer("G2", s_.stage2, {"G"}, std::string("optim.G.stage2."), "optim.stage2");
      parts().optimizer("S2", s_.stage2_style, {"S"}, std::string("optim.S.stage2."), "optim.stage2_style");
      parts().optimizer("D", s_.stage2, {"D"}, std::nullopt, "optim.stage2");
      parts().optimizer("C2s2", s_.stage2, {"C2"}, std::string("optim.C2.stage2."), "optim.stage2");
      parts().stage("stage2", st.stage2.steps, {"G2", "S2", "D", "C2s2"});
    }
  }

  Batch make_batch(int64_t step) const override {
    const size_t si = parts().stage_index(step);
    const int64_t batch = stage_batch(parts().stages()[si].name);
    const int64_t first = samples_before(step);
    std::vector<Tensor> images;
    std::vector<int32_t> a(static_cast<size_t>(batch)), a2(static_cast<size_t>(batch));
    const int64_t k = data_.labels();
    for (int64_t b = 0; b < batch; ++b) {
      auto [img, label] = data_.train_sample(first + b);
      images.push_back(img);
      a[size_t(b)] = label;
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (s_.loss.roll_labels) {  // the code: the next sample's label (may equal a)
        a2[size_t(b)] = a[size_t((b + 1) % batch)];
      } else {                    // the paper: a' ≠ a uniformly
        const int64_t r = int64_t(hash2(seed_ ^ 0x726F6C6Cull, uint64_t(first + b)) % uint64_t(k - 1));
        a2[size_t(b)] = int32_t(r >= a[size_t(b)] ? r + 1 : r);
      }
    }
    NoGradGuard ng;
    return {{"x", ops::stack(images, 0)},
            {"a", Tensor::from_vector_i32(a, {batch})},
            {"a2", Tensor::from_vector_i32(a2, {batch})}};
  }

  void step(const Batch& b, harness::StepContext& ctx) override {
    const std::string& stage = ctx.stage().name;
    if (stage == "stage1") return stage1(b, ctx);
    if (stage == "c2") return c2_pretrain(b, ctx);
    stage2(b, ctx);
  }

  // Stage 2's D starts from the pre-trained C2's body, with its own new head (the code).
  void begin_stage(const harness::Stage& stage) override {
    if (stage.name == "stage2") d_->body->load_state_dict(c2_->body->state_dict());
  }

  harness::EvalReport evaluate(harness::EvalContext& ctx) override;
  std::string describe() const override;
  std::string summary(const std::map<std::string, double>& last) const override;
  int64_t batch_size() const override { return parts().stages().empty() ? 1 : stage_batch(parts().stages()[0].name); }
  int64_t stage_batch_size(const harness::Stage& stage) const override { return stage_batch(stage.name); }
  Json state() const override { return {{"labels", data_.label_names()}}; }

 private:
  template <class M>
  std::shared_ptr<M> add_net(const std::string& name) {
    auto m = parts().network(name, std::make_shared<M>(net_));
    m->to(device());
    return m;
  }

  int64_t stage_batch(const std::string& stage) const { return gadn::stage_batch(s_, stage); }
  // Training samples drawn before `step` (each stage at its own batch).
  int64_t samples_before(int64_t step) const {
    int64_t n = 0;
    for (const auto& st : parts().stages()) {
      const int64_t done = std::clamp<int64_t>(step - st.first_step, 0, st.steps);
      n += done * stage_batch(st.name);
    }
    return n;
  }

  // The networks of another gadn checkpoint (train.init), e.g. stage 1's for a stage-2 run.
  void init_from(const std::string& path) {
    const io::SafetensorsFile f = io::load_safetensors(path);
    require_gadn(f, "config train.init: " + path);
    for (const auto& n : parts().networks()) {
      const nn::StateDict sd = sub_state(f, n.prefix);
      if (sd.empty()) continue;  // a network the checkpoint does not have keeps its init
      try {
        n.module->load_state_dict(sd, true);
      } catch (const Error& e) {
        SAKUGA_FAIL("config train.init: ", path, ": network ", n.name, ": ", e.what());
      }
    }
    for (const char* needed : {"E.", "G.", "S."})
      SAKUGA_CHECK(!sub_state(f, needed).empty(), "config train.init: ", path, " has no ", std::string(needed, 1),
                   " network (it must come from a gadn run that trained stage 1)");
  }

  // Stage 1: E, S, G reconstruct x against the adversarial classifier C1 (gadn.md "Losses").
  void stage1(const Batch& b, harness::StepContext& ctx) {
    const Tensor& x = b.at("x");
    const Tensor& a = b.at("a");
    const int64_t n = x.size(0);
    const GaussianCode content = e_->encode(x);
    const losses::CodeSample z = losses::sample_code(content.mean, content.sigma, noise_, keep_);
    const GaussianCode style = s_bank_->code(a);
    const losses::CodeSample sa = losses::sample_code(style.mean, style.sigma, noise_);
    // Nested dropout: each sample keeps a prefix of its content code.
    Tensor zin = z.z;
    if (keep_.defined())
      zin = zin * losses::nested_dropout_mask(n, net_.z, losses::nested_dropout_p(net_.z), noise_, device());
    Tensor sa2;
    {
      NoGradGuard ng;  // x' takes the other label's style detached
      sa2 = s_bank_->sample(b.at("a2"), noise_);
    }
    const Tensor rec = g_->generate(zin, sa.z);
    const Tensor swapped = g_->generate(zin, sa2);
    const Tensor l_rec = losses::reconstruction_loss(rec, x);
    Tensor loss = l_rec + z.kl * s_.loss.e_kl + sa.kl * s_.loss.s_kl;
    Tensor adv;
    if (s_.loss.c1 > 0) {
      harness::FreezeGuard frozen(*c1_);
      // L_C1 is C1's (capped) NLL of the original label on x': E, G, S maximise it, up to chance.
      adv = losses::c1_adversarial_loss((*c1_)(swapped), a, freq_, s_.loss.adv_cap);
      loss = loss - adv * s_.loss.c1;
    }
    ctx.dump("x", x);
    ctx.dump("rec", rec);
    ctx.dump("swapped", swapped);
    ctx.dump("loss", loss);
    for (const char* o : {"E", "G", "S"}) ctx.zero_grad(o);
    loss.backward();
    for (const char* o : {"E", "G", "S"}) ctx.step_optimizer(o);
    // C1 learns to tell the label from the generation: a second forward on the detached x'.
    const Tensor c1_loss = losses::classifier_nll((*c1_)(swapped.detach()), a);
    ctx.update("C1", c1_loss);
    ctx.log("rec", l_rec);
    ctx.log("kl_e", z.kl);
    ctx.log("kl_s", sa.kl);
    ctx.log("c1", c1_loss);
  }

  void c2_pretrain(const Batch& b, harness::StepContext& ctx) {
    const Tensor loss = losses::classifier_nll((*c2_)(b.at("x")), b.at("a"));
    ctx.dump("loss", loss);
    ctx.update("C2", loss);
    ctx.log("c2", loss);
  }

  // Stage 2: G, S against D and C2, with E frozen and the content kept (λ_cont).
  void stage2(const Batch& b, harness::StepContext& ctx) {
    const Tensor& x = b.at("x");
    const Tensor& a = b.at("a");
    const Tensor& a2 = b.at("a2");
    Tensor z, mu_real;
    {
      NoGradGuard ng;
      const GaussianCode content = e_->encode(x);
      mu_real = content.mean;
      z = losses::sample_code(content.mean, content.sigma, noise_).z;
    }
    const GaussianCode style = s_bank_->code(a2);
    const losses::CodeSample s2 = losses::sample_code(style.mean, style.sigma, noise_);
    const Tensor fake = g_->generate(z, s2.z);
    // D and C2 on the detached generation.
    const Tensor d_loss = losses::lsgan_discriminator_loss((*d_)(x), (*d_)(fake.detach()));
    ctx.update("D", d_loss);
    const Tensor c2_loss = losses::classifier_nll((*c2_)(x), a) + losses::negative_log_unlikelihood((*c2_)(fake.detach()), a2);
    ctx.update("C2s2", c2_loss);
    // G and S through the frozen D, C2 and E (a second forward of each).
    Tensor g_loss;
    {
      harness::FreezeGuard frozen({d_.get(), c2_.get(), e_.get()});
      const Tensor adv_d = losses::lsgan_generator_loss((*d_)(fake));
      const Tensor adv_c = losses::classifier_nll((*c2_)(fake), a2);
      const Tensor cont = losses::content_consistency_loss(e_->encode(fake).mean, mu_real);
      g_loss = adv_d * s_.loss.d + adv_c * s_.loss.c2 + cont * s_.loss.cont + s2.kl * s_.loss.s_kl;
      ctx.log("g_d", adv_d);
      ctx.log("g_c2", adv_c);
      ctx.log("cont", cont);
    }
    ctx.dump("fake", fake);
    ctx.dump("g_loss", g_loss);
    ctx.zero_grad("G2");
    ctx.zero_grad("S2");
    g_loss.backward();
    ctx.step_optimizer("G2");
    ctx.step_optimizer("S2");
    ctx.log("d", d_loss);
    ctx.log("c2", c2_loss);
  }

  Settings s_;
  uint64_t seed_;
  Dataset data_;
  NetConfig net_;
  std::shared_ptr<Encoder> e_;
  std::shared_ptr<StyleBank> s_bank_;
  std::shared_ptr<ImageGenerator> g_;
  std::shared_ptr<Classifier> c1_, c2_;
  std::shared_ptr<Discriminator> d_;
  Generator noise_{0};
  Tensor freq_, keep_;
  Tensor val_images_;  // the held-out set (N, C, R, R), and its labels
  std::vector<int32_t> val_labels_;
  Json last_table_;  // the last evaluation's tables, for the summary
};

harness::EvalReport GadnFamily::evaluate(harness::EvalContext& ctx) {
  harness::EvalReport r;
  const int64_t n = data_.val_size();
  if (!val_images_.defined()) {  // rendered once, at the first evaluation
    std::vector<Tensor> images;
    for (int64_t i = 0; i < n; ++i) {
      auto [img, label] = data_.val_sample(i);
      images.push_back(img);
      val_labels_.push_back(label);
    }
    val_images_ = ops::stack(images, 0);
  }
  const Tensor& all = val_images_;
  const std::vector<int32_t>& labels = val_labels_;
  // Reconstruction with the label's mean style (evaluation: no sampling).
  double rec = 0;
  for (int64_t start = 0; start < n; start += 64) {
    const int64_t m = std::min<int64_t>(64, n - start);
    const Tensor x = ops::slice(all, 0, start, start + m).contiguous().to(ctx.device);
    const std::vector<int32_t> la(labels.begin() + start, labels.begin() + start + m);
    const Tensor style = s_bank_->code(Tensor::from_vector_i32(la, {m}).to(ctx.device)).mean;
    rec += losses::reconstruction_loss(g_->generate(e_->encode(x).mean, style), x).item() * double(m);
  }
  const Codes codes = encode_all(*e_, all, ctx.device);
  last_table_ = disentanglement_table(codes, data_.val_factors());
  r.metrics["val_rec"] = rec / double(n);
  for (const auto& [name, v] : data_.val_factors()) {
    r.metrics["top1_" + name + "_d2"] = last_table_["naive_bayes"][name]["2"]["top1"].get<double>();
    r.metrics["top1_" + name] = last_table_["naive_bayes"][name]["all"]["top1"].get<double>();
  }
  // The sample sheet: rows = held-out images; columns = the input, its reconstruction, and the
  // same content in the first eval.styles labels' mean styles.
  const int64_t rows = std::min<int64_t>(s_.eval.samples, n), cols = std::min<int64_t>(s_.eval.styles, data_.labels());
  if (rows > 0) {
    const Tensor x = ops::slice(all, 0, 0, rows).contiguous().to(ctx.device);
    const Tensor mu = e_->encode(x).mean;
    std::vector<int32_t> own(labels.begin(), labels.begin() + rows);
    std::vector<Tensor> outs{x, g_->generate(mu, s_bank_->code(Tensor::from_vector_i32(own, {rows}).to(ctx.device)).mean)};
    data::GridLabels gl;
    gl.columns = {"input", "recon"};
    for (int64_t c = 0; c < cols; ++c) {
      const Tensor lab = Tensor::full({rows}, double(c), DType::i32).to(ctx.device);
      outs.push_back(g_->generate(mu, s_bank_->code(lab).mean));
      gl.columns.push_back(data_.label_names()[size_t(c)].substr(0, 10));
    }
    std::vector<std::vector<Tensor>> grid(static_cast<size_t>(rows));
    for (const Tensor& o : outs) {
      const Tensor pic = ((o.to(Device::cpu()) + 1.0) * 0.5);
      for (int64_t i = 0; i < rows; ++i) grid[size_t(i)].push_back(ops::slice(ops::select(pic, 0, i), 0, 0, 3).contiguous());
    }
    r.sheet = data::image_grid(grid, gl);
  }
  return r;
}

std::string GadnFamily::describe() const {
  return fmt::format("gadn: {} labels ({} as the labelled factor), {} px, Z {} Zs {}, E {} / G {} parameters, {}",
                     data_.labels(), s_.data.label, net_.size, net_.z, net_.zs, e_->num_parameters(),
                     g_->num_parameters(), device().str());
}

std::string GadnFamily::summary(const std::map<std::string, double>& last) const {
  if (last_table_.is_null()) return "";
  return fmt::format("gadn: held-out reconstruction loss {:.4f}; disentanglement of E's code (the labelled factor "
                     "'{}' should be near chance, the others well above):\n{}",
                     last.count("val_rec") ? last.at("val_rec") : NAN, s_.data.label,
                     format_disentanglement_table(last_table_));
}

}  // namespace

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet) {
  return std::make_unique<GadnFamily>(cfg, device, quiet);
}

LoadedModel load_model(const std::string& ckpt, const std::vector<std::string>& files,
                       const std::vector<std::string>& sets, Device dev) {
  io::SafetensorsFile f = io::load_safetensors(ckpt);
  require_gadn(f, ckpt);
  ConfigSources src;
  src.files = files;
  src.sets = sets;
  if (auto it = f.metadata.find("config"); it != f.metadata.end()) {
    src.saved = Json::parse(it->second);
    src.saved_source = ckpt + " (metadata config)";
  }
  LoadedModel m;
  m.cfg = resolve_config(default_config(), src);
  m.settings = settings_of(m.cfg);
  if (auto it = f.metadata.find("harness"); it != f.metadata.end()) {
    const Json h = Json::parse(it->second);
    if (h.contains("family") && h["family"].contains("labels"))
      m.label_names = h["family"]["labels"].get<std::vector<std::string>>();
  }
  SAKUGA_CHECK(!m.label_names.empty(), ckpt, ": no label names in the metadata (not a gadn training checkpoint)");
  m.net = net_config(m.settings, int64_t(m.label_names.size()));
  m.e = std::make_shared<Encoder>(m.net);
  m.s = std::make_shared<StyleBank>(m.net);
  m.g = std::make_shared<ImageGenerator>(m.net);
  for (auto [prefix, module] : std::vector<std::pair<std::string, nn::Module*>>{{"E.", m.e.get()}, {"S.", m.s.get()},
                                                                              {"G.", m.g.get()}}) {
    try {
      module->load_state_dict(sub_state(f, prefix), true);
    } catch (const Error& e) {
      SAKUGA_FAIL(ckpt, ": network ", prefix.substr(0, prefix.size() - 1), ": ", e.what());
    }
    module->to(dev);
    module->eval();
  }
  return m;
}

}  // namespace sakuga::gadn
