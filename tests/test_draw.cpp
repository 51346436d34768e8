// The drawing primitives (data/draw.h): the random stream, colour helpers, shape rasterisers at
// pixel centres, mask operations, noise, blending and the degradation steps.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "data/draw.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::data;

namespace {

size_t set_pixels(const draw::Mask& m) {
  size_t n = 0;
  for (uint8_t v : m) n += v != 0;
  return n;
}

bool near(const draw::Rgb& c, float r, float g, float b, float tol = 1e-6f) {
  return std::fabs(c.r - r) <= tol && std::fabs(c.g - g) <= tol && std::fabs(c.b - b) <= tol;
}

double ellipse_area(double rx, double ry) { return draw::kPi * rx * ry; }

// A raster whose channel values are a simple function of position.
draw::Raster ramp(int h, int w) {
  draw::Raster im(h, w);
  for (size_t i = 0; i < im.px.size(); ++i) im.px[i] = float((i * 37) % 101) / 100.f;
  return im;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("draw: the random stream is deterministic, forks are independent, ranges hold") {
  draw::Rng a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) CHECK(a.next() == b.next());
  CHECK(draw::Rng(42).next() != c.next());
  draw::Rng p(7);
  draw::Rng f = p.fork();
  draw::Rng q(7);
  q.next();  // fork() consumed one value of the parent
  CHECK(p.next() == q.next());
  CHECK(f.next() != draw::Rng(7).next());
  draw::Rng r(1);
  bool lo_seen = false, hi_seen = false;
  double sum = 0, sq = 0;
  float gmax = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double u = r.uni();
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
    const int k = r.range(-2, 3);
    CHECK(k >= -2);
    CHECK(k <= 3);
    lo_seen = lo_seen || k == -2;
    hi_seen = hi_seen || k == 3;
    const float g = r.gauss();
    sum += g;
    sq += double(g) * g;
    gmax = std::max(gmax, std::fabs(g));
  }
  CHECK(lo_seen);
  CHECK(hi_seen);
  CHECK(std::fabs(sum / n) < 0.03);
  CHECK(std::fabs(std::sqrt(sq / n) - 1.0) < 0.03);
  CHECK(gmax <= 2.0f * 1.7320508f + 1e-5f);
}

TEST_CASE("draw: hsv primaries, grey, hue wrap; mix; lift reaches the luma floor") {
  CHECK(near(draw::hsv(0, 1, 1), 1, 0, 0));
  CHECK(near(draw::hsv(1.0 / 3, 1, 1), 0, 1, 0));
  CHECK(near(draw::hsv(2.0 / 3, 1, 1), 0, 0, 1));
  CHECK(near(draw::hsv(0.3, 0, 0.4), 0.4f, 0.4f, 0.4f));
  const draw::Rgb a = draw::hsv(0.25, 0.7, 0.9);
  CHECK(near(draw::hsv(1.25, 0.7, 0.9), a.r, a.g, a.b));
  CHECK(near(draw::hsv(-0.75, 0.7, 0.9), a.r, a.g, a.b));
  const draw::Rgb x{0.2f, 0.4f, 0.6f}, y{1.0f, 0.0f, 0.5f};
  CHECK(near(draw::mix(x, y, 0), x.r, x.g, x.b));
  CHECK(near(draw::mix(x, y, 1), y.r, y.g, y.b));
  CHECK(near(draw::mix(x, y, 0.5f), 0.6f, 0.2f, 0.55f));
  CHECK(draw::luma({1, 1, 1}) == doctest::Approx(1.0));
  CHECK(draw::luma(draw::lift({0, 0, 0}, 0.55f)) >= 0.55f);
  CHECK(draw::luma(draw::lift({0.1f, 0.0f, 0.3f}, 0.5f)) >= 0.5f);
  const draw::Rgb light{0.9f, 0.8f, 0.7f};
  CHECK(near(draw::lift(light, 0.5f), light.r, light.g, light.b));  // already light enough: unchanged
}

