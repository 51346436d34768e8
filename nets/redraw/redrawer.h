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
// L1 terms are means over the region grown by L_σ's radius (outside it t = its input exactly).
#include <cstdint>
#include <string>

#include "nets/harness/optim_spec.h"
#include "nets/redraw/redrawer_nets.h"

namespace sakuga::redraw {

struct RedrawerLossSettings {
  double sigma = 2.0;  // L_σ (redraw.md: 2 px, ours)
  double rec_a = 10, rec_b = 10, rec_c = 10;  // the triple reconstruction weights
  double adv_q = 1, adv_c = 1;                // G's adversarial weights
  int band = 3;  // D_c's boundary band: pixels within this Chebyshev distance of the region border
};

struct RedrawerDataSettings {
  int64_t size = 64;          // crop side S (a multiple of 2^levels)
  double low_sigma = 1.5;     // the low-detail input's blur inside the region (data/redraw/pairs.h)
  double other_design = 0.75; // share of samples whose target design differs from their own
  int64_t val_count = 32;     // validation samples (stream data.val_seed, seen productions)
};

struct RedrawerSettings {
  int64_t steps = 1500, batch = 8;
  RedrawerNetSettings net;
  RedrawerLossSettings loss;
  RedrawerDataSettings crops;
  harness::OptimSpec optim_g, optim_d;  // config "optim": {"G": …, "D": …} (D_q and D_c alike)
};

RedrawerSettings redrawer_settings(const Config& cfg);

}  // namespace sakuga::redraw
