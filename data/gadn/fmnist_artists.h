#pragma once
// Fashion-MNIST × artists (gadn.md "Data"): real garment images (Debian dataset-fashion-mnist,
// data/mnist.h) drawn by K synthetic "artists", each a fixed rendering style drawn from a seed.
// Every garment can be drawn by every artist, so the label (artist or garment class) and the
// other factor are independent by construction.
//
// render_garment(garment, style), in this order, on the 28 × 28 grey garment g ∈ [0, 1]:
//   pad       2 px of background on each side → 32 × 32
//   slant     horizontal shear x' = x + slant · (y − 16) about the centre row, bilinear
//   thickness grey-level dilation (thickness > 0) or erosion (< 0) with the 3 × 3 cross,
//             blended by |thickness|: −1 = one pixel thinner, +1 = one pixel thicker; erosion
//             spares thin parts (fewer than 13 garment pixels in the 5 × 5 window), so straps
//             and handles survive
//   stroke    the ink weight per pixel, inside the silhouette (weight ≥ kSilhouette):
//               fill     the garment's own shading, 0.45 … 1 of the ink
//               outline  a 1 px ink contour (2 px when thickness > 0.5) over a 0.3 tint
//               hatching parallel ink lines (period 3 or 4 px, one of 4 directions) over a 0.3
//                        tint, closed by the contour
//             and a soft edge of the garment's own grey outside it
//   colour    mix(paper, ink, weight) per channel, then 2·v − 1 → (3, 32, 32) in [−1, 1]
// A sample is a pure function of (style seed, garment index, artist).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/draw.h"
#include "data/mnist.h"
#include "tensor/tensor.h"

namespace sakuga::data::gadn {

enum class Stroke { fill, outline, hatching };
const char* stroke_name(Stroke s);

// One artist's fixed rendering style.
struct ArtistStyle {
  draw::Rgb ink{0, 0, 0}, paper{1, 1, 1};  // in [0, 1]; luma differs by at least 0.4
  Stroke stroke = Stroke::fill;
  float thickness = 0;  // [−1, 1] px: erosion < 0 < dilation
  float slant = 0;      // [−0.2, 0.2]: horizontal shear per row
  int hatch_angle = 0;  // hatching direction: 0, 45, 90 or 135 degrees
  int hatch_period = 4; // hatching line spacing, 3 or 4 px
};
nlohmann::json to_json(const ArtistStyle& s);

// The default seed of the artists' styles: training, `synth gadn` and evaluation all use it
// unless told otherwise, so a written set has the same artists as a training run.
constexpr uint64_t kDefaultArtistSeed = 2019;
constexpr int kDefaultArtists = 16;
constexpr int kGarmentSize = 28, kArtistImageSize = 32;

// `count` (≥ 1) distinct styles from `seed`: each drawn independently (hues, lightness, stroke,
// thickness, slant, hatching), redrawn while it is too close to an earlier one (colours and
// stroke), so the artists are told apart at a glance. Styles of a prefix do not depend on count.
std::vector<ArtistStyle> artist_styles(int count, uint64_t seed = kDefaultArtistSeed);

// A garment (28, 28), (1, 28, 28) or 784 values in [0, 1] drawn in `style`: (3, 32, 32) f32 in
// [−1, 1] (see the header comment).
Tensor render_garment(const Tensor& garment, const ArtistStyle& style);
// The ink weight map (32 × 32, in [0, 1]) render_garment colours with: its silhouette is what the
// tests compare against the garment's.
std::vector<float> garment_ink_weight(const std::vector<float>& garment28, const ArtistStyle& style);
// The ink weight from which a pixel counts as inside the drawn silhouette.
constexpr float kSilhouette = 0.2f;

// The label name of artist k: "artist-00", "artist-01", …
std::string artist_label(int k);

// A Fashion-MNIST split with its artists: sample(i, a) = render_garment(garment i, style a).
class FmnistArtists {
 public:
  // split "train" | "test"; max_count < 0: the whole split, else its first max_count garments.
  FmnistArtists(const std::string& split, int64_t max_count = -1, int artists = kDefaultArtists,
                uint64_t artist_seed = kDefaultArtistSeed, const std::string& dir = kFashionMnistDir);
  int64_t size() const { return set_.size(); }
  int artists() const { return int(styles_.size()); }
  const ArtistStyle& style(int artist) const;
  int garment_class(int64_t index) const;  // 0..9 (fashion_mnist_class_name)
  Tensor garment(int64_t index) const;     // (1, 28, 28) in [0, 1]
  Tensor sample(int64_t index, int artist) const;  // (3, 32, 32) in [−1, 1]

 private:
  MnistSet set_;
  std::vector<ArtistStyle> styles_;
};

}  // namespace sakuga::data::gadn
