#pragma once
// The augmentations of thesis §4.2 (gcn.md "Augmentation"), CPU, applied identically to the
// frame and its labels where geometric (bilinear for the frame, nearest for labels):
//   colour: brightness ×N(1, σ_b), contrast ×N(1, σ_c) around the frame mean, hue rotation
//           N(0, σ_h degrees) (rotation about the grey axis of RGB); the result is clamped to [0, 1]
//   geometry: scale U(min, max), rotation U(−deg, deg) about the centre, horizontal flip p
//   background replacement (needs a cel mask; cel task only): frame = m·frame + (1 − m)·background
//   texture overlay: multiply by a mean-1 texture tiled at a random offset, independently for
//           the cel (mask = 1) and the background (mask = 0) when a mask exists
//   rectangle erasure: a rectangle of width/height U(0, erase_max) of the image, frame and
//           labels set to 0
//   finally pad (zeros, labels 0) / crop to (out_h, out_w) at a random position.
// All randomness comes from Philox streams keyed by `seed`: same seed → same result.
#include <cstdint>
#include <vector>

#include "data/gcn/seg_dataset.h"

namespace sakuga::data {

// AugmentConfig{} augments nothing (only pads / crops). The gcn family's defaults
// (nets/gcn/config.cpp default_settings) turn flips on for the demo, the thesis configs the rest;
// nets/gcn/config.h binds these fields to the augment.* keys.
struct AugmentConfig {
  bool brightness = false;
  double brightness_std = 0.25;
  bool contrast = false;
  double contrast_std = 0.5;
  bool hue = false;
  double hue_std_deg = 45.0;
  bool scale = false;
  double scale_min = 0.5, scale_max = 2.0;
  bool rotate = false;
  double rotate_deg = 10.0;
  bool flip = false;
  double flip_p = 0.5;
  bool background = false;  // background replacement (skipped for samples without a mask)
  bool texture = false;
  bool erase = false;
  double erase_max = 0.5;
};

// Images the background / texture steps draw from. Backgrounds are (3, h, w) f32 frames (tiled
// or cropped to the sample's size); textures are (1, h, w) or (3, h, w) f32, rescaled to mean 1
// when used. When a list is empty, the step draws a procedural one (data/gcn/synth.h) instead.
struct AugmentSources {
  std::vector<Tensor> backgrounds;
  std::vector<Tensor> textures;
};

// Checks ranges (std ≥ 0, 0 < scale_min ≤ scale_max, probabilities in [0, 1], ...); throws an
// Error naming the field as "augment.<field>".
void validate(const AugmentConfig& c);

// The enabled augmentations, then pad/crop to (out_h, out_w) at a random position.
SegSample augment(const SegSample& s, const AugmentConfig& c, int64_t out_h, int64_t out_w, uint64_t seed,
                  const AugmentSources& src);
// Validation / inference: only pad (bottom/right, zeros, labels 0) and crop (top-left) to
// (out_h, out_w); no randomness.
SegSample fit_to_size(const SegSample& s, int64_t out_h, int64_t out_w);

}  // namespace sakuga::data
