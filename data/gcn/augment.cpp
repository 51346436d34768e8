// The augmentations of thesis §4.2 (see data/gcn/augment.h), CPU reference.
//
// Order of the steps in augment() (each only when enabled):
//   1. colour jitter: brightness (frame ×b), contrast (frame = L + c·(frame − L), L = mean
//      Rec.601 luminance of the frame after brightness), hue rotation (RGB rotated about the grey
//      axis (1,1,1)/√3 by θ degrees, Rodrigues matrix); then one clamp to [0, 1].
//      b = max(0, 1 + σ_b·N), c = max(0, 1 + σ_c·N) (a negative factor would invert the image),
//      θ = σ_h·N.
//   2. background replacement (only when the sample has a mask): frame = m·frame + (1 − m)·bg,
//      bg a random source (or synth_background) placed at a random offset: a random crop along an
//      axis where the source is larger than the frame, tiled (wrapping) at a random offset where it
//      is smaller.
//   3. texture overlay: frame *= m·t_cel + (1 − m)·t_bg (t = t_cel everywhere without a mask),
//      each t a random source (or synth_texture) rescaled to mean 1 (over all its elements),
//      tiled (wrapping) at its own random offset; 1-channel textures apply to all three
//      channels; then clamp to [0, 1].
//   4. geometry: scale s ~ U(min, max), rotation θ ~ U(−deg, deg), horizontal flip with p,
//      composed into one affine map about the image centres and resampled once into an image of
//      (round(H·s), round(W·s)) (≥ 1): frame bilinear, mask / douga nearest. A source point is
//      inside the image when it lies in [−0.5, H − 0.5] × [−0.5, W − 0.5] (the same support for
//      the frame and the labels; bilinear clamps its taps to the border there); outside, the
//      frame is 0 and the labels are 0.
//   5. rectangle erasure: height U(0, erase_max)·H', width U(0, erase_max)·W' (H', W' the size
//      after geometry), random position; frame, mask and douga set to 0 inside.
//   6. pad/crop to (out_h, out_w), per axis: larger → a random crop offset; smaller → the image
//      is placed at a random offset inside a zero (label 0) canvas.
// Steps 4–6 are computed in one pass (only the window of the scaled image that survives the crop
// is resampled, the rectangle is erased in window coordinates); the result is exactly that of
// running them one after the other.
// Randomness: every step has its own Philox stream (counter high word = step id, key = seed),
// so switching one step on or off does not change the draws of the others.
#include "data/gcn/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "data/gcn/synth.h"
#include "kernels/philox.h"
#include "tensor/autograd.h"

namespace sakuga::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Step ids = Philox streams.
enum Stream : uint64_t {
  kBrightness = 1,
  kContrast = 2,
  kHue = 3,
  kBackground = 4,
  kTexture = 5,
  kScale = 6,
  kRotate = 7,
  kFlip = 8,
  kErase = 9,
  kCrop = 10,
};

// Sequential draws from one Philox stream: word i of stream `stream` is word (i % 4) of
// block(seed, i / 4, stream).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}
  uint32_t next() {
    const uint64_t i = i_++;
    const philox::U4 b = philox::block(seed_, i >> 2, stream_);
    switch (i & 3) {
      case 0: return b.x;
      case 1: return b.y;
      case 2: return b.z;
      default: return b.w;
    }
  }
  uint64_t next64() {
    const uint64_t lo = next();
    return (uint64_t(next()) << 32) | lo;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() {
    const uint64_t v = next64() >> 11;
    return double(v) * (1.0 / 9007199254740992.0);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n] (n ≥ 0).
  int64_t index_upto(int64_t n) {
    if (n <= 0) return 0;
    return std::min<int64_t>(n, int64_t(uniform() * double(n + 1)));
  }
  // Standard normal, Box–Muller (u1 in (0, 1], so the log is finite).
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }

 private:
  uint64_t seed_, stream_;
  uint64_t i_ = 0;
};

