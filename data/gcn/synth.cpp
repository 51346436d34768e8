// Procedural cel frames (data/gcn/synth.h, gcn.md "Synthetic data").
//
// Everything is drawn on the CPU with the primitives of data/draw.h (plain loops and a splitmix64
// stream keyed by the seed), so a (seed, h, w) triple always gives the same bits.
//
// Douga mapping (consistent for every sample; see gcn.md "Douga schema"):
//   background (painted: gradient + low-frequency noise + soft blobs + grain)  → 0 flat_area, mask 0
//   character interior in its flat base colour                                 → 0 flat_area, mask 1
//   character outline, drawn in the frame (dark grey/black or brown, 1–3 px
//     at ≤ 360 px, thicker at larger sizes)                                    → 1 visible_line, mask 1
//   colour regions ("hair", "clothes": another, more saturated flat colour;
//     the colour change is the only visible edge)                              → 7 color_fill,
//     their inner boundary (line width lw, not drawn)                          → 3 color_edge
//   shaded regions (frame multiplied by a darker, bluish tone; half-plane,
//     crescent = shape minus its shifted copy, or a blob; clipped to the
//     character)                                                               → 6 shading_fill,
//     their inner boundary (width lw, NOT drawn: only the tone change shows)   → 2 shading_line
//   highlights (small brighter ellipses, blended toward white / pale yellow)   → 8 highlight_fill,
//     their inner boundary (width lw, not drawn)                               → 4 highlight_line
//   "book" occluders (painted like the background but with stripes, drawn over
//     part of a character; the whole book shape is labelled, also where it
//     covers the background)                                                   → 9 book_fill, mask 0,
//     their inner boundary (width lw, not drawn)                               → 5 book_line
// lw = max(1, round(min(h, w) / 360)). Boundaries are region pixels within distance lw
// (chamfer 1/√2) of a pixel outside the region; pixels beyond the image count as inside, so
// nothing is outlined along the frame border. Inside one character, lines win over fills and a
// later region's fill never covers an earlier region's line (the colour edge stays visible
// inside a shadow); at a crossing of two lines the later-drawn one wins (highlight > shading >
// colour edge); the outline wins over everything inside its character. A later character
// covers earlier ones completely (labels reset). Books cover everything.
// Guarantees (tests/test_synth.cpp): classes 5/9 only where mask = 0; classes 1–4 and 6–8
// only where mask = 1; before the final degradation every visible_line pixel has luminance
// ≤ 0.25 and every other character pixel ≥ 0.3 (lines are the darkest thing on a character:
// base colours have luminance ≥ 0.55, colour regions ≥ 0.5, one shading tone ×[0.74, 0.85]).
//
// Final frame degradation (labels untouched): separable Gaussian blur σ ∈ [0.3, 0.7]·scale,
// Gaussian-like noise σ ∈ [0.003, 0.015], each 8×8 block blended toward its mean by
// α ∈ [0, 0.1] (JPEG-like blockiness), clamp to [0, 1] (draw::degrade).
#include "data/gcn/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "data/draw.h"
#include "data/gcn/douga.h"
#include "data/png.h"
#include "kernels/common.h"