TEST_CASE("draw: fill_ellipse covers the pixel centres inside, clipped to the image") {
  const int h = 40, w = 50;
  draw::Mask m(size_t(h * w), 0);
  draw::fill_ellipse(m, h, w, 25, 20, 10, 10, 0.3);
  CHECK(double(set_pixels(m)) == doctest::Approx(ellipse_area(10, 10)).epsilon(0.04));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double dx = x + 0.5 - 25, dy = y + 0.5 - 20, d2 = dx * dx + dy * dy;
      if (std::fabs(d2 - 100) > 1e-9) CHECK(m[size_t(y * w + x)] == (d2 <= 100 ? 1 : 0));
    }
  // Rotated by 90°, an ellipse of radii (12, 4) equals the one of radii (4, 12).
  draw::Mask a(size_t(h * w), 0), b(size_t(h * w), 0);
  draw::fill_ellipse(a, h, w, 25, 20, 12, 4, draw::kPi / 2);
  draw::fill_ellipse(b, h, w, 25, 20, 4, 12, 0);
  CHECK(a == b);
  // Mostly outside: only in-image pixels are set, and pixels already set stay set.
  draw::Mask c(size_t(h * w), 0);
  c[0] = 1;
  draw::fill_ellipse(c, h, w, 60, -5, 15, 15, 0);
  CHECK(c[0] == 1);
  CHECK(c[size_t(w - 1)] == 1);  // top-right corner pixel centre (49.5, 0.5) is within 15 of (60, -5)
  CHECK(set_pixels(c) < size_t(h * w) / 4);
}

TEST_CASE("draw: fill_polygon follows the pixel-centre rule; degenerate polygons cover nothing") {
  const int h = 12, w = 12;
  draw::Mask m(size_t(h * w), 0);
  draw::fill_polygon(m, h, w, {2, 7, 7, 2}, {3, 3, 9, 9});  // centres x + 0.5 in (2, 7), y + 0.5 in (3, 9)
  CHECK(set_pixels(m) == 5 * 6);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) CHECK(m[size_t(y * w + x)] == (x >= 2 && x <= 6 && y >= 3 && y <= 8 ? 1 : 0));
  // A triangle covers about half its bounding square.
  draw::Mask t(size_t(100 * 100), 0);
  draw::fill_polygon(t, 100, 100, {10, 90, 10}, {10, 90, 90});
  CHECK(double(set_pixels(t)) == doctest::Approx(3200).epsilon(0.03));
  draw::Mask e(size_t(h * w), 0);
  draw::fill_polygon(e, h, w, {}, {});
  draw::fill_polygon(e, h, w, {1, 9}, {1, 9});
  CHECK(set_pixels(e) == 0);
  CHECK_ERROR(draw::fill_polygon(e, h, w, {1, 2, 3}, {1, 2}), "draw::fill_polygon: 3 x but 2 y coordinates");
}

TEST_CASE("draw: fill_radial draws a deterministic closed shape around its centre") {
  for (bool smooth : {true, false}) {
    INFO("smooth ", smooth);
    const int h = 80, w = 80;
    draw::Mask a(size_t(h * w), 0), b(size_t(h * w), 0);
    draw::Rng r1(9), r2(9);
    draw::fill_radial(r1, a, h, w, 40, 40, 20, 14, smooth);
    draw::fill_radial(r2, b, h, w, 40, 40, 20, 14, smooth);
    CHECK(a == b);
    CHECK(r1.next() == r2.next());  // the same number of draws
    CHECK(a[size_t(40 * w + 40)] == 1);
    const double area = double(set_pixels(a));
    CHECK(area > 0.3 * ellipse_area(20, 14));
    CHECK(area < 1.6 * ellipse_area(20, 14));
    const draw::Box box = draw::mask_box(a, h, w);  // within the radii times the largest radial factor
    CHECK(box.x0 >= 40 - 20 * 1.4 - 2);
    CHECK(box.x1 <= 40 + 20 * 1.4 + 2);
  }
}

