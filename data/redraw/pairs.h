#pragma once
// Training and evaluation samples of the redrawer (redraw.md 3–5, docs/redraw.md "Redrawer"):
// one character's face crop with its eye region, a guide of the target design, and the true
// redrawing, all drawn by one production of the synthetic world (data/redraw/synth.h).
//
// A sample of (production p, design d, target design d'), content (yaw, mouth, eye openness) and
// jitter drawn from (seed, index):
//   input   x   the character (design d) by p, face-cropped as face_crop crops frames
//   low     l   x with the eye region low-passed (Gaussian σ = low_sigma): the low-detail input
//   truth   t*  inside the region: the same drawing with the eyes of d' (eye shape, iris pattern
//               and colour, highlights); outside: x. What a perfect redrawing of x to d' looks
//               like (ours: the synthetic world knows it, so the redrawer is measured against it)
//   guide   h   d' by p, front view, smiling, eyes open, face-cropped over light grey
//   own     h_l d by p, the same (the guide of the input's own design)
//   mask    m   both eyes of x and of t*, grown by one pixel: the region to redraw
// Everything is a pure function of its arguments (same bits every call).
#include <cstdint>
#include <vector>

#include "data/redraw/synth.h"

namespace sakuga::data::redraw {

struct RedrawSample {
  Tensor input, low, truth, guide, own_guide;  // (3, S, S) f32 in [0, 1]
  Tensor mask;                                 // (S, S) u8 {0, 1}
  int production = 0, design = 0, target_design = 0;
};

struct RedrawSampleOptions {
  int64_t size = 64;             // S
  double low_sigma = 1.5;        // the low-detail input's blur, crop pixels
  double other_design = 0.75;    // probability that d' ≠ d
  std::vector<int> productions;  // drawn from these (empty: every production of the world)
  bool guides = true;            // render guide and own_guide (false: left undefined, e.g. cached)
};

RedrawSample redraw_sample(const World& world, uint64_t seed, int64_t index, const RedrawSampleOptions& opt);

// Design d drawn by production p as a guide: front view, face-cropped at S over light grey.
Tensor guide_crop(const World& world, int production, int design, int64_t size);

// The pixels within `radius` (Chebyshev distance) of the border of the region m (S, S) u8, on
// both sides: dilate(m, r) ∧ ¬erode(m, r). (S, S) u8.
Tensor boundary_band(const Tensor& mask, int radius);
// m grown by `radius` pixels (Chebyshev), (S, S) u8.
Tensor dilate_mask(const Tensor& mask, int radius);

// A separable Gaussian blur of a (C, H, W) f32 CPU image, σ in pixels (radius ⌈3σ⌉, edges
// clamped); σ ≤ 0 returns a copy.
Tensor gaussian_blur(const Tensor& chw, double sigma);

}  // namespace sakuga::data::redraw
