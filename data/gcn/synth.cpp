// Procedural cel frames (data/gcn/synth.h, gcn.md "Synthetic data").
//
// Everything is drawn on the CPU in plain loops from a small splitmix64 stream keyed by the
// seed, so a (seed, h, w) triple always gives the same bits.
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
// α ∈ [0, 0.1] (JPEG-like blockiness), clamp to [0, 1].
#include "data/gcn/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "data/gcn/douga.h"
#include "data/png.h"
#include "kernels/common.h"

namespace sakuga::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// splitmix64 stream.
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
  double uni(double a, double b) { return a + (b - a) * uni(); }
  int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }  // [lo, hi]
  bool chance(double p) { return uni() < p; }
  // Approximately standard normal (Irwin–Hall of four 16-bit uniforms): cheap per pixel.
  float gauss() {
    uint64_t r = next();
    float s4 = float(r & 0xFFFF) + float((r >> 16) & 0xFFFF) + float((r >> 32) & 0xFFFF) + float(r >> 48);
    return (s4 * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
  }
  Rng fork() { return Rng(next()); }
};

struct Col {
  float r, g, b;
};
float luma(const Col& c) { return 0.299f * c.r + 0.587f * c.g + 0.114f * c.b; }
Col mix(const Col& a, const Col& b, float t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}
Col hsv(double h, double s, double v) {
  h = std::fmod(h, 1.0);
  if (h < 0) h += 1.0;
  double f = h * 6.0;
  int i = int(f) % 6;
  double fr = f - std::floor(f);
  double p = v * (1 - s), q = v * (1 - s * fr), t = v * (1 - s * (1 - fr));
  double r, g, b;
  switch (i) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
  }
  return {float(r), float(g), float(b)};
}
// Lifts a colour toward white until its luminance is at least `lo`.
Col lift(Col c, float lo) {
  for (int i = 0; i < 40 && luma(c) < lo; ++i) c = mix(c, {1, 1, 1}, 0.08f);
  return c;
}

using Mask = std::vector<uint8_t>;

struct Canvas {
  int h, w;
  std::vector<float> px;  // (h, w, 3)
  Canvas(int h_, int w_) : h(h_), w(w_), px(size_t(h_) * size_t(w_) * 3, 0.f) {}
  float* at(size_t i) { return &px[i * 3]; }
};

// Smooth value noise in [-1, 1] with cells of `cell` pixels.
std::vector<float> value_noise(Rng& rng, int h, int w, double cell) {
  cell = std::max(cell, 2.0);
  int gh = int(std::ceil(h / cell)) + 2, gw = int(std::ceil(w / cell)) + 2;
  std::vector<float> grid(size_t(gh) * size_t(gw));
  for (auto& g : grid) g = float(rng.uni(-1, 1));
  double ox = rng.uni(0, 1), oy = rng.uni(0, 1);
  std::vector<float> out(size_t(h) * size_t(w));
  std::vector<int> xi(static_cast<size_t>(w));
  std::vector<float> xf(static_cast<size_t>(w));
  for (int x = 0; x < w; ++x) {
    double gx = (x + 0.5) / cell + ox;
    xi[size_t(x)] = int(gx);
    double f = gx - std::floor(gx);
    xf[size_t(x)] = float(f * f * (3 - 2 * f));
  }
  for (int y = 0; y < h; ++y) {
    double gy = (y + 0.5) / cell + oy;
    int yi = int(gy);
    double fy = gy - std::floor(gy);
    float ty = float(fy * fy * (3 - 2 * fy));
    const float* r0 = &grid[size_t(yi) * size_t(gw)];
    const float* r1 = r0 + gw;
    float* o = &out[size_t(y) * size_t(w)];
    for (int x = 0; x < w; ++x) {
      int i = xi[size_t(x)];
      float tx = xf[size_t(x)];
      float a = r0[i] + (r0[i + 1] - r0[i]) * tx;
      float b = r1[i] + (r1[i + 1] - r1[i]) * tx;
      o[x] = a + (b - a) * ty;
    }
  }
  return out;
}

// --- shapes (rasterised at pixel centres) --------------------------------------------------