TEST_CASE("draw: fill_halfplane, mask_box, shifted, count and clip_to") {
  const int h = 10, w = 10;
  draw::Mask m(size_t(h * w), 0);
  const draw::Box all{0, 0, w, h}, part{2, 2, 6, 8};
  draw::fill_halfplane(m, w, part, 1, 0, 4);  // x + 0.5 > 4 → x ≥ 4, inside part only
  CHECK(draw::count(m, w, all) == 2 * 6);
  CHECK(draw::count(m, w, {4, 2, 5, 8}) == 6);
  draw::Box b = draw::mask_box(m, h, w);
  CHECK(b.x0 == 3);
  CHECK(b.y0 == 1);
  CHECK(b.x1 == 7);
  CHECK(b.y1 == 9);
  draw::Mask empty(size_t(h * w), 0);
  b = draw::mask_box(empty, h, w);
  CHECK((b.x0 == 0 && b.y0 == 0 && b.x1 == 0 && b.y1 == 0));
  draw::Mask corner(size_t(h * w), 0);
  corner[0] = 1;
  b = draw::mask_box(corner, h, w);
  CHECK((b.x0 == 0 && b.y0 == 0 && b.x1 == 2 && b.y1 == 2));

  draw::Mask s = draw::shifted(m, h, w, all, 2, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool src = x - 2 >= 0 && y - 1 >= 0 && m[size_t((y - 1) * w + x - 2)];
      CHECK(s[size_t(y * w + x)] == (src ? 1 : 0));
    }
  draw::Mask inside_only = draw::shifted(m, h, w, {0, 0, 5, 10}, 0, 0);  // zero outside the window
  CHECK(draw::count(inside_only, w, all) == 6);

  draw::Mask r(size_t(h * w), 1), a(size_t(h * w), 0);
  draw::fill_halfplane(a, w, all, 0, 1, 5);  // rows y ≥ 5
  draw::clip_to(r, a, h, w, {1, 5, 9, 10});
  CHECK(draw::count(r, w, all) == 8 * 5);
  CHECK(r[size_t(5 * w + 0)] == 0);  // outside the window: cleared
}

TEST_CASE("draw: inner_boundary is a ring of the given chamfer width, none along the image border") {
  const int h = 20, w = 20;
  draw::Mask sq(size_t(h * w), 0);
  for (int y = 5; y < 15; ++y)
    for (int x = 5; x < 15; ++x) sq[size_t(y * w + x)] = 1;
  const draw::Box b = draw::mask_box(sq, h, w);
  draw::Mask one = draw::inner_boundary(sq, w, b, 1);
  CHECK(set_pixels(one) == 36);  // the outer ring of the 10×10 square
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool ring = sq[size_t(y * w + x)] && (x == 5 || x == 14 || y == 5 || y == 14);
      CHECK(one[size_t(y * w + x)] == (ring ? 1 : 0));
    }
  CHECK(set_pixels(draw::inner_boundary(sq, w, b, 2)) == 36 + 28);
  // A region filling the image's left half: only its right edge is a boundary.
  draw::Mask half(size_t(h * w), 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < 8; ++x) half[size_t(y * w + x)] = 1;
  draw::Mask hb = draw::inner_boundary(half, w, draw::mask_box(half, h, w), 1);
  CHECK(set_pixels(hb) == size_t(h));
  for (int y = 0; y < h; ++y) CHECK(hb[size_t(y * w + 7)] == 1);
  // An empty window gives an empty boundary.
  CHECK(set_pixels(draw::inner_boundary(sq, w, {0, 0, 0, 0}, 1)) == 0);
}

TEST_CASE("draw: value_noise is smooth, bounded and deterministic") {
  draw::Rng r1(3), r2(3);
  const int h = 48, w = 64;
  std::vector<float> a = draw::value_noise(r1, h, w, 16), b = draw::value_noise(r2, h, w, 16);
  CHECK(a == b);
  REQUIRE(a.size() == size_t(h * w));
  float lo = 1, hi = -1, step = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = a[size_t(y * w + x)];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (x > 0) step = std::max(step, std::fabs(v - a[size_t(y * w + x - 1)]));
    }
  CHECK(lo >= -1.f);
  CHECK(hi <= 1.f);
  CHECK(hi - lo > 0.3f);  // not constant
  CHECK(step < 0.25f);    // smooth: neighbours differ by at most ~1.5 · 2 / 16
  draw::Rng r3(3);
  std::vector<float> fine = draw::value_noise(r3, 8, 8, 0.1);  // cell clamped to 2 px
  for (float v : fine) CHECK(std::fabs(v) <= 1.f);
}

TEST_CASE("draw: soft_blob blends toward the colour inside twice its radii only") {
  draw::Raster im(30, 30);
  draw::soft_blob(im, 15, 15, 4, 4, 0, {1, 0.5f, 0}, 0.5f);
  const float* centre = im.at(size_t(15 * 30 + 15));
  const double q = (0.5 * 0.5 + 0.5 * 0.5) / 16, weight = 0.5 * std::pow(1 - 0.25 * q, 3);
  CHECK(centre[0] == doctest::Approx(weight).epsilon(1e-6));
  CHECK(centre[1] == doctest::Approx(0.5 * weight).epsilon(1e-6));
  CHECK(centre[2] == 0.f);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 30; ++x) {
      const double dx = x + 0.5 - 15, dy = y + 0.5 - 15;
      if (dx * dx + dy * dy >= 64) CHECK(im.at(size_t(y * 30 + x))[0] == 0.f);
    }
}

