// The augmentations of thesis §4.2 (data/gcn/augment.h): each step alone on small synthetic inputs,
// determinism, stream independence, pad/crop and fit_to_size, config validation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "data/gcn/augment.h"
#include "test_util.h"

using namespace sakuga;
using namespace sakuga::data;

namespace {

constexpr int64_t kH = 40, kW = 56;

// Deterministic pseudo-random floats in [lo, hi).
std::vector<float> noise(size_t n, uint32_t seed, float lo = 0.f, float hi = 1.f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * float(s >> 8) / 16777216.f;
  }
  return v;
}

// Label of pixel (y, x) of the block pattern: 4×4 blocks of 10×14 pixels, classes 0–9.
int32_t block_label(int64_t y, int64_t x) { return int32_t((y / 10) * 3 + (x / 14) * 7 + 1) % 10; }

// Distinct colours per class; class 0 is black (= what the geometry fills outside the image).
const float kPalette[10][3] = {{0, 0, 0},       {1, 0, 0},     {0, 1, 0},       {0, 0, 1},     {1, 1, 0},
                               {1, 0, 1},       {0, 1, 1},     {0.5f, 0.5f, 0.5f}, {1, 0.5f, 0}, {0.5f, 0, 1}};

// A frame whose colour encodes its douga label; mask = label ≥ 5.
SegSample coded_sample(int64_t h = kH, int64_t w = kW) {
  std::vector<float> f(size_t(3 * h * w)), m(size_t(h * w));
  std::vector<int32_t> d(size_t(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int32_t l = block_label(y, x);
      d[size_t(y * w + x)] = l;
      m[size_t(y * w + x)] = l >= 5 ? 1.f : 0.f;
      for (int c = 0; c < 3; ++c) f[size_t(c * h * w + y * w + x)] = kPalette[l][c];
    }
  SegSample s;
  s.name = "coded";
  s.frame = Tensor::from_vector(f, {3, h, w});
  s.mask = Tensor::from_vector(m, {1, h, w});
  s.douga = Tensor::from_vector_i32(d, {h, w});
  return s;
}

// Random frame, mask = left half (x < w/2) plus a band, douga = x % 10.
SegSample random_sample(uint32_t seed, int64_t h = kH, int64_t w = kW, bool with_mask = true,
                        bool with_douga = true) {
  SegSample s;
  s.name = "rand";
  s.frame = Tensor::from_vector(noise(size_t(3 * h * w), seed), {3, h, w});
  if (with_mask) {
    std::vector<float> m(size_t(h * w));
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) m[size_t(y * w + x)] = (x < w / 2 || (y > 10 && y < 20)) ? 1.f : 0.f;
    s.mask = Tensor::from_vector(m, {1, h, w});
  }
  if (with_douga) {
    std::vector<int32_t> d(size_t(h * w));
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) d[size_t(y * w + x)] = int32_t((x + y) % 10);
    s.douga = Tensor::from_vector_i32(d, {h, w});
  }
  return s;
}

AugmentConfig all_on() {
  AugmentConfig c;
  c.brightness = c.contrast = c.hue = c.scale = c.rotate = c.flip = c.background = c.texture = c.erase = true;
  return c;
}

AugmentSources some_sources() {
  AugmentSources src;
  src.backgrounds.push_back(Tensor::from_vector(noise(3 * 30 * 70, 77), {3, 30, 70}));
  src.backgrounds.push_back(Tensor::from_vector(noise(3 * 50 * 20, 78), {3, 50, 20}));
  src.textures.push_back(Tensor::from_vector(noise(1 * 17 * 23, 79, 0.5f, 1.5f), {1, 17, 23}));
  src.textures.push_back(Tensor::from_vector(noise(3 * 64 * 64, 80, 0.2f, 0.6f), {3, 64, 64}));
  return src;
}

bool same(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  if (a.dtype() == DType::i32) return a.to_vector_i32() == b.to_vector_i32();
  return a.to_vector() == b.to_vector();
}

bool same(const SegSample& a, const SegSample& b) {
  return same(a.frame, b.frame) && same(a.mask, b.mask) && same(a.douga, b.douga);
}