struct Box {
  int x0, y0, x1, y1;  // half-open, clipped to the image
};
Box clip_box(double cx, double cy, double r, int h, int w) {
  return {std::max(0, int(std::floor(cx - r))), std::max(0, int(std::floor(cy - r))),
          std::min(w, int(std::ceil(cx + r)) + 1), std::min(h, int(std::ceil(cy + r)) + 1)};
}

void raster_ellipse(Mask& m, int h, int w, double cx, double cy, double rx, double ry, double ang) {
  double c = std::cos(ang), s = std::sin(ang);
  Box b = clip_box(cx, cy, std::max(rx, ry) + 1, h, w);
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      double u = (c * dx + s * dy) / rx, v = (-s * dx + c * dy) / ry;
      if (u * u + v * v <= 1.0) m[size_t(y) * size_t(w) + size_t(x)] = 1;
    }
}

void raster_polygon(Mask& m, int h, int w, const std::vector<double>& px, const std::vector<double>& py) {
  double xmin = 1e30, xmax = -1e30, ymin = 1e30, ymax = -1e30;
  for (size_t i = 0; i < px.size(); ++i) {
    xmin = std::min(xmin, px[i]); xmax = std::max(xmax, px[i]);
    ymin = std::min(ymin, py[i]); ymax = std::max(ymax, py[i]);
  }
  int y0 = std::max(0, int(std::floor(ymin))), y1 = std::min(h, int(std::ceil(ymax)) + 1);
  int x0 = std::max(0, int(std::floor(xmin))), x1 = std::min(w, int(std::ceil(xmax)) + 1);
  size_t n = px.size();
  std::vector<double> xs;
  for (int y = y0; y < y1; ++y) {
    double yc = y + 0.5;
    xs.clear();
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
      if ((py[i] > yc) != (py[j] > yc)) xs.push_back(px[i] + (yc - py[i]) * (px[j] - px[i]) / (py[j] - py[i]));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      int a = std::max(x0, int(std::ceil(xs[k] - 0.5))), b = std::min(x1 - 1, int(std::floor(xs[k + 1] - 0.5)));
      for (int x = a; x <= b; ++x) m[size_t(y) * size_t(w) + size_t(x)] = 1;
    }
  }
}

// A closed star-shaped outline around (cx, cy): radius r(θ) = R·(1 + Σ a_k sin(kθ + φ_k)),
// sampled densely into a polygon (a smooth "blob"), or a few jittered vertices (a polygon).
void raster_radial(Rng& rng, Mask& m, int h, int w, double cx, double cy, double rx, double ry, bool smooth) {
  std::vector<double> px, py;
  double ang = rng.uni(0, 2 * kPi);
  if (smooth) {
    double a[4], ph[4];
    for (int k = 0; k < 4; ++k) {
      a[k] = rng.uni(0, 0.16 / (1 + 0.5 * k));
      ph[k] = rng.uni(0, 2 * kPi);
    }
    int n = 96;
    for (int i = 0; i < n; ++i) {
      double t = 2 * kPi * i / n;
      double r = 1;
      for (int k = 0; k < 4; ++k) r += a[k] * std::sin((k + 2) * t + ph[k]);
      px.push_back(cx + rx * r * std::cos(t));
      py.push_back(cy + ry * r * std::sin(t));
    }
  } else {
    int n = rng.range(3, 8);
    for (int i = 0; i < n; ++i) {
      double t = ang + 2 * kPi * (i + rng.uni(-0.25, 0.25)) / n;
      double r = rng.uni(0.75, 1.1);
      px.push_back(cx + rx * r * std::cos(t));
      py.push_back(cy + ry * r * std::sin(t));
    }
  }
  raster_polygon(m, h, w, px, py);
}

void raster_halfplane(Mask& m, int w, const Box& b, double nx, double ny, double c) {
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x)
      if (nx * (x + 0.5) + ny * (y + 0.5) > c) m[size_t(y) * size_t(w) + size_t(x)] = 1;
}

