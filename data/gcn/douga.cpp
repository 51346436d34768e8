#include "data/gcn/douga.h"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

#include "tensor/autograd.h"

namespace sakuga::data {

namespace {

struct PaletteEntry {
  Rgb rgb;
  int cls;
};

const std::vector<std::vector<Rgb>>& palette() {
  static const std::vector<std::vector<Rgb>> p = {
      {{255, 255, 255}},                    // 0 flat_area
      {{0, 0, 0}, {110, 70, 40}},           // 1 visible_line
      {{90, 0, 140}},                       // 2 shading_line
      {{0, 170, 0}, {0, 170, 170}},         // 3 color_edge
      {{230, 0, 0}},                        // 4 highlight_line
      {{128, 128, 128}},                    // 5 book_line
      {{200, 170, 235}, {175, 140, 220}},   // 6 shading_fill
      {{185, 240, 185}, {185, 240, 240}},   // 7 color_fill
      {{255, 250, 185}, {255, 235, 150}},   // 8 highlight_fill
      {{215, 215, 215}, {235, 235, 235}},   // 9 book_fill
  };
  return p;
}

// Flattened palette in class order (so scanning in order and keeping strict improvements gives
// ties → lower class id).
const std::vector<PaletteEntry>& flat_palette() {
  static const std::vector<PaletteEntry> f = [] {
    std::vector<PaletteEntry> out;
    const auto& p = palette();
    for (int c = 0; c < kDougaClasses; ++c)
      for (const Rgb& rgb : p[size_t(c)]) out.push_back({rgb, c});
    return out;
  }();
  return f;
}

int nearest_class_uncached(uint32_t r, uint32_t g, uint32_t b) {
  int best = 0;
  int64_t best_d = std::numeric_limits<int64_t>::max();
  for (const PaletteEntry& e : flat_palette()) {
    const int64_t dr = int64_t(r) - e.rgb.r, dg = int64_t(g) - e.rgb.g, db = int64_t(b) - e.rgb.b;
    const int64_t d = dr * dr + dg * dg + db * db;
    if (d < best_d) best_d = d, best = e.cls;
  }
  return best;
}

// Process-wide cache keyed by the 24-bit colour: one byte per colour holding class + 1 (0 =
// not computed yet). Allocated zeroed with calloc (large calloc maps fresh zero pages lazily, so
// only pages of colours actually seen cost memory). Entries are written with relaxed atomics;
// every writer stores the same deterministic value, so races are harmless.
uint8_t* color_cache() {
  static uint8_t* cache = [] {
    auto* p = static_cast<uint8_t*>(std::calloc(size_t(1) << 24, 1));
    return p;  // nullptr → no cache (computed every time)
  }();
  return cache;
}

inline int nearest_class8(uint32_t r, uint32_t g, uint32_t b) {
  uint8_t* cache = color_cache();
  if (!cache) return nearest_class_uncached(r, g, b);
  const uint32_t key = (r << 16) | (g << 8) | b;
  uint8_t v = __atomic_load_n(cache + key, __ATOMIC_RELAXED);
  if (v == 0) {
    v = uint8_t(nearest_class_uncached(r, g, b) + 1);
    __atomic_store_n(cache + key, v, __ATOMIC_RELAXED);
  }
  return int(v) - 1;
}

inline uint32_t to8(uint32_t v, bool sixteen) { return sixteen ? (v * 255u + 32767u) / 65535u : v; }

}  // namespace

const std::array<const char*, kDougaClasses>& douga_class_names() {
  static const std::array<const char*, kDougaClasses> names = {
      "flat_area",    "visible_line", "shading_line", "color_edge",     "highlight_line",
      "book_line",    "shading_fill", "color_fill",   "highlight_fill", "book_fill"};
  return names;
}

const std::vector<Rgb>& douga_colors(int c) {
  SAKUGA_CHECK(c >= 0 && c < kDougaClasses, "douga_colors: class id must be in [0, ", kDougaClasses, "), got ", c);
  return palette()[size_t(c)];
}

Tensor douga_from_image(const Image& img) {
  img.validate("douga_from_image");
  NoGradGuard ng;
  Tensor out = Tensor::empty({img.height, img.width}, DType::i32);
  int32_t* o = out.data<int32_t>();
  const size_t n = size_t(img.height) * size_t(img.width);
  const size_t ch = size_t(img.channels);
  const bool color = img.channels >= 3, sixteen = img.bit_depth == 16;
  // Memo of the previous pixel: runs of one colour are the common case.
  uint32_t prev_key = 0xffffffffu;
  int prev_cls = 0;
  for (size_t p = 0; p < n; ++p) {
    const uint16_t* s = img.pixels.data() + p * ch;
    uint32_t r, g, b;
    if (color) {
      r = to8(s[0], sixteen), g = to8(s[1], sixteen), b = to8(s[2], sixteen);
    } else {
      r = g = b = to8(s[0], sixteen);
    }
    const uint32_t key = (r << 16) | (g << 8) | b;
    if (key != prev_key) {
      prev_key = key;
      prev_cls = nearest_class8(r, g, b);
    }
    o[p] = prev_cls;
  }
  return out;
}

namespace {
void check_class_map(const Tensor& classes, const char* what) {
  SAKUGA_CHECK(classes.defined(), what, ": undefined tensor");
  SAKUGA_CHECK(classes.dim() == 2, what, ": expected an (H, W) class map, got shape ", shape_str(classes.shape()));
  SAKUGA_CHECK(classes.dtype() == DType::i32, what, ": expected an i32 class map, got ", dtype_name(classes.dtype()));
}

// Host copy of an (H, W) i32 class map, every value checked.
std::vector<int32_t> class_values(const Tensor& classes, const char* what) {
  check_class_map(classes, what);
  std::vector<int32_t> v = classes.to_vector_i32();
  const int64_t w = classes.size(1);
  for (size_t i = 0; i < v.size(); ++i)
    SAKUGA_CHECK(v[i] >= 0 && v[i] < kDougaClasses, what, ": class value ", v[i], " at pixel (y=", int64_t(i) / w,
                 ", x=", int64_t(i) % w, ") is outside [0, ", kDougaClasses, ")");
  return v;
}
}  // namespace

Image douga_to_image(const Tensor& classes) {
  const std::vector<int32_t> v = class_values(classes, "douga_to_image");
  Image img(int(classes.size(0)), int(classes.size(1)), 3, 8);
  const auto& p = palette();
  for (size_t i = 0; i < v.size(); ++i) {
    const Rgb& c = p[size_t(v[i])][0];
    img.pixels[3 * i] = c.r, img.pixels[3 * i + 1] = c.g, img.pixels[3 * i + 2] = c.b;
  }
  return img;
}

Tensor douga_to_rgb(const Tensor& classes) {
  const std::vector<int32_t> v = class_values(classes, "douga_to_rgb");
  NoGradGuard ng;
  const int64_t h = classes.size(0), w = classes.size(1);
  const size_t hw = size_t(h * w);
  std::vector<float> rgb(3 * hw);
  const auto& p = palette();
  for (size_t i = 0; i < hw; ++i) {
    const Rgb& c = p[size_t(v[i])][0];
    rgb[i] = float(c.r) / 255.0f;
    rgb[hw + i] = float(c.g) / 255.0f;
    rgb[2 * hw + i] = float(c.b) / 255.0f;
  }
  return Tensor::from_vector(rgb, {3, h, w}, DType::f32, classes.device());
}

Tensor read_douga_png(const std::string& path) {
  Image img = read_png(path);  // errors name the file
  try {
    return douga_from_image(img);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

void write_douga_png(const std::string& path, const Tensor& classes) {
  Image img;
  try {
    img = douga_to_image(classes);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  write_png(path, img);  // errors name the file
}

}  // namespace sakuga::data