// Value of channel c at (y, x) of a (C, H, W) vector.
inline float at(const std::vector<float>& v, int64_t h, int64_t w, int64_t c, int64_t y, int64_t x) {
  return v[size_t((c * h + y) * w + x)];
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("augment: same seed gives the same result, another seed a different one") {
  const SegSample s = random_sample(1);
  const AugmentConfig c = all_on();
  const AugmentSources src = some_sources();
  const SegSample a = augment(s, c, 48, 48, 42, src);
  const SegSample b = augment(s, c, 48, 48, 42, src);
  CHECK(same(a, b));
  CHECK(a.name == "rand");
  CHECK(a.frame.shape() == Shape{3, 48, 48});
  CHECK(a.mask.shape() == Shape{1, 48, 48});
  CHECK(a.douga.shape() == Shape{48, 48});
  const SegSample d = augment(s, c, 48, 48, 43, src);
  CHECK_FALSE(same(a.frame, d.frame));
  // The input is not modified.
  CHECK(same(s, random_sample(1)));
}

TEST_CASE("augment: disabled config only pads / crops") {
  const SegSample s = random_sample(2);
  const AugmentConfig off;
  // Same size: exactly the input.
  CHECK(same(augment(s, off, kH, kW, 5, {}), s));
  const auto f = s.frame.to_vector();
  const auto m = s.mask.to_vector();
  const auto d = s.douga.to_vector_i32();
  // Smaller: a window of the input at some offset (found from the douga + frame).
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const SegSample o = augment(s, off, 25, 31, seed, {});
    const auto of = o.frame.to_vector();
    const auto om = o.mask.to_vector();
    const auto od = o.douga.to_vector_i32();
    bool found = false;
    for (int64_t oy = 0; oy <= kH - 25 && !found; ++oy)
      for (int64_t ox = 0; ox <= kW - 31 && !found; ++ox) {
        bool ok = true;
        for (int64_t y = 0; y < 25 && ok; ++y)
          for (int64_t x = 0; x < 31 && ok; ++x) {
            for (int c = 0; c < 3; ++c) ok = ok && at(of, 25, 31, c, y, x) == at(f, kH, kW, c, y + oy, x + ox);
            ok = ok && om[size_t(y * 31 + x)] == m[size_t((y + oy) * kW + x + ox)];
            ok = ok && od[size_t(y * 31 + x)] == d[size_t((y + oy) * kW + x + ox)];
          }
        if (ok) {
          found = true;
          offsets.insert({oy, ox});
        }
      }
    CHECK(found);
  }
  CHECK(offsets.size() > 3);  // the crop position is random
  // Larger: the input placed somewhere inside a zero canvas.
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const SegSample o = augment(s, off, 50, 60, seed, {});
    const auto om = o.mask.to_vector();
    const auto of = o.frame.to_vector();
    double fsum = 0, fsum_in = 0;
    for (float v : of) fsum += v;
    for (float v : f) fsum_in += v;
    CHECK(fsum == doctest::Approx(fsum_in).epsilon(1e-6));
    double msum = 0, msum_in = 0;
    for (float v : om) msum += v;
    for (float v : m) msum_in += v;
    CHECK(msum == msum_in);
  }
}