// The tight bounding box of m grown by one pixel (clipped): every region operation below works
// inside such a window, whose outer ring holds only non-region pixels (or is the image edge).
Box mask_box(const Mask& m, int h, int w) {
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (int y = 0; y < h; ++y) {
    const uint8_t* r = &m[size_t(y) * size_t(w)];
    for (int x = 0; x < w; ++x)
      if (r[x]) {
        x0 = std::min(x0, x); x1 = std::max(x1, x);
        y0 = std::min(y0, y); y1 = std::max(y1, y);
      }
  }
  if (x1 < 0) return {0, 0, 0, 0};
  return {std::max(0, x0 - 1), std::max(0, y0 - 1), std::min(w, x1 + 2), std::min(h, y1 + 2)};
}

// m shifted by (dx, dy), computed inside b (zero elsewhere).
Mask shifted(const Mask& m, int h, int w, const Box& b, int dx, int dy) {
  Mask out(m.size(), 0);
  for (int y = b.y0; y < b.y1; ++y) {
    int sy = y - dy;
    if (sy < 0 || sy >= h) continue;
    for (int x = b.x0; x < b.x1; ++x) {
      int sx = x - dx;
      if (sx >= 0 && sx < w) out[size_t(y) * size_t(w) + size_t(x)] = m[size_t(sy) * size_t(w) + size_t(sx)];
    }
  }
  return out;
}

// Region pixels within `width` of the region's edge: chamfer (1, √2) distance from each region
// pixel to the nearest non-region pixel, computed inside the window b (which must contain the
// region and, where it is not the image edge, a ring of non-region pixels around it); pixels
// beyond the image are not sources, so nothing is outlined along the frame border.
Mask inner_boundary(const Mask& m, int w, const Box& b, double width) {
  const float inf = 1e9f, d1 = 1.0f, d2 = 1.41421356f;
  const int bw = b.x1 - b.x0, bh = b.y1 - b.y0;
  Mask out(m.size(), 0);
  if (bw <= 0 || bh <= 0) return out;
  std::vector<float> d(size_t(bw) * size_t(bh));
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x)
      d[size_t(y) * size_t(bw) + size_t(x)] = m[size_t(y + b.y0) * size_t(w) + size_t(x + b.x0)] ? inf : 0.f;
  for (int y = 0; y < bh; ++y) {
    float* r = &d[size_t(y) * size_t(bw)];
    const float* u = y > 0 ? r - bw : nullptr;
    for (int x = 0; x < bw; ++x) {
      float v = r[x];
      if (v == 0.f) continue;
      if (x > 0) v = std::min(v, r[x - 1] + d1);
      if (u) {
        v = std::min(v, u[x] + d1);
        if (x > 0) v = std::min(v, u[x - 1] + d2);
        if (x + 1 < bw) v = std::min(v, u[x + 1] + d2);
      }
      r[x] = v;
    }
  }
  for (int y = bh - 1; y >= 0; --y) {
    float* r = &d[size_t(y) * size_t(bw)];
    const float* dn = y + 1 < bh ? r + bw : nullptr;
    for (int x = bw - 1; x >= 0; --x) {
      float v = r[x];
      if (v == 0.f) continue;
      if (x + 1 < bw) v = std::min(v, r[x + 1] + d1);
      if (dn) {
        v = std::min(v, dn[x] + d1);
        if (x + 1 < bw) v = std::min(v, dn[x + 1] + d2);
        if (x > 0) v = std::min(v, dn[x - 1] + d2);
      }
      r[x] = v;
    }
  }
  const float lim = float(width) + 1e-3f;
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x) {
      float v = d[size_t(y) * size_t(bw) + size_t(x)];
      out[size_t(y + b.y0) * size_t(w) + size_t(x + b.x0)] = v != 0.f && v <= lim;
    }
  return out;
}

// Calls f(i) for every pixel index of window b.
template <class F>
void for_box(const Box& b, int w, F f) {
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) f(size_t(y) * size_t(w) + size_t(x));
}

size_t count(const Mask& m, int w, const Box& b) {
  size_t n = 0;
  for_box(b, w, [&](size_t i) { n += m[i]; });
  return n;
}

