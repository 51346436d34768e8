#pragma once
// Synthetic redraw data (redraw.md "Data", docs/redraw.md "Data"): frames of one or more anime
// characters (data/portraits.h heads) drawn by one "production", with boxes of every face and
// eye, and a square face crop per character with its eye-region mask.
//
// - A *production* (id 0 … P−1) is a rendering style: line weight, shading (flat / cel / soft),
//   line colour, and a colour grade applied to the whole frame (saturation, a multiplicative
//   tint, a gamma), so every design it draws looks "of that production".
// - A *design* (id 0 … D−1) is a character: eye shape, iris pattern, highlight layout, iris
//   colour, hair shape and colour, skin, clothes and accent colours. Every production draws
//   every design (the same design looks different in two productions).
// - Productions and designs are a function of (world_seed, id) only, so datasets written with
//   different --seed share them (design 3 is the same character in both); frames are a
//   function of (seed, index, world).
// - Held out: the last `held_out` production ids (P − K … P − 1) are the "unseen" productions
//   of the measurements; their frames and crops are written like the others (the pinned layout
//   has no split folders) and listed in DIR/redraw.json ("held_out_productions").
//
// Everything is plain CPU loops with a fixed order of floating-point operations: the same
// arguments give the same bits.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/portraits.h"
#include "data/redraw/dataset.h"