namespace sakuga::data {

namespace {

using draw::Box;
using draw::Raster;
using draw::kPi;
using draw::Mask;
using draw::Rgb;
using draw::Rng;

double size_scale(int h, int w) { return std::max(1.0, std::min(h, w) / 360.0); }

void paint_background(Rng& rng, Raster& im) {
  int h = im.h, w = im.w;
  double mn = std::min(h, w);
  double hue = rng.uni(0, 1);
  Rgb c0 = draw::hsv(hue, rng.uni(0.05, 0.5), rng.uni(0.45, 0.95));
  Rgb c1 = draw::hsv(hue + rng.uni(-0.15, 0.15), rng.uni(0.05, 0.55), rng.uni(0.4, 0.95));
  bool vertical = rng.chance(0.6);
  double ga = vertical ? kPi / 2 + rng.uni(-0.3, 0.3) : rng.uni(-0.3, 0.3);
  double gx = std::cos(ga), gy = std::sin(ga);
  double proj_min = std::min({0.0, gx * w, gy * h, gx * w + gy * h});
  double proj_max = std::max({0.0, gx * w, gy * h, gx * w + gy * h});
  std::vector<float> n1 = draw::value_noise(rng, h, w, mn / rng.uni(2.5, 5));
  std::vector<float> n2 = draw::value_noise(rng, h, w, mn / rng.uni(8, 16));
  float a1 = float(rng.uni(0.03, 0.09)), a2 = float(rng.uni(0.01, 0.04));
  Rgb tint = draw::hsv(rng.uni(0, 1), rng.uni(0.2, 0.6), 1.0);
  float grain = float(rng.uni(0.003, 0.015));
  Rng prng = rng.fork();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      size_t i = size_t(y) * size_t(w) + size_t(x);
      float t = float(((x + 0.5) * gx + (y + 0.5) * gy - proj_min) / (proj_max - proj_min + 1e-9));
      Rgb c = draw::mix(c0, c1, t);
      float n = a1 * n1[i] + a2 * n2[i];
      float* p = im.at(i);
      p[0] = c.r + n * tint.r + grain * prng.gauss();
      p[1] = c.g + n * tint.g + grain * prng.gauss();
      p[2] = c.b + n * tint.b + grain * prng.gauss();
    }
  // Soft blurred blobs (clouds, distant objects).
  int nb = rng.range(2, 6);
  for (int k = 0; k < nb; ++k) {
    double cx = rng.uni(0, w), cy = rng.uni(0, h);
    double rx = mn * rng.uni(0.08, 0.35), ry = rx * rng.uni(0.4, 1.2);
    double ang = rng.uni(0, kPi);
    Rgb bc = draw::hsv(rng.uni(0, 1), rng.uni(0.05, 0.5), rng.uni(0.4, 1.0));
    float alpha = float(rng.uni(0.15, 0.55));
    draw::soft_blob(im, cx, cy, rx, ry, ang, bc, alpha);
  }
  draw::clamp01(im);
}

// --- characters -----------------------------------------------------------------------------

struct Scene {
  int h, w;
  Raster im;
  std::vector<int32_t> label;
  Mask cel;
  Scene(int h_, int w_) : h(h_), w(w_), im(h_, w_), label(size_t(h_) * size_t(w_), 0), cel(size_t(h_) * size_t(w_), 0) {}
};

// A random interior pixel of m (bounded tries; falls back to the given centre).
void interior_point(Rng& rng, const Mask& m, int h, int w, double cx, double cy, double r, double* ox, double* oy) {
  for (int t = 0; t < 30; ++t) {
    double a = rng.uni(0, 2 * kPi), d = r * std::sqrt(rng.uni());
    int x = int(cx + d * std::cos(a)), y = int(cy + d * std::sin(a));
    if (x >= 0 && y >= 0 && x < w && y < h && m[size_t(y) * size_t(w) + size_t(x)]) {
      *ox = x + 0.5;
      *oy = y + 0.5;
      return;
    }
  }
  *ox = cx;
  *oy = cy;
}

// Labels a region inside the current character: fill where no line of this character lies
// yet, then its inner boundary as `line`.
// `box` is the character's window (contains the region and a ring of non-region pixels).
void label_region(Scene& s, const Mask& region, const Box& box, int fill, int line, double lw) {
  Mask b = draw::inner_boundary(region, s.w, box, lw);
  draw::for_box(box, s.w, [&](size_t i) {
    if (!region[i]) return;
    if (b[i]) s.label[i] = line;
    else if (!is_line_class(s.label[i])) s.label[i] = fill;
  });
}

void draw_character(Rng& rng, Scene& s, double lw, double scale) {
  int h = s.h, w = s.w;
  double mn = std::min(h, w);
  double R = mn * rng.uni(0.14, 0.36);
  double cx = rng.uni(0.1, 0.9) * w, cy = rng.uni(0.1, 0.95) * h;
  double rx = R * rng.uni(0.6, 1.0), ry = R * rng.uni(0.8, 1.35);
  Mask A(size_t(h) * size_t(w), 0);
  int parts = rng.chance(0.4) ? 2 : 1;
  for (int p = 0; p < parts; ++p) {
    double px = cx, py = cy, prx = rx, pry = ry;
    if (p == 1) {  // a second, overlapping part ("head" on a "body")
      double a = rng.uni(0, 2 * kPi);
      px = cx + 0.8 * rx * std::cos(a);
      py = cy + 0.8 * ry * std::sin(a);
      prx = rx * rng.uni(0.4, 0.7);
      pry = prx * rng.uni(0.8, 1.25);
    }
    int kind = rng.range(0, 2);
    if (kind == 0) draw::fill_ellipse(A, h, w, px, py, prx, pry, rng.uni(0, kPi));
    else draw::fill_radial(rng, A, h, w, px, py, prx, pry, kind == 2);
  }
  const Box box = draw::mask_box(A, h, w);
  if (draw::count(A, w, box) < 16) return;

  // Base colour: light, fairly unsaturated (skin, clothes).
  double hue = rng.uni(0, 1);
  Rgb base = draw::lift(draw::hsv(hue, rng.uni(0.05, 0.45), rng.uni(0.7, 1.0)), 0.55f);
  draw::for_box(box, w, [&](size_t i) {
    if (!A[i]) return;
    float* p = s.im.at(i);
    p[0] = base.r; p[1] = base.g; p[2] = base.b;
    s.label[i] = 0;
    s.cel[i] = 1;
  });

  // Colour regions ("hair" / clothes): another, more saturated flat colour.
  int ncol = rng.chance(0.75) ? rng.range(1, 2) : 0;
  for (int k = 0; k < ncol; ++k) {
    Mask r(A.size(), 0);
    if (rng.chance(0.5)) {
      double a = rng.uni(0, 2 * kPi);
      double nx = std::cos(a), ny = std::sin(a);
      if (k == 0) { nx = rng.uni(-0.5, 0.5); ny = -1; }  // the top part, like hair
      double nrm = std::sqrt(nx * nx + ny * ny);
      nx /= nrm; ny /= nrm;
      double off = rng.uni(0.0, 0.6) * std::max(rx, ry);
      draw::fill_halfplane(r, w, box, nx, ny, nx * cx + ny * cy + off);
    } else {
      double ex, ey;
      interior_point(rng, A, h, w, cx, cy, R, &ex, &ey);
      double er = R * rng.uni(0.3, 0.65);
      if (rng.chance(0.5)) draw::fill_ellipse(r, h, w, ex, ey, er, er * rng.uni(0.5, 1.2), rng.uni(0, kPi));
      else draw::fill_radial(rng, r, h, w, ex, ey, er, er * rng.uni(0.6, 1.2), true);
    }
    draw::clip_to(r, A, h, w, box);
    if (draw::count(r, w, box) < 9) continue;
    Rgb c = draw::lift(draw::hsv(hue + rng.uni(0.15, 0.85), rng.uni(0.45, 0.9), rng.uni(0.6, 1.0)), 0.5f);
    draw::for_box(box, w, [&](size_t i) {
      if (r[i]) { float* p = s.im.at(i); p[0] = c.r; p[1] = c.g; p[2] = c.b; }
    });
    label_region(s, r, box, 7, 3, lw);
  }

  // Shading: darker, bluish.
  int nsh = rng.chance(0.9) ? 1 : 0;  // one tone: shadows never stack
  for (int k = 0; k < nsh; ++k) {
    Mask r;
    int kind = rng.range(0, 2);
    if (kind == 0) {  // crescent: the shape minus its shifted copy
      double a = rng.uni(0, 2 * kPi), d = R * rng.uni(0.15, 0.45);
      Mask sh = draw::shifted(A, h, w, box, int(std::lround(d * std::cos(a))), int(std::lround(d * std::sin(a))));
      r.assign(A.size(), 0);
      draw::for_box(box, w, [&](size_t i) { r[i] = A[i] && !sh[i]; });
    } else if (kind == 1) {  // half-plane
      r.assign(A.size(), 0);
      double a = rng.uni(0, 2 * kPi), nx = std::cos(a), ny = std::sin(a);
      draw::fill_halfplane(r, w, box, nx, ny, nx * cx + ny * cy + R * rng.uni(-0.2, 0.6));
      draw::clip_to(r, A, h, w, box);
    } else {  // blob
      r.assign(A.size(), 0);
      double ex, ey;
      interior_point(rng, A, h, w, cx, cy, R, &ex, &ey);
      double er = R * rng.uni(0.25, 0.6);
      draw::fill_radial(rng, r, h, w, ex, ey, er, er * rng.uni(0.6, 1.3), true);
      draw::clip_to(r, A, h, w, box);
    }
    if (draw::count(r, w, box) < 9) continue;
    float f = float(rng.uni(0.74, 0.85));
    Rgb tone = {f * float(rng.uni(0.88, 0.95)), f * float(rng.uni(0.85, 0.93)), f};
    draw::for_box(box, w, [&](size_t i) {
      if (r[i]) { float* p = s.im.at(i); p[0] *= tone.r; p[1] *= tone.g; p[2] *= tone.b; }
    });
    label_region(s, r, box, 6, 2, lw);
  }

  // Highlights: small brighter ellipses.
  int nhl = rng.chance(0.65) ? rng.range(1, 2) : 0;
  for (int k = 0; k < nhl; ++k) {
    Mask r(A.size(), 0);
    double ex, ey;
    interior_point(rng, A, h, w, cx, cy, R * 0.8, &ex, &ey);
    double er = std::max(R * rng.uni(0.1, 0.24), 3.0 * lw + 1.5);
    draw::fill_ellipse(r, h, w, ex, ey, er, er * rng.uni(0.4, 1.0), rng.uni(0, kPi));
    draw::clip_to(r, A, h, w, box);
    if (draw::count(r, w, box) < 9) continue;
    Rgb hc = rng.chance(0.6) ? Rgb{1, 1, 1} : Rgb{1.f, 0.97f, 0.8f};
    float a = float(rng.uni(0.5, 0.8));
    draw::for_box(box, w, [&](size_t i) {
      if (!r[i]) return;
      float* p = s.im.at(i);
      p[0] += (hc.r - p[0]) * a; p[1] += (hc.g - p[1]) * a; p[2] += (hc.b - p[2]) * a;
    });
    label_region(s, r, box, 8, 4, lw);
  }

  // Outline, drawn.
  double t = std::max(lw, double(std::lround(rng.uni(0.75, 3.25) * scale)));
  Mask ol = draw::inner_boundary(A, w, box, t);
  Rgb lc;
  if (rng.chance(0.7)) {
    float g = float(rng.uni(0.02, 0.16));
    lc = {g, g * float(rng.uni(0.9, 1.05)), g * float(rng.uni(0.9, 1.15))};
  } else {
    lc = {float(rng.uni(0.26, 0.34)), float(rng.uni(0.15, 0.2)), float(rng.uni(0.07, 0.11))};
  }
  draw::for_box(box, w, [&](size_t i) {
    if (ol[i]) { float* p = s.im.at(i); p[0] = lc.r; p[1] = lc.g; p[2] = lc.b; s.label[i] = 1; }
  });
}

// A "book": a painted, striped object in front of a character.
void draw_book(Rng& rng, Scene& s, double lw, double tcx, double tcy, double tR) {
  int h = s.h, w = s.w;
  double mn = std::min(h, w);
  double a = rng.uni(0, 2 * kPi);
  double d = tR * rng.uni(0.5, 1.1);
  double cx = tcx + d * std::cos(a), cy = tcy + d * std::sin(a);
  Mask B(size_t(h) * size_t(w), 0);
  double hx = mn * rng.uni(0.1, 0.3), hy = mn * rng.uni(0.1, 0.3);
  if (rng.chance(0.6)) {  // (slightly rotated) rectangle
    double ang = rng.chance(0.5) ? 0.0 : rng.uni(-0.35, 0.35), c = std::cos(ang), sn = std::sin(ang);
    std::vector<double> px, py;
    const double sx[4] = {-1, 1, 1, -1}, sy[4] = {-1, -1, 1, 1};
    for (int k = 0; k < 4; ++k) {
      px.push_back(cx + c * sx[k] * hx - sn * sy[k] * hy);
      py.push_back(cy + sn * sx[k] * hx + c * sy[k] * hy);
    }
    draw::fill_polygon(B, h, w, px, py);
  } else {
    draw::fill_radial(rng, B, h, w, cx, cy, hx, hy, rng.chance(0.5));
  }
  const Box box = draw::mask_box(B, h, w);
  if (draw::count(B, w, box) < 16) return;
  Rgb c0 = draw::hsv(rng.uni(0, 1), rng.uni(0.1, 0.55), rng.uni(0.3, 0.9));
  Rgb c1 = draw::mix(c0, draw::hsv(rng.uni(0, 1), 0.3, rng.uni(0.3, 0.9)), float(rng.uni(0.1, 0.4)));
  double sa = rng.chance(0.5) ? 0.0 : kPi / 2;
  sa += rng.uni(-0.2, 0.2);
  double period = std::max(4.0, mn * rng.uni(0.02, 0.06));
  float amp = float(rng.uni(0.04, 0.1));
  std::vector<float> n = draw::value_noise(rng, h, w, mn / rng.uni(6, 12));
  float na = float(rng.uni(0.02, 0.06));
  double gx = std::cos(a + kPi / 2), gy = std::sin(a + kPi / 2);
  for (int y = box.y0; y < box.y1; ++y)
    for (int x = box.x0; x < box.x1; ++x) {
      size_t i = size_t(y) * size_t(w) + size_t(x);
      if (!B[i]) continue;
      double u = ((x - cx) * gx + (y - cy) * gy) / (2 * std::max(hx, hy)) + 0.5;
      Rgb c = draw::mix(c0, c1, float(std::min(1.0, std::max(0.0, u))));
      float stripe = amp * float(std::sin(2 * kPi * ((x + 0.5) * std::cos(sa) + (y + 0.5) * std::sin(sa)) / period));
      float v = stripe + na * n[i];
      float* p = s.im.at(i);
      p[0] = std::min(1.f, std::max(0.f, c.r + v));
      p[1] = std::min(1.f, std::max(0.f, c.g + v));
      p[2] = std::min(1.f, std::max(0.f, c.b + v));
      s.cel[i] = 0;
    }
  Mask b = draw::inner_boundary(B, w, box, lw);
  draw::for_box(box, w, [&](size_t i) {
    if (B[i]) s.label[i] = b[i] ? 5 : 9;
  });
}

void check_size(const char* fn, int64_t h, int64_t w) {
  SAKUGA_CHECK(h >= 16 && w >= 16, fn, ": size must be at least 16x16, got ", h, "x", w);
  SAKUGA_CHECK(h <= 16384 && w <= 16384, fn, ": size must be at most 16384x16384, got ", h, "x", w);
}

}  // namespace