// r &= a, where a is zero outside b (r is cleared there with memset).
void clip_to(Mask& r, const Mask& a, int h, int w, const Box& b) {
  for (int y = 0; y < h; ++y) {
    uint8_t* row = &r[size_t(y) * size_t(w)];
    if (y < b.y0 || y >= b.y1 || b.x1 <= b.x0) {
      std::memset(row, 0, size_t(w));
      continue;
    }
    std::memset(row, 0, size_t(b.x0));
    std::memset(row + b.x1, 0, size_t(w - b.x1));
    const uint8_t* ar = &a[size_t(y) * size_t(w)];
    for (int x = b.x0; x < b.x1; ++x) row[x] = row[x] && ar[x];
  }
}

// --- background -----------------------------------------------------------------------------

double size_scale(int h, int w) { return std::max(1.0, std::min(h, w) / 360.0); }

void paint_background(Rng& rng, Canvas& cv) {
  int h = cv.h, w = cv.w;
  double mn = std::min(h, w);
  double hue = rng.uni(0, 1);
  Col c0 = hsv(hue, rng.uni(0.05, 0.5), rng.uni(0.45, 0.95));
  Col c1 = hsv(hue + rng.uni(-0.15, 0.15), rng.uni(0.05, 0.55), rng.uni(0.4, 0.95));
  bool vertical = rng.chance(0.6);
  double ga = vertical ? kPi / 2 + rng.uni(-0.3, 0.3) : rng.uni(-0.3, 0.3);
  double gx = std::cos(ga), gy = std::sin(ga);
  double proj_min = std::min({0.0, gx * w, gy * h, gx * w + gy * h});
  double proj_max = std::max({0.0, gx * w, gy * h, gx * w + gy * h});
  std::vector<float> n1 = value_noise(rng, h, w, mn / rng.uni(2.5, 5));
  std::vector<float> n2 = value_noise(rng, h, w, mn / rng.uni(8, 16));
  float a1 = float(rng.uni(0.03, 0.09)), a2 = float(rng.uni(0.01, 0.04));
  Col tint = hsv(rng.uni(0, 1), rng.uni(0.2, 0.6), 1.0);
  float grain = float(rng.uni(0.003, 0.015));
  Rng prng = rng.fork();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      size_t i = size_t(y) * size_t(w) + size_t(x);
      float t = float(((x + 0.5) * gx + (y + 0.5) * gy - proj_min) / (proj_max - proj_min + 1e-9));
      Col c = mix(c0, c1, t);
      float n = a1 * n1[i] + a2 * n2[i];
      float* p = cv.at(i);
      p[0] = c.r + n * tint.r + grain * prng.gauss();
      p[1] = c.g + n * tint.g + grain * prng.gauss();
      p[2] = c.b + n * tint.b + grain * prng.gauss();
    }
  // Soft blurred blobs (clouds, distant objects).
  int nb = rng.range(2, 6);
  for (int k = 0; k < nb; ++k) {
    double cx = rng.uni(0, w), cy = rng.uni(0, h);
    double rx = mn * rng.uni(0.08, 0.35), ry = rx * rng.uni(0.4, 1.2);
    double ang = rng.uni(0, kPi), ca = std::cos(ang), sa = std::sin(ang);
    Col bc = hsv(rng.uni(0, 1), rng.uni(0.05, 0.5), rng.uni(0.4, 1.0));
    float alpha = float(rng.uni(0.15, 0.55));
    Box b = clip_box(cx, cy, 2.0 * std::max(rx, ry), h, w);
    for (int y = b.y0; y < b.y1; ++y)
      for (int x = b.x0; x < b.x1; ++x) {
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        double u = (ca * dx + sa * dy) / rx, v = (-sa * dx + ca * dy) / ry;
        double q = u * u + v * v;
        if (q >= 4.0) continue;
        float fall = float(1.0 - 0.25 * q);
        float a = alpha * fall * fall * fall;
        float* p = cv.at(size_t(y) * size_t(w) + size_t(x));
        p[0] += (bc.r - p[0]) * a;
        p[1] += (bc.g - p[1]) * a;
        p[2] += (bc.b - p[2]) * a;
      }
  }
  for (float& v : cv.px) v = std::min(1.f, std::max(0.f, v));
}

// --- characters -----------------------------------------------------------------------------