TEST_CASE("fit_to_size pads bottom/right with zeros and crops top-left") {
  const SegSample s = random_sample(3);
  const auto f = s.frame.to_vector();
  const auto m = s.mask.to_vector();
  const auto d = s.douga.to_vector_i32();
  CHECK(same(fit_to_size(s, kH, kW), s));
  // Pad.
  const SegSample p = fit_to_size(s, 45, 60);
  REQUIRE(p.frame.shape() == Shape{3, 45, 60});
  const auto pf = p.frame.to_vector();
  const auto pm = p.mask.to_vector();
  const auto pd = p.douga.to_vector_i32();
  for (int64_t y = 0; y < 45; ++y)
    for (int64_t x = 0; x < 60; ++x) {
      const bool in = y < kH && x < kW;
      for (int c = 0; c < 3; ++c) CHECK(at(pf, 45, 60, c, y, x) == (in ? at(f, kH, kW, c, y, x) : 0.f));
      CHECK(pm[size_t(y * 60 + x)] == (in ? m[size_t(y * kW + x)] : 0.f));
      CHECK(pd[size_t(y * 60 + x)] == (in ? d[size_t(y * kW + x)] : 0));
    }
  // Crop (and pad in the other axis).
  const SegSample q = fit_to_size(s, 20, 70);
  REQUIRE(q.douga.shape() == Shape{20, 70});
  const auto qf = q.frame.to_vector();
  const auto qd = q.douga.to_vector_i32();
  for (int64_t y = 0; y < 20; ++y)
    for (int64_t x = 0; x < 70; ++x) {
      CHECK(qd[size_t(y * 70 + x)] == (x < kW ? d[size_t(y * kW + x)] : 0));
      CHECK(at(qf, 20, 70, 1, y, x) == (x < kW ? at(f, kH, kW, 1, y, x) : 0.f));
    }
  // Undefined labels stay undefined.
  const SegSample n = fit_to_size(random_sample(3, kH, kW, false, false), 10, 10);
  CHECK_FALSE(n.mask.defined());
  CHECK_FALSE(n.douga.defined());
  CHECK(n.frame.shape() == Shape{3, 10, 10});
  CHECK_ERROR(fit_to_size(s, 0, 10), "fit_to_size");
}

TEST_CASE("augment: flip mirrors frame and labels exactly") {
  const SegSample s = random_sample(4);
  AugmentConfig c;
  c.flip = true;
  c.flip_p = 1.0;
  const SegSample o = augment(s, c, kH, kW, 9, {});
  const auto f = s.frame.to_vector(), of = o.frame.to_vector();
  const auto m = s.mask.to_vector(), om = o.mask.to_vector();
  const auto d = s.douga.to_vector_i32(), od = o.douga.to_vector_i32();
  bool ok = true;
  for (int64_t y = 0; y < kH; ++y)
    for (int64_t x = 0; x < kW; ++x) {
      for (int ch = 0; ch < 3; ++ch) ok = ok && at(of, kH, kW, ch, y, x) == at(f, kH, kW, ch, y, kW - 1 - x);
      ok = ok && om[size_t(y * kW + x)] == m[size_t(y * kW + kW - 1 - x)];
      ok = ok && od[size_t(y * kW + x)] == d[size_t(y * kW + kW - 1 - x)];
    }
  CHECK(ok);
  c.flip_p = 0.0;
  CHECK(same(augment(s, c, kH, kW, 9, {}), s));
  // With p = 0.5 both outcomes occur over seeds.
  c.flip_p = 0.5;
  int flipped = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) flipped += same(augment(s, c, kH, kW, seed, {}), s) ? 0 : 1;
  CHECK(flipped > 5);
  CHECK(flipped < 35);
}

TEST_CASE("augment: scale + rotate + flip keep labels and frame aligned") {
  const SegSample s = coded_sample();
  AugmentConfig c;
  c.scale = c.rotate = c.flip = true;
  c.scale_min = 1.2;
  c.scale_max = 1.6;
  c.rotate_deg = 10.0;
  int64_t checked = 0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const int64_t H = 70, W = 96;
    const SegSample o = augment(s, c, H, W, seed, {});
    const auto of = o.frame.to_vector();
    const auto om = o.mask.to_vector();
    const auto od = o.douga.to_vector_i32();
    int64_t bad_set = 0, bad_mask = 0, bad_colour = 0;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int32_t l = od[size_t(y * W + x)];
        if (l < 0 || l > 9) ++bad_set;
        if (om[size_t(y * W + x)] != (l >= 5 ? 1.f : 0.f)) ++bad_mask;
        // Interior of a region: a 9×9 window of one label → the bilinear taps all lie in it.
        bool uniform = y >= 4 && x >= 4 && y < H - 4 && x < W - 4;
        for (int64_t dy = -4; dy <= 4 && uniform; ++dy)
          for (int64_t dx = -4; dx <= 4 && uniform; ++dx) uniform = od[size_t((y + dy) * W + x + dx)] == l;
        if (!uniform || l < 0 || l > 9) continue;
        ++checked;
        for (int ch = 0; ch < 3; ++ch)
          if (std::fabs(at(of, H, W, ch, y, x) - kPalette[l][ch]) > 1e-5f) ++bad_colour;
      }
    CHECK(bad_set == 0);
    CHECK(bad_mask == 0);
    CHECK(bad_colour == 0);
  }
  CHECK(checked > 3000);
}

