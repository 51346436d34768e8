#pragma once
// `sakuga synth gadn` as a library function (gadn.md "Pinned interfaces"): writes a folder
// dataset that LabelFolderDataset reads back,
//   DIR/<style label>/<name>.png   one folder per artist ("artist-00", …), names unique over DIR
//                                  ("fmnist-000000.png", "portrait-000000.png", … by sample)
//   DIR/factors.jsonl              one object per image, in sample order:
//     fmnist-artists: {"file", "style", "class": 0..9, "source": {"split", "index"},
//                      "style_factors": the artist's ArtistStyle}
//     portraits:      {"file", "style", "yaw", "hair", "mouth", "eye_openness",
//                      "style_factors": {line_weight, eye_shape, palette, shading, iris},
//                      "eyes": [[x0, y0, x1, y1], …] (left, right; pixels, x1/y1 exclusive)}
// Sample i is drawn by artist i mod K, so every artist gets ⌊count/K⌋ or one more images.
// Fashion-MNIST: sample i draws garment order[i mod N] of the split, order = epoch_order(N, seed,
// ⌊i/N⌋), so the garments are a seeded shuffle independent of the artist. Portraits: content and
// jitter from sample_portrait(seed, i, …) in the artist's style. The artists' styles come from
// artist_seed (default kDefaultArtistSeed, as the training stream), not from seed.
#include <cstdint>
#include <functional>
#include <string>

#include "data/gadn/fmnist_artists.h"

namespace sakuga::data::gadn {

enum class SynthKind { fmnist_artists, portraits };
SynthKind parse_synth_kind(const std::string& s);  // "fmnist-artists" | "portraits", else an error
const char* synth_kind_name(SynthKind k);

struct SynthOptions {
  SynthKind kind = SynthKind::fmnist_artists;
  int64_t count = 0;    // images; at least 2 per artist
  uint64_t seed = 0;    // which garments / portrait contents
  int64_t size = 0;     // 0: the kind's default (32 for fmnist-artists, the only size; 64 portraits)
  std::string split = "test";  // fmnist-artists: "test" (held out from training) or "train"
  int artists = kDefaultArtists;
  uint64_t artist_seed = kDefaultArtistSeed;
  int64_t max_garments = -1;  // fmnist-artists: use only the split's first garments (< 0: all)
  std::string fmnist_dir = kFashionMnistDir;
  // A non-empty DIR is refused unless overwrite is set and DIR holds a previous gadn dataset
  // (a factors.jsonl); then its contents are replaced.
  bool overwrite = false;
  std::function<void(int64_t done, int64_t total)> progress;  // called after each image when set
};

// Writes the dataset; errors name the path (or the bad option).
void write_gadn_dataset(const std::string& dir, const SynthOptions& opt);

}  // namespace sakuga::data::gadn