// The working copy of a sample: contiguous host buffers.
struct Img {
  int64_t h = 0, w = 0;
  std::vector<float> frame;  // 3·h·w
  bool has_mask = false;
  std::vector<float> mask;  // h·w
  bool has_douga = false;
  std::vector<int32_t> douga;  // h·w
};

Img to_img(const SegSample& s) {
  SAKUGA_CHECK(s.frame.defined(), "augment: sample '", s.name, "' has no frame");
  SAKUGA_CHECK(s.frame.device().is_cpu(), "augment: sample '", s.name, "': frame must be on the CPU, got ",
               s.frame.str());
  SAKUGA_CHECK(s.frame.dtype() == DType::f32 && s.frame.dim() == 3 && s.frame.size(0) == 3,
               "augment: sample '", s.name, "': frame must be (3, H, W) f32, got ", s.frame.str());
  Img im;
  im.h = s.frame.size(1);
  im.w = s.frame.size(2);
  SAKUGA_CHECK(im.h >= 1 && im.w >= 1, "augment: sample '", s.name, "': empty frame ", s.frame.str());
  const int64_t hw = im.h * im.w;
  NoGradGuard ng;
  {
    Tensor f = s.frame.detach().contiguous();
    const float* p = f.data<float>();
    im.frame.assign(p, p + 3 * hw);
  }
  if (s.mask.defined()) {
    SAKUGA_CHECK(s.mask.device().is_cpu() && s.mask.dtype() == DType::f32 && s.mask.dim() == 3 &&
                     s.mask.size(0) == 1 && s.mask.size(1) == im.h && s.mask.size(2) == im.w,
                 "augment: sample '", s.name, "': mask must be (1, ", im.h, ", ", im.w, ") f32 on the CPU, got ",
                 s.mask.str());
    Tensor m = s.mask.detach().contiguous();
    const float* p = m.data<float>();
    im.has_mask = true;
    im.mask.assign(p, p + hw);
  }
  if (s.douga.defined()) {
    SAKUGA_CHECK(s.douga.device().is_cpu() && s.douga.dtype() == DType::i32 && s.douga.dim() == 2 &&
                     s.douga.size(0) == im.h && s.douga.size(1) == im.w,
                 "augment: sample '", s.name, "': douga must be (", im.h, ", ", im.w, ") i32 on the CPU, got ",
                 s.douga.str());
    Tensor d = s.douga.detach().contiguous();
    const int32_t* p = d.data<int32_t>();
    im.has_douga = true;
    im.douga.assign(p, p + hw);
  }
  return im;
}

SegSample to_sample(const Img& im, const std::string& name) {
  SegSample s;
  s.name = name;
  const int64_t hw = im.h * im.w;
  s.frame = Tensor::empty({3, im.h, im.w}, DType::f32);
  std::memcpy(s.frame.data<float>(), im.frame.data(), sizeof(float) * size_t(3 * hw));
  if (im.has_mask) {
    s.mask = Tensor::empty({1, im.h, im.w}, DType::f32);
    std::memcpy(s.mask.data<float>(), im.mask.data(), sizeof(float) * size_t(hw));
  }
  if (im.has_douga) {
    s.douga = Tensor::empty({im.h, im.w}, DType::i32);
    std::memcpy(s.douga.data<int32_t>(), im.douga.data(), sizeof(int32_t) * size_t(hw));
  }
  return s;
}

inline float clamp01(float v) { return v < 0.f ? 0.f : (v > 1.f ? 1.f : v); }

// A source image (background or texture) as a contiguous (C, h, w) f32 host buffer.
struct Src {
  int64_t c = 0, h = 0, w = 0;
  std::vector<float> v;
};

