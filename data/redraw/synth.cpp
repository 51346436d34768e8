// Synthetic redraw data (data/redraw/synth.h).
#include "data/redraw/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/canvas.h"
#include "data/png.h"
#include "data/resize.h"

namespace sakuga::data::redraw {

namespace fs = std::filesystem;
using draw::Box;
using draw::Rgb;

namespace {

uint64_t stream(uint64_t seed, int64_t index, uint64_t what) {
  return draw::mix64(draw::mix64(seed ^ what) + uint64_t(index));
}

Production draw_production(uint64_t world_seed, int64_t draw_index) {
  draw::Rng rng(stream(world_seed, draw_index, 0x50524F44ull));
  Production p;
  p.line_weight = rng.range(0, kPortraitLineWeights - 1);
  p.shading = rng.range(0, kPortraitShadings - 1);
  p.line_color = rng.range(0, 2);
  p.saturation = float(rng.uni(0.55, 1.35));
  p.tint_hue = float(rng.uni());
  p.tint_strength = float(rng.uni(0.0, 0.3));
  p.gamma = float(rng.uni(0.8, 1.25));
  return p;
}

Design draw_design(uint64_t world_seed, int64_t draw_index) {
  draw::Rng rng(stream(world_seed, draw_index, 0x44455349474Eull));
  Design d;
  d.eye_shape = rng.range(0, kPortraitEyeShapes - 1);
  d.iris = rng.range(0, kPortraitIrises - 1);
  d.highlights = rng.range(0, kPortraitHighlights - 1);
  d.hair = rng.range(0, kPortraitHairShapes - 1);
  d.iris_hue = float(rng.uni());
  d.iris_color = draw::hsv(d.iris_hue, rng.uni(0.55, 0.9), rng.uni(0.5, 0.85));
  d.hair_color = draw::hsv(rng.uni(), rng.uni(0.15, 0.75), rng.uni(0.25, 0.95));
  static const Rgb kSkins[3] = {{1.00f, 0.87f, 0.77f}, {1.00f, 0.91f, 0.86f}, {0.93f, 0.78f, 0.64f}};
  d.skin = kSkins[rng.range(0, 2)];
  d.clothes = draw::hsv(rng.uni(), rng.uni(0.3, 0.7), rng.uni(0.3, 0.8));
  d.accent = draw::hsv(rng.uni(), rng.uni(0.6, 0.9), rng.uni(0.7, 0.95));
  return d;
}

float hue_distance(float a, float b) {
  const float d = std::fabs(a - b);
  return std::min(d, 1.f - d);
}

int production_distance(const Production& a, const Production& b) {
  return int(a.line_weight != b.line_weight) + int(a.shading != b.shading) + int(a.line_color != b.line_color) +
         int(std::fabs(a.saturation - b.saturation) >= 0.25f) + int(std::fabs(a.gamma - b.gamma) >= 0.15f) +
         int(hue_distance(a.tint_hue, b.tint_hue) >= 1.f / 6.f);
}

int design_distance(const Design& a, const Design& b) {
  const float dh = hue_distance(a.iris_hue, b.iris_hue);
  // Only what the eye region shows counts: two designs must differ inside it.
  return int(a.eye_shape != b.eye_shape) + int(a.iris != b.iris) + int(a.highlights != b.highlights) +
         int(dh >= 1.f / 6.f);
}

// `count` items from draw(k), k = 0, 1, …, each at distance ≥ need from the earlier ones (one
// less after each kPatience rejections in a row).
template <class T, class Draw, class Dist>
std::vector<T> distinct_draws(int count, int need, Draw draw_one, Dist dist) {
  constexpr int kPatience = 2000;
  std::vector<T> out;
  int rejected = 0;
  for (int64_t k = 0; int(out.size()) < count; ++k) {
    T t = draw_one(k);
    bool ok = true;
    for (const T& o : out) ok = ok && dist(t, o) >= need;
    if (ok) {
      t.id = int(out.size());
      out.push_back(t);
      rejected = 0;
    } else if (++rejected == kPatience) {
      need = std::max(0, need - 1);
      rejected = 0;
    }
  }
  return out;
}

// The background: a sky gradient, a ground band, a few soft blobs (clouds, bushes) and
// polygons (buildings, posts), with a faint value-noise texture.
draw::Raster background(draw::Rng rng, int h, int w) {
  draw::Raster im(h, w);
  const double hue = rng.uni();
  const Rgb top = draw::hsv(hue, rng.uni(0.2, 0.5), rng.uni(0.75, 1.0));
  const Rgb bottom = draw::hsv(hue + rng.uni(-0.1, 0.1), rng.uni(0.05, 0.3), rng.uni(0.85, 1.0));
  const Rgb ground = draw::hsv(rng.uni(), rng.uni(0.2, 0.6), rng.uni(0.35, 0.8));
  const double horizon = rng.uni(0.55, 0.85) * h;
  for (int y = 0; y < h; ++y) {
    const Rgb c = y + 0.5 < horizon ? draw::mix(top, bottom, float((y + 0.5) / horizon))
                                    : draw::mix(ground, {0, 0, 0}, float(0.25 * (y + 0.5 - horizon) / h));
    for (int x = 0; x < w; ++x) {
      float* p = im.at(size_t(y) * size_t(w) + size_t(x));
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  }
  const int buildings = rng.range(0, 4);
  for (int k = 0; k < buildings; ++k) {
    draw::Mask m(size_t(h) * size_t(w), 0);
    const double x0 = rng.uni(-0.1, 1.0) * w, bw = rng.uni(0.08, 0.3) * w, top_y = horizon - rng.uni(0.1, 0.45) * h;
    draw::fill_polygon(m, h, w, {x0, x0 + bw, x0 + bw, x0}, {top_y, top_y + rng.uni(-0.05, 0.05) * h, horizon, horizon});
    const Rgb c = draw::hsv(rng.uni(), rng.uni(0.05, 0.4), rng.uni(0.45, 0.9));
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i]) {
        float* p = im.at(i);
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
      }
  }
  const int blobs = rng.range(2, 6);
  for (int k = 0; k < blobs; ++k) {
    const double cx = rng.uni() * w, cy = rng.uni(0.05, 0.9) * h, rx = rng.uni(0.04, 0.15) * w;
    draw::soft_blob(im, cx, cy, rx, rx * rng.uni(0.4, 1.0), rng.uni(-0.5, 0.5),
                    draw::hsv(rng.uni(), rng.uni(0.0, 0.5), rng.uni(0.6, 1.0)), float(rng.uni(0.4, 0.9)));
  }
  const std::vector<float> noise = draw::value_noise(rng, h, w, std::max(4.0, 0.1 * std::min(h, w)));
  for (size_t i = 0; i < noise.size(); ++i) {
    float* p = im.at(i);
    for (int c = 0; c < 3; ++c) p[c] += 0.02f * noise[i];
  }
  draw::clamp01(im);
  return im;
}

Box clip(const Box& b, int64_t h, int64_t w) {
  return {int(std::max<int64_t>(0, b.x0)), int(std::max<int64_t>(0, b.y0)), int(std::min<int64_t>(w, b.x1)),
          int(std::min<int64_t>(h, b.y1))};
}

Box shifted_box(const Box& b, int64_t dx, int64_t dy) {
  return {int(b.x0 + dx), int(b.y0 + dy), int(b.x1 + dx), int(b.y1 + dy)};
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

}  // namespace

bool World::is_held_out(int production) const {
  return std::find(held_out.begin(), held_out.end(), production) != held_out.end();
}

World make_world(int productions, int designs, int held_out, uint64_t world_seed) {
  SAKUGA_CHECK(productions >= 1 && productions <= 1000, "synth redraw: productions must be in 1 … 1000, got ",
               productions);
  SAKUGA_CHECK(designs >= 1 && designs <= 1000, "synth redraw: designs must be in 1 … 1000, got ", designs);
  SAKUGA_CHECK(held_out >= 0 && held_out < productions, "synth redraw: held-out productions must be in 0 … ",
               productions - 1, " (at least one production is seen), got ", held_out);
  World w;
  w.productions = distinct_draws<Production>(
      productions, 3, [&](int64_t k) { return draw_production(world_seed, k); }, production_distance);
  w.designs = distinct_draws<Design>(
      designs, 2, [&](int64_t k) { return draw_design(world_seed, k); }, design_distance);
  for (int p = productions - held_out; p < productions; ++p) w.held_out.push_back(p);
  return w;
}

PortraitColors design_colors(const Production& p, const Design& d) {
  PortraitColors c;
  c.background = {0, 0, 0};
  c.skin = d.skin;
  c.hair = d.hair_color;
  c.iris = d.iris_color;
  c.line = p.line_color == 0   ? Rgb{0.22f, 0.12f, 0.09f}
           : p.line_color == 1 ? Rgb{0.05f, 0.05f, 0.07f}
                               : draw::hsv(p.tint_hue, 0.6, 0.3);
  c.clothes = d.clothes;
  c.mouth = draw::mix(d.skin, {0.75f, 0.22f, 0.26f}, 0.7f);
  c.accent = d.accent;
  return c;
}

void apply_grade(const Production& p, Tensor& chw) {
  SAKUGA_CHECK(chw.device().is_cpu() && chw.dtype() == DType::f32 && chw.dim() == 3 && chw.shape()[0] == 3,
               "apply_grade: expected a (3, H, W) f32 CPU tensor");
  const Rgb tint = draw::hsv(p.tint_hue, 1, 1);
  const float t = p.tint_strength;
  const float mul[3] = {1 - t + t * tint.r, 1 - t + t * tint.g, 1 - t + t * tint.b};
  const int64_t n = chw.shape()[1] * chw.shape()[2];
  float* px = chw.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    float c[3] = {px[i], px[n + i], px[2 * n + i]};
    const float y = draw::luma({c[0], c[1], c[2]});
    for (int k = 0; k < 3; ++k) {
      float v = (y + p.saturation * (c[k] - y)) * mul[k];
      v = std::min(1.f, std::max(0.f, v));
      px[int64_t(k) * n + i] = std::pow(v, p.gamma);
    }
  }
}

