// Synthetic scenes (scenes.h): one region map, painted twice — textured and lit for the photo,
// flat and outlined for the anime rendering.
#include "data/scenes.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "data/png.h"

namespace sakuga::data::scenes {

using draw::Rgb;

namespace {

struct Palette {
  Rgb sky_top, sky_horizon, cloud, far_mountain, hill, water, ground, building, window, trunk, foliage;
};

Palette draw_palette(draw::Rng& rng) {
  Palette p;
  const double sky_hue = rng.uni(0.53, 0.66), warm = rng.uni(0.0, 0.12);
  p.sky_top = draw::hsv(sky_hue, rng.uni(0.5, 0.8), rng.uni(0.55, 0.85));
  p.sky_horizon = draw::hsv(sky_hue - 0.05 + warm, rng.uni(0.15, 0.4), rng.uni(0.85, 1.0));
  p.cloud = draw::hsv(0.1, rng.uni(0.0, 0.08), rng.uni(0.9, 1.0));
  p.far_mountain = draw::hsv(rng.uni(0.55, 0.7), rng.uni(0.2, 0.45), rng.uni(0.45, 0.7));
  p.hill = draw::hsv(rng.uni(0.22, 0.36), rng.uni(0.35, 0.7), rng.uni(0.35, 0.6));
  p.water = draw::hsv(rng.uni(0.5, 0.62), rng.uni(0.4, 0.7), rng.uni(0.4, 0.65));
  p.ground = draw::hsv(rng.uni(0.08, 0.3), rng.uni(0.3, 0.6), rng.uni(0.35, 0.6));
  p.building = draw::hsv(rng.uni(0.0, 1.0), rng.uni(0.05, 0.35), rng.uni(0.5, 0.85));
  p.window = draw::hsv(rng.uni(0.55, 0.65), rng.uni(0.2, 0.5), rng.uni(0.25, 0.45));
  p.trunk = draw::hsv(rng.uni(0.05, 0.1), rng.uni(0.4, 0.7), rng.uni(0.2, 0.35));
  p.foliage = draw::hsv(rng.uni(0.2, 0.38), rng.uni(0.45, 0.85), rng.uni(0.25, 0.5));
  return p;
}

Rgb region_colour(const Palette& p, uint8_t r) {
  switch (r) {
    case cloud: return p.cloud;
    case far_mountain: return p.far_mountain;
    case hill: return p.hill;
    case water: return p.water;
    case ground: return p.ground;
    case building: return p.building;
    case window: return p.window;
    case trunk: return p.trunk;
    case foliage: return p.foliage;
    default: return p.sky_top;
  }
}

// A ridge line y(x) = base + Σ amplitude·sin(frequency·x + phase) (3 octaves), below which
// pixels belong to `region`.
void ridge(draw::Rng& rng, std::vector<uint8_t>& lab, int h, int w, double base, double amp, uint8_t region) {
  double a[3], f[3], ph[3];
  for (int k = 0; k < 3; ++k) {
    a[k] = amp * rng.uni(0.3, 1.0) / double(k + 1);
    f[k] = rng.uni(1.0, 3.0) * double(k + 1) * 2.0 * draw::kPi / double(w);
    ph[k] = rng.uni(0.0, 2.0 * draw::kPi);
  }
  for (int x = 0; x < w; ++x) {
    double y = base;
    for (int k = 0; k < 3; ++k) y += a[k] * std::sin(f[k] * x + ph[k]);
    for (int yy = std::max(0, int(y)); yy < h; ++yy) lab[size_t(yy) * size_t(w) + size_t(x)] = region;
  }
}

void paint_mask(std::vector<uint8_t>& lab, const draw::Mask& m, uint8_t region) {
  for (size_t i = 0; i < lab.size(); ++i)
    if (m[i]) lab[i] = region;
}

// The region map of a scene: sky, clouds, a far ridge, hills, water or ground below the horizon,
// buildings (street scenes), trees.
std::vector<uint8_t> layout(draw::Rng& rng, int h, int w, bool street) {
  std::vector<uint8_t> lab(size_t(h) * size_t(w), sky);
  const double horizon = h * rng.uni(0.45, 0.65);
  draw::Mask m(lab.size(), 0);
  for (int c = rng.range(1, 4); c > 0; --c) {  // clouds
    std::fill(m.begin(), m.end(), 0);
    draw::fill_radial(rng, m, h, w, rng.uni(0, w), rng.uni(0.05, 0.35) * h, rng.uni(0.08, 0.2) * w,
                      rng.uni(0.03, 0.07) * h, true);
    paint_mask(lab, m, cloud);
  }
  ridge(rng, lab, h, w, horizon - h * rng.uni(0.1, 0.25), h * 0.08, far_mountain);
  ridge(rng, lab, h, w, horizon - h * rng.uni(0.0, 0.08), h * 0.04, hill);
  const bool lake = !street && rng.chance(0.6);
  for (int y = int(horizon) + 1; y < h; ++y)
    for (int x = 0; x < w; ++x) lab[size_t(y) * size_t(w) + size_t(x)] = lake && y < horizon + 0.25 * h ? water : ground;
  if (street) {
    for (int b = rng.range(2, 5); b > 0; --b) {
      const double bw = rng.uni(0.1, 0.25) * w, bh = rng.uni(0.2, 0.45) * h, x0 = rng.uni(-0.1, 0.9) * w;
      const double y1 = horizon + rng.uni(0.05, 0.2) * h;
      std::fill(m.begin(), m.end(), 0);
      draw::fill_polygon(m, h, w, {x0, x0 + bw, x0 + bw, x0}, {y1 - bh, y1 - bh, y1, y1});
      paint_mask(lab, m, building);
      for (double wy = y1 - bh + 0.06 * bh; wy < y1 - 0.15 * bh; wy += 0.18 * bh)
        for (double wx = x0 + 0.12 * bw; wx < x0 + bw - 0.2 * bw; wx += 0.3 * bw) {
          std::fill(m.begin(), m.end(), 0);
          draw::fill_polygon(m, h, w, {wx, wx + 0.15 * bw, wx + 0.15 * bw, wx},
                             {wy, wy, wy + 0.09 * bh, wy + 0.09 * bh});
          paint_mask(lab, m, window);
        }
    }
  }
  for (int t = rng.range(1, street ? 3 : 6); t > 0; --t) {  // trees: a trunk and a crown
    const double tx = rng.uni(0, w), base = horizon + rng.uni(0.02, 0.35) * h, size = rng.uni(0.05, 0.12) * h;
    std::fill(m.begin(), m.end(), 0);
    draw::fill_polygon(m, h, w, {tx - 0.12 * size, tx + 0.12 * size, tx + 0.12 * size, tx - 0.12 * size},
                       {base - 1.2 * size, base - 1.2 * size, base, base});
    paint_mask(lab, m, trunk);
    std::fill(m.begin(), m.end(), 0);
    draw::fill_radial(rng, m, h, w, tx, base - 1.6 * size, size * rng.uni(0.8, 1.2), size, true);
    paint_mask(lab, m, foliage);
  }
  return lab;
}

}  // namespace

// The anime grade: vivid colours, as anime backgrounds are painted (saturation ×1.45 around the
// luminance, then a little brighter). The photo keeps the camera's duller colours, so the
// translation has a colour grade to learn besides the flattening and the outlines.
static Rgb anime_grade(Rgb c) {
  const float l = 0.299f * c.r + 0.587f * c.g + 0.114f * c.b;
  auto g = [l](float v) { return std::clamp((l + (v - l) * 1.45f) * 1.08f + 0.02f, 0.f, 1.f); };
  return {g(c.r), g(c.g), g(c.b)};
}

namespace {

// The supersampling factor: scenes are drawn at the detail of a 256-px frame and area-averaged
// down, as a frame resized for training would be; drawn directly at
// 64², the one-pixel outlines covered a tenth of the image and half of its error to any photo.
int supersampling(int h, int w) { return std::clamp(256 / std::max(h, w), 1, 4); }

// Outlines where the region changes within `width` pixels to the right or below, not between
// sky and cloud (soft edges).
bool on_outline(const std::vector<uint8_t>& lab, int h, int w, int x, int y, int width) {
  const uint8_t r = lab[size_t(y) * size_t(w) + size_t(x)];
  auto soft = [](uint8_t q) { return q == sky || q == cloud; };
  auto differs = [&](int xx, int yy) {
    if (xx >= w || yy >= h) return false;
    const uint8_t q = lab[size_t(yy) * size_t(w) + size_t(xx)];
    return q != r && !(soft(r) && soft(q));
  };
  for (int k = 1; k <= width; ++k)
    if (differs(x + k, y) || differs(x, y + k)) return true;
  return false;
}

// The mean of each ss × ss block of `hi` ((h·ss, w·ss) → (h, w)).
draw::Raster area_down(const draw::Raster& hi, int ss) {
  draw::Raster lo(hi.h / ss, hi.w / ss);
  const float inv = 1.f / float(ss * ss);
  for (int y = 0; y < lo.h; ++y)
    for (int x = 0; x < lo.w; ++x) {
      float* o = lo.at(size_t(y) * size_t(lo.w) + size_t(x));
      for (int dy = 0; dy < ss; ++dy)
        for (int dx = 0; dx < ss; ++dx) {
          const float* q = &hi.px[(size_t(y * ss + dy) * size_t(hi.w) + size_t(x * ss + dx)) * 3];
          for (int c = 0; c < 3; ++c) o[c] += q[c] * inv;
        }
    }
  return lo;
}

}  // namespace

Scene render_scene(uint64_t seed, int h, int w) {
  SAKUGA_CHECK(h >= 16 && w >= 16, "render_scene: expected at least 16x16, got ", h, "x", w);
  draw::Rng rng(seed);
  const bool street = rng.chance(0.4);
  const Palette pal = draw_palette(rng);
  draw::Rng shape_rng = rng.fork(), tex_rng = rng.fork(), noise_rng = rng.fork();
  const int ss = supersampling(h, w), H = h * ss, W = w * ss;  // the drawing's resolution
  const int line_width = 2;  // in drawing pixels: two at 256 px, half a pixel at 64²
  const std::vector<uint8_t> lab = layout(shape_rng, H, W, street);
  draw::Raster photo(H, W), anime(H, W);
  const std::vector<float> tex = draw::value_noise(tex_rng, H, W, std::max(2.0, 0.03 * W));
  const std::vector<float> fine = draw::value_noise(tex_rng, H, W, 2.0 * ss);  // the photo's grain, per output pixel
  const Rgb tint = draw::hsv(tex_rng.uni(0.0, 1.0), tex_rng.uni(0.0, 0.15), 1.0);
  const float light = float(tex_rng.uni(0.8, 1.15));
  const Rgb outline = draw::mix(pal.trunk, {0.05f, 0.04f, 0.06f}, 0.7f);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * size_t(W) + size_t(x);
      const uint8_t r = lab[i];
      const float t = float(y) / float(H), n = tex[i], f = fine[i];
      // Photo: gradients, textures, haze, reflections.
      Rgb c = region_colour(pal, r);
      switch (r) {
        case sky: c = draw::mix(pal.sky_top, pal.sky_horizon, std::min(1.f, t * 1.6f)); break;
        case cloud: c = draw::mix(pal.cloud, pal.sky_horizon, 0.25f + 0.2f * n); break;
        case far_mountain: c = draw::mix(c, pal.sky_horizon, 0.35f + 0.15f * n); break;
        case water: c = draw::mix(draw::mix(pal.water, pal.sky_horizon, 0.4f), pal.sky_top, 0.3f + 0.25f * f); break;
        case foliage: c = draw::mix(c, {0.f, 0.f, 0.f}, 0.25f + 0.25f * f); break;
        default: break;
      }
      // The sky stays a smooth gradient; the other regions get broad shading and fine texture.
      const float shade = r == sky ? 1.f : 1.f + 0.18f * n + (r == cloud ? 0.f : 0.08f * f);
      float* p = photo.at(i);
      p[0] = c.r * shade * light * tint.r;
      p[1] = c.g * shade * light * tint.g;
      p[2] = c.b * shade * light * tint.b;
      // Anime: flat regions, a posterised sky (three bands), two-tone foliage and mountains.
      Rgb a = region_colour(pal, r);
      if (r == sky) a = draw::mix(pal.sky_top, pal.sky_horizon, std::min(1.f, std::floor(t * 1.6f * 3.f) / 2.f));
      if ((r == foliage || r == hill || r == far_mountain) && n < -0.15f) a = draw::mix(a, {0.f, 0.f, 0.f}, 0.3f);
      if (r == water) a = draw::mix(pal.water, pal.sky_horizon, 0.3f);
      if (on_outline(lab, H, W, x, y, line_width)) a = outline;
      else a = anime_grade(a);
      float* q = anime.at(i);
      q[0] = a.r;
      q[1] = a.g;
      q[2] = a.b;
    }
  Scene s{area_down(photo, ss), area_down(anime, ss), std::vector<uint8_t>(size_t(h) * size_t(w))};
  for (int y = 0; y < h; ++y)  // each output pixel's region: the drawing's at its centre
    for (int x = 0; x < w; ++x)
      s.regions[size_t(y) * size_t(w) + size_t(x)] = lab[size_t(y * ss + ss / 2) * size_t(W) + size_t(x * ss + ss / 2)];
  draw::gaussian_blur(s.photo, 0.6 * std::max(1.0, w / 256.0));  // optics: texture, not mosaic
  draw::add_noise(noise_rng, s.photo, 0.012f);                      // sensor noise
  draw::clamp01(s.photo);
  draw::clamp01(s.anime);
  return s;
}