namespace sakuga::data::redraw {

constexpr int64_t kDefaultFrameHeight = 256, kDefaultFrameWidth = 256;
constexpr int64_t kMinFrameSize = 64, kMaxFrameSize = 4096;
constexpr int64_t kDefaultCropSize = 128;  // the redrawer's input (redraw.md: 128×128, ours)
constexpr int kDefaultProductions = 4, kDefaultDesigns = 8, kDefaultHeldOut = 1;
constexpr int kMaxCharacters = 3;
constexpr uint64_t kDefaultWorldSeed = 0x52454452415700ull;

struct Production {
  int id = 0;
  int line_weight = 1;  // 0 … kPortraitLineWeights − 1
  int shading = 1;      // 0 flat, 1 cel, 2 soft
  int line_color = 0;   // 0 dark brown, 1 near black, 2 a dark shade of the tint
  float saturation = 1.f;     // grade: c ← y + s·(c − y), y the luma
  float tint_hue = 0.f;       // grade: c ← c·(1 − t + t·hsv(hue, 1, 1))
  float tint_strength = 0.f;  //        t
  float gamma = 1.f;          // grade: c ← c^γ
};

struct Design {
  int id = 0;
  int eye_shape = 0;   // 0 … kPortraitEyeShapes − 1
  int iris = 0;        // 0 … kPortraitIrises − 1
  int highlights = 0;  // 0 … kPortraitHighlights − 1
  int hair = 0;        // 0 … kPortraitHairShapes − 1
  float iris_hue = 0.f;
  draw::Rgb iris_color{0, 0, 0}, hair_color{0, 0, 0}, skin{0, 0, 0}, clothes{0, 0, 0}, accent{0, 0, 0};
};

struct World {
  std::vector<Production> productions;
  std::vector<Design> designs;
  std::vector<int> held_out;  // production ids, ascending
  bool is_held_out(int production) const;
};

// P productions and D designs from world_seed; the last `held_out` productions are held out
// (0 ≤ held_out < P). Each is drawn uniformly; one too close to an earlier one is redrawn (a
// production must differ from each earlier one in three of line weight, shading, line colour,
// saturation (by 0.25), gamma (by 0.15), tint hue (by 1/6 turn); a design in two of what its
// eyes show: eye shape, iris pattern, highlight layout, iris hue (by 1/6 turn)); after 2000
// rejections in a row one factor less is required, and so on.
World make_world(int productions, int designs, int held_out, uint64_t world_seed = kDefaultWorldSeed);

// The portrait colours of design d drawn by production p (background black: matte).
PortraitColors design_colors(const Production& p, const Design& d);
// The production's colour grade on a (3, H, W) f32 CPU tensor in [0, 1], in place (clamped).
void apply_grade(const Production& p, Tensor& chw);

struct Character {
  int production = 0, design = 0;
  int64_t x = 0, y = 0, size = 0;  // the portrait's square in the frame (may reach below it)
  PortraitContent content;
  draw::Box face{0, 0, 0, 0};                 // frame pixels, x1 / y1 exclusive
  std::array<draw::Box, 2> eyes{};            // the image's left eye, then its right one
  std::array<Tensor, 2> eye_masks;            // (H, W) u8 {0, 1}: each eye's region in the frame
};

struct SynthFrame {
  Tensor image;  // (3, H, W) f32 in [0, 1]
  int production = 0;
  std::vector<Character> characters;  // 1 … kMaxCharacters, not overlapping
  std::vector<LabeledBox> boxes;      // per character: its face, then its two eyes
};

// Frame `index` of stream `seed`: production index mod P; n = 1 … 3 distinct designs, each a
// portrait standing on the frame's bottom edge (up to 15 % of it below), of a random size in
// [0.45, 0.8], [0.34, 0.5] or [0.26, 0.34]·min(H, W) for n = 1, 2, 3 (clamped to the portraits'
// 32 … 256 px), left to right with random gaps (never overlapping; those that do not fit the
// width are dropped), with random yaw and mouth and open or half-open eyes, over a random
// background; then the production's grade on the whole frame.
SynthFrame synth_frame(const World& world, uint64_t seed, int64_t index, int64_t height, int64_t width);

// The square window a face crop takes from the frame: side max(face w, h)·1.1 (at most the
// frame's short side), centred on the face box, shifted to lie inside the frame.
struct CropWindow {
  int64_t x0 = 0, y0 = 0, side = 0;
};
CropWindow face_crop_window(const draw::Box& face, int64_t height, int64_t width);
// The window of a (3, H, W) image area-resampled to (3, S, S) (data/resize.h).
Tensor crop_image(const Tensor& chw, const CropWindow& w, int64_t size);
// The window of an (H, W) u8 mask at (S, S): a crop pixel is set when any set frame pixel
// overlaps its area (exact integer arithmetic).
Tensor crop_mask(const Tensor& mask, const CropWindow& w, int64_t size);
// A frame box in crop pixels, rounded outward (x0 = ⌊S·(x0 − wx0)/side⌋, x1 = ⌈S·(x1 − wx0)/side⌉),
// clipped to the crop: for a mask whose tight box is b, crop_mask's tight box is exactly this.
draw::Box crop_box(const draw::Box& b, const CropWindow& w, int64_t size);

// The face crop of character k of a frame and its eye-region mask (the union of both eyes).
struct FaceCrop {
  Tensor image;  // (3, S, S)
  Tensor mask;   // (S, S) u8
  CropWindow window;
};
FaceCrop face_crop(const SynthFrame& frame, size_t k, int64_t size = kDefaultCropSize);

// Design d drawn by production p as a portrait of size × size (front view, smiling, eyes open,
// the design's hair), composited over a light grey and graded: what the style of p does to d.
Tensor design_portrait(const World& world, int production, int design, int64_t size);
// A sheet of design_portrait: a row per design ("d0", …), a column per production ("p0", …;
// held-out ones "p3 held"), cells of `cell` pixels; at most 4096 cells.
Tensor world_sheet(const World& world, int64_t cell = 96);

struct SynthOptions {
  int64_t count = 64;
  uint64_t seed = 0;
  int64_t height = kDefaultFrameHeight, width = kDefaultFrameWidth;
  int productions = kDefaultProductions, designs = kDefaultDesigns, held_out = kDefaultHeldOut;
  uint64_t world_seed = kDefaultWorldSeed;
  int64_t crop_size = kDefaultCropSize;
  // A non-empty DIR is refused unless overwrite is set and DIR holds a previous redraw dataset
  // (a redraw.json); then its contents are replaced.
  bool overwrite = false;
  std::function<void(int64_t done, int64_t total)> progress;  // after each frame when set
};

// The name of frame i: "redraw-000123".
std::string frame_name(int64_t index);

// Writes DIR/frames/NAME.png + NAME.json, DIR/crops/<production>/<design>/NAME_k.png +
// NAME_k.mask.png (k = the character's index in the frame), and DIR/redraw.json (the options,
// the productions' and designs' factors, held_out_productions). Errors name the path or option.
void write_redraw_dataset(const std::string& dir, const SynthOptions& opt);

nlohmann::json to_json(const Production& p);
nlohmann::json to_json(const Design& d);

}  // namespace sakuga::data::redraw