SynthFrame synth_frame(const World& world, uint64_t seed, int64_t index, int64_t height, int64_t width) {
  SAKUGA_CHECK(height >= kMinFrameSize && width >= kMinFrameSize && height <= kMaxFrameSize && width <= kMaxFrameSize,
               "synth redraw: frame size must be within ", kMinFrameSize, " … ", kMaxFrameSize, ", got ", height, "x",
               width);
  SAKUGA_CHECK(!world.productions.empty() && !world.designs.empty(), "synth_frame: empty world");
  const int h = int(height), w = int(width);
  draw::Rng rng(stream(seed, index, 0x4652414D45ull));
  SynthFrame f;
  f.production = int(index % int64_t(world.productions.size()));
  const Production& prod = world.productions[size_t(f.production)];
  draw::Raster bg = background(rng.fork(), h, w);
  Tensor image = draw::to_tensor(bg);  // (3, H, W)
  float* px = image.data<float>();
  const size_t n = size_t(h) * size_t(w);

  const int wanted = std::min<int>(rng.range(1, kMaxCharacters), int(world.designs.size()));
  std::vector<int> cast;  // distinct designs, in draw order
  while (int(cast.size()) < wanted) {
    const int d = rng.range(0, int(world.designs.size()) - 1);
    if (std::find(cast.begin(), cast.end(), d) == cast.end()) cast.push_back(d);
  }
  // Sizes by the number of characters (fractions of the short side), then left to right with
  // random gaps: the squares never overlap. Characters that do not fit the width are dropped.
  static const double kLo[kMaxCharacters + 1] = {0, 0.45, 0.34, 0.26}, kHi[kMaxCharacters + 1] = {0, 0.8, 0.5, 0.34};
  const double m = double(std::min(h, w));
  const size_t nc = cast.size();
  const int64_t lo = std::max<int64_t>(kPortraitMinSize, std::llround(kLo[nc] * m));
  const int64_t hi = std::max(lo, std::min<int64_t>(kPortraitMaxSize, std::llround(kHi[nc] * m)));
  std::vector<int64_t> sizes;
  int64_t total = 0;
  for (size_t k = 0; k < nc; ++k) {
    sizes.push_back(rng.range(int(lo), int(hi)));
    total += sizes.back();
  }
  while (total > w) {
    total -= sizes.back();
    sizes.pop_back();
    cast.pop_back();
  }
  std::vector<double> gap_weights(sizes.size() + 1);
  double weight_sum = 0;
  for (double& g : gap_weights) weight_sum += (g = rng.uni(0.05, 1.0));
  const int64_t free_width = w - total;
  int64_t x_next = 0;
  for (size_t c = 0; c < cast.size(); ++c) {
    const int design = cast[c];
    draw::Rng crng = rng.fork();  // one stream per character
    const int64_t size = sizes[c];
    x_next += int64_t(std::floor(double(free_width) * gap_weights[c] / weight_sum));
    const int64_t x = x_next, y = h - size + crng.range(0, int(0.15 * double(size)));
    x_next += size;
    const Box sq{int(x), int(y), int(x + size), int(y + size)};
    const Design& des = world.designs[size_t(design)];
    Character ch;
    ch.production = f.production;
    ch.design = design;
    ch.x = sq.x0;
    ch.y = sq.y0;
    ch.size = size;
    ch.content.yaw = crng.range(-kPortraitYawMax, kPortraitYawMax);
    ch.content.hair = des.hair;
    ch.content.mouth = crng.range(0, kPortraitMouths - 1);
    ch.content.eye_openness = crng.chance(0.25) ? 1 : 2;
    PortraitStyle style;
    style.line_weight = prod.line_weight;
    style.eye_shape = des.eye_shape;
    style.palette = 0;  // unused: the colours below
    style.shading = prod.shading;
    style.iris = des.iris;
    PortraitOptions opt;
    opt.colors = design_colors(prod, des);
    opt.highlights = des.highlights;
    opt.matte = true;
    const Portrait p = render_portrait(ch.content, style, size, crng.next(), opt);
    // Premultiplied over the frame: frame ← portrait + (1 − α)·frame, clipped to the frame.
    const float* pi = p.image.data<float>();
    const float* pa = p.alpha.data<float>();
    const size_t pn = size_t(size) * size_t(size);
    for (int64_t yy = 0; yy < size; ++yy) {
      const int64_t fy = ch.y + yy;
      if (fy < 0 || fy >= h) continue;
      for (int64_t xx = 0; xx < size; ++xx) {
        const int64_t fx = ch.x + xx;
        const size_t q = size_t(yy) * size_t(size) + size_t(xx), fi = size_t(fy) * size_t(w) + size_t(fx);
        const float a = pa[q];
        for (size_t c = 0; c < 3; ++c) px[c * n + fi] = pi[c * pn + q] + (1 - a) * px[c * n + fi];
      }
    }
    ch.face = clip(shifted_box(p.face, ch.x, ch.y), h, w);
    for (size_t e = 0; e < 2; ++e) {
      ch.eyes[e] = clip(shifted_box(p.eyes[e].box, ch.x, ch.y), h, w);
      ch.eye_masks[e] = Tensor::zeros({height, width}, DType::u8);
      uint8_t* em = ch.eye_masks[e].data<uint8_t>();
      for (int64_t yy = 0; yy < size; ++yy)
        for (int64_t xx = 0; xx < size; ++xx) {
          const int64_t fy = ch.y + yy, fx = ch.x + xx;
          if (fy < h && p.eyes[e].mask[size_t(yy * size + xx)]) em[size_t(fy) * size_t(w) + size_t(fx)] = 1;
        }
    }
    const int k = int(f.characters.size());
    f.boxes.push_back({BoxKind::face, ch.face, f.production, design, k});
    for (size_t e = 0; e < 2; ++e) f.boxes.push_back({BoxKind::eye, ch.eyes[e], f.production, design, k});
    f.characters.push_back(std::move(ch));
  }
  apply_grade(prod, image);
  f.image = image;
  return f;
}

