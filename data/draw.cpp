// Drawing primitives (data/draw.h).
#include "data/draw.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sakuga::data::draw {

uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// --- colour ------------------------------------------------------------------------------------

Rgb hsv(double h, double s, double v) {
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
Rgb lift(Rgb c, float lo) {
  for (int i = 0; i < 40 && luma(c) < lo; ++i) c = mix(c, {1, 1, 1}, 0.08f);
  return c;
}

// --- rasters -----------------------------------------------------------------------------------

Tensor to_tensor(const Raster& im) {
  size_t n = size_t(im.h) * size_t(im.w);
  std::vector<float> chw(n * 3);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < 3; ++c) chw[c * n + i] = im.px[i * 3 + c];
  return Tensor::from_vector(chw, {3, im.h, im.w});
}

// --- shapes and mask operations ---------------------------------------------------------------

Box clip_box(double cx, double cy, double r, int h, int w) {
  return {std::max(0, int(std::floor(cx - r))), std::max(0, int(std::floor(cy - r))),
          std::min(w, int(std::ceil(cx + r)) + 1), std::min(h, int(std::ceil(cy + r)) + 1)};
}

void fill_ellipse(Mask& m, int h, int w, double cx, double cy, double rx, double ry, double ang) {
  double c = std::cos(ang), s = std::sin(ang);
  Box b = clip_box(cx, cy, std::max(rx, ry) + 1, h, w);
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      double u = (c * dx + s * dy) / rx, v = (-s * dx + c * dy) / ry;
      if (u * u + v * v <= 1.0) m[size_t(y) * size_t(w) + size_t(x)] = 1;
    }
}

void fill_polygon(Mask& m, int h, int w, const std::vector<double>& px, const std::vector<double>& py) {
  SAKUGA_CHECK(px.size() == py.size(), "draw::fill_polygon: ", px.size(), " x but ", py.size(), " y coordinates");
  if (px.size() < 3) return;  // covers no pixel centre
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

void fill_radial(Rng& rng, Mask& m, int h, int w, double cx, double cy, double rx, double ry, bool smooth) {
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
  fill_polygon(m, h, w, px, py);
}

void fill_halfplane(Mask& m, int w, const Box& b, double nx, double ny, double c) {
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x)
      if (nx * (x + 0.5) + ny * (y + 0.5) > c) m[size_t(y) * size_t(w) + size_t(x)] = 1;
}

Box tight_box(const uint8_t* m, int h, int w) {
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (int y = 0; y < h; ++y) {
    const uint8_t* r = m + size_t(y) * size_t(w);
    for (int x = 0; x < w; ++x)
      if (r[x]) {
        x0 = std::min(x0, x); x1 = std::max(x1, x);
        y0 = std::min(y0, y); y1 = std::max(y1, y);
      }
  }
  if (x1 < 0) return {0, 0, 0, 0};
  return {x0, y0, x1 + 1, y1 + 1};
}

Box mask_box(const Mask& m, int h, int w) {
  const Box t = tight_box(m.data(), h, w);
  if (t.x1 == 0) return t;
  return {std::max(0, t.x0 - 1), std::max(0, t.y0 - 1), std::min(w, t.x1 + 1), std::min(h, t.y1 + 1)};
}

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

// Two raster passes of the chamfer distance transform (forward, then backward), inside b only.
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

size_t count(const Mask& m, int w, const Box& b) {
  size_t n = 0;
  for_box(b, w, [&](size_t i) { n += m[i]; });
  return n;
}

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

// --- textures and painting --------------------------------------------------------------------

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

void soft_blob(Raster& im, double cx, double cy, double rx, double ry, double ang, const Rgb& c, float alpha) {
  const int h = im.h, w = im.w;
  const double ca = std::cos(ang), sa = std::sin(ang);
  Box b = clip_box(cx, cy, 2.0 * std::max(rx, ry), h, w);
  for (int y = b.y0; y < b.y1; ++y)
    for (int x = b.x0; x < b.x1; ++x) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      double u = (ca * dx + sa * dy) / rx, v = (-sa * dx + ca * dy) / ry;
      double q = u * u + v * v;
      if (q >= 4.0) continue;
      float fall = float(1.0 - 0.25 * q);
      float a = alpha * fall * fall * fall;
      float* p = im.at(size_t(y) * size_t(w) + size_t(x));
      p[0] += (c.r - p[0]) * a;
      p[1] += (c.g - p[1]) * a;
      p[2] += (c.b - p[2]) * a;
    }
}

void clamp01(Raster& im) {
  for (float& v : im.px) v = std::min(1.f, std::max(0.f, v));
}

// --- degradation ------------------------------------------------------------------------------

void gaussian_blur(Raster& im, double sigma) {
  int r = int(std::ceil(2.5 * sigma));
  if (r < 1) return;
  std::vector<float> k(size_t(2 * r + 1));
  float sum = 0;
  for (int i = -r; i <= r; ++i) sum += (k[size_t(i + r)] = float(std::exp(-0.5 * i * i / (sigma * sigma))));
  for (float& v : k) v /= sum;
  const int h = im.h, w = im.w;
  const size_t row = size_t(w) * 3;
  std::vector<float> tmp(im.px.size()), pad(size_t(w + 2 * r) * 3);
  // Horizontal: each row padded by edge replication.
  for (int y = 0; y < h; ++y) {
    const float* src = &im.px[size_t(y) * row];
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
    float* dst = &im.px[size_t(y) * row];
    for (size_t j = 0; j < row; ++j) dst[j] = 0.f;
    for (int i = -r; i <= r; ++i) {
      const float ki = k[size_t(i + r)];
      const float* p = &tmp[size_t(std::min(h - 1, std::max(0, y + i))) * row];
      for (size_t j = 0; j < row; ++j) dst[j] += ki * p[j];
    }
  }
}

void add_noise(Rng& rng, Raster& im, float sigma) {
  for (float& v : im.px) v += sigma * rng.gauss();
}

void block_blend(Raster& im, int block, float alpha) {
  const int h = im.h, w = im.w;
  for (int by = 0; by < h; by += block)
    for (int bx = 0; bx < w; bx += block) {
      int y1 = std::min(h, by + block), x1 = std::min(w, bx + block);
      for (int c = 0; c < 3; ++c) {
        float m = 0;
        for (int y = by; y < y1; ++y)
          for (int x = bx; x < x1; ++x) m += im.px[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(c)];
        m /= float((y1 - by) * (x1 - bx));
        for (int y = by; y < y1; ++y)
          for (int x = bx; x < x1; ++x) {
            float& v = im.px[(size_t(y) * size_t(w) + size_t(x)) * 3 + size_t(c)];
            v += (m - v) * alpha;
          }
      }
    }
}

void degrade(Rng& rng, Raster& im, double scale) {
  gaussian_blur(im, rng.uni(0.3, 0.7) * scale);
  const float noise = float(rng.uni(0.003, 0.015));
  add_noise(rng, im, noise);
  const float alpha = float(rng.uni(0.0, 0.1));
  block_blend(im, 8, alpha);
  clamp01(im);
}

}  // namespace sakuga::data::draw
