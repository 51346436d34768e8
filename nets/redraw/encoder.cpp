// The redraw encoder stage (nets/redraw/encoder.h): settings, crops, the harness family, and
// `sakuga eval|infer redraw --stage encoder`.
#include "nets/redraw/encoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "data/png.h"
#include "data/redraw/dataset.h"
#include "data/redraw/synth.h"
#include "data/resize.h"
#include "kernels/common.h"
#include "kernels/log.h"
#include "losses/triplet.h"
#include "nets/harness/run_files.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/tools.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ClusterSettings, method, clusters, threshold, kmeans_restarts, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EncoderSettings, crop_size, frame_size, train_frames, val_frames,
                                                variants, variant_strength, variant_hue, shape_families,
                                                palette_spread, designs_per_batch, samples_per_design,
                                                style_refs, eval_refs, steps, optim,
                                                margin, mining, embedding, production_width, production_map, cluster, val_fraction,
                                                val_max, untrained_baseline)

Json encoder_defaults() { return Json(EncoderSettings{}); }

EncoderSettings encoder_settings(const Config& cfg) {
  const auto s = cfg.get<EncoderSettings>("encoder");
  SAKUGA_CHECK(s.crop_size >= 32 && s.crop_size <= 512, "config encoder.crop_size: expected 32 … 512, got ", s.crop_size);
  SAKUGA_CHECK(s.frame_size >= data::redraw::kMinFrameSize && s.frame_size <= data::redraw::kMaxFrameSize,
               "config encoder.frame_size: expected ", data::redraw::kMinFrameSize, " … ", data::redraw::kMaxFrameSize,
               ", got ", s.frame_size);
  SAKUGA_CHECK(s.train_frames >= 1, "config encoder.train_frames: expected at least 1, got ", s.train_frames);
  SAKUGA_CHECK(s.val_frames >= 1, "config encoder.val_frames: expected at least 1, got ", s.val_frames);
  SAKUGA_CHECK(s.variants >= 1 && s.variants <= 64, "config encoder.variants: expected 1 … 64, got ", s.variants);
  SAKUGA_CHECK(s.variant_strength >= 0 && s.variant_strength <= 2, "config encoder.variant_strength: expected 0 … 2, got ",
               s.variant_strength);
  SAKUGA_CHECK(s.variant_hue >= 0 && s.variant_hue <= 0.5, "config encoder.variant_hue: expected 0 … 0.5 (turns), got ",
               s.variant_hue);
  SAKUGA_CHECK(s.shape_families >= 0 && s.shape_families <= 64, "config encoder.shape_families: expected 0 … 64, got ",
               s.shape_families);
  SAKUGA_CHECK(s.palette_spread >= 0 && s.palette_spread < 1, "config encoder.palette_spread: expected in [0, 1), got ",
               s.palette_spread);
  SAKUGA_CHECK(s.designs_per_batch >= 2, "config encoder.designs_per_batch: expected at least 2 (a triplet needs a negative), got ",
               s.designs_per_batch);
  SAKUGA_CHECK(s.samples_per_design >= 2, "config encoder.samples_per_design: expected at least 2 (a triplet needs a positive), got ",
               s.samples_per_design);
  SAKUGA_CHECK(s.style_refs >= 1 && s.style_refs <= 64, "config encoder.style_refs: expected 1 … 64, got ", s.style_refs);
  SAKUGA_CHECK(s.eval_refs >= 0 && s.eval_refs <= 64, "config encoder.eval_refs: expected 0 … 64, got ", s.eval_refs);
  SAKUGA_CHECK(s.steps >= 1, "config encoder.steps: expected at least 1, got ", s.steps);
  harness::validate(s.optim, "encoder.optim");
  SAKUGA_CHECK(s.margin > 0, "config encoder.margin: expected > 0, got ", s.margin);
  losses::parse_triplet_mining(s.mining, "config encoder.mining");
  SAKUGA_CHECK(s.embedding >= 2 && s.embedding <= 4096, "config encoder.embedding: expected 2 … 4096, got ", s.embedding);
  SAKUGA_CHECK(s.production_width >= 1 && s.production_width <= 512,
               "config encoder.production_width: expected 1 … 512, got ", s.production_width);
  parse_cluster_method(s.cluster.method, "config encoder.cluster.method");
  SAKUGA_CHECK(s.cluster.clusters >= 0, "config encoder.cluster.clusters: expected >= 0, got ", s.cluster.clusters);
  SAKUGA_CHECK(s.cluster.threshold >= 0 && s.cluster.threshold <= 2,
               "config encoder.cluster.threshold: expected a cosine distance in [0, 2], got ", s.cluster.threshold);
  SAKUGA_CHECK(s.cluster.threshold == 0 || s.cluster.method == "agglomerative",
               "config encoder.cluster.threshold: only agglomerative clustering stops at a threshold");
  SAKUGA_CHECK(s.cluster.kmeans_restarts >= 1, "config encoder.cluster.kmeans_restarts: expected at least 1");
  SAKUGA_CHECK(s.val_fraction > 0 && s.val_fraction < 1, "config encoder.val_fraction: expected in (0, 1), got ",
               s.val_fraction);
  SAKUGA_CHECK(s.val_max >= 4, "config encoder.val_max: expected at least 4, got ", s.val_max);
  return s;
}