Tensor design_portrait(const World& world, int production, int design, int64_t size) {
  SAKUGA_CHECK(production >= 0 && production < int(world.productions.size()) && design >= 0 &&
                   design < int(world.designs.size()),
               "design_portrait: no production ", production, " or design ", design);
  const Production& p = world.productions[size_t(production)];
  const Design& d = world.designs[size_t(design)];
  PortraitOptions opt;
  opt.colors = design_colors(p, d);
  opt.highlights = d.highlights;
  opt.matte = true;
  const PortraitStyle style{p.line_weight, d.eye_shape, 0, p.shading, d.iris};
  const Portrait r = render_portrait(PortraitContent{0, d.hair, 0, 2}, style, size, 0, opt);
  Tensor out = r.image.contiguous().clone();
  float* o = out.data<float>();
  const float* a = r.alpha.data<float>();
  const int64_t n = size * size;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < n; ++i) o[c * n + i] += (1 - a[i]) * 0.85f;
  apply_grade(p, out);
  return out;
}

Tensor world_sheet(const World& world, int64_t cell) {
  SAKUGA_CHECK(world.productions.size() * world.designs.size() <= 4096, "synth redraw: a sheet of ",
               world.designs.size(), " designs x ", world.productions.size(),
               " productions is too large (at most 4096 portraits)");
  std::vector<std::vector<Tensor>> rows;
  GridLabels labels;
  for (const Production& p : world.productions)
    labels.columns.push_back("p" + std::to_string(p.id) + (world.is_held_out(p.id) ? " held" : ""));
  for (const Design& d : world.designs) {
    labels.rows.push_back("d" + std::to_string(d.id));
    std::vector<Tensor> row;
    for (const Production& p : world.productions) row.push_back(design_portrait(world, p.id, d.id, cell));
    rows.push_back(std::move(row));
  }
  return image_grid(rows, labels);
}