TEST_CASE("draw: gaussian_blur keeps constants and mass, is symmetric, and is a no-op below radius 1") {
  draw::Raster c(9, 11);
  for (float& v : c.px) v = 0.375f;
  draw::gaussian_blur(c, 1.3);
  for (float v : c.px) CHECK(v == doctest::Approx(0.375).epsilon(1e-6));
  draw::Raster d(15, 15);
  d.at(size_t(7 * 15 + 7))[1] = 1;  // an impulse in the green channel
  draw::gaussian_blur(d, 1.0);
  double sum = 0;
  for (int y = 0; y < 15; ++y)
    for (int x = 0; x < 15; ++x) {
      const float* p = d.at(size_t(y * 15 + x));
      CHECK(p[0] == 0.f);
      sum += p[1];
      CHECK(p[1] == doctest::Approx(d.at(size_t(x * 15 + y))[1]));         // transpose
      CHECK(p[1] == doctest::Approx(d.at(size_t(y * 15 + 14 - x))[1]));    // mirror
    }
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(d.at(size_t(7 * 15 + 7))[1] < 0.25f);
  draw::Raster e = ramp(6, 7), f = ramp(6, 7);
  draw::gaussian_blur(e, 0.3);  // radius ⌈0.75⌉ = 1: blurs
  CHECK(e.px != f.px);
  draw::Raster g = ramp(6, 7);
  draw::gaussian_blur(g, 0.0);
  CHECK(g.px == f.px);
}

TEST_CASE("draw: add_noise, block_blend, clamp01, degrade") {
  draw::Raster im(64, 64);
  draw::Rng r(5);
  draw::add_noise(r, im, 0.1f);
  double sum = 0, sq = 0;
  for (float v : im.px) {
    sum += v;
    sq += double(v) * v;
  }
  const double n = double(im.px.size());
  CHECK(std::fabs(sum / n) < 0.005);
  CHECK(std::sqrt(sq / n) == doctest::Approx(0.1).epsilon(0.05));

  draw::Raster b = ramp(12, 10), keep = ramp(12, 10);
  draw::block_blend(keep, 8, 0.f);
  CHECK(keep.px == ramp(12, 10).px);
  draw::block_blend(b, 8, 1.f);  // every tile (8×8, 8×2, 4×8, 4×2) becomes its mean per channel
  const draw::Raster src = ramp(12, 10);
  for (int by = 0; by < 12; by += 8)
    for (int bx = 0; bx < 10; bx += 8)
      for (int c = 0; c < 3; ++c) {
        double m = 0;
        int cnt = 0;
        for (int y = by; y < std::min(12, by + 8); ++y)
          for (int x = bx; x < std::min(10, bx + 8); ++x, ++cnt) m += src.px[size_t((y * 10 + x) * 3 + c)];
        m /= cnt;
        for (int y = by; y < std::min(12, by + 8); ++y)
          for (int x = bx; x < std::min(10, bx + 8); ++x)
            CHECK(b.px[size_t((y * 10 + x) * 3 + c)] == doctest::Approx(m).epsilon(1e-5));
      }

  draw::Raster cl(1, 2);
  cl.px = {-0.5f, 0.25f, 1.5f, 1.0f, 0.0f, 2.0f};
  draw::clamp01(cl);
  CHECK(cl.px == std::vector<float>{0.f, 0.25f, 1.f, 1.f, 0.f, 1.f});

  draw::Raster d1 = ramp(40, 30), d2 = ramp(40, 30);
  draw::Rng s1(11), s2(11);
  draw::degrade(s1, d1, 1.0);
  draw::degrade(s2, d2, 1.0);
  CHECK(d1.px == d2.px);
  CHECK(d1.px != ramp(40, 30).px);
  for (float v : d1.px) {
    CHECK(v >= 0.f);
    CHECK(v <= 1.f);
  }
}

TEST_CASE("draw: to_tensor is planar (3, h, w)") {
  draw::Raster im(2, 3);
  for (size_t i = 0; i < im.px.size(); ++i) im.px[i] = float(i);
  Tensor t = draw::to_tensor(im);
  CHECK(t.shape() == Shape{3, 2, 3});
  std::vector<float> v = t.to_vector();
  for (size_t c = 0; c < 3; ++c)
    for (size_t i = 0; i < 6; ++i) CHECK(v[c * 6 + i] == float(i * 3 + c));
}

}  // TEST_SUITE