Src to_src(const Tensor& t, const char* what, size_t index) {
  SAKUGA_CHECK(t.defined(), "augment: ", what, " ", index, " is undefined");
  SAKUGA_CHECK(t.device().is_cpu() && t.dtype() == DType::f32 && t.dim() == 3 &&
                   (t.size(0) == 1 || t.size(0) == 3) && t.size(1) >= 1 && t.size(2) >= 1,
               "augment: ", what, " ", index, " must be (1 or 3, h, w) f32 on the CPU, got ", t.str());
  NoGradGuard ng;
  Tensor c = t.detach().contiguous();
  Src s;
  s.c = t.size(0);
  s.h = t.size(1);
  s.w = t.size(2);
  const float* p = c.data<float>();
  s.v.assign(p, p + s.c * s.h * s.w);
  return s;
}

// Offset of a source of length `src` laid over a frame of length `len`: a random crop when the
// source is at least as long, else a random wrap offset (tiling).
int64_t place_offset(Rng& r, int64_t src, int64_t len) {
  if (src >= len) return r.index_upto(src - len);
  return r.index_upto(src - 1);
}

// ---- 1. colour ---------------------------------------------------------------------------

void colour_jitter(Img& im, const AugmentConfig& c, uint64_t seed) {
  const int64_t hw = im.h * im.w;
  float* R = im.frame.data();
  float* G = R + hw;
  float* B = G + hw;
  if (c.brightness) {
    Rng r(seed, kBrightness);
    const float b = float(std::max(0.0, 1.0 + c.brightness_std * r.normal()));
    for (int64_t i = 0; i < 3 * hw; ++i) im.frame[size_t(i)] *= b;
  }
  if (c.contrast) {
    Rng r(seed, kContrast);
    const double k = std::max(0.0, 1.0 + c.contrast_std * r.normal());
    double sum = 0.0;
    for (int64_t i = 0; i < hw; ++i) sum += 0.299 * R[i] + 0.587 * G[i] + 0.114 * B[i];
    const double L = sum / double(hw);
    for (int64_t i = 0; i < 3 * hw; ++i) {
      float& v = im.frame[size_t(i)];
      v = float(L + k * (double(v) - L));
    }
  }
  if (c.hue) {
    Rng r(seed, kHue);
    const double th = c.hue_std_deg * r.normal() * kPi / 180.0;
    const double co = std::cos(th), si = std::sin(th) / std::sqrt(3.0), t = (1.0 - co) / 3.0;
    // Rodrigues: R = cos θ I + sin θ [k]× + (1 − cos θ) k kᵀ, k = (1, 1, 1)/√3.
    const float m[3][3] = {{float(co + t), float(t - si), float(t + si)},
                           {float(t + si), float(co + t), float(t - si)},
                           {float(t - si), float(t + si), float(co + t)}};
    for (int64_t i = 0; i < hw; ++i) {
      const float r0 = R[i], g0 = G[i], b0 = B[i];
      R[i] = m[0][0] * r0 + m[0][1] * g0 + m[0][2] * b0;
      G[i] = m[1][0] * r0 + m[1][1] * g0 + m[1][2] * b0;
      B[i] = m[2][0] * r0 + m[2][1] * g0 + m[2][2] * b0;
    }
  }
  for (float& v : im.frame) v = clamp01(v);
}

// ---- 2. background replacement -----------------------------------------------------------

void replace_background(Img& im, const AugmentSources& src, uint64_t seed) {
  Rng r(seed, kBackground);
  Src bg;
  if (!src.backgrounds.empty()) {
    const size_t k = size_t(r.index_upto(int64_t(src.backgrounds.size()) - 1));
    bg = to_src(src.backgrounds[k], "background", k);
  } else {
    const uint64_t s = r.next64();
    bg = to_src(synth_background(s, std::max<int64_t>(im.h, 16), std::max<int64_t>(im.w, 16)),
                "synth_background", 0);
  }
  const int64_t oy = place_offset(r, bg.h, im.h), ox = place_offset(r, bg.w, im.w);
  const int64_t hw = im.h * im.w;
  for (int64_t ch = 0; ch < 3; ++ch) {
    const float* b = bg.v.data() + (bg.c == 3 ? ch : 0) * bg.h * bg.w;
    float* f = im.frame.data() + ch * hw;
    for (int64_t y = 0; y < im.h; ++y) {
      const float* brow = b + ((y + oy) % bg.h) * bg.w;
      for (int64_t x = 0; x < im.w; ++x) {
        const float m = im.mask[size_t(y * im.w + x)];
        const float bv = brow[(x + ox) % bg.w];
        float& v = f[y * im.w + x];
        v = m * v + (1.f - m) * bv;
      }
    }
  }
}