CropWindow face_crop_window(const Box& face, int64_t height, int64_t width) {
  const int64_t fw = face.x1 - face.x0, fh = face.y1 - face.y0;
  SAKUGA_CHECK(fw > 0 && fh > 0, "face_crop_window: empty face box");
  CropWindow c;
  c.side = std::min<int64_t>(std::min(height, width), std::llround(1.1 * double(std::max(fw, fh))));
  // Centre (face.x0 + face.x1)/2 → left edge centre − side/2, rounded down, in integers.
  c.x0 = std::min(std::max<int64_t>(0, floor_div(face.x0 + face.x1 - c.side, 2)), width - c.side);
  c.y0 = std::min(std::max<int64_t>(0, floor_div(face.y0 + face.y1 - c.side, 2)), height - c.side);
  return c;
}

Tensor crop_image(const Tensor& chw, const CropWindow& w, int64_t size) {
  const int64_t c = chw.shape()[0], h = chw.shape()[1], wd = chw.shape()[2];
  SAKUGA_CHECK(w.x0 >= 0 && w.y0 >= 0 && w.x0 + w.side <= wd && w.y0 + w.side <= h, "crop_image: window outside");
  const Tensor src = chw.contiguous();
  const float* s = src.data<float>();
  std::vector<float> win(size_t(c * w.side * w.side));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < w.side; ++y)
      for (int64_t x = 0; x < w.side; ++x)
        win[size_t((k * w.side + y) * w.side + x)] = s[(k * h + w.y0 + y) * wd + w.x0 + x];
  return Tensor::from_vector(resize_area(win, c, w.side, w.side, size, size), Shape{c, size, size});
}

