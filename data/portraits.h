#pragma once
// Synthetic anime-like portraits (gadn.md "Data", redraw.md "Data"): a head with big eyes, hair
// (back and bangs), eyebrows, nose, mouth, neck and shoulders on a flat background, drawn with
// data/draw.h shapes at 4× (2× from 64 px up; at least 128 px) and area-downsampled, so lines
// are anti-aliased at every size. Everything is a pure function of its arguments (fixed order
// of floating-point operations: the same bits on every run).
//
// Factors, each a small integer level, drawn independently and uniformly:
//   content (what is drawn)                      style (how an "artist" draws it)
//     yaw           −2 … 2  head turn, left → right  line_weight  0 thin, 1 medium, 2 bold
//     hair          0 bob, 1 long, 2 twin tails,      eye_shape    0 round, 1 tsurime (upturned),
//                   3 ponytail, 4 spiky                            2 tareme (droopy), 3 narrow
//     mouth         0 smile, 1 open smile, 2 "o",     palette      0 natural, 1 pastel pink,
//                   3 frown                                        2 cool blue, 3 blonde, 4 dark,
//     eye_openness  0 closed, 1 half, 2 open                      5 sepia
//                                                    shading      0 flat, 1 cel (hard shadows,
//                                                                 hair shine), 2 soft (gradients,
//                                                                 blush)
//                                                    iris         0 plain, 1 ring, 2 gradient
// Besides the factors, a jitter seed moves and scales the head slightly (±2 % of the size, ±4 %)
// and shifts the bangs' spikes: nuisance, not a factor.
//
// For redraw, each eye's region is returned: a mask (R × R, 1 where the eye's drawing — white,
// iris, lashes, lids — covers any part of the pixel, including parts hidden under hair) and its
// tight box. Eyes are drawn after the face and before the hair, and nothing drawn after them
// overlaps their region except hair, so an image without eyes (draw_eyes = false) differs
// from the full one only inside the eye masks.
//
// For redraw's frames (data/redraw/synth.h), PortraitOptions can also replace the palette by
// caller-given colours, choose another layout of the iris highlights, and ask for a matte: the
// figure's coverage α and the image premultiplied on black, to composite over any background.
// The defaults draw exactly what they drew before these options existed (pinned by checksums).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/draw.h"
#include "tensor/tensor.h"