// ---- 3. texture overlay ------------------------------------------------------------------

// One texture draw: a mean-1 source and its wrap offset.
struct TexDraw {
  Src t;
  int64_t oy = 0, ox = 0;
  float at(int64_t ch, int64_t y, int64_t x) const {
    const int64_t c = t.c == 3 ? ch : 0;
    return t.v[size_t((c * t.h + (y + oy) % t.h) * t.w + (x + ox) % t.w)];
  }
};

TexDraw draw_texture(Rng& r, const AugmentSources& src, int64_t h, int64_t w) {
  TexDraw d;
  if (!src.textures.empty()) {
    const size_t k = size_t(r.index_upto(int64_t(src.textures.size()) - 1));
    d.t = to_src(src.textures[k], "texture", k);
  } else {
    const uint64_t s = r.next64();
    d.t = to_src(synth_texture(s, std::max<int64_t>(h, 16), std::max<int64_t>(w, 16)), "synth_texture", 0);
  }
  double sum = 0.0;
  for (float v : d.t.v) sum += v;
  const double mean = sum / double(d.t.v.size());
  SAKUGA_CHECK(std::isfinite(mean) && mean > 1e-8, "augment: texture has mean ", mean,
               " (must be > 0 to be rescaled to mean 1)");
  const float inv = float(1.0 / mean);
  for (float& v : d.t.v) v *= inv;
  d.oy = r.index_upto(d.t.h - 1);
  d.ox = r.index_upto(d.t.w - 1);
  return d;
}

void overlay_texture(Img& im, const AugmentSources& src, uint64_t seed) {
  Rng r(seed, kTexture);
  const TexDraw cel = draw_texture(r, src, im.h, im.w);
  const int64_t hw = im.h * im.w;
  if (im.has_mask) {
    const TexDraw bg = draw_texture(r, src, im.h, im.w);
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t y = 0; y < im.h; ++y)
        for (int64_t x = 0; x < im.w; ++x) {
          const float m = im.mask[size_t(y * im.w + x)];
          float& v = im.frame[size_t(ch * hw + y * im.w + x)];
          v = clamp01(v * (m * cel.at(ch, y, x) + (1.f - m) * bg.at(ch, y, x)));
        }
  } else {
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t y = 0; y < im.h; ++y)
        for (int64_t x = 0; x < im.w; ++x) {
          float& v = im.frame[size_t(ch * hw + y * im.w + x)];
          v = clamp01(v * cel.at(ch, y, x));
        }
  }
}

// ---- 4.–6. geometry, erasure, pad/crop -------------------------------------------------
// The three are computed together but give exactly the result of running them one after the
// other: the geometric output size, the erasure rectangle and the crop/pad offsets depend only
// on sizes and on their own streams, so only the window of the scaled image that survives the
// final crop is resampled (4× less work at scale 2).

struct Geom {
  bool active = false;
  double s = 1.0, th = 0.0;
  bool flip = false;
  int64_t ho = 0, wo = 0;  // size after the geometric step
};

Geom draw_geometry(const AugmentConfig& c, uint64_t seed, int64_t H, int64_t W) {
  Geom g;
  if (c.scale) {
    Rng r(seed, kScale);
    g.s = r.uniform(c.scale_min, c.scale_max);
  }
  if (c.rotate) {
    Rng r(seed, kRotate);
    g.th = r.uniform(-c.rotate_deg, c.rotate_deg) * kPi / 180.0;
  }
  if (c.flip) {
    Rng r(seed, kFlip);
    g.flip = r.uniform() < c.flip_p;
  }
  g.active = !(g.s == 1.0 && g.th == 0.0 && !g.flip);
  g.ho = g.active ? std::max<int64_t>(1, std::llround(double(H) * g.s)) : H;
  g.wo = g.active ? std::max<int64_t>(1, std::llround(double(W) * g.s)) : W;
  return g;
}