Tensor crop_mask(const Tensor& mask, const CropWindow& w, int64_t size) {
  const int64_t h = mask.shape()[0], wd = mask.shape()[1];
  SAKUGA_CHECK(w.x0 >= 0 && w.y0 >= 0 && w.x0 + w.side <= wd && w.y0 + w.side <= h, "crop_mask: window outside");
  const uint8_t* m = mask.data<uint8_t>();
  Tensor out = Tensor::zeros({size, size}, DType::u8);
  uint8_t* o = out.data<uint8_t>();
  // Crop pixel u covers [u·side/S, (u+1)·side/S) of the window; window pixel x overlaps it when
  // S·x < (u+1)·side and S·(x+1) > u·side.
  auto range = [&](int64_t u, int64_t& a, int64_t& b) {
    a = floor_div(u * w.side, size);                 // first x with S·(x+1) > u·side
    b = ceil_div((u + 1) * w.side, size);            // one past the last x with S·x < (u+1)·side
  };
  for (int64_t v = 0; v < size; ++v) {
    int64_t y0, y1;
    range(v, y0, y1);
    for (int64_t u = 0; u < size; ++u) {
      int64_t x0, x1;
      range(u, x0, x1);
      bool any = false;
      for (int64_t y = y0; y < y1 && !any; ++y)
        for (int64_t x = x0; x < x1 && !any; ++x) any = m[(w.y0 + y) * wd + w.x0 + x] != 0;
      o[v * size + u] = any ? 1 : 0;
    }
  }
  return out;
}