namespace synth_detail {
// The sample before the final blur / noise / blockiness (frame exactly as painted). Declared
// again in tests/test_synth.cpp; not part of the public header.
SegSample synth_sample_clean(uint64_t seed, int64_t h, int64_t w, bool degrade_frame);
SegSample synth_sample_clean(uint64_t seed, int64_t h, int64_t w, bool degrade_frame) {
  check_size("synth_sample", h, w);
  Rng rng(seed);
  Scene s(static_cast<int>(h), static_cast<int>(w));
  Rng bg = rng.fork();
  paint_background(bg, s.im);
  double scale = size_scale(int(h), int(w));
  double lw = std::max(1.0, double(std::lround(std::min(h, w) / 360.0)));
  int nchar = rng.range(1, 4);
  double mn = double(std::min(h, w));
  for (int k = 0; k < nchar; ++k) {
    Rng cr = rng.fork();
    draw_character(cr, s, lw, scale);
  }
  if (rng.chance(0.5)) {
    // Aim at a random character pixel.
    std::vector<size_t> idx;
    for (size_t i = 0; i < s.cel.size(); i += 7)
      if (s.cel[i]) idx.push_back(i);
    Rng br = rng.fork();
    if (!idx.empty()) {
      size_t i = idx[size_t(br.next() % idx.size())];
      draw_book(br, s, lw, double(i % size_t(w)), double(i / size_t(w)), mn * 0.15);
    }
  }
  Rng dr = rng.fork();
  if (degrade_frame) draw::degrade(dr, s.im, scale);

  SegSample out;
  out.name = "synth-" + std::to_string(seed);
  out.frame = draw::to_tensor(s.im);
  std::vector<float> m(s.cel.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = s.cel[i] ? 1.f : 0.f;
  out.mask = Tensor::from_vector(m, {1, h, w});
  out.douga = Tensor::from_vector_i32(s.label, {h, w});
  return out;
}
}  // namespace synth_detail

SegSample synth_sample(uint64_t seed, int64_t h, int64_t w) {
  return synth_detail::synth_sample_clean(seed, h, w, true);
}

Tensor synth_background(uint64_t seed, int64_t h, int64_t w) {
  check_size("synth_background", h, w);
  Rng rng(seed ^ 0xB4C6B0D5ull);
  Raster im(static_cast<int>(h), static_cast<int>(w));
  Rng bg = rng.fork();
  paint_background(bg, im);
  Rng dr = rng.fork();
  draw::degrade(dr, im, size_scale(int(h), int(w)));
  return draw::to_tensor(im);
}

Tensor synth_texture(uint64_t seed, int64_t h, int64_t w) {
  check_size("synth_texture", h, w);
  Rng rng(seed ^ 0x7E87C0DEull);
  int H = int(h), W = int(w);
  double mn = std::min(H, W);
  std::vector<float> n1 = draw::value_noise(rng, H, W, mn / rng.uni(3, 6));
  std::vector<float> n2 = draw::value_noise(rng, H, W, rng.uni(3, 8));
  float a1 = float(rng.uni(0.03, 0.12)), a2 = float(rng.uni(0.03, 0.1)), a3 = float(rng.uni(0.01, 0.05));
  std::vector<float> t(n1.size());
  double sum = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    t[i] = 1.f + a1 * n1[i] + a2 * n2[i] + a3 * rng.gauss();
    t[i] = std::max(0.05f, t[i]);
    sum += t[i];
  }
  float inv = float(double(t.size()) / sum);
  for (float& v : t) v *= inv;
  return Tensor::from_vector(t, {1, h, w});
}