// ---- crops ------------------------------------------------------------------------------------------

int CropSet::designs() const { return int(std::set<int>(design.begin(), design.end()).size()); }

Tensor prepare_crop(const Tensor& image, int64_t size, const std::string& where) {
  SAKUGA_CHECK(image.dim() == 3 && image.size(0) == 3, where, ": expected an RGB image, got ", shape_str(image.shape()));
  SAKUGA_CHECK(image.size(1) == image.size(2), where, ": a face crop must be square, got ", image.size(2), "x",
               image.size(1), " (W x H)");
  if (image.size(1) == size) return image.contiguous();
  return data::resize_area(image.contiguous(), size, size);
}

namespace {

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A small fully specified stream for batch composition (splitmix64).
struct Rng {
  uint64_t s;
  uint64_t next() { return s = mix(s, 1); }
  int64_t below(int64_t n) { return int64_t(next() % uint64_t(n)); }  // n ≤ a few thousand: bias negligible
  double uni(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * (1.0 / 9007199254740992.0); }
};

CropSet stack_set(std::vector<Tensor> images, std::vector<int> prod, std::vector<int> design,
                  std::vector<std::string> names, int64_t size) {
  CropSet s;
  s.images = images.empty() ? Tensor::zeros({0, 3, size, size}) : ops::stack(images, 0).contiguous();
  s.production = std::move(prod);
  s.design = std::move(design);
  s.names = std::move(names);
  return s;
}

CropSet take(const CropSet& s, const std::vector<int64_t>& rows) {
  std::vector<Tensor> im;
  std::vector<int> p, d;
  std::vector<std::string> n;
  for (int64_t r : rows) {
    im.push_back(ops::select(s.images, 0, r));
    p.push_back(s.production[size_t(r)]);
    d.push_back(s.design[size_t(r)]);
    n.push_back(s.names[size_t(r)]);
  }
  return stack_set(im, p, d, n, s.images.size(2));
}

}  // namespace

CropSet subsample(const CropSet& s, int64_t max) {
  if (s.size() <= max) return s;
  std::vector<int64_t> rows;
  for (int64_t k = 0; k < max; ++k) rows.push_back(k * s.size() / max);
  return take(s, rows);
}

ColourVariant colour_variant(uint64_t world_seed, int production, int variant, double strength, double hue_turns) {
  ColourVariant c;
  if (variant == 0 || (strength == 0 && hue_turns == 0)) return c;
  Rng rng{mix(world_seed ^ 0x56415249414E5453ull, uint64_t(production) * 1000003ull + uint64_t(variant))};
  constexpr double kPi = 3.14159265358979323846;
  c.hue = rng.uni(-kPi, kPi) * 2 * hue_turns;
  for (double& g : c.gain) g = rng.uni(1 - 0.3 * strength, 1 + 0.3 * strength);
  c.gamma = std::exp(rng.uni(-0.4 * strength, 0.4 * strength));
  return c;
}

void apply_colour_variant(const ColourVariant& c, Tensor& chw) {
  if (c.hue == 0 && c.gain[0] == 1 && c.gain[1] == 1 && c.gain[2] == 1 && c.gamma == 1) return;
  SAKUGA_CHECK(chw.dim() == 3 && chw.size(0) == 3 && chw.is_contiguous() && chw.dtype() == DType::f32,
               "apply_colour_variant: expected a contiguous (3, H, W) f32 image");
  // Rotation by `hue` about the grey axis (1, 1, 1)/√3.
  const double co = std::cos(c.hue), si = std::sin(c.hue), k = (1 - co) / 3, t = si / std::sqrt(3.0);
  const double m[3][3] = {{co + k, k - t, k + t}, {k + t, co + k, k - t}, {k - t, k + t, co + k}};
  const int64_t n = chw.size(1) * chw.size(2);
  float* x = chw.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double in[3] = {x[i], x[n + i], x[2 * n + i]};
    for (int ch = 0; ch < 3; ++ch) {
      double v = m[ch][0] * in[0] + m[ch][1] * in[1] + m[ch][2] * in[2];
      v = std::clamp(v * c.gain[ch], 0.0, 1.0);
      x[ch * n + i] = float(std::pow(v, c.gamma));
    }
  }
}

data::redraw::World palette_world(data::redraw::World world, int families, double spread, uint64_t world_seed) {
  SAKUGA_CHECK(families >= 1, "palette_world: expected at least one shape family, got ", families);
  const std::vector<data::redraw::Design> base = world.designs;
  for (data::redraw::Design& d : world.designs) {
    const int id = d.id;
    d = base[size_t(id % families)];
    d.id = id;
    Rng rng{mix(world_seed ^ 0x50414C4554544553ull, uint64_t(id))};
    std::array<float, 3> gain{};
    for (float& g : gain) g = float(rng.uni(1 - spread, 1 + spread));
    for (data::draw::Rgb* c : {&d.skin, &d.hair_color, &d.iris_color, &d.clothes, &d.accent}) {
      c->r = std::clamp(c->r * gain[0], 0.f, 1.f);
      c->g = std::clamp(c->g * gain[1], 0.f, 1.f);
      c->b = std::clamp(c->b * gain[2], 0.f, 1.f);
    }
  }
  return world;
}