Box crop_box(const Box& b, const CropWindow& w, int64_t size) {
  auto lo = [&](int64_t v, int64_t o) { return std::min(size, std::max<int64_t>(0, floor_div(size * (v - o), w.side))); };
  auto hi = [&](int64_t v, int64_t o) { return std::min(size, std::max<int64_t>(0, ceil_div(size * (v - o), w.side))); };
  return {int(lo(b.x0, w.x0)), int(lo(b.y0, w.y0)), int(hi(b.x1, w.x0)), int(hi(b.y1, w.y0))};
}

FaceCrop face_crop(const SynthFrame& frame, size_t k, int64_t size) {
  SAKUGA_CHECK(k < frame.characters.size(), "face_crop: no character ", k);
  const Character& ch = frame.characters[k];
  const int64_t h = frame.image.shape()[1], w = frame.image.shape()[2];
  FaceCrop c;
  c.window = face_crop_window(ch.face, h, w);
  c.image = crop_image(frame.image, c.window, size);
  Tensor both = Tensor::zeros({h, w}, DType::u8);
  uint8_t* u = both.data<uint8_t>();
  for (const Tensor& m : ch.eye_masks) {
    const uint8_t* e = m.data<uint8_t>();
    for (int64_t i = 0; i < h * w; ++i) u[i] = uint8_t(u[i] | e[i]);
  }
  c.mask = crop_mask(both, c.window, size);
  return c;
}

std::string frame_name(int64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "redraw-%06lld", static_cast<long long>(index));
  return name;
}

nlohmann::json to_json(const Production& p) {
  return {{"id", p.id},
          {"line_weight", p.line_weight},
          {"shading", p.shading},
          {"line_color", p.line_color},
          {"saturation", p.saturation},
          {"tint_hue", p.tint_hue},
          {"tint_strength", p.tint_strength},
          {"gamma", p.gamma}};
}

nlohmann::json to_json(const Design& d) {
  auto rgb = [](const Rgb& c) { return nlohmann::json{c.r, c.g, c.b}; };
  return {{"id", d.id},
          {"eye_shape", d.eye_shape},
          {"iris", d.iris},
          {"highlights", d.highlights},
          {"hair", d.hair},
          {"iris_color", rgb(d.iris_color)},
          {"hair_color", rgb(d.hair_color)},
          {"skin", rgb(d.skin)},
          {"clothes", rgb(d.clothes)},
          {"accent", rgb(d.accent)}};
}

namespace {

void prepare_folder(const std::string& dir, bool overwrite) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    SAKUGA_CHECK(fs::is_directory(dir, ec), "synth redraw: --out ", dir, " exists and is not a folder");
    if (!fs::is_empty(dir, ec)) {
      SAKUGA_CHECK(overwrite, "synth redraw: --out ", dir,
                   " exists and is not empty (choose a new folder, or pass --overwrite to replace a previous redraw "
                   "dataset)");
      SAKUGA_CHECK(fs::exists(fs::path(dir) / "redraw.json", ec), "synth redraw: refusing to overwrite ", dir,
                   ": it is not empty and holds no redraw.json, so it is not a redraw dataset");
      std::vector<fs::path> entries;
      for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e.path());
      SAKUGA_CHECK(!ec, "synth redraw: cannot list ", dir, ": ", ec.message());
      for (const fs::path& e : entries) {
        fs::remove_all(e, ec);
        SAKUGA_CHECK(!ec, "synth redraw: cannot remove ", e.string(), ": ", ec.message());
      }
    }
  }
  fs::create_directories(fs::path(dir) / "frames", ec);
  SAKUGA_CHECK(!ec, "synth redraw: cannot create ", (fs::path(dir) / "frames").string(), ": ", ec.message());
}

