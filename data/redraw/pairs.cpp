// The redrawer's samples (data/redraw/pairs.h).
#include "data/redraw/pairs.h"

#include <algorithm>
#include <cmath>

#include "data/portraits.h"

namespace sakuga::data::redraw {

namespace {

using draw::Rgb;

PortraitStyle style_of(const Production& p, const Design& d) {
  return PortraitStyle{p.line_weight, d.eye_shape, 0, p.shading, d.iris};
}

// Design d with the eyes of design e: what a redrawing of d's eyes to e changes.
Design with_eyes_of(Design d, const Design& e) {
  d.eye_shape = e.eye_shape;
  d.iris = e.iris;
  d.highlights = e.highlights;
  d.iris_hue = e.iris_hue;
  d.iris_color = e.iris_color;
  return d;
}

// The portrait of design d by production p over a flat background, graded by p; returns the
// (3, R, R) image and the portrait (boxes, eye masks).
struct Drawn {
  Tensor image;
  Portrait portrait;
};
Drawn draw_portrait(const Production& p, const Design& d, const PortraitContent& content, int64_t r, uint64_t jitter,
                    const Rgb& bg) {
  PortraitOptions opt;
  opt.colors = design_colors(p, d);
  opt.highlights = d.highlights;
  opt.matte = true;
  Drawn out{Tensor(), render_portrait(content, style_of(p, d), r, jitter, opt)};
  out.image = out.portrait.image.contiguous().clone();
  float* o = out.image.data<float>();
  const float* a = out.portrait.alpha.data<float>();
  const float bgc[3] = {bg.r, bg.g, bg.b};
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < r * r; ++i) o[c * r * r + i] += (1 - a[i]) * bgc[c];
  apply_grade(p, out.image);
  return out;
}

// Both eyes of a portrait as one (R, R) u8 plane.
Tensor eyes_plane(const Portrait& p, int64_t r) {
  Tensor m = Tensor::zeros({r, r}, DType::u8);
  uint8_t* o = m.data<uint8_t>();
  for (const EyeRegion& e : p.eyes)
    for (size_t i = 0; i < e.mask.size(); ++i) o[i] = uint8_t(o[i] | e.mask[i]);
  return m;
}

// The portrait size whose face crop resamples to about S (the face box is ~half the portrait).
int64_t render_size(int64_t s) { return std::clamp<int64_t>(2 * s, kPortraitMinSize, kPortraitMaxSize); }

// Chebyshev dilation (grow) or erosion (!grow) by r of an (S, S) u8 plane; pixels beyond the
// image count as outside.
Tensor morph(const Tensor& mask, int r, bool grow) {
  const int64_t h = mask.shape()[0], w = mask.shape()[1];
  const uint8_t* m = mask.data<uint8_t>();
  Tensor out = Tensor::zeros({h, w}, DType::u8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      bool any = false, all = true;
      for (int64_t yy = y - r; yy <= y + r; ++yy)
        for (int64_t xx = x - r; xx <= x + r; ++xx) {
          const bool in = yy >= 0 && yy < h && xx >= 0 && xx < w && m[yy * w + xx];
          any = any || in;
          all = all && in;
        }
      o[y * w + x] = uint8_t(grow ? any : all);
    }
  return out;
}

}  // namespace

Tensor dilate_mask(const Tensor& mask, int radius) { return radius <= 0 ? mask.clone() : morph(mask, radius, true); }

Tensor boundary_band(const Tensor& mask, int radius) {
  SAKUGA_CHECK(mask.dim() == 2 && mask.dtype() == DType::u8, "boundary_band: expected an (H, W) u8 mask");
  Tensor grown = morph(mask, radius, true), shrunk = morph(mask, radius, false);
  uint8_t* g = grown.data<uint8_t>();
  const uint8_t* s = shrunk.data<uint8_t>();
  for (int64_t i = 0; i < grown.numel(); ++i) g[i] = uint8_t(g[i] && !s[i]);
  return grown;
}

Tensor gaussian_blur(const Tensor& chw, double sigma) {
  const Tensor src = chw.contiguous();
  if (sigma <= 0) return src.clone();
  const int64_t C = src.shape()[0], H = src.shape()[1], W = src.shape()[2];
  const int r = int(std::ceil(3 * sigma));
  std::vector<double> k(size_t(2 * r + 1));
  double ks = 0;
  for (int i = -r; i <= r; ++i) ks += (k[size_t(i + r)] = std::exp(-0.5 * i * i / (sigma * sigma)));
  for (double& v : k) v /= ks;
  const float* s = src.data<float>();
  std::vector<float> tmp(size_t(C * H * W));
  Tensor out = Tensor::empty({C, H, W});
  float* o = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        double a = 0;
        for (int i = -r; i <= r; ++i) a += k[size_t(i + r)] * s[(c * H + y) * W + std::clamp<int64_t>(x + i, 0, W - 1)];
        tmp[size_t((c * H + y) * W + x)] = float(a);
      }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        double a = 0;
        for (int i = -r; i <= r; ++i)
          a += k[size_t(i + r)] * tmp[size_t((c * H + std::clamp<int64_t>(y + i, 0, H - 1)) * W + x)];
        o[(c * H + y) * W + x] = float(a);
      }
  return out;
}