data::redraw::World encoder_world(const DataSettings& d, const EncoderSettings& s) {
  data::redraw::World w = synthetic_world(d);
  return s.shape_families > 0 ? palette_world(std::move(w), s.shape_families, s.palette_spread, d.world_seed) : w;
}

SplitCrops synthetic_crops(const data::redraw::World& world, uint64_t seed, int64_t frames, int64_t frame_size,
                           int64_t crop_size, bool skip_unseen, int variants, double strength, uint64_t variant_seed,
                           double hue_turns) {
  SAKUGA_CHECK(variants >= 1, "synthetic_crops: variants must be at least 1");
  const int P = int(world.productions.size());
  struct One {
    std::vector<Tensor> images;
    std::vector<int> design;
  };
  std::vector<One> per(static_cast<size_t>(frames));
  // Frame i: production i mod P, its colour variant (i div P) mod V.
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < frames; ++i) {
    const int p = int(i % P), v = int((i / P) % variants);
    if (skip_unseen && world.is_held_out(p)) continue;
    const data::redraw::SynthFrame f = data::redraw::synth_frame(world, seed, i, frame_size, frame_size);
    const ColourVariant cv = colour_variant(variant_seed, p, v, strength, hue_turns);
    for (size_t k = 0; k < f.characters.size(); ++k) {
      Tensor im = data::redraw::face_crop(f, k, crop_size).image.contiguous();
      apply_colour_variant(cv, im);
      per[size_t(i)].images.push_back(im);
      per[size_t(i)].design.push_back(f.characters[k].design);
    }
  }
  std::vector<Tensor> im[2];
  std::vector<int> pr[2], de[2];
  std::vector<std::string> nm[2];
  for (int64_t i = 0; i < frames; ++i) {
    const int p = int(i % P), v = int((i / P) % variants), u = world.is_held_out(p) ? 1 : 0;
    for (size_t k = 0; k < per[size_t(i)].images.size(); ++k) {
      im[u].push_back(per[size_t(i)].images[k]);
      pr[u].push_back(p * variants + v);
      de[u].push_back(per[size_t(i)].design[k]);
      nm[u].push_back(data::redraw::frame_name(i) + "_" + std::to_string(k));
    }
  }
  return {stack_set(im[0], pr[0], de[0], nm[0], crop_size), stack_set(im[1], pr[1], de[1], nm[1], crop_size)};
}

SplitCrops dataset_crops(const std::string& dir, int64_t crop_size) {
  const std::vector<data::redraw::CropEntry> entries = data::redraw::list_crops(dir + "/crops");
  const std::vector<int> held = data::redraw::held_out_productions(dir);
  std::vector<Tensor> im[2];
  std::vector<int> pr[2], de[2];
  std::vector<std::string> nm[2];
  for (const auto& e : entries) {
    const data::redraw::Crop c = data::redraw::read_crop(e);
    const int u = std::count(held.begin(), held.end(), e.production) ? 1 : 0;
    im[u].push_back(prepare_crop(c.image, crop_size, e.image));
    pr[u].push_back(e.production);
    de[u].push_back(e.design);
    nm[u].push_back(e.image);
  }
  return {stack_set(im[0], pr[0], de[0], nm[0], crop_size), stack_set(im[1], pr[1], de[1], nm[1], crop_size)};
}

std::vector<int64_t> reference_indices(const CropSet& s, int64_t i, int refs, uint64_t seed) {
  std::vector<int64_t> others;
  for (int64_t j = 0; j < s.size(); ++j)
    if (j != i && s.production[size_t(j)] == s.production[size_t(i)]) others.push_back(j);
  if (others.empty()) return std::vector<int64_t>(size_t(refs), i);
  // Without replacement while there are enough (a partial Fisher–Yates shuffle), then cycling.
  Rng rng{mix(seed, uint64_t(i))};
  const size_t m = std::min(size_t(refs), others.size());
  for (size_t r = 0; r < m; ++r) std::swap(others[r], others[r + size_t(rng.below(int64_t(others.size() - r)))]);
  std::vector<int64_t> out;
  for (int r = 0; r < refs; ++r) out.push_back(others[size_t(r) % m]);
  return out;
}

Tensor embed_content(ContentEncoder& net, const CropSet& s, Device dev) {
  NoGradGuard ng;
  std::vector<Tensor> out;
  for (int64_t b = 0; b < s.size(); b += 64) {
    Tensor x = ops::slice(s.images, 0, b, std::min(s.size(), b + 64)).contiguous().to(dev);
    out.push_back(losses::l2_normalize(net(x)).cpu());
  }
  return ops::concat(out, 0);
}