void write_text(const fs::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    SAKUGA_CHECK(f, "synth redraw: cannot write ", tmp);
    f << text;
    f.close();
    SAKUGA_CHECK(f, "synth redraw: write error on ", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  SAKUGA_CHECK(!ec, "synth redraw: cannot rename ", tmp, " to ", path.string(), ": ", ec.message());
}

// {"boxes": [ one box a line ], "production": …, …}: readable and diffable.
std::string frame_json_text(const nlohmann::json& j) {
  std::string s = "{\"boxes\": [";
  const nlohmann::json& boxes = j["boxes"];
  for (size_t i = 0; i < boxes.size(); ++i) s += (i ? ",\n  " : "\n  ") + boxes[i].dump();
  s += boxes.empty() ? "]" : "\n ]";
  for (const auto& [key, value] : j.items())
    if (key != "boxes") s += ",\n \"" + key + "\": " + value.dump();
  return s + "\n}\n";
}

void write_mask_png(const std::string& path, const Tensor& mask) {
  const int64_t h = mask.shape()[0], w = mask.shape()[1];
  Image img(int(h), int(w), 1);
  const uint8_t* m = mask.data<uint8_t>();
  for (int64_t i = 0; i < h * w; ++i) img.pixels[size_t(i)] = m[i] ? 255 : 0;
  write_png(path, img);
}

}  // namespace

void write_redraw_dataset(const std::string& dir, const SynthOptions& opt) {
  SAKUGA_CHECK(opt.count >= 1, "synth redraw: --count must be at least 1, got ", opt.count);
  SAKUGA_CHECK(opt.height >= kMinFrameSize && opt.width >= kMinFrameSize && opt.height <= kMaxFrameSize &&
                   opt.width <= kMaxFrameSize,
               "synth redraw: --size must be within ", kMinFrameSize, " … ", kMaxFrameSize, ", got ", opt.height, " ",
               opt.width);
  SAKUGA_CHECK(opt.crop_size >= 16 && opt.crop_size <= 1024, "synth redraw: crop size must be within 16 … 1024, got ",
               opt.crop_size);
  const World world = make_world(opt.productions, opt.designs, opt.held_out, opt.world_seed);
  prepare_folder(dir, opt.overwrite);
  const fs::path root(dir), frames = root / "frames", crops = root / "crops";
  // The manifest first: a folder an interrupted run left behind is still recognised (overwrite).
  nlohmann::json productions = nlohmann::json::array(), designs = nlohmann::json::array();
  for (const Production& p : world.productions) productions.push_back(to_json(p));
  for (const Design& d : world.designs) designs.push_back(to_json(d));
  const nlohmann::json manifest = {{"generator", "sakuga synth redraw"},
                                   {"count", opt.count},
                                   {"seed", opt.seed},
                                   {"world_seed", opt.world_seed},
                                   {"size", {opt.height, opt.width}},
                                   {"crop_size", opt.crop_size},
                                   {"held_out_productions", world.held_out},
                                   {"productions", productions},
                                   {"designs", designs}};
  write_text(root / "redraw.json", manifest.dump(1) + "\n");
  for (int64_t i = 0; i < opt.count; ++i) {
    const SynthFrame f = synth_frame(world, opt.seed, i, opt.height, opt.width);
    const std::string name = frame_name(i);
    nlohmann::json boxes = nlohmann::json::array();
    for (const LabeledBox& b : f.boxes) boxes.push_back(to_json(b));
    nlohmann::json characters = nlohmann::json::array();
    for (const Character& c : f.characters)
      characters.push_back({{"design", c.design},
                            {"square", {c.x, c.y, c.x + c.size, c.y + c.size}},
                            {"content", data::to_json(c.content)}});
    const nlohmann::json labels = {{"boxes", boxes},
                                   {"production", f.production},
                                   {"held_out", world.is_held_out(f.production)},
                                   {"characters", characters}};
    write_png_tensor((frames / (name + ".png")).string(), f.image);
    write_text(frames / (name + ".json"), frame_json_text(labels));
    for (size_t k = 0; k < f.characters.size(); ++k) {
      const FaceCrop c = face_crop(f, k, opt.crop_size);
      const fs::path folder = crops / std::to_string(f.production) / std::to_string(f.characters[k].design);
      std::error_code ec;
      fs::create_directories(folder, ec);
      SAKUGA_CHECK(!ec, "synth redraw: cannot create ", folder.string(), ": ", ec.message());
      const std::string stem = name + "_" + std::to_string(k);
      write_png_tensor((folder / (stem + ".png")).string(), c.image);
      write_mask_png((folder / (stem + ".mask.png")).string(), c.mask);
    }
    if (opt.progress) opt.progress(i + 1, opt.count);
  }
}

}  // namespace sakuga::data::redraw