Tensor guide_crop(const World& world, int production, int design, int64_t size) {
  SAKUGA_CHECK(production >= 0 && production < int(world.productions.size()) && design >= 0 &&
                   design < int(world.designs.size()),
               "guide_crop: no production ", production, " or design ", design);
  const Design& d = world.designs[size_t(design)];
  const int64_t r = render_size(size);
  const Drawn g = draw_portrait(world.productions[size_t(production)], d, PortraitContent{0, d.hair, 0, 2}, r, 0,
                                Rgb{0.85f, 0.85f, 0.85f});
  return crop_image(g.image, face_crop_window(g.portrait.face, r, r), size);
}

RedrawSample redraw_sample(const World& world, uint64_t seed, int64_t index, const RedrawSampleOptions& opt) {
  SAKUGA_CHECK(opt.size >= 16 && opt.size <= 512, "redraw_sample: crop size must be within 16 … 512, got ", opt.size);
  SAKUGA_CHECK(!world.designs.empty() && !world.productions.empty(), "redraw_sample: empty world");
  draw::Rng rng(draw::mix64(seed * 0x9E3779B97F4A7C15ull + uint64_t(index)) ^ 0x5245445241575053ull);
  RedrawSample s;
  s.production = opt.productions.empty() ? rng.range(0, int(world.productions.size()) - 1)
                                         : opt.productions[size_t(rng.range(0, int(opt.productions.size()) - 1))];
  const int D = int(world.designs.size());
  s.design = rng.range(0, D - 1);
  s.target_design = s.design;
  if (D > 1 && rng.chance(opt.other_design)) s.target_design = (s.design + rng.range(1, D - 1)) % D;
  const Production& p = world.productions[size_t(s.production)];
  const Design& d = world.designs[size_t(s.design)];
  PortraitContent content;
  content.yaw = rng.range(-kPortraitYawMax, kPortraitYawMax);
  content.hair = d.hair;
  content.mouth = rng.range(0, kPortraitMouths - 1);
  content.eye_openness = rng.chance(0.25) ? 1 : 2;
  const uint64_t jitter = rng.next();
  const Rgb bg = draw::hsv(rng.uni(), rng.uni(0.05, 0.35), rng.uni(0.7, 1.0));
  const int64_t r = render_size(opt.size);

  const Drawn x = draw_portrait(p, d, content, r, jitter, bg);
  const Drawn t = draw_portrait(p, with_eyes_of(d, world.designs[size_t(s.target_design)]), content, r, jitter, bg);
  const CropWindow win = face_crop_window(x.portrait.face, r, r);  // the same face either way
  s.input = crop_image(x.image, win, opt.size);
  s.truth = crop_image(t.image, win, opt.size);
  Tensor both = eyes_plane(x.portrait, r);
  {
    const Tensor te = eyes_plane(t.portrait, r);
    uint8_t* b = both.data<uint8_t>();
    const uint8_t* e = te.data<uint8_t>();
    for (int64_t i = 0; i < r * r; ++i) b[i] = uint8_t(b[i] | e[i]);
  }
  s.mask = dilate_mask(crop_mask(both, win, opt.size), 1);

  // The truth: the other eyes inside the region, the input outside (an eye shape also moves the
  // eyebrow, which lies outside the region and is not redrawn). The low-detail input: the
  // blurred crop inside the region, the crop itself outside.
  s.low = s.input.clone();
  const Tensor blurred = gaussian_blur(s.input, opt.low_sigma);
  const int64_t n = opt.size * opt.size;
  const uint8_t* m = s.mask.data<uint8_t>();
  float* lo = s.low.data<float>();
  float* tr = s.truth.data<float>();
  const float* in = s.input.data<float>();
  const float* bl = blurred.data<float>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < n; ++i) {
      if (m[i]) lo[c * n + i] = bl[c * n + i];
      if (!m[i]) tr[c * n + i] = in[c * n + i];
    }
  if (opt.guides) {
    s.guide = guide_crop(world, s.production, s.target_design, opt.size);
    s.own_guide = guide_crop(world, s.production, s.design, opt.size);
  }
  return s;
}

}  // namespace sakuga::data::redraw