TEST_CASE("augment: geometry keeps sub-pixel alignment at a straight edge") {
  // Half-plane images (a vertical or a horizontal step, frame value = label). Bilinear across an
  // axis-aligned step gives the fractional coordinate, nearest rounds it, so after any scale,
  // rotation and flip the label must be exactly (frame > 0.5) (ties at 0.5 excepted); outside
  // the image both are 0. A half-pixel shift between frame and labels breaks this.
  AugmentConfig c;
  c.scale = c.rotate = c.flip = true;
  c.rotate_deg = 10.0;
  for (int vertical = 0; vertical < 2; ++vertical) {
    std::vector<float> f(size_t(3 * kH * kW)), m(size_t(kH * kW));
    std::vector<int32_t> d(size_t(kH * kW));
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        const int32_t l = vertical ? x >= 23 : y >= 17;
        d[size_t(y * kW + x)] = l;
        m[size_t(y * kW + x)] = float(l);
        for (int ch = 0; ch < 3; ++ch) f[size_t(ch * kH * kW + y * kW + x)] = float(l);
      }
    SegSample s;
    s.frame = Tensor::from_vector(f, {3, kH, kW});
    s.mask = Tensor::from_vector(m, {1, kH, kW});
    s.douga = Tensor::from_vector_i32(d, {kH, kW});
    for (uint64_t seed = 0; seed < 8; ++seed) {
      const SegSample o = augment(s, c, 64, 80, seed, {});
      const auto of = o.frame.to_vector();
      const auto od = o.douga.to_vector_i32();
      const auto om = o.mask.to_vector();
      int64_t bad = 0, ones = 0;
      for (int64_t i = 0; i < 64 * 80; ++i) {
        const float v = of[size_t(i)];
        ones += od[size_t(i)];
        if (om[size_t(i)] != float(od[size_t(i)])) ++bad;
        if (std::fabs(v - 0.5f) < 1e-4f) continue;
        if (od[size_t(i)] != (v > 0.5f ? 1 : 0)) ++bad;
      }
      CHECK(bad == 0);
      CHECK(ones > 0);
    }
  }
}

TEST_CASE("augment: downscaling and rotation keep labels in the label set, colour near labels") {
  const SegSample s = coded_sample();
  AugmentConfig c;
  c.scale = c.rotate = true;
  c.scale_min = 0.5;
  c.scale_max = 0.9;
  c.rotate_deg = 30.0;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const SegSample o = augment(s, c, kH, kW, seed, {});
    const auto of = o.frame.to_vector();
    const auto od = o.douga.to_vector_i32();
    const auto om = o.mask.to_vector();
    int64_t uniform_px = 0, agree = 0;
    for (int64_t y = 1; y < kH - 1; ++y)
      for (int64_t x = 1; x < kW - 1; ++x) {
        const int32_t l = od[size_t(y * kW + x)];
        CHECK((l >= 0 && l <= 9));
        CHECK(om[size_t(y * kW + x)] == (l >= 5 ? 1.f : 0.f));
        bool uniform = true;
        for (int64_t dy = -1; dy <= 1; ++dy)
          for (int64_t dx = -1; dx <= 1; ++dx) uniform = uniform && od[size_t((y + dy) * kW + x + dx)] == l;
        if (!uniform) continue;
        ++uniform_px;
        float best = 1e9f;
        int32_t dec = -1;
        for (int32_t k = 0; k < 10; ++k) {
          float e = 0;
          for (int ch = 0; ch < 3; ++ch) e += std::fabs(at(of, kH, kW, ch, y, x) - kPalette[k][ch]);
          if (e < best) best = e, dec = k;
        }
        agree += dec == l;
      }
    CHECK(uniform_px > 300);
    CHECK(double(agree) >= 0.97 * double(uniform_px));
  }
}

