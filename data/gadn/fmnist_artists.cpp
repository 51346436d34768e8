// Fashion-MNIST × artists (data/gadn/fmnist_artists.h).
#include "data/gadn/fmnist_artists.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sakuga::data::gadn {

namespace {

constexpr int kPad = (kArtistImageSize - kGarmentSize) / 2;
constexpr int kN = kArtistImageSize;
// Grey level of the (slanted, thickened) garment from which a pixel is inside its silhouette.
constexpr float kGarmentThreshold = 0.15f;
constexpr float kTint = 0.3f;  // ink weight of the inside of outline and hatching styles

// The 28 × 28 garment padded to 32 × 32 and sheared: x' = x + slant·(y + ½ − 16), bilinear,
// zero outside.
std::vector<float> pad_and_slant(const std::vector<float>& g28, float slant) {
  std::vector<float> out(size_t(kN * kN), 0.f);
  auto src = [&](int x, int y) -> float {  // the padded garment, zero outside
    x -= kPad;
    y -= kPad;
    if (x < 0 || y < 0 || x >= kGarmentSize || y >= kGarmentSize) return 0.f;
    return g28[size_t(y * kGarmentSize + x)];
  };
  for (int y = 0; y < kN; ++y) {
    const double shift = double(slant) * (y + 0.5 - kN / 2.0);
    for (int x = 0; x < kN; ++x) {
      const double sx = x - shift;  // sample the source at pixel-index coordinate sx
      const int x0 = int(std::floor(sx));
      const float f = float(sx - x0);
      out[size_t(y * kN + x)] = (1 - f) * src(x0, y) + f * src(x0 + 1, y);
    }
  }
  return out;
}

// Garment pixels (≥ kGarmentThreshold) in the 5 × 5 window around each pixel.
std::vector<int> garment_counts5(const std::vector<float>& v) {
  std::vector<int> n(v.size(), 0);
  for (int y = 0; y < kN; ++y)
    for (int x = 0; x < kN; ++x)
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < kN && yy < kN && v[size_t(yy * kN + xx)] >= kGarmentThreshold)
            ++n[size_t(y * kN + x)];
        }
  return n;
}

// Grey-level dilation (t > 0) or erosion (t < 0) with the 3 × 3 cross, blended by |t|. Erosion
// spares pixels with fewer than kThickRegion garment pixels in their 5 × 5 window: thin parts
// (sandal straps, bag handles: 1–2 px wide have at most 10) would vanish, and with them the
// garment's identity; the edges of solid parts (15 at a straight edge) still recede.
constexpr int kThickRegion = 13;
std::vector<float> thicken(const std::vector<float>& v, float t) {
  if (t == 0.f) return v;
  std::vector<float> out(v.size());
  const bool dilate = t > 0;
  const float a = std::fabs(t);
  const std::vector<int> counts = dilate ? std::vector<int>() : garment_counts5(v);
  for (int y = 0; y < kN; ++y)
    for (int x = 0; x < kN; ++x) {
      if (!dilate && counts[size_t(y * kN + x)] < kThickRegion) {
        out[size_t(y * kN + x)] = v[size_t(y * kN + x)];
        continue;
      }
      float m = v[size_t(y * kN + x)];
      const int nx[4] = {x - 1, x + 1, x, x}, ny[4] = {y, y, y - 1, y + 1};
      for (int k = 0; k < 4; ++k) {
        const bool inside = nx[k] >= 0 && ny[k] >= 0 && nx[k] < kN && ny[k] < kN;
        const float n = inside ? v[size_t(ny[k] * kN + nx[k])] : 0.f;
        m = dilate ? std::max(m, n) : std::min(m, n);
      }
      const float c = v[size_t(y * kN + x)];
      out[size_t(y * kN + x)] = c + a * (m - c);
    }
  return out;
}

bool on_hatch_line(int x, int y, int angle, int period) {
  int u = 0;
  switch (angle) {
    case 0: u = y; break;
    case 90: u = x; break;
    case 45: u = x + y; break;
    default: u = x - y + 2 * kN; break;  // 135
  }
  return u % period == 0;
}

float colour_distance(const draw::Rgb& a, const draw::Rgb& b) {
  return std::fabs(a.r - b.r) + std::fabs(a.g - b.g) + std::fabs(a.b - b.b);
}

// How different two styles look: colour distances, plus a difference of stroke.
float style_distance(const ArtistStyle& a, const ArtistStyle& b) {
  return colour_distance(a.ink, b.ink) + colour_distance(a.paper, b.paper) + (a.stroke != b.stroke ? 0.6f : 0.f);
}

ArtistStyle draw_style(draw::Rng& rng) {
  ArtistStyle s;
  for (;;) {
    const bool dark_paper = rng.chance(0.25);
    if (dark_paper) {
      s.paper = draw::hsv(rng.uni(), rng.uni(0.2, 0.7), rng.uni(0.08, 0.22));
      s.ink = draw::hsv(rng.uni(), rng.uni(0.2, 0.8), rng.uni(0.85, 1.0));
    } else {
      s.paper = draw::hsv(rng.uni(), rng.uni(0.0, 0.3), rng.uni(0.88, 1.0));
      s.ink = draw::hsv(rng.uni(), rng.uni(0.5, 1.0), rng.uni(0.15, 0.6));
    }
    if (std::fabs(draw::luma(s.ink) - draw::luma(s.paper)) >= 0.4f) break;
  }
  s.stroke = Stroke(rng.range(0, 2));
  s.thickness = float(rng.uni(-1, 1));
  s.slant = float(rng.uni(-0.2, 0.2));
  s.hatch_angle = 45 * rng.range(0, 3);
  s.hatch_period = rng.range(3, 4);
  return s;
}

