#pragma once
// Drawing primitives for procedural training images (the synthetic cel frames of
// data/gcn/synth.h, and future generators of portraits and scenes): a seeded random stream,
// colour helpers, an RGB float raster, binary masks rasterised from shapes, region boundaries,
// smooth noise, and a mild camera/JPEG-like degradation.
//
// Conventions:
// - Everything is plain CPU loops with a fixed order of floating-point operations, so the same
//   (seed, size) always gives the same bits; generators rely on that (their outputs are pinned
//   by checksums in the tests).
// - A Mask or Raster of size (h, w) is row-major; pixel (x, y) has index y·w + x and its centre at
//   (x + 0.5, y + 0.5). Shapes are rasterised at pixel centres and clipped to the image.
// - Rasterisers set covered mask pixels to 1 and leave the others untouched (masks accumulate).
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data::draw {

constexpr double kPi = 3.14159265358979323846;

// --- random stream ----------------------------------------------------------------------------

// The splitmix64 finaliser: a 64-bit hash.
uint64_t mix64(uint64_t z);

// A splitmix64 stream. Cheap and good enough for drawing; fork() starts an independent stream,
// so a part of an image can draw a variable number of values without shifting later parts.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(mix64(seed ^ 0x5A4B55474153594Eull)) {}
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uni() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uni(double a, double b) { return a + (b - a) * uni(); }               // [a, b)
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }  // [lo, hi]
  bool chance(double p) { return uni() < p; }
  // Approximately standard normal (Irwin–Hall of four 16-bit uniforms, |x| ≤ 2√3): cheap enough
  // per pixel.
  float gauss() {
    uint64_t r = next();
    float s4 = float(r & 0xFFFF) + float((r >> 16) & 0xFFFF) + float((r >> 32) & 0xFFFF) + float(r >> 48);
    return (s4 * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
  }
  Rng fork() { return Rng(next()); }
};

// --- colour ------------------------------------------------------------------------------------

struct Rgb {
  float r, g, b;  // linear in [0, 1] (values outside are allowed until clamp01)
};
// Rec. 601 luma.
inline float luma(const Rgb& c) { return 0.299f * c.r + 0.587f * c.g + 0.114f * c.b; }
// a + (b − a)·t per channel.
inline Rgb mix(const Rgb& a, const Rgb& b, float t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}
// Hue h (turns, any real: wrapped to [0, 1)), saturation s and value v in [0, 1].
Rgb hsv(double h, double s, double v);
// Mixes c toward white in steps of 8 % (at most 40) until its luma is at least `lo`.
Rgb lift(Rgb c, float lo);

// --- rasters -----------------------------------------------------------------------------------

using Mask = std::vector<uint8_t>;  // (h, w), 1 = inside

// An RGB float image (a raster), pixels interleaved: (h, w, 3).
struct Raster {
  int h, w;
  std::vector<float> px;
  Raster(int h_, int w_) : h(h_), w(w_), px(size_t(h_) * size_t(w_) * 3, 0.f) {}
  float* at(size_t i) { return &px[i * 3]; }  // the 3 channels of pixel i = y·w + x
};
// (3, h, w) f32 tensor (planar, as the networks read images).
Tensor to_tensor(const Raster& im);

// A pixel window, half-open: x0 ≤ x < x1, y0 ≤ y < y1.
struct Box {
  int x0, y0, x1, y1;
};
// The square of half-size r around (cx, cy), widened to whole pixels and clipped to the image.
Box clip_box(double cx, double cy, double r, int h, int w);
// Calls f(i) for every pixel index i of window b in an image of width w.
template <class F>
void for_box(const Box& b, int w, F f) {
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) f(size_t(y) * size_t(w) + size_t(x));
}

// --- shapes (rasterised into masks) -----------------------------------------------------------

// Ellipse with centre (cx, cy), radii (rx, ry), rotated by `ang` radians.
void fill_ellipse(Mask& m, int h, int w, double cx, double cy, double rx, double ry, double ang);
// Polygon (vertices px[i], py[i], closed), even-odd rule at pixel centres.
void fill_polygon(Mask& m, int h, int w, const std::vector<double>& px, const std::vector<double>& py);
// A random closed star-shaped outline around (cx, cy) with radii about (rx, ry): smooth = a blob,
// r(θ) = 1 + Σₖ aₖ sin((k+2)θ + φₖ) (4 harmonics, 96 vertices); else a polygon of 3–8 jittered
// vertices at radius 0.75–1.1.
void fill_radial(Rng& rng, Mask& m, int h, int w, double cx, double cy, double rx, double ry, bool smooth);
// Pixels of window b with nx·x + ny·y > c.
void fill_halfplane(Mask& m, int w, const Box& b, double nx, double ny, double c);

// --- mask operations --------------------------------------------------------------------------

// The tight bounding box of the nonzero pixels of the (h, w) plane m, x1 / y1 exclusive;
// {0, 0, 0, 0} when there are none.
Box tight_box(const uint8_t* m, int h, int w);
// The tight bounding box of m grown by one pixel (clipped), {0, 0, 0, 0} when m is empty: its
// outer ring holds only pixels outside m (or is the image edge), as inner_boundary needs.
Box mask_box(const Mask& m, int h, int w);
// m shifted by (dx, dy) pixels, computed inside b (zero elsewhere).
Mask shifted(const Mask& m, int h, int w, const Box& b, int dx, int dy);
// Region pixels within `width` of the region's edge: the chamfer (1, √2) distance from each
// region pixel to the nearest non-region pixel is ≤ width. Computed inside the window b, which
// must contain the region and, where it is not the image edge, a ring of non-region pixels;
// pixels beyond the image are not sources, so nothing is outlined along the image border.
Mask inner_boundary(const Mask& m, int w, const Box& b, double width);
// Number of set pixels of m inside b.
size_t count(const Mask& m, int w, const Box& b);
// r &= a, where a is zero outside b (r is cleared outside b).
void clip_to(Mask& r, const Mask& a, int h, int w, const Box& b);

// --- textures and painting --------------------------------------------------------------------

// Smooth value noise in [-1, 1] over (h, w): a random grid with cells of `cell` pixels (at least
// 2) at a random sub-cell offset, smoothstep-interpolated.
std::vector<float> value_noise(Rng& rng, int h, int w, double cell);
// Blends a soft elliptic blob into the image: weight alpha·(1 − q/4)³ with q the squared
// elliptic radius (centre (cx, cy), radii (rx, ry), rotation ang), zero from q = 4 outward.
void soft_blob(Raster& im, double cx, double cy, double rx, double ry, double ang, const Rgb& c, float alpha);
// Clamps every channel to [0, 1].
void clamp01(Raster& im);

// --- degradation ------------------------------------------------------------------------------

// Separable Gaussian blur, radius ⌈2.5σ⌉ (no-op below radius 1), edges replicated.
void gaussian_blur(Raster& im, double sigma);
// Adds sigma · rng.gauss() to every channel value, in memory order.
void add_noise(Rng& rng, Raster& im, float sigma);
// Blends each block×block tile (per channel) toward its mean by alpha: JPEG-like blockiness.
void block_blend(Raster& im, int block, float alpha);
// Mild camera/JPEG-like degradation: gaussian_blur σ ∈ [0.3, 0.7]·scale, add_noise σ ∈
// [0.003, 0.015], block_blend 8×8 with α ∈ [0, 0.1], clamp01. `scale` grows with the image
// size (1 at ≤ 360 px).
void degrade(Rng& rng, Raster& im, double scale);

}  // namespace sakuga::data::draw