TEST_CASE("augment: the scaled size is round(H·s) × round(W·s)") {
  SegSample s = random_sample(5);
  s.mask = Tensor::ones({1, kH, kW});
  AugmentConfig c;
  c.scale = true;
  c.scale_min = c.scale_max = 2.0;
  // 80×112 exactly: the whole output is inside the scaled image.
  const SegSample o = augment(s, c, 80, 112, 1, {});
  for (float v : o.mask.to_vector()) REQUIRE(v == 1.f);
  c.scale_min = c.scale_max = 0.5;
  const SegSample h = augment(s, c, kH, kW, 1, {});
  double n = 0;
  for (float v : h.mask.to_vector()) n += v;
  CHECK(n == 20 * 28);
}

TEST_CASE("augment: turning one step on does not change the others' draws") {
  const SegSample s = random_sample(6);
  AugmentConfig a;
  a.scale = a.rotate = a.flip = a.erase = true;
  AugmentConfig b = a;
  b.brightness = b.contrast = b.hue = true;
  b.texture = true;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const SegSample oa = augment(s, a, 36, 50, seed, {});
    const SegSample ob = augment(s, b, 36, 50, seed, some_sources());
    CHECK(same(oa.douga, ob.douga));
    CHECK(same(oa.mask, ob.mask));
    CHECK_FALSE(same(oa.frame, ob.frame));
  }
}

TEST_CASE("augment: rectangle erasure zeroes one rectangle in frame, mask and douga") {
  SegSample s;
  s.name = "ones";
  s.frame = Tensor::from_vector(noise(3 * kH * kW, 7, 0.1f, 1.f), {3, kH, kW});
  s.mask = Tensor::ones({1, kH, kW});
  s.douga = Tensor::full({kH, kW}, 3, DType::i32);
  AugmentConfig c;
  c.erase = true;
  c.erase_max = 0.5;
  int nonempty = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const SegSample o = augment(s, c, kH, kW, seed, {});
    const auto f = s.frame.to_vector(), of = o.frame.to_vector();
    const auto om = o.mask.to_vector();
    const auto od = o.douga.to_vector_i32();
    int64_t y0 = kH, y1 = -1, x0 = kW, x1 = -1;
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x)
        if (om[size_t(y * kW + x)] == 0.f) y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
    if (y1 >= 0) {
      ++nonempty;
      CHECK(y1 - y0 + 1 <= kH / 2);
      CHECK(x1 - x0 + 1 <= kW / 2);
    }
    bool ok = true;
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        const bool in = y >= y0 && y <= y1 && x >= x0 && x <= x1;
        ok = ok && om[size_t(y * kW + x)] == (in ? 0.f : 1.f);
        ok = ok && od[size_t(y * kW + x)] == (in ? 0 : 3);
        for (int ch = 0; ch < 3; ++ch) ok = ok && at(of, kH, kW, ch, y, x) == (in ? 0.f : at(f, kH, kW, ch, y, x));
      }
    CHECK(ok);
  }
  CHECK(nonempty >= 7);
  // erase_max = 0: nothing erased.
  c.erase_max = 0.0;
  CHECK(same(augment(s, c, kH, kW, 3, {}), s));
}