// Resamples the window [sy, sy + out_h) × [sx, sx + out_w) of the geometric output (size
// g.ho × g.wo; pixels outside it are 0) into an out_h × out_w image.
Img resample_window(const Img& im, const Geom& g, int64_t out_h, int64_t out_w, int64_t sy, int64_t sx) {
  const int64_t H = im.h, W = im.w, Ho = g.ho, Wo = g.wo;
  // Forward: p_out = c_out + s·R(θ)·F·(p_in − c_in); inverse: p_in = c_in + F·R(−θ)·(p_out − c_out)/s,
  // with R(−θ)(dx, dy) = (cos·dx + sin·dy, −sin·dx + cos·dy) and F the mirror x → −x.
  const double cyi = 0.5 * double(H - 1), cxi = 0.5 * double(W - 1);
  const double cyo = 0.5 * double(Ho - 1), cxo = 0.5 * double(Wo - 1);
  const double co = std::cos(g.th) / g.s, si = std::sin(g.th) / g.s;
  const double fx = g.flip ? -1.0 : 1.0;
  Img out;
  out.h = out_h;
  out.w = out_w;
  out.frame.assign(size_t(3 * out_h * out_w), 0.f);
  out.has_mask = im.has_mask;
  out.has_douga = im.has_douga;
  if (im.has_mask) out.mask.assign(size_t(out_h * out_w), 0.f);
  if (im.has_douga) out.douga.assign(size_t(out_h * out_w), 0);
  const int64_t hw = H * W, hwo = out_h * out_w;
  const float* F0 = im.frame.data();
  const float* F1 = F0 + hw;
  const float* F2 = F1 + hw;
  const double ylim = double(H) - 0.5, xlim = double(W) - 0.5;
  const int64_t ylo = std::max<int64_t>(0, -sy), yhi = std::min<int64_t>(out_h, Ho - sy);
  const int64_t xlo = std::max<int64_t>(0, -sx), xhi = std::min<int64_t>(out_w, Wo - sx);
  for (int64_t y = ylo; y < yhi; ++y) {
    const double dy = double(y + sy) - cyo;
    for (int64_t x = xlo; x < xhi; ++x) {
      const double dx = double(x + sx) - cxo;
      const double xi = cxi + fx * (co * dx + si * dy);
      const double yi = cyi + (-si * dx + co * dy);
      if (!(xi >= -0.5 && xi <= xlim && yi >= -0.5 && yi <= ylim)) continue;
      const int64_t o = y * out_w + x;
      // Labels: nearest (round half up), clamped at the far border (xi = W − 0.5).
      if (im.has_mask || im.has_douga) {
        const int64_t ny = std::min<int64_t>(H - 1, int64_t(yi + 0.5));  // yi + 0.5 ≥ 0
        const int64_t nx = std::min<int64_t>(W - 1, int64_t(xi + 0.5));
        if (im.has_mask) out.mask[size_t(o)] = im.mask[size_t(ny * W + nx)];
        if (im.has_douga) out.douga[size_t(o)] = im.douga[size_t(ny * W + nx)];
      }
      // Frame: bilinear, taps clamped to the border.
      const double yc = std::min(double(H - 1), std::max(0.0, yi));
      const double xc = std::min(double(W - 1), std::max(0.0, xi));
      const int64_t y0 = int64_t(yc), x0 = int64_t(xc);  // yc, xc ≥ 0: truncation = floor
      const int64_t y1 = std::min(H - 1, y0 + 1), x1 = std::min(W - 1, x0 + 1);
      const float wy = float(yc - double(y0)), wx = float(xc - double(x0));
      const int64_t i00 = y0 * W + x0, i01 = y0 * W + x1, i10 = y1 * W + x0, i11 = y1 * W + x1;
      const float* planes[3] = {F0, F1, F2};
      for (int64_t ch = 0; ch < 3; ++ch) {
        const float* f = planes[ch];
        const float a = f[i00], b = f[i01], cc = f[i10], d = f[i11];
        // Exact at integer positions (wx = 0 / wy = 0): no blend with the neighbour.
        const float top = wx == 0.f ? a : a + wx * (b - a);
        const float bot = wx == 0.f ? cc : cc + wx * (d - cc);
        out.frame[size_t(ch * hwo + o)] = wy == 0.f ? top : top + wy * (bot - top);
      }
    }
  }
  return out;
}

