#pragma once
// The redraw encoder stage (redraw.md step 2 "Style-aware clustering"; docs/redraw.md "Encoder
// and clustering"): E(x, p) = A(p)·c(x) + b(p) (nets/redraw/encoder_net.h) trained with a
// triplet loss on designs, from crops of the seen productions only; measured by clustering the
// crops of seen and of held-out ("unseen") productions into designs, against the plain content
// embedding c(x) (the affine map ablated) as the baseline.
//
// Data: the synthetic world (data.synthetic: face crops of `synth_frame` frames, stream
// train.seed for training and data.val_seed for validation) or a dataset folder's crops
// (DIR/crops/<production>/<design>/*.png; held out: DIR/redraw.json's held_out_productions).
// Every crop is square and brought to encoder.crop_size by area resampling.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nets/harness/optim_spec.h"
#include "nets/redraw/cluster.h"
#include "nets/redraw/encoder_net.h"
#include "nets/redraw/family.h"

namespace sakuga::redraw {

struct ClusterSettings {
  std::string method = "agglomerative";  // kmeans | agglomerative
  int clusters = 0;        // > 0: this many; 0: by the threshold, else as many as the true designs of the set
                           // (eval) or the designs of training (infer)
  double threshold = 0;    // agglomerative with clusters 0: stop at this average cosine distance (> 0)
  int kmeans_restarts = 4;
  uint64_t seed = 0;       // k-means++ seeding
};

struct EncoderSettings {
  int64_t crop_size = 64;          // the crops' side (redraw.md's portraits are 128; 64 for the CPU demo)
  int64_t frame_size = 256;        // synthetic frames: H = W
  int64_t train_frames = 720;      // synthetic: frames of stream train.seed (those of held-out productions skipped)
  int64_t val_frames = 160;        // synthetic: frames of stream data.val_seed (every production)
  int variants = 16;               // synthetic: colour variants per production (ColourVariant; 1 = the world as drawn)
  double variant_strength = 1.0;   // synthetic: their gains and gamma (0 = none)
  double variant_hue = 0;          // synthetic: their largest hue rotation, in turns (0 … 0.5)
  int shape_families = 2;          // synthetic: > 0 = the palette world (palette_world below); 0 = as drawn
  double palette_spread = 0.3;     // palette world: the colourways' per-channel gains, 1 ± spread
  int designs_per_batch = 8;       // batch = designs × samples per design, from seen productions
  int samples_per_design = 4;
  int style_refs = 8;              // training: references per crop, other crops of its production
  int eval_refs = 0;               // evaluation: 0 = one estimate per production, the mean over its crops in the
                                   // set (at most 64); > 0: that many other crops per crop
  int64_t steps = 240;
  harness::OptimSpec optim = [] {
    harness::OptimSpec s;
    s.lr = 5e-4;
    s.schedule = "cosine";
    s.lr_end = 1e-5;
    s.warmup = 20;
    return s;
  }();
  double margin = 0.2;             // triplet margin on unit embeddings (redraw.md: 0.2, ours)
  std::string mining = "all";      // all | hard (losses/triplet.h)
  int64_t embedding = 128;
  int64_t production_width = 32;
  bool production_map = true;      // false: the ablation E = c(x)/‖c(x)‖ trained alone (the production encoder unused)
  ClusterSettings cluster;
  double val_fraction = 0.2;       // dataset folder: share of each seen (production, design) kept for validation
  int64_t val_max = 400;           // at most this many crops per validation set (evenly spaced)
  bool untrained_baseline = true;  // also score c(x) of the untrained network (once, cached)
};

// encoder.* of a config, checked (errors name the key).
EncoderSettings encoder_settings(const Config& cfg);

// Crops with their labels: images (N, 3, S, S) f32 in [0, 1].
struct CropSet {
  Tensor images;
  std::vector<int> production, design;
  std::vector<std::string> names;  // file paths (dataset) or "frame_k" (synthetic)
  int64_t size() const { return int64_t(design.size()); }
  int designs() const;             // distinct design ids
};

// A square image (3, H, H) area-resampled to (3, size, size); another shape is an error naming `where`.
Tensor prepare_crop(const Tensor& image, int64_t size, const std::string& where);

// A colour variant of a production (ours): the crops of world production p are drawn in V
// variants, variant 0 as the world draws it, variant v ≥ 1 regraded by a rotation of the hue
// about the grey axis (uniform in ±hue_turns of a turn), per-channel gains (1 ± 0.3·strength)
// and a gamma (exp(±0.4·strength)), all drawn from (seed, p, v) — the run's data.world_seed. Each variant is a
// production of its own for the encoder (id p·V + v), held out when p is: so even one held-out
// production shows several unseen styles, and clustering its crops into designs needs what the
// production encoder is for.
struct ColourVariant {
  double hue = 0;                 // radians
  std::array<double, 3> gain{1, 1, 1};
  double gamma = 1;
};
ColourVariant colour_variant(uint64_t seed, int production, int variant, double strength, double hue_turns = 0.5);
// In place on a contiguous (3, H, W) f32 image in [0, 1]: rotate, gain, clamp, gamma.
void apply_colour_variant(const ColourVariant& c, Tensor& chw);

// The palette world (ours, `encoder.shape_families` F > 0): design d takes every shape factor
// and colour of design d mod F, then multiplies its palette (skin, hair, iris, clothes, accent)
// by per-channel gains drawn from (world_seed, d) in 1 ± spread. Designs of one family differ
// only in colour, the way a production's colour grade changes colour: a single crop cannot tell
// a reddish colourway under a neutral grade from a neutral one under a red grade, its
// production's other crops can. The world where the production map has work to do.
data::redraw::World palette_world(data::redraw::World world, int families, double spread, uint64_t world_seed);
// The world the encoder stage draws from: the data section's, made a palette world when asked.
data::redraw::World encoder_world(const DataSettings& d, const EncoderSettings& s);

// Face crops of frames [0, frames) of stream `seed` of the synthetic world (frame i: production
// i mod P, its variant (i div P) mod V), split by production: `seen` (not held out) and
// `unseen`; with skip_unseen the held-out frames are not drawn. Production ids: p·V + v.
struct SplitCrops {
  CropSet seen, unseen;
};
SplitCrops synthetic_crops(const data::redraw::World& world, uint64_t seed, int64_t frames, int64_t frame_size,
                           int64_t crop_size, bool skip_unseen, int variants = 1, double strength = 0,
                           uint64_t variant_seed = 0, double hue_turns = 0.5);
// Every crop of DIR/crops (list_crops), split by DIR's held-out productions.
SplitCrops dataset_crops(const std::string& dir, int64_t crop_size);
// Rows [0, n) evenly spaced down to at most `max` rows.
CropSet subsample(const CropSet& s, int64_t max);

// `refs` references for crop i: other crops of its production in `s` (itself only when its
// production has no other), drawn from (seed, i).
std::vector<int64_t> reference_indices(const CropSet& s, int64_t i, int refs, uint64_t seed);

// E and the baseline c(x)/‖c(x)‖ of every crop of a set (in eval batches), each (N, embedding)
// on the CPU. refs > 0: each crop's references per reference_indices(seed); refs = 0: the
// production encoder's features averaged over the production's crops in the set (at most 64,
// evenly spaced), one (A, b) per production.
struct SetEmbeddings {
  Tensor e, base;
};
// With production_map false, e = base (the ablated model).
SetEmbeddings embed_set(StyleEncoder& net, const CropSet& s, int refs, uint64_t seed, Device dev,
                        bool production_map = true);
// c(x)/‖c(x)‖ alone.
Tensor embed_content(ContentEncoder& net, const CropSet& s, Device dev);

struct SetScores {
  double nmi = 0, ari = 0, purity = 0;
  int64_t crops = 0;
  int designs = 0, clusters = 0;
};
// Clusters the rows of emb (N, D) — into `cs.clusters` clusters when > 0, else up to the
// distance `cs.threshold` when > 0 (agglomerative), else into as many as the true designs — and
// scores them against `designs`.
SetScores score_clusters(const Tensor& emb, const std::vector<int>& designs, const ClusterSettings& cs);
// The cluster of each row by cs (k > 0 clusters, or agglomerative to cs.threshold when k == 0).
std::vector<int> cluster_rows(const Tensor& emb, int k, const ClusterSettings& cs);

// A trained encoder: its checkpoint's config (metadata ← files ← sets), in eval mode on `dev`.
// A checkpoint of another redraw stage (or another family) is an error naming the file.
struct LoadedEncoder {
  Config cfg{Json::object()};
  EncoderSettings settings;
  DataSettings data;
  int designs = 0;  // designs seen in training
  std::shared_ptr<StyleEncoder> net;
};
LoadedEncoder load_encoder(const std::string& ckpt, const std::vector<std::string>& files,
                           const std::vector<std::string>& sets, Device dev);

}  // namespace sakuga::redraw