TEST_CASE("augment: the final crop is a window of the uncropped result (geometry and erasure)") {
  // Scale fixed at 1.5: the geometric output is 60×84, so out = 60×84 needs no crop. A smaller
  // output must be a window of it — at the offset the same seed gives without erasure.
  const SegSample s = random_sample(14);
  AugmentConfig g;
  g.scale = g.rotate = true;
  g.scale_min = g.scale_max = 1.5;
  AugmentConfig ge = g;
  ge.erase = true;
  auto find_offset = [](const SegSample& big, const SegSample& small, int64_t& oy, int64_t& ox) {
    const auto bf = big.frame.to_vector(), sf = small.frame.to_vector();
    const int64_t BH = big.frame.size(1), BW = big.frame.size(2), h = small.frame.size(1), w = small.frame.size(2);
    int found = 0;
    for (int64_t y0 = 0; y0 + h <= BH; ++y0)
      for (int64_t x0 = 0; x0 + w <= BW; ++x0) {
        bool ok = true;
        for (int64_t ch = 0; ch < 3 && ok; ++ch)
          for (int64_t y = 0; y < h && ok; ++y)
            for (int64_t x = 0; x < w && ok; ++x) ok = at(sf, h, w, ch, y, x) == at(bf, BH, BW, ch, y + y0, x + x0);
        if (ok) oy = y0, ox = x0, ++found;
      }
    return found;
  };
  int erased = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    int64_t oy = -1, ox = -1;
    REQUIRE(find_offset(augment(s, g, 60, 84, seed, {}), augment(s, g, 41, 50, seed, {}), oy, ox) == 1);
    const SegSample full = augment(s, ge, 60, 84, seed, {});
    const SegSample crop = augment(s, ge, 41, 50, seed, {});
    const auto ff = full.frame.to_vector(), cf = crop.frame.to_vector();
    const auto fd = full.douga.to_vector_i32(), cd = crop.douga.to_vector_i32();
    const auto fm = full.mask.to_vector(), cm = crop.mask.to_vector();
    bool ok = true;
    for (int64_t y = 0; y < 41; ++y)
      for (int64_t x = 0; x < 50; ++x) {
        for (int64_t ch = 0; ch < 3; ++ch) ok = ok && at(cf, 41, 50, ch, y, x) == at(ff, 60, 84, ch, y + oy, x + ox);
        ok = ok && cd[size_t(y * 50 + x)] == fd[size_t((y + oy) * 84 + x + ox)];
        ok = ok && cm[size_t(y * 50 + x)] == fm[size_t((y + oy) * 84 + x + ox)];
      }
    CHECK(ok);
    erased += same(full.frame, augment(s, g, 60, 84, seed, {}).frame) ? 0 : 1;
  }
  CHECK(erased >= 3);
}

TEST_CASE("augment: background replacement keeps the cel and replaces the rest") {
  const SegSample s = random_sample(8);
  AugmentConfig c;
  c.background = true;
  AugmentSources src;
  const float g = 0.123f;
  src.backgrounds.push_back(Tensor::full({3, 8, 9}, g));  // smaller than the frame: tiled
  const auto f = s.frame.to_vector(), m = s.mask.to_vector();
  auto check = [&](const SegSample& o, bool constant_bg) {
    const auto of = o.frame.to_vector();
    int64_t changed = 0, bg_px = 0;
    bool cel_same = true, bg_ok = true;
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const float a = at(f, kH, kW, ch, y, x), b = at(of, kH, kW, ch, y, x);
          if (m[size_t(y * kW + x)] == 1.f) {
            cel_same = cel_same && a == b;
          } else {
            ++bg_px;
            changed += a != b;
            if (constant_bg) bg_ok = bg_ok && b == g;
            bg_ok = bg_ok && b >= 0.f && b <= 1.f;
          }
        }
    CHECK(cel_same);
    CHECK(bg_ok);
    CHECK(bg_px > 0);
    CHECK(double(changed) > 0.95 * double(bg_px));
  };
  check(augment(s, c, kH, kW, 1, src), true);
  // Larger, non-constant backgrounds (random crop), several sources.
  check(augment(s, c, kH, kW, 2, some_sources()), false);
  // Procedural fallback (data/gcn/synth.h).
  check(augment(s, c, kH, kW, 3, {}), false);
  // No mask: skipped.
  const SegSample nm = random_sample(8, kH, kW, false, true);
  CHECK(same(augment(nm, c, kH, kW, 1, src), nm));
  // Labels are untouched.
  const SegSample o = augment(s, c, kH, kW, 1, src);
  CHECK(same(o.mask, s.mask));
  CHECK(same(o.douga, s.douga));
}