// Output pixel (y, x) takes input pixel (y + sy, x + sx) when inside, else 0 / label 0.
Img shift_window(const Img& im, int64_t out_h, int64_t out_w, int64_t sy, int64_t sx) {
  Img out;
  out.h = out_h;
  out.w = out_w;
  out.has_mask = im.has_mask;
  out.has_douga = im.has_douga;
  out.frame.assign(size_t(3 * out_h * out_w), 0.f);
  if (im.has_mask) out.mask.assign(size_t(out_h * out_w), 0.f);
  if (im.has_douga) out.douga.assign(size_t(out_h * out_w), 0);
  const int64_t hw = im.h * im.w, hwo = out_h * out_w;
  const int64_t ylo = std::max<int64_t>(0, -sy), yhi = std::min<int64_t>(out_h, im.h - sy);
  const int64_t xlo = std::max<int64_t>(0, -sx), xhi = std::min<int64_t>(out_w, im.w - sx);
  if (ylo >= yhi || xlo >= xhi) return out;
  const size_t n = size_t(xhi - xlo);
  for (int64_t y = ylo; y < yhi; ++y) {
    const int64_t si = (y + sy) * im.w + (xlo + sx), o = y * out_w + xlo;
    for (int64_t ch = 0; ch < 3; ++ch)
      std::memcpy(&out.frame[size_t(ch * hwo + o)], &im.frame[size_t(ch * hw + si)], n * sizeof(float));
    if (im.has_mask) std::memcpy(&out.mask[size_t(o)], &im.mask[size_t(si)], n * sizeof(float));
    if (im.has_douga) std::memcpy(&out.douga[size_t(o)], &im.douga[size_t(si)], n * sizeof(int32_t));
  }
  return out;
}

// A rectangle [y0, y0 + eh) × [x0, x0 + ew) of an h × w image.
struct Rect {
  int64_t y0 = 0, x0 = 0, eh = 0, ew = 0;
};

Rect draw_erasure(const AugmentConfig& c, uint64_t seed, int64_t h, int64_t w) {
  Rng r(seed, kErase);
  Rect e;
  e.eh = std::min<int64_t>(h, std::llround(r.uniform(0.0, c.erase_max) * double(h)));
  e.ew = std::min<int64_t>(w, std::llround(r.uniform(0.0, c.erase_max) * double(w)));
  e.y0 = r.index_upto(h - e.eh);
  e.x0 = r.index_upto(w - e.ew);
  return e;
}

// Zeroes frame and labels inside the rectangle given in coordinates shifted by (sy, sx).
void erase_rect(Img& im, const Rect& e, int64_t sy, int64_t sx) {
  const int64_t ya = std::max<int64_t>(0, e.y0 - sy), yb = std::min<int64_t>(im.h, e.y0 + e.eh - sy);
  const int64_t xa = std::max<int64_t>(0, e.x0 - sx), xb = std::min<int64_t>(im.w, e.x0 + e.ew - sx);
  const int64_t hw = im.h * im.w;
  for (int64_t y = ya; y < yb; ++y)
    for (int64_t x = xa; x < xb; ++x) {
      const int64_t o = y * im.w + x;
      for (int64_t ch = 0; ch < 3; ++ch) im.frame[size_t(ch * hw + o)] = 0.f;
      if (im.has_mask) im.mask[size_t(o)] = 0.f;
      if (im.has_douga) im.douga[size_t(o)] = 0;
    }
}