void write_dataset(const std::string& out, int64_t count, uint64_t seed, int h, int w,
                   const std::function<void(int64_t, int64_t)>& progress) {
  SAKUGA_CHECK(count >= 1, "synth scenimefy: --count must be at least 1, got ", count);
  namespace fs = std::filesystem;
  for (const char* d : {"trainA", "trainB", "truth", "pairs/A", "pairs/B"}) fs::create_directories(fs::path(out) / d);
  const int64_t pairs = (count + 3) / 4, total = 2 * count + pairs;
  int64_t done = 0;
  auto scene = [&](uint64_t part, int64_t k) { return render_scene(draw::mix64(seed * 3 + part) ^ uint64_t(k), h, w); };
  for (int64_t k = 0; k < count; ++k) {
    const Scene s = scene(1, k);
    const std::string name = fmt::format("scene-{:06d}.png", k);
    write_png_tensor((fs::path(out) / "trainA" / name).string(), draw::to_tensor(s.photo));
    write_png_tensor((fs::path(out) / "truth" / name).string(), draw::to_tensor(s.anime));
    if (progress) progress(++done, total);
  }
  for (int64_t k = 0; k < count; ++k) {
    const Scene s = scene(2, k);
    write_png_tensor((fs::path(out) / "trainB" / fmt::format("anime-{:06d}.png", k)).string(), draw::to_tensor(s.anime));
    if (progress) progress(++done, total);
  }
  for (int64_t k = 0; k < pairs; ++k) {
    const Scene s = scene(3, k);
    const std::string name = fmt::format("pair-{:06d}.png", k);
    write_png_tensor((fs::path(out) / "pairs/A" / name).string(), draw::to_tensor(s.photo));
    write_png_tensor((fs::path(out) / "pairs/B" / name).string(), draw::to_tensor(s.anime));
    if (progress) progress(++done, total);
  }
}

}  // namespace sakuga::data::scenes