TEST_CASE("augment: texture overlay keeps the mean, separate draws for cel and background") {
  SegSample s;
  s.name = "grey";
  s.frame = Tensor::full({3, kH, kW}, 0.5);
  AugmentConfig c;
  c.texture = true;
  // A texture of the frame's size with mean 2: rescaled to mean 1, every texel used once.
  AugmentSources src;
  src.textures.push_back(Tensor::from_vector(noise(kH * kW, 11, 1.2f, 2.8f), {1, kH, kW}));
  {
    const auto of = augment(s, c, kH, kW, 4, src).frame.to_vector();
    double sum = 0;
    for (float v : of) sum += v;
    CHECK(sum / double(of.size()) == doctest::Approx(0.5).epsilon(1e-5));
    // 1-channel texture: the same factor in all channels.
    for (int64_t i = 0; i < kH * kW; ++i) {
      CHECK(of[size_t(i)] == of[size_t(kH * kW + i)]);
      CHECK(of[size_t(i)] == of[size_t(2 * kH * kW + i)]);
    }
  }
  // Procedural fallback: mean roughly kept, values in [0, 1], not constant.
  {
    const auto of = augment(s, c, kH, kW, 5, {}).frame.to_vector();
    double sum = 0, mn = 1, mx = 0;
    for (float v : of) sum += v, mn = std::min<double>(mn, v), mx = std::max<double>(mx, v);
    CHECK(sum / double(of.size()) == doctest::Approx(0.5).epsilon(0.1));
    CHECK(mn >= 0.0);
    CHECK(mx <= 1.0);
    CHECK(mx > mn);
  }
  // With a mask: the cel gets texture A, the background texture B (two constant textures).
  AugmentSources two;
  two.textures.push_back(Tensor::full({1, 5, 5}, 3.0));  // mean 1 after rescaling → factor 1
  two.textures.push_back(Tensor::from_vector(noise(3 * 7 * 9, 12, 0.5f, 1.5f), {3, 7, 9}));
  std::vector<float> m(size_t(kH * kW));
  for (int64_t i = 0; i < kH * kW; ++i) m[size_t(i)] = (i % kW) < kW / 2 ? 1.f : 0.f;
  s.mask = Tensor::from_vector(m, {1, kH, kW});
  int mixed = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const auto of = augment(s, c, kH, kW, seed, two).frame.to_vector();
    bool cel_flat = true, bg_flat = true;
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t i = 0; i < kH * kW; ++i) {
        const float v = of[size_t(ch * kH * kW + i)];
        (m[size_t(i)] == 1.f ? cel_flat : bg_flat) &= std::fabs(v - 0.5f) < 1e-6f;
      }
    if (cel_flat != bg_flat) ++mixed;  // one region got the flat texture, the other the noisy one
  }
  CHECK(mixed > 3);
}

TEST_CASE("augment: brightness, contrast and hue keep values in [0, 1]; hue 0 is the identity") {
  const SegSample s = random_sample(9);
  AugmentConfig c;
  c.brightness = c.contrast = c.hue = true;
  c.brightness_std = 1.0;
  c.contrast_std = 1.5;
  c.hue_std_deg = 90;
  int differ = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    const SegSample o = augment(s, c, kH, kW, seed, {});
    for (float v : o.frame.to_vector()) REQUIRE((v >= 0.f && v <= 1.f));
    differ += same(o.frame, s.frame) ? 0 : 1;
    CHECK(same(o.mask, s.mask));
    CHECK(same(o.douga, s.douga));
  }
  CHECK(differ == 8);
  AugmentConfig h;
  h.hue = true;
  h.hue_std_deg = 0;
  CHECK(same(augment(s, h, kH, kW, 1, {}), s));
  h.brightness = true;
  h.brightness_std = 0;
  h.contrast = true;
  h.contrast_std = 0;
  {
    const auto a = augment(s, h, kH, kW, 1, {}).frame.to_vector(), b = s.frame.to_vector();
    for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
  }
}