SetEmbeddings embed_set(StyleEncoder& net, const CropSet& s, int refs, uint64_t seed, Device dev, bool production_map) {
  NoGradGuard ng;
  SAKUGA_CHECK(s.size() >= 1, "encoder: an empty crop set");
  // c(x) and the production encoder's features g of every crop once; a crop's references are
  // other crops of the set, so their features are rows of g.
  std::vector<Tensor> cs, gs;
  for (int64_t b = 0; b < s.size(); b += 64) {
    Tensor x = ops::slice(s.images, 0, b, std::min(s.size(), b + 64)).contiguous().to(dev);
    cs.push_back((*net.content)(x));
    gs.push_back(net.production->features(x));
  }
  Tensor c = ops::concat(cs, 0), g = ops::concat(gs, 0);  // (N, E), (N, 4w)
  Tensor ref;
  if (refs > 0) {
    std::vector<int32_t> idx;
    for (int64_t i = 0; i < s.size(); ++i)
      for (int64_t j : reference_indices(s, i, refs, seed)) idx.push_back(int32_t(j));
    ref = ops::reshape(ops::index_select(g, 0, Tensor::from_vector_i32(idx, {int64_t(idx.size())}, dev)),
                       {s.size(), refs, g.size(1)});
  } else {
    // One estimate per production: the mean of g over its crops in the set (at most 64, evenly
    // spaced), the same for each of its crops.
    const int64_t F = g.size(1);
    const std::vector<float> gv = g.contiguous().to_vector();
    std::map<int, std::vector<int64_t>> rows;
    for (int64_t i = 0; i < s.size(); ++i) rows[s.production[size_t(i)]].push_back(i);
    std::map<int, std::vector<float>> mean;
    for (const auto& [p, r] : rows) {
      const int64_t n = std::min<int64_t>(64, int64_t(r.size()));
      std::vector<double> acc(static_cast<size_t>(F), 0.0);
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = r[size_t(k * int64_t(r.size()) / n)];
        for (int64_t f = 0; f < F; ++f) acc[size_t(f)] += gv[size_t(i * F + f)];
      }
      std::vector<float> m(static_cast<size_t>(F));
      for (int64_t f = 0; f < F; ++f) m[size_t(f)] = float(acc[size_t(f)] / double(n));
      mean[p] = m;
    }
    std::vector<float> all;
    all.reserve(size_t(s.size() * F));
    for (int64_t i = 0; i < s.size(); ++i) {
      const auto& m = mean.at(s.production[size_t(i)]);
      all.insert(all.end(), m.begin(), m.end());
    }
    ref = Tensor::from_vector(all, {s.size(), 1, F}, g.dtype(), dev);
  }
  Tensor base = losses::l2_normalize(c).cpu();
  return {production_map ? net.embed_from(c, ref).cpu() : base, base};
}

std::vector<int> cluster_rows(const Tensor& emb, int k, const ClusterSettings& cs) {
  const std::vector<float> rows = emb.contiguous().to_vector();
  const int64_t n = emb.size(0), dim = emb.size(1);
  if (parse_cluster_method(cs.method, "encoder.cluster.method") == ClusterMethod::kmeans) {
    SAKUGA_CHECK(k > 0, "encoder: k-means needs a number of clusters (encoder.cluster.clusters)");
    return kmeans(rows, n, dim, k, cs.seed, cs.kmeans_restarts);
  }
  return agglomerative(rows, n, dim, k, cs.threshold);
}

SetScores score_clusters(const Tensor& emb, const std::vector<int>& designs, const ClusterSettings& cs) {
  SetScores s;
  s.crops = emb.size(0);
  s.designs = int(std::set<int>(designs.begin(), designs.end()).size());
  // A fixed k, else the threshold (agglomerative), else as many clusters as true designs.
  const int k = cs.clusters > 0 ? cs.clusters : cs.threshold > 0 ? 0 : s.designs;
  const std::vector<int> pred = cluster_rows(emb, k, cs);
  s.clusters = int(std::set<int>(pred.begin(), pred.end()).size());
  s.nmi = nmi(designs, pred);
  s.ari = ari(designs, pred);
  s.purity = purity(designs, pred);
  return s;
}

// ---- the family ---------------------------------------------------------------------------------------

