#pragma once
// The redrawer stage (redraw.md 3–5; docs/redraw.md "Redrawer"): G(l, h, m) against the quality
// discriminator D_q (the interior: design id or fake) and the context discriminator D_c (the
// exterior and the boundary band: production id or fake), with the triple reconstruction loss
// after the Gaussian low-pass L_σ. One step:
//   D:  fake = G(l, h_{d'}, m) without gradient; both D inputs of the real crop x and of the fake
//       from one redraw_d_inputs pass each; D_q(real, fake), D_c(real, fake) → one patch_ce_pair
//       (real: design d / production p; fake: class K / P) → D_q and D_c stepped on their sum
//   G:  (a) L1(L_σ t_a, L_σ t*)   t_a = G(x, h_{d'}, m) composited into x  (high detail → target)
//       (b) L1(L_σ t_b, L_σ l)    t_b = G(l, h_{d'}, m) composited into l  (translation)
//       (c) L1(L_σ t_c, L_σ l)    t_c = G(l, h_d,  m) composited into l  (reconstruction)
//       adversarial: patch_ce_pair(D_q(q_b) → d', D_c(c_b) → p), both D frozen
//       context (ours): L1 of G's raw outputs outside the region to their inputs
// L1 terms are means over the region grown by L_σ's radius (outside it t = its input exactly).
#include <cstdint>
#include <string>
#include <vector>

#include "data/redraw/synth.h"
#include "nets/harness/family.h"
#include "nets/harness/optim_spec.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"
#include "nets/redraw/redrawer_nets.h"

namespace sakuga::redraw {

struct RedrawerLossSettings {
  double sigma = 2.0;  // L_σ (redraw.md: 2 px, ours)
  double rec_a = 10, rec_b = 10, rec_c = 10;  // the triple reconstruction weights
  double adv_q = 1, adv_c = 1;                // G's adversarial weights
  // G's own output outside the region toward its input (ours): t discards it, but it keeps G's
  // whole crop a faithful one (measured: weight 10 instead of 1 left the redrawing farther from
  // the truth, L1 0.117 vs 0.108 after the 900 demo steps).
  double context = 1;
  int band = 3;  // D_c's boundary band: pixels within this Chebyshev distance of the region border
};

struct RedrawerDataSettings {
  int64_t size = 64;          // crop side S (a multiple of 2^levels)
  double low_sigma = 1.5;     // the low-detail input's blur inside the region (data/redraw/pairs.h)
  double other_design = 0.75; // share of samples whose target design differs from their own
  int64_t val_count = 32;     // validation samples (stream data.val_seed, seen productions)
};

struct RedrawerSettings {
  int64_t steps = 900, batch = 4;
  RedrawerNetSettings net;
  RedrawerLossSettings loss;
  RedrawerDataSettings crops;
  harness::OptimSpec optim_g, optim_d;  // config "optim": {"G": …, "D": …} (D_q and D_c alike)
};

RedrawerSettings redrawer_settings(const Config& cfg);

// The redrawer's data: the synthetic world of data.*, its guides (every design by every
// production, cached) and batches of samples (data/redraw/pairs.h) as tensors:
//   x, low, truth, guide, own_guide (B, 3, S, S); mask, band, region (B, 1, S, S) f32 (region:
//   the mask grown by L_σ's radius); design, target, production (B) i32; labels_q, labels_c (2B)
//   i32: the discriminators' labels of [real ‖ fake] (design or production, then the fake class).
class RedrawerData {
 public:
  RedrawerData(const RedrawerSettings& s, const DataSettings& d);
  // Samples `ids` of stream `seed`, their productions drawn from `productions`; other_design < 0
  // keeps the configured share of other target designs.
  harness::Batch batch(uint64_t seed, const std::vector<int64_t>& ids, const std::vector<int>& productions,
                       double other_design = -1) const;
  const data::redraw::World& world() const { return world_; }
  const std::vector<int>& seen() const { return seen_; }
  const std::vector<int>& unseen() const { return unseen_; }

 private:
  RedrawerSettings s_;
  DataSettings d_;
  data::redraw::World world_;
  std::vector<int> seen_, unseen_;
  std::vector<Tensor> guides_;  // (3, S, S), index production · D + design
};

// A redrawer-stage checkpoint (refused, naming the file, when it is not one): its config
// (defaults ← metadata ← --config files ← --set) and G in eval mode on src.device.
struct RedrawerModel {
  Config cfg{Json::object()};
  RedrawerSettings settings;
  DataSettings data;
  std::shared_ptr<RedrawGenerator> g;
};
RedrawerModel load_redrawer(const ModelSource& src);

// The redrawn crop of G: t = m·G(l, h, m) + (1 − m)·l.
Tensor redrawn(RedrawGenerator& g, const Tensor& l, const Tensor& h, const Tensor& m);

// G's crop as the Poisson patch of the region `mask` (H, W) u8: g (C, H, W) with every pixel
// outside the region next to it (4-neighbours) set to the mean of its neighbours inside. The
// blend's guidance across the region border is then G's own near-zero step, not G's raw output
// outside the region (which t discards): the blended region meets the frame without a seam and
// keeps G's gradients inside (ours). CPU.
Tensor border_extended(const Tensor& g, const Tensor& mask);

// Σ |a − b|·w / (C·Σ w): the mean absolute difference over the pixels of weight w (B, 1, H, W).
Tensor region_l1(const Tensor& a, const Tensor& b, const Tensor& w);

}  // namespace sakuga::redraw