uint64_t synth_sample_seed(uint64_t seed, int64_t index) {
  return draw::mix64(draw::mix64(seed) ^ (uint64_t(index) * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
}

void write_synth_dataset(const std::string& dir, SegTask task, int64_t count, uint64_t seed, int64_t h, int64_t w,
                         const std::function<void(int64_t done, int64_t total)>& progress) {
  namespace fs = std::filesystem;
  SAKUGA_CHECK(count >= 1, "write_synth_dataset: count must be at least 1, got ", count);
  check_size("write_synth_dataset", h, w);
  std::error_code ec;
  const bool douga = task == SegTask::douga;
  std::vector<std::string> sub = {"frames", "masks", "backgrounds", "textures"};
  if (douga) sub.push_back("douga");
  for (const auto& s : sub) {
    fs::create_directories(fs::path(dir) / s, ec);
    SAKUGA_CHECK(!ec, "write_synth_dataset: cannot create ", (fs::path(dir) / s).string(), ": ", ec.message());
  }
  for (int64_t i = 0; i < count; ++i) {
    SegSample s = synth_sample(synth_sample_seed(seed, i), h, w);
    char name[32];
    std::snprintf(name, sizeof name, "synth-%06lld.png", static_cast<long long>(i));
    write_png_tensor((fs::path(dir) / "frames" / name).string(), s.frame);
    write_png_tensor((fs::path(dir) / "masks" / name).string(), s.mask);
    if (douga) write_douga_png((fs::path(dir) / "douga" / name).string(), s.douga);
    if (progress) progress(i + 1, count);
  }
  for (int k = 0; k < 4; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "synth-bg-%d.png", k);
    write_png_tensor((fs::path(dir) / "backgrounds" / name).string(),
                     synth_background(synth_sample_seed(seed ^ 0xB6ull, k), h, w));
    std::snprintf(name, sizeof name, "synth-tex-%d.png", k);
    // Stored at half intensity (mean 0.5) as RGB; the augmentation rescales to mean 1.
    Tensor t = synth_texture(synth_sample_seed(seed ^ 0x7Eull, k), h, w);
    std::vector<float> v = t.to_vector();
    std::vector<float> rgb(v.size() * 3);
    for (size_t c = 0; c < 3; ++c)
      for (size_t i = 0; i < v.size(); ++i) rgb[c * v.size() + i] = 0.5f * v[i];
    write_png_tensor((fs::path(dir) / "textures" / name).string(), Tensor::from_vector(rgb, {3, h, w}));
  }
}

}  // namespace sakuga::data