namespace {

class EncoderFamily : public harness::Family {
 public:
  EncoderFamily(const Config& cfg, Device dev, bool quiet) : Family(cfg, dev) {
    s_ = encoder_settings(cfg);
    data_ = data_settings(cfg);
    seed_ = cfg.get<uint64_t>("train.seed");
    mining_ = losses::parse_triplet_mining(s_.mining, "config encoder.mining");
    if (data_.synthetic) {
      const data::redraw::World world = encoder_world(data_, s_);
      if (!quiet) log::info("redraw encoder: drawing {} + {} synthetic frames", s_.train_frames, s_.val_frames);
      train_ = synthetic_crops(world, seed_, s_.train_frames, s_.frame_size, s_.crop_size, true, s_.variants,
                               s_.variant_strength, data_.world_seed, s_.variant_hue).seen;
      SplitCrops v = synthetic_crops(world, data_.val_seed, s_.val_frames, s_.frame_size, s_.crop_size, false,
                                     s_.variants, s_.variant_strength, data_.world_seed, s_.variant_hue);
      val_seen_ = subsample(v.seen, s_.val_max);
      val_unseen_ = subsample(v.unseen, s_.val_max);
    } else {
      SplitCrops all = dataset_crops(data_.dir, s_.crop_size);
      // Per seen (production, design), its last ⌊n·val_fraction⌋ crops (one at least when it has
      // three) are validation crops, the rest training crops.
      std::map<std::pair<int, int>, std::vector<int64_t>> groups;
      for (int64_t i = 0; i < all.seen.size(); ++i) groups[{all.seen.production[size_t(i)], all.seen.design[size_t(i)]}].push_back(i);
      std::vector<int64_t> tr, va;
      for (const auto& [key, rows] : groups) {
        int64_t nv = int64_t(double(rows.size()) * s_.val_fraction);
        if (nv == 0 && rows.size() >= 3) nv = 1;
        for (size_t k = 0; k < rows.size(); ++k) (int64_t(k) >= int64_t(rows.size()) - nv ? va : tr).push_back(rows[k]);
      }
      train_ = take(all.seen, tr);
      val_seen_ = subsample(take(all.seen, va), s_.val_max);
      val_unseen_ = subsample(all.unseen, s_.val_max);
    }
    const std::string where = data_.synthetic ? "the synthetic world" : data_.dir + "/crops";
    SAKUGA_CHECK(train_.size() > 0, "redraw encoder: no training crops of seen productions in ", where);
    for (int64_t i = 0; i < train_.size(); ++i) {
      by_design_[train_.design[size_t(i)]].push_back(i);
      by_production_[train_.production[size_t(i)]].push_back(i);
    }
    SAKUGA_CHECK(by_design_.size() >= 2, "redraw encoder: the training crops of ", where,
                 " show only one design; a triplet needs two");
    for (const auto& [d, rows] : by_design_) designs_.push_back(d);
    batch_designs_ = std::min<int>(s_.designs_per_batch, int(designs_.size()));
    SAKUGA_CHECK(val_seen_.size() >= 2 && val_seen_.designs() >= 2, "redraw encoder: the validation crops of seen productions in ",
                 where, " need two designs at least (", val_seen_.size(), " crops, ", val_seen_.designs(), " designs)");

    manual_seed(seed_);  // parameter initialisation
    net_ = parts().network("encoder", std::make_shared<StyleEncoder>(EncoderNetConfig{s_.embedding, s_.production_width}));
    net_->to(dev);
    parts().optimizer("encoder", s_.optim, {"encoder"}, std::nullopt, "encoder.optim");
    parts().stage("encoder", s_.steps, {"encoder"});
  }

  int64_t batch_size() const override { return int64_t(batch_designs_) * s_.samples_per_design; }
  // Each rank mines its triplets within its own slice of the batch (no embeddings cross ranks):
  // the slice must hold whole designs (the batch is designs × samples_per_design, a design's
  // samples together) and two of them at least, or a rank would have no negatives. The loss
  // is then the mean over the ranks of each slice's triplet loss, not the one-process loss.
  void check_data_parallel(int world) const override {
    SAKUGA_CHECK(batch_designs_ % world == 0 && batch_designs_ / world >= 2, "data-parallel over ", world,
                 " ranks: the redraw encoder mines triplets within each rank's slice, so its ", batch_designs_,
                 " designs per batch (encoder.designs_per_batch, at most the designs in the data) must split into ",
                 world, " equal groups of at least 2 designs; use a multiple of ", world, " that is at least ", 2 * world);
  }

  // Designs × samples of seen productions; each sample's references are other training crops
  // of its production. Pure in (train.seed, step).
  harness::Batch make_batch(int64_t step) const override {
    Rng rng{mix(seed_ ^ 0x454E434F44455221ull, uint64_t(step))};
    std::vector<int> ds = designs_;
    for (size_t i = 0; i + 1 < ds.size(); ++i) std::swap(ds[i], ds[i + size_t(rng.below(int64_t(ds.size() - i)))]);
    const int64_t B = batch_size(), R = s_.style_refs, S = s_.crop_size, px = 3 * S * S;
    Tensor x = Tensor::empty({B, 3, S, S}), refs = Tensor::empty({B, R, 3, S, S});
    std::vector<int32_t> design, production;
    const float* src = train_.images.data<float>();
    float *xd = x.data<float>(), *rd = refs.data<float>();
    int64_t b = 0;
    for (int k = 0; k < batch_designs_; ++k) {
      std::vector<int64_t> rows = by_design_.at(ds[size_t(k)]);
      for (int m = 0; m < s_.samples_per_design; ++m, ++b) {
        // Without replacement while the design has crops left, then with.
        const size_t left = rows.size() - std::min(rows.size(), size_t(m));
        int64_t i;
        if (left > 0) {
          const size_t j = size_t(m) + size_t(rng.below(int64_t(left)));
          std::swap(rows[size_t(m)], rows[j]);
          i = rows[size_t(m)];
        } else {
          i = rows[size_t(rng.below(int64_t(rows.size())))];
        }
        std::copy(src + i * px, src + (i + 1) * px, xd + b * px);
        design.push_back(train_.design[size_t(i)]);
        production.push_back(train_.production[size_t(i)]);
        const std::vector<int64_t>& same = by_production_.at(train_.production[size_t(i)]);
        for (int64_t r = 0; r < R; ++r) {
          int64_t j = i;
          if (same.size() > 1)
            do j = same[size_t(rng.below(int64_t(same.size())))];
            while (j == i);
          std::copy(src + j * px, src + (j + 1) * px, rd + (b * R + r) * px);
        }
      }
    }
    const Tensor design_ids = Tensor::from_vector_i32(design, {B});
    return {{"x", x},
            {"refs", refs},
            {"design", design_ids},
            {"host.design", design_ids},  // the triplet mining's labels, without a device read-back
            {"production", Tensor::from_vector_i32(production, {B})}};
  }