void check_out_size(int64_t out_h, int64_t out_w, const char* fn) {
  SAKUGA_CHECK(out_h >= 1 && out_w >= 1, fn, ": output size must be ≥ 1, got ", out_h, "×", out_w);
}

void check_field(bool ok, const char* field, double value, const char* expected) {
  SAKUGA_CHECK(ok, "augment.", field, " = ", value, ": expected ", expected);
}

}  // namespace

void validate(const AugmentConfig& c) {
  auto fin = [](double v) { return std::isfinite(v); };
  check_field(fin(c.brightness_std) && c.brightness_std >= 0, "brightness_std", c.brightness_std, "a finite value ≥ 0");
  check_field(fin(c.contrast_std) && c.contrast_std >= 0, "contrast_std", c.contrast_std, "a finite value ≥ 0");
  check_field(fin(c.hue_std_deg) && c.hue_std_deg >= 0, "hue_std_deg", c.hue_std_deg, "a finite value ≥ 0");
  check_field(fin(c.scale_min) && c.scale_min > 0, "scale_min", c.scale_min, "a finite value > 0");
  check_field(fin(c.scale_max) && c.scale_max >= c.scale_min, "scale_max", c.scale_max,
              "a finite value ≥ scale_min");
  check_field(c.scale_max <= 16, "scale_max", c.scale_max, "≤ 16");
  check_field(fin(c.rotate_deg) && c.rotate_deg >= 0 && c.rotate_deg <= 180, "rotate_deg", c.rotate_deg,
              "a value in [0, 180]");
  check_field(fin(c.flip_p) && c.flip_p >= 0 && c.flip_p <= 1, "flip_p", c.flip_p, "a probability in [0, 1]");
  check_field(fin(c.erase_max) && c.erase_max >= 0 && c.erase_max <= 1, "erase_max", c.erase_max,
              "a fraction in [0, 1]");
}

SegSample augment(const SegSample& s, const AugmentConfig& c, int64_t out_h, int64_t out_w, uint64_t seed,
                  const AugmentSources& src) {
  validate(c);
  check_out_size(out_h, out_w, "augment");
  Img im = to_img(s);
  if (c.brightness || c.contrast || c.hue) colour_jitter(im, c, seed);
  if (c.background && im.has_mask) replace_background(im, src, seed);
  if (c.texture) overlay_texture(im, src, seed);
  const Geom g = draw_geometry(c, seed, im.h, im.w);  // g.ho × g.wo: the size after geometry
  // Crop: source offset in [0, Ho − out]; pad: placement offset in [0, out − Ho] (negative shift).
  Rng r(seed, kCrop);
  const int64_t sy = g.ho >= out_h ? r.index_upto(g.ho - out_h) : -r.index_upto(out_h - g.ho);
  const int64_t sx = g.wo >= out_w ? r.index_upto(g.wo - out_w) : -r.index_upto(out_w - g.wo);
  Img out = g.active ? resample_window(im, g, out_h, out_w, sy, sx)
            : (sy == 0 && sx == 0 && im.h == out_h && im.w == out_w) ? std::move(im)
                                                                     : shift_window(im, out_h, out_w, sy, sx);
  if (c.erase) erase_rect(out, draw_erasure(c, seed, g.ho, g.wo), sy, sx);
  return to_sample(out, s.name);
}

SegSample fit_to_size(const SegSample& s, int64_t out_h, int64_t out_w) {
  check_out_size(out_h, out_w, "fit_to_size");
  Img im = to_img(s);
  if (im.h == out_h && im.w == out_w) return to_sample(im, s.name);
  return to_sample(shift_window(im, out_h, out_w, 0, 0), s.name);
}

}  // namespace sakuga::data