struct Scene {
  int h, w;
  Canvas cv;
  std::vector<int32_t> label;
  Mask cel;
  Scene(int h_, int w_) : h(h_), w(w_), cv(h_, w_), label(size_t(h_) * size_t(w_), 0), cel(size_t(h_) * size_t(w_), 0) {}
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
  Mask b = inner_boundary(region, s.w, box, lw);
  for_box(box, s.w, [&](size_t i) {
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
    if (kind == 0) raster_ellipse(A, h, w, px, py, prx, pry, rng.uni(0, kPi));
    else raster_radial(rng, A, h, w, px, py, prx, pry, kind == 2);
  }
  const Box box = mask_box(A, h, w);
  if (count(A, w, box) < 16) return;

  // Base colour: light, fairly unsaturated (skin, clothes).
  double hue = rng.uni(0, 1);
  Col base = lift(hsv(hue, rng.uni(0.05, 0.45), rng.uni(0.7, 1.0)), 0.55f);
  for_box(box, w, [&](size_t i) {
    if (!A[i]) return;
    float* p = s.cv.at(i);
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
      raster_halfplane(r, w, box, nx, ny, nx * cx + ny * cy + off);
    } else {
      double ex, ey;
      interior_point(rng, A, h, w, cx, cy, R, &ex, &ey);
      double er = R * rng.uni(0.3, 0.65);
      if (rng.chance(0.5)) raster_ellipse(r, h, w, ex, ey, er, er * rng.uni(0.5, 1.2), rng.uni(0, kPi));
      else raster_radial(rng, r, h, w, ex, ey, er, er * rng.uni(0.6, 1.2), true);
    }
    clip_to(r, A, h, w, box);
    if (count(r, w, box) < 9) continue;
    Col c = lift(hsv(hue + rng.uni(0.15, 0.85), rng.uni(0.45, 0.9), rng.uni(0.6, 1.0)), 0.5f);
    for_box(box, w, [&](size_t i) {
      if (r[i]) { float* p = s.cv.at(i); p[0] = c.r; p[1] = c.g; p[2] = c.b; }
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
      Mask sh = shifted(A, h, w, box, int(std::lround(d * std::cos(a))), int(std::lround(d * std::sin(a))));
      r.assign(A.size(), 0);
      for_box(box, w, [&](size_t i) { r[i] = A[i] && !sh[i]; });
    } else if (kind == 1) {  // half-plane
      r.assign(A.size(), 0);
      double a = rng.uni(0, 2 * kPi), nx = std::cos(a), ny = std::sin(a);
      raster_halfplane(r, w, box, nx, ny, nx * cx + ny * cy + R * rng.uni(-0.2, 0.6));
      clip_to(r, A, h, w, box);
    } else {  // blob
      r.assign(A.size(), 0);
      double ex, ey;
      interior_point(rng, A, h, w, cx, cy, R, &ex, &ey);
      double er = R * rng.uni(0.25, 0.6);
      raster_radial(rng, r, h, w, ex, ey, er, er * rng.uni(0.6, 1.3), true);
      clip_to(r, A, h, w, box);
    }
    if (count(r, w, box) < 9) continue;
    float f = float(rng.uni(0.74, 0.85));
    Col tone = {f * float(rng.uni(0.88, 0.95)), f * float(rng.uni(0.85, 0.93)), f};
    for_box(box, w, [&](size_t i) {
      if (r[i]) { float* p = s.cv.at(i); p[0] *= tone.r; p[1] *= tone.g; p[2] *= tone.b; }
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
    raster_ellipse(r, h, w, ex, ey, er, er * rng.uni(0.4, 1.0), rng.uni(0, kPi));
    clip_to(r, A, h, w, box);
    if (count(r, w, box) < 9) continue;
    Col hc = rng.chance(0.6) ? Col{1, 1, 1} : Col{1.f, 0.97f, 0.8f};
    float a = float(rng.uni(0.5, 0.8));
    for_box(box, w, [&](size_t i) {
      if (!r[i]) return;
      float* p = s.cv.at(i);
      p[0] += (hc.r - p[0]) * a; p[1] += (hc.g - p[1]) * a; p[2] += (hc.b - p[2]) * a;
    });
    label_region(s, r, box, 8, 4, lw);
  }

  // Outline, drawn.
  double t = std::max(lw, double(std::lround(rng.uni(0.75, 3.25) * scale)));
  Mask ol = inner_boundary(A, w, box, t);
  Col lc;
  if (rng.chance(0.7)) {
    float g = float(rng.uni(0.02, 0.16));
    lc = {g, g * float(rng.uni(0.9, 1.05)), g * float(rng.uni(0.9, 1.15))};
  } else {
    lc = {float(rng.uni(0.26, 0.34)), float(rng.uni(0.15, 0.2)), float(rng.uni(0.07, 0.11))};
  }
  for_box(box, w, [&](size_t i) {
    if (ol[i]) { float* p = s.cv.at(i); p[0] = lc.r; p[1] = lc.g; p[2] = lc.b; s.label[i] = 1; }
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
    raster_polygon(B, h, w, px, py);
  } else {
    raster_radial(rng, B, h, w, cx, cy, hx, hy, rng.chance(0.5));
  }
  const Box box = mask_box(B, h, w);
  if (count(B, w, box) < 16) return;
  Col c0 = hsv(rng.uni(0, 1), rng.uni(0.1, 0.55), rng.uni(0.3, 0.9));
  Col c1 = mix(c0, hsv(rng.uni(0, 1), 0.3, rng.uni(0.3, 0.9)), float(rng.uni(0.1, 0.4)));
  double sa = rng.chance(0.5) ? 0.0 : kPi / 2;
  sa += rng.uni(-0.2, 0.2);
  double period = std::max(4.0, mn * rng.uni(0.02, 0.06));
  float amp = float(rng.uni(0.04, 0.1));
  std::vector<float> n = value_noise(rng, h, w, mn / rng.uni(6, 12));
  float na = float(rng.uni(0.02, 0.06));
  double gx = std::cos(a + kPi / 2), gy = std::sin(a + kPi / 2);
  for (int y = box.y0; y < box.y1; ++y)
    for (int x = box.x0; x < box.x1; ++x) {
      size_t i = size_t(y) * size_t(w) + size_t(x);
      if (!B[i]) continue;
      double u = ((x - cx) * gx + (y - cy) * gy) / (2 * std::max(hx, hy)) + 0.5;
      Col c = mix(c0, c1, float(std::min(1.0, std::max(0.0, u))));
      float stripe = amp * float(std::sin(2 * kPi * ((x + 0.5) * std::cos(sa) + (y + 0.5) * std::sin(sa)) / period));
      float v = stripe + na * n[i];
      float* p = s.cv.at(i);
      p[0] = std::min(1.f, std::max(0.f, c.r + v));
      p[1] = std::min(1.f, std::max(0.f, c.g + v));
      p[2] = std::min(1.f, std::max(0.f, c.b + v));
      s.cel[i] = 0;
    }
  Mask b = inner_boundary(B, w, box, lw);
  for_box(box, w, [&](size_t i) {
    if (B[i]) s.label[i] = b[i] ? 5 : 9;
  });
}

// --- degradation ----------------------------------------------------------------------------

void blur(Canvas& cv, double sigma) {
  int r = int(std::ceil(2.5 * sigma));
  if (r < 1) return;
  std::vector<float> k(size_t(2 * r + 1));
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += (k[size_t(i + r)] = float(std::exp(-0.5 * i * i / (sigma * sigma))));
  for (float& v : k) v /= sum;
  const int h = cv.h, w = cv.w;
  const size_t row = size_t(w) * 3;
  std::vector<float> tmp(cv.px.size()), pad(size_t(w + 2 * r) * 3);
  // Horizontal: each row padded by edge replication.
  for (int y = 0; y < h; ++y) {
    const float* src = &cv.px[size_t(y) * row];
    for (int x = -r; x < w + r; ++x) {
      int xx = std::min(w - 1, std::max(0, x));
      for (int c = 0; c < 3; ++c) pad[size_t(x + r) * 3 + size_t(c)] = src[size_t(xx) * 3 + size_t(c)];
    }
    float* dst = &tmp[size_t(y) * row];
    for (size_t j = 0; j < row; ++j) dst[j] = 0.f;
    for (int i = 0; i <= 2 * r; ++i) {
      const float ki = k[size_t(i)];
      const float* p = &pad[size_t(i) * 3];
      for (size_t j = 0; j < row; ++j) dst[j] += ki * p[j];
    }
  }
  // Vertical: rows combined with clamped row indices.
  for (int y = 0; y < h; ++y) {
    float* dst = &cv.px[size_t(y) * row];
    for (size_t j = 0; j < row; ++j) dst[j] = 0.f;
    for (int i = -r; i <= r; ++i) {
      const float ki = k[size_t(i + r)];
      const float* p = &tmp[size_t(std::min(h - 1, std::max(0, y + i))) * row];
      for (size_t j = 0; j < row; ++j) dst[j] += ki * p[j];
    }
  }
}

void degrade(Rng& rng, Canvas& cv) {
  int h = cv.h, w = cv.w;
  blur(cv, rng.uni(0.3, 0.7) * size_scale(h, w));
  float sn = float(rng.uni(0.003, 0.015));
  for (float& v : cv.px) v += sn * rng.gauss();
  float alpha = float(rng.uni(0.0, 0.1));
  for (int by = 0; by < h; by += 8)
    for (int bx = 0; bx < w; bx += 8) {
      int y1 = std::min(h, by + 8), x1 = std::min(w, bx + 8);
      for (int c = 0; c < 3; ++c) {
        float m = 0;
        for (int y = by; y < y1; ++y)
          for (int x = bx; x < x1; ++x) m += cv.px[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(c)];
        m /= float((y1 - by) * (x1 - bx));
        for (int y = by; y < y1; ++y)
          for (int x = bx; x < x1; ++x) {
            float& v = cv.px[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(c)];
            v += (m - v) * alpha;
          }
      }
    }
  for (float& v : cv.px) v = std::min(1.f, std::max(0.f, v));
}

Tensor canvas_tensor(const Canvas& cv) {
  size_t n = size_t(cv.h) * size_t(cv.w);
  std::vector<float> chw(n * 3);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) chw[c * n + i] = cv.px[i * 3 + c];
  return Tensor::from_vector(chw, {3, cv.h, cv.w});
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
  paint_background(bg, s.cv);
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
  if (degrade_frame) degrade(dr, s.cv);

  SegSample out;
  out.name = "synth-" + std::to_string(seed);
  out.frame = canvas_tensor(s.cv);
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
  Canvas cv(static_cast<int>(h), static_cast<int>(w));
  Rng bg = rng.fork();
  paint_background(bg, cv);
  Rng dr = rng.fork();
  degrade(dr, cv);
  return canvas_tensor(cv);
}

Tensor synth_texture(uint64_t seed, int64_t h, int64_t w) {
  check_size("synth_texture", h, w);
  Rng rng(seed ^ 0x7E87C0DEull);
  int H = int(h), W = int(w);
  double mn = std::min(H, W);
  std::vector<float> n1 = value_noise(rng, H, W, mn / rng.uni(3, 6));
  std::vector<float> n2 = value_noise(rng, H, W, rng.uni(3, 8));
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
  return mix64(mix64(seed) ^ (uint64_t(index) * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
}

void write_synth_dataset(const std::string& dir, SegTask task, int64_t count, uint64_t seed, int64_t h, int64_t w,
                         bool quiet) {
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
  int64_t step = std::max<int64_t>(1, (count + 9) / 10);
  for (int64_t i = 0; i < count; ++i) {
    SegSample s = synth_sample(synth_sample_seed(seed, i), h, w);
    char name[32];
    std::snprintf(name, sizeof name, "synth-%06lld.png", static_cast<long long>(i));
    write_png_tensor((fs::path(dir) / "frames" / name).string(), s.frame);
    write_png_tensor((fs::path(dir) / "masks" / name).string(), s.mask);
    if (douga) write_douga_png((fs::path(dir) / "douga" / name).string(), s.douga);
    if (!quiet && ((i + 1) % step == 0 || i + 1 == count))
      std::fprintf(stderr, "synth: %lld/%lld samples (%d%%) in %s\n", static_cast<long long>(i + 1),
                   static_cast<long long>(count), int((i + 1) * 100 / count), dir.c_str());
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