TEST_CASE("augment: hue rotates about the grey axis, brightness scales") {
  // Colours close to mid grey, so nothing clamps.
  const int64_t n = kH * kW;
  std::vector<float> f = noise(size_t(3 * n), 13, 0.4f, 0.6f);
  for (int64_t i = 0; i < 50; ++i) f[size_t(i)] = f[size_t(n + i)] = f[size_t(2 * n + i)] = 0.3f;  // grey pixels
  SegSample s;
  s.frame = Tensor::from_vector(f, {3, kH, kW});
  AugmentConfig h;
  h.hue = true;
  h.hue_std_deg = 60;
  const auto o = augment(s, h, kH, kW, 3, {}).frame.to_vector();
  bool changed = false;
  for (int64_t i = 0; i < n; ++i) {
    const float r = f[size_t(i)], g = f[size_t(n + i)], b = f[size_t(2 * n + i)];
    const float r2 = o[size_t(i)], g2 = o[size_t(n + i)], b2 = o[size_t(2 * n + i)];
    // The grey component (sum) and the distance from the grey axis are kept.
    CHECK(r2 + g2 + b2 == doctest::Approx(r + g + b).epsilon(1e-5));
    const float m1 = (r + g + b) / 3, m2 = (r2 + g2 + b2) / 3;
    const float d1 = (r - m1) * (r - m1) + (g - m1) * (g - m1) + (b - m1) * (b - m1);
    const float d2 = (r2 - m2) * (r2 - m2) + (g2 - m2) * (g2 - m2) + (b2 - m2) * (b2 - m2);
    CHECK(std::fabs(d1 - d2) < 1e-5f);
    if (i < 50) CHECK(std::fabs(r2 - 0.3f) + std::fabs(g2 - 0.3f) + std::fabs(b2 - 0.3f) < 1e-5f);
    changed = changed || std::fabs(r2 - r) > 1e-3f;
  }
  CHECK(changed);
  // Brightness alone: one common factor.
  AugmentConfig bc;
  bc.brightness = true;
  bc.brightness_std = 0.1;
  const auto ob = augment(s, bc, kH, kW, 3, {}).frame.to_vector();
  const float k = ob[0] / f[0];
  CHECK(k != doctest::Approx(1.0));
  for (size_t i = 0; i < f.size(); ++i)
    if (ob[i] < 1.f) REQUIRE(ob[i] == doctest::Approx(k * f[i]).epsilon(1e-5));
  // Contrast alone: the mean luminance is kept (no clamping for a small factor).
  AugmentConfig cc;
  cc.contrast = true;
  cc.contrast_std = 0.2;
  const auto oc = augment(s, cc, kH, kW, 4, {}).frame.to_vector();
  auto lum = [&](const std::vector<float>& v) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += 0.299 * v[size_t(i)] + 0.587 * v[size_t(n + i)] + 0.114 * v[size_t(2 * n + i)];
    return sum / double(n);
  };
  CHECK(lum(oc) == doctest::Approx(lum(f)).epsilon(1e-4));
  CHECK_FALSE(oc == f);
}

TEST_CASE("augment: validate names the field") {
  auto bad = [](auto set) {
    AugmentConfig c;
    set(c);
    return c;
  };
  CHECK_NOTHROW(validate(AugmentConfig{}));
  CHECK_NOTHROW(validate(all_on()));
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.brightness_std = -0.1; })), "augment.brightness_std");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.contrast_std = std::nan(""); })), "augment.contrast_std");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.hue_std_deg = -1; })), "augment.hue_std_deg");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.scale_min = 0; })), "augment.scale_min");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.scale_max = 0.4; })), "augment.scale_max");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.rotate_deg = -5; })), "augment.rotate_deg");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.flip_p = 1.5; })), "augment.flip_p");
  CHECK_ERROR(validate(bad([](AugmentConfig& c) { c.erase_max = 2; })), "augment.erase_max");
  // augment() validates too, and checks the sample and the sources.
  const SegSample s = random_sample(10);
  CHECK_ERROR(augment(s, bad([](AugmentConfig& c) { c.flip_p = -1; }), kH, kW, 1, {}), "augment.flip_p");
  CHECK_ERROR(augment(s, AugmentConfig{}, 0, kW, 1, {}), "augment");
  SegSample wrong = s;
  wrong.mask = Tensor::ones({1, kH + 1, kW});
  CHECK_ERROR(augment(wrong, AugmentConfig{}, kH, kW, 1, {}), "mask");
  wrong = s;
  wrong.frame = Tensor::ones({4, kH, kW});
  CHECK_ERROR(augment(wrong, AugmentConfig{}, kH, kW, 1, {}), "frame");
  AugmentConfig t;
  t.texture = true;
  AugmentSources zero;
  zero.textures.push_back(Tensor::zeros({1, 4, 4}));
  CHECK_ERROR(augment(s, t, kH, kW, 1, zero), "texture");
  AugmentSources badbg;
  badbg.backgrounds.push_back(Tensor::ones({2, 4, 4}));
  AugmentConfig b;
  b.background = true;
  CHECK_ERROR(augment(s, b, kH, kW, 1, badbg), "background");
}

}  // TEST_SUITE
