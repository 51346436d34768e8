#pragma once
// Synthetic scenes for scenimefy (scenimefy.md "Data"): photo-like landscapes and streets — a sky
// gradient with clouds, mountain ridges in haze, hills, water with the sky's reflection and
// ripples, ground, buildings with windows, trees, a global light tint and sensor noise — and, for
// each, its true anime rendering from the same region map: flat, vivid colours per region (the
// anime grade: more saturated and brighter than the camera's), a posterised
// sky, two-tone foliage and mountains, dark outlines along region boundaries. So a photo→anime
// model learns without downloads, and a held-out photo's target is known. Below 256 px both are
// drawn at up to 4× and area-averaged down (outlines two drawing pixels wide): what a frame
// resized for training looks like, with anti-aliased edges and outlines.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/draw.h"

namespace sakuga::data::scenes {

// Region ids of the label map (the anime rendering's flat areas).
enum Region : uint8_t { sky, cloud, far_mountain, hill, water, ground, building, window, trunk, foliage, kRegions };

struct Scene {
  draw::Raster photo, anime;  // (h, w) RGB in [0, 1]
  std::vector<uint8_t> regions;  // (h, w) Region per pixel
};

// The scene of `seed` at h × w (each at least 16): the same (seed, h, w) always gives the same bits.
Scene render_scene(uint64_t seed, int h, int w);

// `sakuga synth scenimefy`'s layout (scenimefy.md "Pinned interfaces") under `out`:
//   trainA/scene-NNNNNN.png   photos of scenes 0 … count−1
//   truth/scene-NNNNNN.png    the anime rendering of each trainA photo (same name)
//   trainB/anime-NNNNNN.png   anime renderings of other scenes (count of them: the unpaired domain)
//   pairs/A/pair-NNNNNN.png + pairs/B/pair-NNNNNN.png   ⌈count/4⌉ pseudo pairs of yet other scenes
//                             (photo, its rendering), matched by name
// Scene k of the folder uses seed mix(seed, part, k); `progress(done, total)` may be empty.
void write_dataset(const std::string& out, int64_t count, uint64_t seed, int h, int w,
                   const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace sakuga::data::scenes
