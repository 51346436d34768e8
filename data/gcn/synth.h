#pragma once
// Procedural cel frames (gcn.md "Synthetic data"): the embedded default dataset, so nothing has
// to be downloaded. Deterministic from a seed at any size. Each sample is an exactly consistent
// (frame, cel mask, douga) triple:
//   background: gradients, noise, soft blurred shapes (douga: flat_area / book classes stay off)
//   1–4 characters: closed shapes (ellipses, polygons, Bézier blobs) filled with a flat colour,
//     outlined (visible_line, 1–3 px, sometimes brown) → cel mask 1 inside (outline included)
//   shaded regions (darker; shading_fill, bounded by a shading_line NOT drawn in the frame),
//   highlights (brighter; highlight_fill + highlight_line), colour-edge regions (another colour;
//   color_fill bounded by a color_edge line)
//   optional "book" occluders over parts of characters (book_line / book_fill in the douga, 0 in
//     the cel mask)
//   finally mild blur, noise and JPEG-like blockiness on the frame only.
#include <cstdint>
#include <functional>
#include <string>

#include "data/gcn/seg_dataset.h"

namespace sakuga::data {

// One sample; name = "synth-<seed>". h, w ≥ 16.
SegSample synth_sample(uint64_t seed, int64_t h, int64_t w);
// A painted background with no characters, (3, h, w) f32 (background-replacement source).
Tensor synth_background(uint64_t seed, int64_t h, int64_t w);
// A mean-1 grey texture (1, h, w) f32 (texture-overlay source).
Tensor synth_texture(uint64_t seed, int64_t h, int64_t w);
// Seed of the i-th sample of a stream with base seed `seed` (a hash, so nearby streams differ).
uint64_t synth_sample_seed(uint64_t seed, int64_t index);

// Writes `count` samples (synth_sample(synth_sample_seed(seed, i), h, w)) as a dataset folder of
// the task's layout (cel: frames/ + masks/; douga: frames/ + douga/ + masks/), names
// "synth-000000.png" …, plus 4 backgrounds/ and 4 textures/. 
// `progress(done, count)` is called after each sample when set (the command line draws a bar).
void write_synth_dataset(const std::string& dir, SegTask task, int64_t count, uint64_t seed, int64_t h, int64_t w,
                         const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace sakuga::data