  void step(const harness::Batch& b, harness::StepContext& ctx) override {
    const std::vector<int32_t> d = b.at("host.design").to_vector_i32();
    Tensor e = s_.production_map ? net_->embed(b.at("x"), b.at("refs")) : net_->baseline(b.at("x"));
    Tensor loss = losses::triplet_loss(e, std::vector<int>(d.begin(), d.end()), s_.margin, mining_);
    ctx.dump("embedding", e);
    ctx.dump("loss", loss);
    ctx.update("encoder", loss);
    ctx.log("loss", loss);
  }

  harness::EvalReport evaluate(harness::EvalContext& ctx) override {
    net_->eval();
    harness::EvalReport r;
    const SetEmbeddings seen = embed_set(*net_, val_seen_, s_.eval_refs, data_.val_seed, ctx.device, s_.production_map);
    r.metrics["val_loss"] = losses::triplet_loss(seen.e, val_seen_.design, s_.margin, mining_).item();
    put(r.metrics, "", "seen", score_clusters(seen.e, val_seen_.design, s_.cluster));
    put(r.metrics, "base_", "seen", score_clusters(seen.base, val_seen_.design, s_.cluster));
    if (val_unseen_.size() >= 2) {
      const SetEmbeddings un = embed_set(*net_, val_unseen_, s_.eval_refs, data_.val_seed, ctx.device, s_.production_map);
      if (val_unseen_.designs() >= 2)
        r.metrics["val_loss_unseen"] = losses::triplet_loss(un.e, val_unseen_.design, s_.margin, mining_).item();
      put(r.metrics, "", "unseen", score_clusters(un.e, val_unseen_.design, s_.cluster));
      put(r.metrics, "base_", "unseen", score_clusters(un.base, val_unseen_.design, s_.cluster));
    }
    if (s_.untrained_baseline) {
      if (untrained_.empty()) {
        // c(x) of the network as initialised (the same seed, the same construction order).
        manual_seed(seed_);
        ContentEncoder init(s_.embedding);
        init.to(ctx.device);
        init.eval();
        put(untrained_, "untrained_", "seen",
            score_clusters(embed_content(init, val_seen_, ctx.device), val_seen_.design, s_.cluster));
        if (val_unseen_.size() >= 2)
          put(untrained_, "untrained_", "unseen",
              score_clusters(embed_content(init, val_unseen_, ctx.device), val_unseen_.design, s_.cluster));
      }
      for (const auto& [k, v] : untrained_) r.metrics[k] = v;
    }
    return r;
  }

  std::string describe() const override {
    return fmt::format(
        "redraw encoder: E(x, p) = A(p)·c(x) + b(p), ResNet-18 c(x) on {} px crops → {}, production encoder w={} over "
        "{} style reference(s){}; {} training crops ({} seen productions, {} designs; batch {} designs × {}), validation "
        "{} seen / {} unseen crops; triplet ({}, margin {}); {} clustering; {} parameters, {}, {} steps",
        s_.crop_size, s_.embedding, s_.production_width, s_.style_refs,
        s_.production_map ? "" : " (ablated: E = c/|c|, production_map false)", train_.size(), by_production_.size(),
        designs_.size(), batch_designs_, s_.samples_per_design, val_seen_.size(), val_unseen_.size(), s_.mining,
        s_.margin, s_.cluster.method, net_->num_parameters(), device().str(), parts().total_steps());
  }

  std::string summary(const std::map<std::string, double>& m) const override {
    auto g = [&](const std::string& k) { return m.count(k) ? m.at(k) : -1.0; };
    std::string s = fmt::format("redraw encoder: seen productions NMI {:.3f} ARI {:.3f} (c(x) baseline {:.3f} / {:.3f})",
                                g("nmi_seen"), g("ari_seen"), g("base_nmi_seen"), g("base_ari_seen"));
    if (m.count("nmi_unseen"))
      s += fmt::format("; unseen NMI {:.3f} ARI {:.3f} (c(x) baseline {:.3f} / {:.3f})", g("nmi_unseen"), g("ari_unseen"),
                       g("base_nmi_unseen"), g("base_ari_unseen"));
    if (m.count("untrained_nmi_unseen"))
      s += fmt::format("; untrained c(x) unseen NMI {:.3f} ARI {:.3f}", g("untrained_nmi_unseen"), g("untrained_ari_unseen"));
    return s;
  }