namespace sakuga::data {

struct PortraitContent {
  int yaw = 0;           // −2 … 2
  int hair = 0;          // 0 … kPortraitHairShapes − 1
  int mouth = 0;         // 0 … kPortraitMouths − 1
  int eye_openness = 2;  // 0 … kPortraitEyeOpenness − 1
  bool operator==(const PortraitContent& o) const {
    return yaw == o.yaw && hair == o.hair && mouth == o.mouth && eye_openness == o.eye_openness;
  }
};

struct PortraitStyle {
  int line_weight = 1;  // 0 … kPortraitLineWeights − 1
  int eye_shape = 0;    // 0 … kPortraitEyeShapes − 1
  int palette = 0;      // 0 … kPortraitPalettes − 1
  int shading = 1;      // 0 … kPortraitShadings − 1
  int iris = 0;         // 0 … kPortraitIrises − 1
  bool operator==(const PortraitStyle& o) const {
    return line_weight == o.line_weight && eye_shape == o.eye_shape && palette == o.palette && shading == o.shading &&
           iris == o.iris;
  }
  bool operator!=(const PortraitStyle& o) const { return !(*this == o); }
};

constexpr int kPortraitYawMax = 2, kPortraitHairShapes = 5, kPortraitMouths = 4, kPortraitEyeOpenness = 3;
constexpr int kPortraitLineWeights = 3, kPortraitEyeShapes = 4, kPortraitPalettes = 6, kPortraitShadings = 3,
              kPortraitIrises = 3;
// Layouts of the iris highlights (PortraitOptions::highlights): 0 a big shine at the top left
// and a small one at the bottom right (the default), 1 one big shine at the top right, 2 three
// small dots in an arc over the pupil, 3 a wide bar across the top and a dot at the bottom left.
constexpr int kPortraitHighlights = 4;
constexpr int64_t kPortraitMinSize = 32, kPortraitMaxSize = 256, kPortraitDefaultSize = 64;

// Names of the levels (sheets, docs): e.g. portrait_level_name("hair", 2) = "twin-tails".
// Factors: yaw, hair, mouth, eye_openness, line_weight, eye_shape, palette, shading, iris.
std::string portrait_level_name(const std::string& factor, int level);

// Factors by name: {"yaw": …, "hair": …, "mouth": …, "eye_openness": …} and {"line_weight": …,
// "eye_shape": …, "palette": …, "shading": …, "iris": …}.
nlohmann::json to_json(const PortraitContent& c);
nlohmann::json to_json(const PortraitStyle& s);
// Errors name the missing or out-of-range factor.
PortraitContent portrait_content_from_json(const nlohmann::json& j);
PortraitStyle portrait_style_from_json(const nlohmann::json& j);

// The colours a portrait is painted with (a palette's entries).
struct PortraitColors {
  draw::Rgb background, skin, hair, iris, line, clothes, mouth, accent;
};
// The colours of palette level `palette` (0 … kPortraitPalettes − 1).
PortraitColors portrait_palette_colors(int palette);

struct EyeRegion {
  draw::Box box{0, 0, 0, 0};  // tight box of the mask, x1 / y1 exclusive, in output pixels
  draw::Mask mask;            // (R, R), 1 = part of this eye's drawing
};

struct Portrait {
  Tensor image;  // (3, R, R) f32 in [0, 1]
  PortraitContent content;
  PortraitStyle style;
  std::array<EyeRegion, 2> eyes;  // [0] the eye on the image's left, [1] on its right
  draw::Box face{0, 0, 0, 0};     // tight box of the face's skin (cranium to chin, also where hair
                                  // covers it), x1 / y1 exclusive, in output pixels
  Tensor alpha;                   // with PortraitOptions::matte: (1, R, R) coverage of the figure
};

struct PortraitOptions {
  bool draw_eyes = true;  // false: the same head without eyes (eye regions still returned)
  // Paint with these colours instead of the style's palette (style.palette is then unused).
  std::optional<PortraitColors> colors;
  int highlights = 0;  // 0 … kPortraitHighlights − 1
  // A matte: the background is left black (no background gradient), so `image` is the figure
  // premultiplied by its coverage `alpha` (area-averaged from the supersampled drawing);
  // composite as image + (1 − alpha) · background.
  bool matte = false;
};

// The portrait of (content, style) at size × size (kPortraitMinSize … kPortraitMaxSize); the
// jitter seed moves the head slightly. Errors name an out-of-range factor or size.
Portrait render_portrait(const PortraitContent& content, const PortraitStyle& style, int64_t size,
                         uint64_t jitter_seed, const PortraitOptions& opt = {});

// The content factors of sample `index` of stream `seed`: each factor uniform, independent of
// the others and of the style.
PortraitContent sample_portrait_content(uint64_t seed, int64_t index);
// A style with each factor uniform and independent.
PortraitStyle sample_portrait_style(uint64_t seed, int64_t index);
// Sample `index` of stream `seed` drawn in `style`: render_portrait(sample_portrait_content(seed,
// index), style, size, jitter of (seed, index)).
Portrait sample_portrait(uint64_t seed, int64_t index, int64_t size, const PortraitStyle& style);
// The same with the style drawn too (sample_portrait_style(seed, index)).
Portrait sample_portrait(uint64_t seed, int64_t index, int64_t size);

// `count` distinct artist styles (1 … all 648 combinations) drawn from `seed`: artist k draws
// every portrait in style k. Each is drawn uniformly; one that differs from an earlier artist's
// in fewer than two factors is redrawn (for large counts, once 4000 draws in a row failed that,
// in fewer than one), so small sets of artists differ in at least two factors. A prefix does
// not depend on count.
std::vector<PortraitStyle> portrait_artist_styles(int count, uint64_t seed);

}  // namespace sakuga::data