std::vector<float> garment_values(const Tensor& g) {
  SAKUGA_CHECK(g.numel() == kGarmentSize * kGarmentSize && !g.is_cuda(),
               "render_garment: expected a CPU (28, 28) garment image, got ", g.str());
  return g.to_vector();
}

}  // namespace

const char* stroke_name(Stroke s) {
  switch (s) {
    case Stroke::fill: return "fill";
    case Stroke::outline: return "outline";
    default: return "hatching";
  }
}

nlohmann::json to_json(const ArtistStyle& s) {
  auto rgb = [](const draw::Rgb& c) { return nlohmann::json::array({c.r, c.g, c.b}); };
  return {{"ink", rgb(s.ink)},         {"paper", rgb(s.paper)},         {"stroke", stroke_name(s.stroke)},
          {"thickness", s.thickness},  {"slant", s.slant},              {"hatch_angle", s.hatch_angle},
          {"hatch_period", s.hatch_period}};
}

std::vector<ArtistStyle> artist_styles(int count, uint64_t seed) {
  SAKUGA_CHECK(count >= 1, "artist_styles: need at least 1 artist, got ", count);
  draw::Rng rng(draw::mix64(seed) ^ 0x41525449535453ull);
  std::vector<ArtistStyle> styles;
  for (int k = 0; k < count; ++k) {
    // The bar is lowered slowly, so any count terminates; 16 artists clear the first bar.
    for (int attempt = 0;; ++attempt) {
      const ArtistStyle s = draw_style(rng);
      const float bar = 1.0f * std::pow(0.97f, float(attempt / 20));
      bool far = true;
      for (const ArtistStyle& o : styles) far = far && style_distance(s, o) >= bar;
      if (far) {
        styles.push_back(s);
        break;
      }
    }
  }
  return styles;
}

std::vector<float> garment_ink_weight(const std::vector<float>& garment28, const ArtistStyle& style) {
  SAKUGA_CHECK(garment28.size() == size_t(kGarmentSize * kGarmentSize), "garment_ink_weight: expected 784 values, got ",
               garment28.size());
  const std::vector<float> v = thicken(pad_and_slant(garment28, style.slant), style.thickness);
  draw::Mask inside(v.size(), 0);
  float vmax = kGarmentThreshold;
  for (size_t i = 0; i < v.size(); ++i) {
    inside[i] = v[i] >= kGarmentThreshold;
    vmax = std::max(vmax, v[i]);
  }
  const draw::Box all{0, 0, kN, kN};
  const double contour_width = style.thickness > 0.5f ? 1.5 : 1.0;
  const draw::Mask contour =
      style.stroke == Stroke::fill ? draw::Mask(v.size(), 0) : draw::inner_boundary(inside, kN, all, contour_width);
  std::vector<float> w(v.size());
  for (int y = 0; y < kN; ++y)
    for (int x = 0; x < kN; ++x) {
      const size_t i = size_t(y * kN + x);
      if (!inside[i]) {
        w[i] = v[i];  // a soft edge, below the silhouette threshold
        continue;
      }
      switch (style.stroke) {
        case Stroke::fill: w[i] = 0.45f + 0.55f * std::min(1.f, v[i] / vmax); break;
        case Stroke::outline: w[i] = contour[i] ? 1.f : kTint; break;
        case Stroke::hatching:
          w[i] = contour[i] || on_hatch_line(x, y, style.hatch_angle, style.hatch_period) ? 1.f : kTint;
          break;
      }
    }
  return w;
}

Tensor render_garment(const Tensor& garment, const ArtistStyle& style) {
  const std::vector<float> w = garment_ink_weight(garment_values(garment), style);
  const size_t n = w.size();
  std::vector<float> chw(3 * n);
  const float ink[3] = {style.ink.r, style.ink.g, style.ink.b}, paper[3] = {style.paper.r, style.paper.g, style.paper.b};
  for (size_t c = 0; c < 3; ++c)
    for (size_t i = 0; i < n; ++i) chw[c * n + i] = 2.f * (paper[c] + (ink[c] - paper[c]) * w[i]) - 1.f;
  return Tensor::from_vector(chw, {3, kN, kN});
}

std::string artist_label(int k) {
  char name[32];
  std::snprintf(name, sizeof name, "artist-%02d", k);
  return name;
}

FmnistArtists::FmnistArtists(const std::string& split, int64_t max_count, int artists, uint64_t artist_seed,
                             const std::string& dir)
    : set_(load_fashion_mnist(split, max_count, dir)), styles_(artist_styles(artists, artist_seed)) {
  SAKUGA_CHECK(set_.size() >= 1, "FmnistArtists: the ", split, " split of ", dir, " holds no garment");
}

const ArtistStyle& FmnistArtists::style(int artist) const {
  SAKUGA_CHECK(artist >= 0 && artist < artists(), "FmnistArtists: artist ", artist, " out of range (", artists(),
               " artists)");
  return styles_[size_t(artist)];
}

int FmnistArtists::garment_class(int64_t index) const {
  SAKUGA_CHECK(index >= 0 && index < size(), "FmnistArtists: garment ", index, " out of range (", size(), ")");
  return set_.labels.data<int32_t>()[index];
}

Tensor FmnistArtists::garment(int64_t index) const {
  garment_class(index);
  const float* p = set_.images.data<float>() + index * kGarmentSize * kGarmentSize;
  return Tensor::from_vector(std::vector<float>(p, p + kGarmentSize * kGarmentSize), {1, kGarmentSize, kGarmentSize});
}

Tensor FmnistArtists::sample(int64_t index, int artist) const { return render_garment(garment(index), style(artist)); }

}  // namespace sakuga::data::gadn