  Json state() const override { return Json{{"designs", designs_.size()}}; }

 private:
  static void put(std::map<std::string, double>& m, const std::string& prefix, const std::string& set,
                  const SetScores& s) {
    m[prefix + "nmi_" + set] = s.nmi;
    m[prefix + "ari_" + set] = s.ari;
    m[prefix + "purity_" + set] = s.purity;
  }

  EncoderSettings s_;
  DataSettings data_;
  uint64_t seed_ = 0;
  losses::TripletMining mining_ = losses::TripletMining::hard;
  CropSet train_, val_seen_, val_unseen_;
  std::map<int, std::vector<int64_t>> by_design_, by_production_;
  std::vector<int> designs_;
  int batch_designs_ = 2;
  std::shared_ptr<StyleEncoder> net_;
  std::map<std::string, double> untrained_;
};

}  // namespace

std::unique_ptr<harness::Family> make_encoder_family(const Config& cfg, Device device, bool quiet) {
  return std::make_unique<EncoderFamily>(cfg, device, quiet);
}

// ---- eval and infer -----------------------------------------------------------------------------------

LoadedEncoder load_encoder(const std::string& ckpt, const std::vector<std::string>& files,
                           const std::vector<std::string>& sets, Device dev) {
  const io::SafetensorsFile f = io::load_safetensors(ckpt);
  require_stage(f, ckpt, Stage::encoder);
  ConfigSources src;
  src.files = files;
  src.sets = sets;
  src.saved = Json::parse(f.metadata.at("config"));
  src.saved_source = ckpt + " (metadata config)";
  LoadedEncoder m;
  m.cfg = resolve_config(default_config(), src);
  m.settings = encoder_settings(m.cfg);
  m.data = data_settings(m.cfg);
  m.designs = m.data.designs;
  if (auto it = f.metadata.find("harness"); it != f.metadata.end()) {
    const Json h = Json::parse(it->second);
    if (h.contains("family") && h["family"].is_object() && h["family"].contains("designs"))
      m.designs = h["family"]["designs"].get<int>();
  }
  m.net = std::make_shared<StyleEncoder>(EncoderNetConfig{m.settings.embedding, m.settings.production_width});
  nn::StateDict sd;
  for (const auto& [k, v] : f.tensors)
    if (k.rfind("encoder.", 0) == 0) sd[k.substr(8)] = v;
  try {
    m.net->load_state_dict(sd, true);
  } catch (const Error& e) {
    SAKUGA_FAIL(ckpt, ": network encoder: ", e.what());
  }
  m.net->to(dev);
  m.net->eval();
  return m;
}

namespace {

Json scores_json(const SetScores& s) {
  return Json{{"nmi", s.nmi}, {"ari", s.ari}, {"purity", s.purity}, {"crops", s.crops}, {"designs", s.designs},
              {"clusters", s.clusters}};
}

}  // namespace

int run_encoder_eval(const EvalOptions& o) {
  const Device dev = Device::parse(o.model.device);
  LoadedEncoder m = load_encoder(o.model.ckpt, o.model.config_files, o.model.sets, dev);
  const EncoderSettings& s = m.settings;
  SplitCrops crops;
  std::string source;
  if (!o.data_dir.empty()) {
    crops = dataset_crops(o.data_dir, s.crop_size);
    source = o.data_dir + "/crops";
  } else {
    SAKUGA_CHECK(m.data.synthetic, "eval redraw: ", o.model.ckpt,
                 " was trained on a dataset folder; pass --data DIR (its synthetic world is not defined)");
    SAKUGA_CHECK(o.synthetic >= 1, "eval redraw: --synthetic must be at least 1, got ", o.synthetic);
    crops = synthetic_crops(encoder_world(m.data, s), o.seed, o.synthetic, s.frame_size, s.crop_size, false, s.variants,
                            s.variant_strength, m.data.world_seed, s.variant_hue);
    source = fmt::format("{} synthetic frames of stream {}", o.synthetic, o.seed);
  }
  SAKUGA_CHECK(crops.seen.size() + crops.unseen.size() >= 2, "eval redraw: fewer than two crops in ", source);
  Json out{{"checkpoint", o.model.ckpt}, {"data", source}, {"method", s.cluster.method}};
  Json base = Json::object(), untrained = Json::object();
  manual_seed(m.cfg.get<uint64_t>("train.seed"));
  ContentEncoder init(s.embedding);  // c(x) as the run started (same seed and order as training)
  init.to(dev);
  init.eval();
  fmt::print("redraw encoder: {} — {} crops of seen productions, {} of unseen; {} clustering\n", source,
             crops.seen.size(), crops.unseen.size(), s.cluster.method);
  fmt::print("  {:<8} {:<22} {:>6} {:>6} {:>7} {:>6} {:>8}\n", "set", "embedding", "nmi", "ari", "purity", "crops",
             "designs");
  for (const auto& [name, set] : {std::pair<std::string, const CropSet*>{"seen", &crops.seen}, {"unseen", &crops.unseen}}) {
    if (set->size() < 2) {
      out[name] = nullptr;
      base[name] = nullptr;
      untrained[name] = nullptr;
      fmt::print("  {:<8} (fewer than two crops)\n", name);
      continue;
    }
    const SetEmbeddings e = embed_set(*m.net, *set, s.eval_refs, m.data.val_seed, dev, s.production_map);
    const SetScores se = score_clusters(e.e, set->design, s.cluster), sb = score_clusters(e.base, set->design, s.cluster),
                    su = score_clusters(embed_content(init, *set, dev), set->design, s.cluster);
    out[name] = scores_json(se);
    base[name] = scores_json(sb);
    untrained[name] = scores_json(su);
    for (const auto& [label, sc] : {std::pair<const char*, const SetScores*>{"E(x, p)", &se},
                                    {"c(x) baseline", &sb},
                                    {"c(x) untrained", &su}})
      fmt::print("  {:<8} {:<22} {:>6.3f} {:>6.3f} {:>7.3f} {:>6} {:>8}\n", name, label, sc->nmi, sc->ari, sc->purity,
                 sc->crops, sc->designs);
  }
  out["baseline"] = base;
  out["untrained"] = untrained;
  if (!o.json_file.empty()) {
    harness::write_file_atomic(o.json_file, out.dump(2) + "\n");
    if (!o.quiet) log::info("eval redraw: wrote {}", o.json_file);
  }
  return 0;
}

