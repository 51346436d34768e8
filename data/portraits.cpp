// Synthetic anime-like portraits (data/portraits.h).
//
// Geometry is written in head units: the origin is the centre of the cranium, the unit its
// radius r, y points down. The eyes sit at y ≈ 0.3, the mouth at 0.78, the chin at 1.08; the
// shoulders start at 1.3. The head turns (yaw) by sliding the features sideways, narrowing the
// eye on the side it turns to and moving the chin.
#include "data/portraits.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "data/resize.h"

namespace sakuga::data {

namespace {

using draw::Box;
using draw::Mask;
using draw::Raster;
using draw::Rgb;

// --- factor tables ----------------------------------------------------------------------------

const char* const kHairNames[kPortraitHairShapes] = {"bob", "long", "twin-tails", "ponytail", "spiky"};
const char* const kMouthNames[kPortraitMouths] = {"smile", "open-smile", "o", "frown"};
const char* const kOpennessNames[kPortraitEyeOpenness] = {"closed", "half", "open"};
const char* const kLineNames[kPortraitLineWeights] = {"thin", "medium", "bold"};
const char* const kEyeShapeNames[kPortraitEyeShapes] = {"round", "tsurime", "tareme", "narrow"};
const char* const kPaletteNames[kPortraitPalettes] = {"natural", "pastel-pink", "cool-blue", "blonde", "dark", "sepia"};
const char* const kShadingNames[kPortraitShadings] = {"flat", "cel", "soft"};
const char* const kIrisNames[kPortraitIrises] = {"plain", "ring", "gradient"};

using Palette = PortraitColors;

const Palette kPalettes[kPortraitPalettes] = {
    // natural
    {{0.93f, 0.92f, 0.88f}, {1.00f, 0.87f, 0.77f}, {0.36f, 0.22f, 0.15f}, {0.55f, 0.30f, 0.14f},
     {0.22f, 0.12f, 0.09f}, {0.20f, 0.26f, 0.45f}, {0.62f, 0.22f, 0.24f}, {0.85f, 0.20f, 0.25f}},
    // pastel pink
    {{1.00f, 0.94f, 0.96f}, {1.00f, 0.91f, 0.87f}, {0.96f, 0.62f, 0.76f}, {0.58f, 0.34f, 0.82f},
     {0.47f, 0.20f, 0.32f}, {0.98f, 0.98f, 0.96f}, {0.80f, 0.30f, 0.40f}, {0.55f, 0.80f, 0.95f}},
    // cool blue
    {{0.84f, 0.91f, 1.00f}, {0.99f, 0.91f, 0.86f}, {0.42f, 0.62f, 0.95f}, {0.15f, 0.48f, 0.88f},
     {0.09f, 0.14f, 0.35f}, {0.92f, 0.93f, 0.97f}, {0.70f, 0.25f, 0.32f}, {0.95f, 0.85f, 0.30f}},
    // blonde
    {{1.00f, 0.96f, 0.84f}, {1.00f, 0.89f, 0.80f}, {0.98f, 0.84f, 0.42f}, {0.24f, 0.62f, 0.30f},
     {0.42f, 0.24f, 0.08f}, {0.75f, 0.18f, 0.20f}, {0.72f, 0.24f, 0.22f}, {0.20f, 0.45f, 0.85f}},
    // dark
    {{0.24f, 0.24f, 0.30f}, {0.98f, 0.93f, 0.90f}, {0.13f, 0.13f, 0.22f}, {0.85f, 0.12f, 0.16f},
     {0.02f, 0.02f, 0.05f}, {0.10f, 0.10f, 0.12f}, {0.55f, 0.10f, 0.18f}, {0.85f, 0.12f, 0.16f}},
    // sepia
    {{0.86f, 0.80f, 0.69f}, {0.93f, 0.86f, 0.75f}, {0.47f, 0.38f, 0.29f}, {0.38f, 0.30f, 0.23f},
     {0.22f, 0.16f, 0.11f}, {0.60f, 0.52f, 0.42f}, {0.55f, 0.38f, 0.30f}, {0.70f, 0.58f, 0.45f}},
};

// Output line width in pixels at 64 px per line_weight (scaled with the size).
constexpr double kLineWidth64[kPortraitLineWeights] = {0.7, 1.2, 1.9};

// An eye shape family: the inner corner at (−½, inner_y), the outer at (+½, outer_y) in eye units
// (width 1, height 1), the lids bulging up by `upper` and down by `lower` with profile sinᵖ.
struct EyeShape {
  double inner_y, outer_y, upper, lower, power, width, height;
};
const EyeShape kEyeShapes[kPortraitEyeShapes] = {
    {0.00, -0.02, 0.50, 0.48, 0.55, 0.40, 0.56},   // round
    {0.12, -0.22, 0.42, 0.34, 0.75, 0.44, 0.50},   // tsurime: the outer corner raised
    {-0.12, 0.16, 0.48, 0.34, 0.65, 0.42, 0.54},   // tareme: the outer corner lowered
    {0.02, -0.06, 0.30, 0.20, 0.85, 0.48, 0.42},   // narrow
};

void check_level(const char* factor, int v, int lo, int hi) {
  SAKUGA_CHECK(v >= lo && v <= hi, "portrait: factor ", factor, " = ", v, " is outside ", lo, " … ", hi);
}

void check_factors(const PortraitContent& c, const PortraitStyle& s) {
  check_level("yaw", c.yaw, -kPortraitYawMax, kPortraitYawMax);
  check_level("hair", c.hair, 0, kPortraitHairShapes - 1);
  check_level("mouth", c.mouth, 0, kPortraitMouths - 1);
  check_level("eye_openness", c.eye_openness, 0, kPortraitEyeOpenness - 1);
  check_level("line_weight", s.line_weight, 0, kPortraitLineWeights - 1);
  check_level("eye_shape", s.eye_shape, 0, kPortraitEyeShapes - 1);
  check_level("palette", s.palette, 0, kPortraitPalettes - 1);
  check_level("shading", s.shading, 0, kPortraitShadings - 1);
  check_level("iris", s.iris, 0, kPortraitIrises - 1);
}

double smoothstep(double a, double b, double x) {
  const double t = std::min(1.0, std::max(0.0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}

Rgb scale(const Rgb& c, float r, float g, float b) { return {c.r * r, c.g * g, c.b * b}; }
// A cool anime shadow tone of c, and a highlight.
Rgb shadow_of(const Rgb& c) { return scale(c, 0.80f, 0.74f, 0.86f); }
Rgb shine_of(const Rgb& c) { return draw::mix(c, {1, 1, 1}, 0.38f); }

// --- the painter: head units → supersampled pixels --------------------------------------------

struct Polyline {
  std::vector<double> x, y;
  void add(double px, double py) {
    x.push_back(px);
    y.push_back(py);
  }
};

class Painter {
 public:
  Painter(int s, double cx, double cy, double r, double line_px)
      : im(s, s), s_(s), cx_(cx), cy_(cy), r_(r), line_px_(line_px) {}

  Raster im;
  int size() const { return s_; }
  double px(double x) const { return cx_ + x * r_; }
  double py(double y) const { return cy_ + y * r_; }
  double unit() const { return r_; }
  double line_px() const { return line_px_; }
  Mask empty() const { return Mask(size_t(s_) * size_t(s_), 0); }

  // A polygon given in head units.
  Mask polygon(const Polyline& p) const {
    Mask m = empty();
    std::vector<double> X(p.x.size()), Y(p.y.size());
    for (size_t i = 0; i < X.size(); ++i) {
      X[i] = px(p.x[i]);
      Y[i] = py(p.y[i]);
    }
    draw::fill_polygon(m, s_, s_, X, Y);
    return m;
  }
  Mask ellipse(double x, double y, double rx, double ry, double ang = 0) const {
    Mask m = empty();
    draw::fill_ellipse(m, s_, s_, px(x), py(y), rx * r_, ry * r_, ang);
    return m;
  }
  // A band of thickness th(t) (head units) around the curve (x(t), y(t)), t ∈ [0, 1], offset
  // vertically: for brows, mouths, lids (curves that run mostly sideways).
  template <class Fx, class Fy, class Ft>
  Mask band(Fx fx, Fy fy, Ft th, int n = 24) const {
    Polyline p;
    for (int i = 0; i <= n; ++i) {
      const double t = double(i) / n;
      p.add(fx(t), fy(t) - 0.5 * th(t));
    }
    for (int i = n; i >= 0; --i) {
      const double t = double(i) / n;
      p.add(fx(t), fy(t) + 0.5 * th(t));
    }
    return polygon(p);
  }

  void fill(const Mask& m, const Rgb& c) {
    for (size_t i = 0; i < m.size(); ++i)
      if (m[i]) {
        float* p = im.at(i);
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
      }
  }
  // The region's inner contour, `scale` × the line width.
  void outline(const Mask& m, const Rgb& c, double scale = 1.0) {
    const Box b = draw::mask_box(m, s_, s_);
    if (b.x1 <= b.x0) return;
    fill(draw::inner_boundary(m, s_, b, std::max(1.0, line_px_ * scale)), c);
  }
  void fill_outlined(const Mask& m, const Rgb& fill_c, const Rgb& line_c, double scale = 1.0) {
    fill(m, fill_c);
    outline(m, line_c, scale);
  }
  // Blends toward c inside m with weight alpha · ramp, ramp = smoothstep of the projection of
  // the pixel (head units) on (nx, ny) from a to b.
  void gradient(const Mask& m, double nx, double ny, double a, double b, const Rgb& c, float alpha) {
    for (int y = 0; y < s_; ++y)
      for (int x = 0; x < s_; ++x) {
        const size_t i = size_t(y) * size_t(s_) + size_t(x);
        if (!m[i]) continue;
        const double u = ((x + 0.5 - cx_) * nx + (y + 0.5 - cy_) * ny) / r_;
        const float t = alpha * float(smoothstep(a, b, u));
        float* p = im.at(i);
        p[0] += (c.r - p[0]) * t;
        p[1] += (c.g - p[1]) * t;
        p[2] += (c.b - p[2]) * t;
      }
  }
  // A soft round blob of colour c (weight alpha·(1 − q)², q the squared elliptic radius) inside m.
  void blob(const Mask& m, double x, double y, double rx, double ry, const Rgb& c, float alpha) {
    const Box b = draw::clip_box(px(x), py(y), std::max(rx, ry) * r_ + 1, s_, s_);
    for (int yy = b.y0; yy < b.y1; ++yy)
      for (int xx = b.x0; xx < b.x1; ++xx) {
        const size_t i = size_t(yy) * size_t(s_) + size_t(xx);
        if (!m[i]) continue;
        const double u = (xx + 0.5 - px(x)) / (rx * r_), v = (yy + 0.5 - py(y)) / (ry * r_);
        const double q = u * u + v * v;
        if (q >= 1) continue;
        const float t = alpha * float((1 - q) * (1 - q));
        float* p = im.at(i);
        p[0] += (c.r - p[0]) * t;
        p[1] += (c.g - p[1]) * t;
        p[2] += (c.b - p[2]) * t;
      }
  }
  // m shifted by (dx, dy) head units, rounded to pixels.
  Mask shift(const Mask& m, double dx, double dy) const {
    return draw::shifted(m, s_, s_, Box{0, 0, s_, s_}, int(std::lround(dx * r_)), int(std::lround(dy * r_)));
  }

 private:
  int s_;
  double cx_, cy_, r_, line_px_;
};

Mask operator&(const Mask& a, const Mask& b) {
  Mask m(a.size());
  for (size_t i = 0; i < a.size(); ++i) m[i] = a[i] && b[i];
  return m;
}
Mask operator|(const Mask& a, const Mask& b) {
  Mask m(a.size());
  for (size_t i = 0; i < a.size(); ++i) m[i] = a[i] || b[i];
  return m;
}
Mask minus(const Mask& a, const Mask& b) {
  Mask m(a.size());
  for (size_t i = 0; i < a.size(); ++i) m[i] = a[i] && !b[i];
  return m;
}

// --- the parts -------------------------------------------------------------------------------

struct Head {
  PortraitContent content;
  PortraitStyle style;
  Palette pal;
  double turn;       // yaw / 2 ∈ [−1, 1]
  double features;   // horizontal shift of eyes, nose and mouth (head units)
  double bang_phase; // jitter of the bangs' spikes
  int highlights = 0; // PortraitOptions::highlights
};

// The face: the cranium's upper half, then the cheeks narrowing to the chin, which follows the
// turn.
Mask face_mask(const Painter& p, const Head& h) {
  Polyline f;
  const double t = h.turn;
  for (int i = 0; i <= 32; ++i) {
    const double a = draw::kPi + draw::kPi * i / 32;  // left, over the top, to the right
    f.add(0.92 * std::cos(a), 0.95 * std::sin(a));
  }
  const double chin_x = 0.2 * t, chin_y = 1.08;
  // Right cheek (from (0.92, 0) to the chin), then the left one back up: quadratic Béziers.
  const double rcx = 0.86 - 0.10 * std::max(0.0, t), lcx = -0.86 + 0.10 * std::max(0.0, -t);
  for (int i = 1; i <= 16; ++i) {
    const double u = i / 16.0;
    f.add((1 - u) * (1 - u) * 0.92 + 2 * u * (1 - u) * rcx + u * u * chin_x,
          2 * u * (1 - u) * 0.74 + u * u * chin_y);
  }
  for (int i = 15; i >= 1; --i) {
    const double u = i / 16.0;
    f.add((1 - u) * (1 - u) * -0.92 + 2 * u * (1 - u) * lcx + u * u * chin_x,
          2 * u * (1 - u) * 0.74 + u * u * chin_y);
  }
  return p.polygon(f);
}

// The hair behind the head (drawn first).
Mask back_hair_mask(const Painter& p, const Head& h) {
  Polyline b;
  auto arc = [&](double rx, double ry, double y0) {
    for (int i = 0; i <= 32; ++i) {
      const double a = draw::kPi + draw::kPi * i / 32;
      b.add(rx * std::cos(a), y0 + ry * std::sin(a));
    }
  };
  Mask extra = p.empty();
  switch (h.content.hair) {
    case 0:  // bob: to the jaw, cut straight
      arc(1.14, 1.12, 0.0);
      b.add(1.16, 0.92);
      b.add(0.0, 0.98);
      b.add(-1.16, 0.92);
      break;
    case 1:  // long: falls past the shoulders, widening
      arc(1.12, 1.12, 0.0);
      b.add(1.3, 1.2);
      b.add(1.45, 2.4);
      b.add(-1.45, 2.4);
      b.add(-1.3, 1.2);
      break;
    case 2:  // twin tails: a short back (the tails are drawn over the shoulders: tails_mask)
      arc(1.1, 1.1, 0.0);
      b.add(1.1, 0.6);
      b.add(-1.1, 0.6);
      break;
    case 3: {  // ponytail: a tight back and a tail swinging out on the right
      arc(1.06, 1.08, 0.0);
      b.add(1.06, 0.45);
      b.add(-1.06, 0.45);
      Polyline t;
      const int n = 20;
      for (int i = 0; i <= n; ++i) {
        const double u = double(i) / n;
        t.add(0.7 + 0.75 * std::sin(draw::kPi * 0.6 * u), -0.85 + 2.0 * u);
      }
      for (int i = n; i >= 0; --i) {
        const double u = double(i) / n;
        t.add(0.7 + 0.75 * std::sin(draw::kPi * 0.6 * u) - 0.5 * std::sin(draw::kPi * u), -0.85 + 2.0 * u);
      }
      extra = p.polygon(t);
      break;
    }
    default: {  // spiky: spikes all round the top
      const int n = 11;
      for (int i = 0; i <= 2 * n; ++i) {
        const double a = draw::kPi * (0.9 + 1.2 * i / (2 * n));
        const double rr = i % 2 ? 1.42 : 1.08;
        b.add(rr * std::cos(a), rr * std::sin(a));
      }
      b.add(1.1, 0.75);
      b.add(-1.1, 0.75);
      break;
    }
  }
  return p.polygon(b) | extra;
}

// Twin tails: a tail hanging from each side of the head, in front of the shoulders.
Mask tails_mask(const Painter& p, const Head& h) {
  Mask tails = p.empty();
  if (h.content.hair != 2) return tails;
  for (int side = -1; side <= 1; side += 2) {
    Polyline t;
    const int n = 20;
    for (int i = 0; i <= n; ++i) {  // outer edge, top to tip
      const double u = double(i) / n;
      t.add(side * (0.95 + 0.55 * std::sin(draw::kPi * 0.8 * u)), -0.55 + 2.3 * u);
    }
    for (int i = n; i >= 0; --i) {  // inner edge, tip to top
      const double u = double(i) / n;
      t.add(side * (0.95 + 0.55 * std::sin(draw::kPi * 0.8 * u) - 0.42 * std::sin(draw::kPi * u)),
            -0.55 + 2.3 * u);
    }
    tails = tails | p.polygon(t);
  }
  return tails;
}

// The bangs: the top of the head, and a spiky fringe over the forehead that hangs lower at
// the sides (side locks) — above the eyebrows, clear of the eyes.
Mask bangs_mask(const Painter& p, const Head& h) {
  struct Fringe {
    int spikes;
    double depth, sweep, side_y;
  };
  static const Fringe kFringe[kPortraitHairShapes] = {
      {9, 0.10, 0.00, 0.90},   // bob: blunt
      {5, 0.34, 0.10, 1.15},   // long: parted, long side locks
      {7, 0.30, 0.00, 0.95},   // twin tails
      {4, 0.42, -0.16, 0.55},  // ponytail: swept
      {6, 0.52, 0.06, 0.65},   // spiky
  };
  const Fringe& f = kFringe[h.content.hair];
  Polyline b;
  for (int i = 0; i <= 32; ++i) {
    const double a = draw::kPi + draw::kPi * i / 32;
    b.add(1.07 * std::cos(a), -0.02 + 1.07 * std::sin(a));
  }
  // The lower edge, right to left: tips at tip_y(x), notches `depth` above.
  const double tip_base = -0.13;
  auto tip_y = [&](double x) { return tip_base + (f.side_y - tip_base) * smoothstep(0.84, 1.02, std::fabs(x)); };
  b.add(1.06, f.side_y);
  const int n = f.spikes;
  for (int k = 0; k <= 2 * n; ++k) {
    const double u = double(k) / (2 * n);
    double x = 1.02 - 2.04 * u;
    if (k % 2 == 1) {  // a tip (swept sideways)
      x += f.sweep + 0.04 * h.bang_phase;
      b.add(x, tip_y(x));
    } else {  // a notch
      x += 0.03 * h.bang_phase;
      b.add(x, std::min(tip_y(x), tip_base) - f.depth);
    }
  }
  b.add(-1.06, f.side_y);
  return p.polygon(b);
}

// One eye: its parts in supersampled masks.
struct EyeParts {
  Mask white, lashes, lower_lid, iris, pupil, shine_big, shine_small, closed;
  Mask all() const { return white | lashes | lower_lid | closed; }
};

// Eye `side` (−1 the image's left, +1 its right) of the head.
EyeParts eye_parts(const Painter& p, const Head& h, int side) {
  const EyeShape& e = kEyeShapes[h.style.eye_shape];
  const double t = h.turn;
  // The eye on the side the head turns to is farther away: narrower and nearer the middle.
  const double away = std::max(0.0, side * t);
  const double ex = h.features + side * 0.42 * (1 - 0.28 * away), ey = 0.3;
  const double ew = e.width * (1 - 0.25 * away), eh = e.height;
  const int open = h.content.eye_openness;
  const double upper = e.upper * (open == 2 ? 1.0 : 0.55), lower = e.lower * (open == 2 ? 1.0 : 0.85);
  const double lash = 0.05 + 0.022 * h.style.line_weight;  // lash band thickness at the outer corner
  // x, baseline y of eye coordinate u ∈ [0, 1] from the inner corner (u = 0) to the outer one.
  auto base = [&](double u) { return ey + eh * (e.inner_y + (e.outer_y - e.inner_y) * u); };
  auto bulge = [&](double u) { return std::pow(std::sin(draw::kPi * u), e.power); };
  auto top = [&](double u) { return base(u) - eh * upper * bulge(u); };
  auto bottom = [&](double u) { return base(u) + eh * lower * bulge(u); };
  // Inner corner toward the nose: u = 0 at ex − side·ew/2.
  auto XX = [&](double u) { return ex + side * ew * (u - 0.5); };

  EyeParts q;
  q.white = q.lashes = q.lower_lid = q.iris = q.pupil = q.shine_big = q.shine_small = q.closed = p.empty();
  const int n = 28;
  if (open == 0) {
    // Closed: a lid line sagging down (a relaxed, smiling closed eye), thicker outward, and a
    // small lash at the outer corner.
    q.closed = p.band(XX, [&](double u) { return base(u) + 0.14 * eh * bulge(u); },
                      [&](double u) { return lash * (0.45 + 0.55 * u); }, n);
    Polyline w;
    w.add(XX(0.92), base(0.92) - 0.5 * lash);
    w.add(XX(1.0) + side * 0.08, base(1.0) - 0.10);
    w.add(XX(1.0), base(1.0) + 0.3 * lash);
    q.closed = q.closed | p.polygon(w);
    return q;
  }
  Polyline w;
  for (int i = 0; i <= n; ++i) w.add(XX(double(i) / n), top(double(i) / n));
  for (int i = n - 1; i >= 1; --i) w.add(XX(double(i) / n), bottom(double(i) / n));
  q.white = p.polygon(w);
  // Upper lashes: a band above the upper lid, thickening toward the outer corner, with a flick.
  Polyline l;
  for (int i = 0; i <= n; ++i) l.add(XX(double(i) / n), top(double(i) / n) + 0.25 * lash);
  l.add(XX(1.0) + side * 0.09, base(1.0) - eh * 0.12 - 0.5 * lash);
  for (int i = n; i >= 0; --i) {
    const double u = double(i) / n;
    l.add(XX(u), top(u) - lash * (0.35 + 0.65 * u));
  }
  q.lashes = p.polygon(l);
  // Lower lid: a thin line under the outer 60 %.
  const double lid = 0.35 * lash;
  q.lower_lid = p.band([&](double u) { return XX(0.4 + 0.6 * u); }, [&](double u) { return bottom(0.4 + 0.6 * u); },
                       [&](double) { return lid; }, 16);
  // Iris (looking a little toward the turn), pupil, two shines; clipped to the white.
  const double ix = ex + 0.06 * t * ew, iy = ey + eh * (0.5 * (e.inner_y + e.outer_y)) + 0.06 * eh;
  const double irx = 0.31 * ew, iry = 0.40 * eh;
  q.iris = p.ellipse(ix, iy, irx, iry) & q.white;
  q.pupil = p.ellipse(ix, iy + 0.05 * iry, 0.42 * irx, 0.48 * iry) & q.white;
  switch (h.highlights) {
    case 0:  // a big shine at the top left, a small one at the bottom right
      q.shine_big = p.ellipse(ix - 0.38 * irx, iy - 0.42 * iry, 0.32 * irx, 0.26 * iry) & q.white;
      q.shine_small = p.ellipse(ix + 0.36 * irx, iy + 0.45 * iry, 0.14 * irx, 0.12 * iry) & q.white;
      break;
    case 1:  // one big shine at the top right
      q.shine_big = p.ellipse(ix + 0.34 * irx, iy - 0.36 * iry, 0.40 * irx, 0.32 * iry) & q.white;
      break;
    case 2:  // three small dots in an arc over the pupil
      q.shine_big = (p.ellipse(ix - 0.5 * irx, iy - 0.3 * iry, 0.17 * irx, 0.14 * iry) |
                     p.ellipse(ix, iy - 0.55 * iry, 0.17 * irx, 0.14 * iry) |
                     p.ellipse(ix + 0.5 * irx, iy - 0.3 * iry, 0.17 * irx, 0.14 * iry)) &
                    q.white;
      break;
    default:  // a wide bar across the top, a dot at the bottom left
      q.shine_big = p.ellipse(ix, iy - 0.5 * iry, 0.62 * irx, 0.14 * iry) & q.white;
      q.shine_small = p.ellipse(ix - 0.34 * irx, iy + 0.5 * iry, 0.16 * irx, 0.13 * iry) & q.white;
      break;
  }
  return q;
}

void paint_eye(Painter& p, const Head& h, const EyeParts& q) {
  const Rgb& line = h.pal.line;
  if (h.content.eye_openness == 0) {
    p.fill(q.closed, line);
    return;
  }
  const Rgb white{0.98f, 0.98f, 1.0f};
  p.fill(q.white, white);
  // The upper lid's shadow on the white.
  p.fill(minus(q.white, p.shift(q.white, 0, 0.07)), {0.78f, 0.80f, 0.92f});
  const Rgb& iris = h.pal.iris;
  switch (h.style.iris) {
    case 0:  // plain
      p.fill(q.iris, iris);
      break;
    case 1: {  // ring: light inside, dark rim
      p.fill(q.iris, draw::mix(iris, {1, 1, 1}, 0.3f));
      const Box b = draw::mask_box(q.iris, p.size(), p.size());
      if (b.x1 > b.x0)
        p.fill(draw::inner_boundary(q.iris, p.size(), b, std::max(1.5, 0.022 * p.unit())), draw::mix(iris, line, 0.6f));
      break;
    }
    default: {  // gradient: dark at the top, bright at the bottom
      p.fill(q.iris, draw::mix(iris, line, 0.45f));
      const Box b = draw::mask_box(q.iris, p.size(), p.size());
      const double y0 = (b.y0 - p.py(0)) / p.unit(), y1 = (b.y1 - p.py(0)) / p.unit();
      p.gradient(q.iris, 0, 1, y0 + 0.25 * (y1 - y0), y1, draw::mix(iris, {1, 1, 1}, 0.45f), 1.0f);
      break;
    }
  }
  p.fill(q.pupil, draw::mix(iris, line, 0.75f));
  // The lashes' shadow on the top of the iris.
  p.fill(minus(q.iris, p.shift(q.iris, 0, 0.05)), draw::mix(iris, line, 0.6f));
  p.fill(q.shine_big, {1, 1, 1});
  p.fill(q.shine_small, {1, 1, 1});
  p.outline(q.white, line, 0.7);
  p.fill(q.lashes, line);
  p.fill(q.lower_lid, line);
}

// An eyebrow: a short arc above the eye, sloping up outward for tsurime, down for tareme.
Mask brow_mask(const Painter& p, const Head& h, int side) {
  const EyeShape& e = kEyeShapes[h.style.eye_shape];
  const double away = std::max(0.0, side * h.turn);
  const double bx = h.features + side * 0.42 * (1 - 0.28 * away), by = 0.3 - 0.5 * e.height - 0.11;
  const double bw = 0.30 * (1 - 0.25 * away);
  const double slope = h.style.eye_shape == 1 ? -0.07 : h.style.eye_shape == 2 ? 0.05 : -0.02;
  const double th = 0.035 + 0.012 * h.style.line_weight;
  return p.band([&](double u) { return bx + side * bw * (u - 0.5); },
                [&](double u) { return by + slope * u - 0.05 * std::sin(draw::kPi * u); },
                [&](double u) { return th * (1.0 - 0.5 * u); }, 16);
}

Mask nose_mask(const Painter& p, const Head& h) {
  const double nx = 1.25 * h.features, th = 0.03 + 0.01 * h.style.line_weight;
  return p.band([&](double u) { return nx + 0.035 * u * (h.turn >= 0 ? 1 : -1); },
                [&](double u) { return 0.6 + 0.02 * u; }, [&](double) { return th; }, 4);
}

void paint_mouth(Painter& p, const Head& h) {
  const double mx = 1.1 * h.features, my = 0.8, th = 0.028 + 0.012 * h.style.line_weight;
  const Rgb& line = h.pal.line;
  switch (h.content.mouth) {
    case 0:  // smile: a line curving up at the ends
      p.fill(p.band([&](double u) { return mx + 0.2 * (u - 0.5); },
                    [&](double u) { return my + 0.035 * std::sin(draw::kPi * u); }, [&](double) { return th; }, 16),
             line);
      break;
    case 1: {  // open smile: a flat top, a round bottom, a tongue
      Polyline m;
      for (int i = 0; i <= 20; ++i) {
        const double a = draw::kPi * i / 20;  // right → left along the bottom
        m.add(mx + 0.12 * std::cos(a), my - 0.02 + 0.13 * std::sin(a));
      }
      const Mask mouth = p.polygon(m);
      p.fill(mouth, h.pal.mouth);
      p.fill(p.ellipse(mx, my + 0.1, 0.075, 0.05) & mouth, draw::mix(h.pal.mouth, {1.0f, 0.7f, 0.75f}, 0.6f));
      p.outline(mouth, line);
      break;
    }
    case 2: {  // a small "o"
      const Mask mouth = p.ellipse(mx, my + 0.02, 0.045, 0.06);
      p.fill_outlined(mouth, h.pal.mouth, line);
      break;
    }
    default:  // frown: a short line curving down at the ends
      p.fill(p.band([&](double u) { return mx + 0.14 * (u - 0.5); },
                    [&](double u) { return my + 0.03 - 0.03 * std::sin(draw::kPi * u); }, [&](double) { return th; },
                    16),
             line);
      break;
  }
}

Mask neck_mask(const Painter& p, const Head& h) {
  Polyline n;
  const double x = 0.3 * h.features;
  n.add(x - 0.27, 0.6);
  n.add(x + 0.27, 0.6);
  n.add(x + 0.3, 1.45);
  n.add(x - 0.3, 1.45);
  return p.polygon(n);
}

Mask body_mask(const Painter& p, const Head& h) {
  Polyline b;
  const double x = 0.25 * h.features;
  b.add(x - 1.75, 2.6);
  b.add(x - 1.6, 1.62);
  b.add(x - 0.55, 1.3);
  b.add(x + 0.55, 1.3);
  b.add(x + 1.6, 1.62);
  b.add(x + 1.75, 2.6);
  return p.polygon(b);
}

Mask collar_mask(const Painter& p, const Head& h) {
  Polyline c;
  const double x = 0.3 * h.features;
  c.add(x - 0.34, 1.31);
  c.add(x + 0.34, 1.31);
  c.add(x, 1.72);
  return p.polygon(c);
}

// Hair shading by style: cel = a darker lower-right part and a shine band; soft = a gradient and
// a soft shine.
void shade_hair(Painter& p, const Head& h, const Mask& hair) {
  const Rgb& c = h.pal.hair;
  if (h.style.shading == 1) {
    Mask dark = p.empty();
    const Box all{0, 0, p.size(), p.size()};
    // Pixels beyond the line x + 0.6·y = 0.55 (head units), i.e. away from a top-left light.
    draw::fill_halfplane(dark, p.size(), all, 1.0, 0.6, p.px(0) + 0.55 * p.unit() + 0.6 * p.py(0));
    p.fill(hair & dark, shadow_of(c));
    const Mask ring = minus(p.ellipse(-0.05, -0.28, 0.78, 0.5), p.ellipse(-0.05, -0.22, 0.7, 0.42));
    p.fill(hair & ring & p.ellipse(-0.05, -0.5, 0.75, 0.45), shine_of(c));
  } else if (h.style.shading == 2) {
    p.gradient(hair, 0.5, 0.86, -0.4, 1.4, shadow_of(c), 0.8f);
    p.blob(hair, -0.3, -0.55, 0.55, 0.25, shine_of(c), 0.7f);
  }
}

void shade_face(Painter& p, const Head& h, const Mask& face, const Mask& bangs, const Mask& neck) {
  const Rgb shade = shadow_of(h.pal.skin);
  if (h.style.shading == 1) {
    // The bangs' hard shadow on the forehead, and the head's on the neck.
    p.fill(minus(face & p.shift(bangs, 0.04, 0.1), bangs), shade);
    p.fill(neck & p.shift(face, 0, 0.12), shade);
  } else if (h.style.shading == 2) {
    p.gradient(face, 0.8, 0.3, -0.2, 1.0, shade, 0.55f);
    p.gradient(neck, 0, -1, -1.0, -0.7, shade, 0.8f);
    const Rgb blush{1.0f, 0.55f, 0.6f};
    for (int side = -1; side <= 1; side += 2)
      p.blob(face, h.features + side * 0.45, 0.62, 0.2, 0.09, blush, 0.45f);
  }
}

// Supersampling factor: lines are drawn at ≥ 128 px and at least twice the output size.
int supersampling(int64_t size) { return int(std::max<int64_t>(2, (128 + size - 1) / size)); }

// The (R, R) mask of output pixels any supersampled pixel of m covers.
Mask downsample_mask(const Mask& m, int s, int ss) {
  const int r = s / ss;
  Mask out(size_t(r) * size_t(r), 0);
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x)
      if (m[size_t(y) * size_t(s) + size_t(x)]) out[size_t(y / ss) * size_t(r) + size_t(x / ss)] = 1;
  return out;
}

// m as a (1, s, s) f32 tensor of 0 / 1, area-resampled to (1, r, r): the coverage of m.
Tensor coverage(const Mask& m, int s, int64_t r) {
  std::vector<float> v(m.size());
  for (size_t i = 0; i < m.size(); ++i) v[i] = m[i] ? 1.f : 0.f;
  return resize_area(Tensor::from_vector(v, Shape{1, s, s}), r, r);
}

uint64_t stream_seed(uint64_t seed, int64_t index, uint64_t what) {
  return draw::mix64(draw::mix64(seed ^ what) + uint64_t(index));
}

}  // namespace

PortraitColors portrait_palette_colors(int palette) {
  check_level("palette", palette, 0, kPortraitPalettes - 1);
  return kPalettes[palette];
}

std::string portrait_level_name(const std::string& factor, int level) {
  auto pick = [&](const char* const* names, int n) -> std::string {
    SAKUGA_CHECK(level >= 0 && level < n, "portrait factor ", factor, ": level ", level, " is outside 0 … ", n - 1);
    return names[level];
  };
  if (factor == "yaw") {
    check_level("yaw", level, -kPortraitYawMax, kPortraitYawMax);
    return level == 0 ? "front" : (level < 0 ? "left" : "right") + std::to_string(std::abs(level));
  }
  if (factor == "hair") return pick(kHairNames, kPortraitHairShapes);
  if (factor == "mouth") return pick(kMouthNames, kPortraitMouths);
  if (factor == "eye_openness") return pick(kOpennessNames, kPortraitEyeOpenness);
  if (factor == "line_weight") return pick(kLineNames, kPortraitLineWeights);
  if (factor == "eye_shape") return pick(kEyeShapeNames, kPortraitEyeShapes);
  if (factor == "palette") return pick(kPaletteNames, kPortraitPalettes);
  if (factor == "shading") return pick(kShadingNames, kPortraitShadings);
  if (factor == "iris") return pick(kIrisNames, kPortraitIrises);
  SAKUGA_FAIL("unknown portrait factor '", factor,
              "' (expected yaw, hair, mouth, eye_openness, line_weight, eye_shape, palette, shading or iris)");
}

nlohmann::json to_json(const PortraitContent& c) {
  return {{"yaw", c.yaw}, {"hair", c.hair}, {"mouth", c.mouth}, {"eye_openness", c.eye_openness}};
}

nlohmann::json to_json(const PortraitStyle& s) {
  return {{"line_weight", s.line_weight}, {"eye_shape", s.eye_shape}, {"palette", s.palette},
          {"shading", s.shading},         {"iris", s.iris}};
}

namespace {
int factor_of(const nlohmann::json& j, const char* name) {
  SAKUGA_CHECK(j.is_object() && j.contains(name) && j[name].is_number_integer(), "portrait factors: missing integer \"",
               name, "\" in ", j.dump());
  return j[name].get<int>();
}
}  // namespace

PortraitContent portrait_content_from_json(const nlohmann::json& j) {
  PortraitContent c{factor_of(j, "yaw"), factor_of(j, "hair"), factor_of(j, "mouth"), factor_of(j, "eye_openness")};
  check_factors(c, PortraitStyle{});
  return c;
}

PortraitStyle portrait_style_from_json(const nlohmann::json& j) {
  PortraitStyle s{factor_of(j, "line_weight"), factor_of(j, "eye_shape"), factor_of(j, "palette"),
                  factor_of(j, "shading"), factor_of(j, "iris")};
  check_factors(PortraitContent{}, s);
  return s;
}

Portrait render_portrait(const PortraitContent& content, const PortraitStyle& style, int64_t size,
                         uint64_t jitter_seed, const PortraitOptions& opt) {
  check_factors(content, style);
  check_level("highlights", opt.highlights, 0, kPortraitHighlights - 1);
  SAKUGA_CHECK(size >= kPortraitMinSize && size <= kPortraitMaxSize, "render_portrait: size ", size, " is outside ",
               kPortraitMinSize, " … ", kPortraitMaxSize);
  const int ss = supersampling(size), s = int(size) * ss;
  draw::Rng rng(jitter_seed ^ 0x504F5254524149ull);
  const double cx = s * (0.5 + rng.uni(-0.02, 0.02)), cy = s * (0.43 + rng.uni(-0.02, 0.02));
  const double r = s * 0.27 * rng.uni(0.96, 1.04);
  Head h{content, style, opt.colors ? *opt.colors : kPalettes[style.palette], content.yaw / double(kPortraitYawMax),
         0.0, rng.uni(-1, 1)};
  h.features = 0.2 * h.turn;
  h.highlights = opt.highlights;
  if (opt.matte) h.pal.background = {0, 0, 0};
  Painter p(s, cx, cy, r, kLineWidth64[style.line_weight] * double(size) / 64.0 * ss);
  const Palette& pal = h.pal;

  // Background: flat, with a gentle vertical gradient for soft shading.
  const Mask everything(size_t(s) * size_t(s), 1);
  p.fill(everything, pal.background);
  if (style.shading == 2 && !opt.matte) p.gradient(everything, 0, 1, -1.6, 2.0, shadow_of(pal.background), 0.35f);

  const Mask back = back_hair_mask(p, h), face = face_mask(p, h), neck = neck_mask(p, h);
  const Mask body = body_mask(p, h), bangs = bangs_mask(p, h);
  p.fill_outlined(back, pal.hair, pal.line);
  shade_hair(p, h, back);
  p.fill_outlined(neck, pal.skin, pal.line);
  p.fill_outlined(body, pal.clothes, pal.line);
  p.fill_outlined(collar_mask(p, h) & body, draw::mix(pal.clothes, {1, 1, 1}, 0.5f), pal.line, 0.7);
  const Mask tails = tails_mask(p, h);
  p.fill_outlined(tails, pal.hair, pal.line);
  shade_hair(p, h, tails);
  p.fill(face, pal.skin);
  shade_face(p, h, face, bangs, minus(neck, face));
  p.outline(face, pal.line);
  p.fill(nose_mask(p, h), draw::mix(pal.skin, pal.line, 0.55f));
  paint_mouth(p, h);

  Portrait out;
  out.content = content;
  out.style = style;
  Mask eyes_all = p.empty();
  for (int k = 0; k < 2; ++k) {
    const int side = k == 0 ? -1 : 1;
    const EyeParts q = eye_parts(p, h, side);
    if (opt.draw_eyes) paint_eye(p, h, q);
    if (opt.matte) eyes_all = eyes_all | q.all();
    out.eyes[size_t(k)].mask = downsample_mask(q.all(), s, ss);
    out.eyes[size_t(k)].box = draw::tight_box(out.eyes[size_t(k)].mask.data(), int(size), int(size));
  }
  for (int side = -1; side <= 1; side += 2) p.fill(brow_mask(p, h, side), draw::mix(pal.hair, pal.line, 0.5f));
  p.fill_outlined(bangs, pal.hair, pal.line);
  shade_hair(p, h, bangs);
  Mask ties = p.empty();
  if (content.hair == 2)  // hair ties where the tails start
    for (int side = -1; side <= 1; side += 2) {
      const Mask tie = p.ellipse(side * 0.98, -0.5, 0.1, 0.12) & minus(everything, face);
      p.fill_outlined(tie, pal.accent, pal.line, 0.7);
      if (opt.matte) ties = ties | tie;
    }
  draw::clamp01(p.im);

  out.image = resize_area(draw::to_tensor(p.im), size, size);
  out.face = draw::tight_box(downsample_mask(face, s, ss).data(), int(size), int(size));
  if (opt.matte) {
    // Everything painted lies inside these parts (the features inside the face), so the rest
    // of the raster is still black and the image is premultiplied by this coverage.
    out.alpha = coverage(back | face | neck | body | tails | bangs | ties | eyes_all, s, size);
  }
  return out;
}

PortraitContent sample_portrait_content(uint64_t seed, int64_t index) {
  draw::Rng rng(stream_seed(seed, index, 0x434F4E54454E54ull));
  PortraitContent c;
  c.yaw = rng.range(-kPortraitYawMax, kPortraitYawMax);
  c.hair = rng.range(0, kPortraitHairShapes - 1);
  c.mouth = rng.range(0, kPortraitMouths - 1);
  c.eye_openness = rng.range(0, kPortraitEyeOpenness - 1);
  return c;
}

PortraitStyle sample_portrait_style(uint64_t seed, int64_t index) {
  draw::Rng rng(stream_seed(seed, index, 0x5354594C45ull));
  PortraitStyle s;
  s.line_weight = rng.range(0, kPortraitLineWeights - 1);
  s.eye_shape = rng.range(0, kPortraitEyeShapes - 1);
  s.palette = rng.range(0, kPortraitPalettes - 1);
  s.shading = rng.range(0, kPortraitShadings - 1);
  s.iris = rng.range(0, kPortraitIrises - 1);
  return s;
}

Portrait sample_portrait(uint64_t seed, int64_t index, int64_t size, const PortraitStyle& style) {
  return render_portrait(sample_portrait_content(seed, index), style, size, stream_seed(seed, index, 0x4A49545445ull));
}

Portrait sample_portrait(uint64_t seed, int64_t index, int64_t size) {
  return sample_portrait(seed, index, size, sample_portrait_style(seed, index));
}

std::vector<PortraitStyle> portrait_artist_styles(int count, uint64_t seed) {
  constexpr int kCombinations =
      kPortraitLineWeights * kPortraitEyeShapes * kPortraitPalettes * kPortraitShadings * kPortraitIrises;
  SAKUGA_CHECK(count >= 1 && count <= kCombinations, "portrait_artist_styles: count must be in 1 … ", kCombinations,
               " (the distinct styles), got ", count);
  auto differing = [](const PortraitStyle& a, const PortraitStyle& b) {
    return int(a.line_weight != b.line_weight) + int(a.eye_shape != b.eye_shape) + int(a.palette != b.palette) +
           int(a.shading != b.shading) + int(a.iris != b.iris);
  };
  // At most 108 styles differ pairwise in two factors (648 / the 6 palettes); a greedy draw
  // stalls before that, so after kPatience rejections in a row distinct is enough.
  constexpr int kPatience = 4000;
  std::vector<PortraitStyle> styles;
  int need = 2, rejected = 0;
  for (int64_t draw_index = 0; int(styles.size()) < count; ++draw_index) {
    const PortraitStyle s = sample_portrait_style(seed ^ 0x4152544953545Full, draw_index);
    bool ok = true;
    for (const PortraitStyle& o : styles) ok = ok && differing(s, o) >= need;
    if (ok) {
      styles.push_back(s);
      rejected = 0;
    } else if (++rejected == kPatience) {
      need = 1;
    }
  }
  return styles;
}

}  // namespace sakuga::data