int run_encoder_infer(const InferOptions& o) {
  SAKUGA_CHECK(!o.out.empty(), "infer redraw --stage encoder: --out FILE.safetensors is required");
  SAKUGA_CHECK(!o.inputs.empty(), "infer redraw --stage encoder: no --input crops");
  const Device dev = Device::parse(o.model.device);
  LoadedEncoder m = load_encoder(o.model.ckpt, o.model.config_files, o.model.sets, dev);
  const int64_t S = m.settings.crop_size;
  auto read_all = [&](const std::vector<std::string>& paths) {
    std::vector<Tensor> v;
    for (const auto& p : paths) v.push_back(prepare_crop(data::read_png_tensor(p, 3), S, p));
    return ops::stack(v, 0).contiguous();
  };
  const Tensor x = read_all(o.inputs);
  // The style references: --style-ref crops, else the inputs themselves — one production.
  const Tensor refs = o.style_refs.empty() ? x : read_all(o.style_refs);
  NoGradGuard ng;
  std::vector<Tensor> gs;
  for (int64_t b = 0; b < refs.size(0); b += 64)
    gs.push_back(m.net->production->features(ops::slice(refs, 0, b, std::min(refs.size(0), b + 64)).contiguous().to(dev)));
  const Tensor g = ops::unsqueeze(ops::concat(gs, 0), 0);  // (1, R, 4w): one production
  std::vector<Tensor> es;
  for (int64_t b = 0; b < x.size(0); b += 64) {
    Tensor c = (*m.net->content)(ops::slice(x, 0, b, std::min(x.size(0), b + 64)).contiguous().to(dev));
    es.push_back((m.settings.production_map ? m.net->embed_from(c, ops::expand(g, {c.size(0), g.size(1), g.size(2)}))
                                            : losses::l2_normalize(c))
                     .cpu());
  }
  const Tensor emb = ops::concat(es, 0).contiguous();  // (N, E)
  Json names = o.inputs;
  io::save_safetensors(o.out, {{"embedding", emb}},
                       {{"inputs", names.dump()}, {"checkpoint", o.model.ckpt},
                        {"style_refs", Json(o.style_refs.empty() ? o.inputs : o.style_refs).dump()}});
  if (!o.quiet) log::info("infer redraw: embeddings of {} crop(s) ({} dimensions) in {}", emb.size(0), emb.size(1), o.out);
  if (o.cluster) {
    const ClusterSettings& cs = m.settings.cluster;
    int k = cs.clusters > 0 ? cs.clusters : (cs.threshold > 0 ? 0 : m.designs);
    if (k > 0) k = int(std::min<int64_t>(k, emb.size(0)));
    const std::vector<int> c = emb.size(0) == 1 ? std::vector<int>{0} : cluster_rows(emb, k, cs);
    Json j = Json::object();
    for (size_t i = 0; i < o.inputs.size(); ++i) {
      j[o.inputs[i]] = c[i];
      fmt::print("{}\t{}\n", o.inputs[i], c[i]);
    }
    std::string file = o.out;
    const std::string ext = ".safetensors";
    if (file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0)
      file.resize(file.size() - ext.size());
    file += ".clusters.json";
    harness::write_file_atomic(file, j.dump(2) + "\n");
    if (!o.quiet)
      log::info("infer redraw: {} cluster(s) of {} crop(s) ({}{}) in {}", std::set<int>(c.begin(), c.end()).size(),
                c.size(), cs.method, k > 0 ? fmt::format(", k = {}", k) : fmt::format(", threshold {}", cs.threshold),
                file);
  }
  return 0;
}

}  // namespace sakuga::redraw
