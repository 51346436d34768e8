// The douga schema (data/gcn/douga.h): palette, nearest-colour mapping, PNG read/write.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "data/gcn/douga.h"
#include "data/png.h"
#include "kernels/device.h"
#include "tests/test_util.h"

using namespace sakuga;
using data::Image;

namespace {

struct DougaTempDir {
  std::string path;
  DougaTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sakuga_douga_XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(mkdtemp(buf.data()) != nullptr);
    path = buf.data();
  }
  ~DougaTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

// A 1×N RGB image of the given colours (8-bit).
Image rgb_row(const std::vector<data::Rgb>& colors) {
  Image img(1, int(colors.size()), 3, 8);
  for (size_t i = 0; i < colors.size(); ++i) {
    img.pixels[3 * i] = colors[i].r;
    img.pixels[3 * i + 1] = colors[i].g;
    img.pixels[3 * i + 2] = colors[i].b;
  }
  return img;
}

// Independent reference: squared distance to every palette colour, ties → lower class id.
int reference_class(int r, int g, int b) {
  int best = -1;
  long best_d = 0;
  for (int c = 0; c < data::kDougaClasses; ++c)
    for (const data::Rgb& p : data::douga_colors(c)) {
      const long d = long(r - p.r) * (r - p.r) + long(g - p.g) * (g - p.g) + long(b - p.b) * (b - p.b);
      if (best < 0 || d < best_d) best = c, best_d = d;
    }
  return best;
}

// Classes whose nearest colour is at the minimum distance (for tie detection).
std::vector<int> tied_classes(int r, int g, int b) {
  long best_d = -1;
  std::vector<int> out;
  for (int c = 0; c < data::kDougaClasses; ++c)
    for (const data::Rgb& p : data::douga_colors(c)) {
      const long d = long(r - p.r) * (r - p.r) + long(g - p.g) * (g - p.g) + long(b - p.b) * (b - p.b);
      if (best_d < 0 || d < best_d) {
        best_d = d;
        out = {c};
      } else if (d == best_d && out.back() != c) {
        out.push_back(c);
      }
    }
  return out;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("douga: the palette table is the spec's") {
  const auto& names = data::douga_class_names();
  CHECK(std::string(names[0]) == "flat_area");
  CHECK(std::string(names[1]) == "visible_line");
  CHECK(std::string(names[2]) == "shading_line");
  CHECK(std::string(names[3]) == "color_edge");
  CHECK(std::string(names[4]) == "highlight_line");
  CHECK(std::string(names[5]) == "book_line");
  CHECK(std::string(names[6]) == "shading_fill");
  CHECK(std::string(names[7]) == "color_fill");
  CHECK(std::string(names[8]) == "highlight_fill");
  CHECK(std::string(names[9]) == "book_fill");
  const std::vector<std::vector<std::array<int, 3>>> want = {
      {{255, 255, 255}},
      {{0, 0, 0}, {110, 70, 40}},
      {{90, 0, 140}},
      {{0, 170, 0}, {0, 170, 170}},
      {{230, 0, 0}},
      {{128, 128, 128}},
      {{200, 170, 235}, {175, 140, 220}},
      {{185, 240, 185}, {185, 240, 240}},
      {{255, 250, 185}, {255, 235, 150}},
      {{215, 215, 215}, {235, 235, 235}},
  };
  for (int c = 0; c < data::kDougaClasses; ++c) {
    CAPTURE(c);
    const auto& got = data::douga_colors(c);
    REQUIRE(got.size() == want[size_t(c)].size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(int(got[i].r) == want[size_t(c)][i][0]);
      CHECK(int(got[i].g) == want[size_t(c)][i][1]);
      CHECK(int(got[i].b) == want[size_t(c)][i][2]);
    }
    CHECK(data::is_line_class(c) == (c >= 1 && c <= 5));
  }
  CHECK_ERROR(data::douga_colors(10), "class id");
  CHECK_ERROR(data::douga_colors(-1), "class id");
}

TEST_CASE("douga: every colour of every class maps back; writing uses the first colours") {
  std::vector<data::Rgb> colors;
  std::vector<int> want;
  for (int c = 0; c < data::kDougaClasses; ++c)
    for (const data::Rgb& rgb : data::douga_colors(c)) colors.push_back(rgb), want.push_back(c);
  CHECK(colors.size() == 16);
  Tensor classes = data::douga_from_image(rgb_row(colors));
  CHECK(classes.dtype() == DType::i32);
  CHECK(classes.shape() == Shape{1, 16});
  CHECK(classes.to_vector_i32() == want);

  // Class map → image: first colour of each class.
  Tensor all = Tensor::from_vector_i32({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {2, 5});
  Image img = data::douga_to_image(all);
  CHECK(img.channels == 3);
  CHECK(img.bit_depth == 8);
  CHECK(img.height == 2);
  CHECK(img.width == 5);
  for (int c = 0; c < data::kDougaClasses; ++c) {
    const data::Rgb first = data::douga_colors(c)[0];
    CHECK(img.at(c / 5, c % 5, 0) == first.r);
    CHECK(img.at(c / 5, c % 5, 1) == first.g);
    CHECK(img.at(c / 5, c % 5, 2) == first.b);
  }
  CHECK(data::douga_from_image(img).to_vector_i32() == all.to_vector_i32());

  // Through a file.
  DougaTempDir dir;
  const std::string path = dir.file("d.png");
  data::write_douga_png(path, all);
  CHECK(data::read_png(path) == img);
  Tensor back = data::read_douga_png(path);
  CHECK(back.shape() == Shape{2, 5});
  CHECK(back.to_vector_i32() == all.to_vector_i32());

  // douga_to_rgb: (3, H, W) first colours / 255.
  Tensor rgb = data::douga_to_rgb(all);
  CHECK(rgb.shape() == Shape{3, 2, 5});
  CHECK(rgb.dtype() == DType::f32);
  const std::vector<float> v = rgb.to_vector();
  for (int c = 0; c < data::kDougaClasses; ++c) {
    const data::Rgb first = data::douga_colors(c)[0];
    CHECK(v[size_t(c)] == doctest::Approx(first.r / 255.0));
    CHECK(v[size_t(10 + c)] == doctest::Approx(first.g / 255.0));
    CHECK(v[size_t(20 + c)] == doctest::Approx(first.b / 255.0));
  }
}

TEST_CASE("douga: nearest colour, ties go to the lower class id, off-palette colours") {
  // Hand-made ties.
  // (0,85,0): 85² from black (1) and from (0,170,0) (3).
  CHECK(tied_classes(0, 85, 0) == std::vector<int>{1, 3});
  // (245,245,245): 300 from white (0) and from (235,235,235) (9).
  CHECK(tied_classes(245, 245, 245) == std::vector<int>{0, 9});
  Tensor t = data::douga_from_image(rgb_row({{0, 85, 0}, {245, 245, 245}}));
  CHECK(t.to_vector_i32() == std::vector<int32_t>{1, 0});

  // Off-palette colours.
  Tensor off = data::douga_from_image(
      rgb_row({{250, 10, 10}, {20, 20, 20}, {100, 60, 50}, {190, 235, 190}, {120, 130, 125}, {250, 240, 190},
               {80, 10, 150}, {10, 160, 160}, {180, 140, 215}, {225, 226, 224}}));
  CHECK(off.to_vector_i32() == std::vector<int32_t>{4, 1, 1, 7, 5, 8, 2, 3, 6, 9});

  // Random colours (plus every tie found on a coarse grid) against the reference.
  std::vector<data::Rgb> colors;
  std::mt19937 rng(5);
  for (int i = 0; i < 3000; ++i) colors.push_back({uint8_t(rng() & 255), uint8_t(rng() & 255), uint8_t(rng() & 255)});
  int ties = 0;
  for (int r = 0; r < 256; r += 5)
    for (int g = 0; g < 256; g += 5)
      for (int b = 0; b < 256; b += 5)
        if (tied_classes(r, g, b).size() > 1) colors.push_back({uint8_t(r), uint8_t(g), uint8_t(b)}), ++ties;
  CHECK(ties > 0);
  const std::vector<int32_t> got = data::douga_from_image(rgb_row(colors)).to_vector_i32();
  for (size_t i = 0; i < colors.size(); ++i) {
    CAPTURE(int(colors[i].r));
    CAPTURE(int(colors[i].g));
    CAPTURE(int(colors[i].b));
    REQUIRE(got[i] == reference_class(colors[i].r, colors[i].g, colors[i].b));
  }
}

TEST_CASE("douga: 16-bit, gray, gray+alpha and RGBA inputs (alpha ignored)") {
  // 16-bit RGB: palette colours scaled by 257, with offsets that round back to the same 8-bit value.
  std::vector<int> want;
  std::vector<std::array<int, 3>> cols;
  for (int c = 0; c < data::kDougaClasses; ++c)
    for (const data::Rgb& rgb : data::douga_colors(c)) cols.push_back({rgb.r, rgb.g, rgb.b}), want.push_back(c);
  Image img16(2, int(cols.size()), 3, 16);
  for (size_t i = 0; i < cols.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      const int v = cols[i][size_t(k)] * 257;
      img16.at(0, int(i), k) = uint16_t(v);
      img16.at(1, int(i), k) = uint16_t(std::min(65535, std::max(0, v + ((i + size_t(k)) % 2 ? 128 : -128))));
    }
  std::vector<int> want2 = want;
  want2.insert(want2.end(), want.begin(), want.end());
  std::vector<int32_t> got16 = data::douga_from_image(img16).to_vector_i32();
  CHECK(std::vector<int>(got16.begin(), got16.end()) == want2);

  // 16-bit rounding (v / 257 rounded) before matching: green 84.6·257 and 85.4·257 both round to
  // 85, the tie between black (1) and (0,170,0) (3) → 1; 85.6·257 rounds to 86 → 3.
  Image tie16(1, 3, 3, 16);
  const int g_vals[3] = {int(84.6 * 257), int(85.4 * 257), int(85.6 * 257)};
  for (int x = 0; x < 3; ++x) tie16.at(0, x, 1) = uint16_t(g_vals[x]);
  CHECK(data::douga_from_image(tie16).to_vector_i32() == std::vector<int32_t>{1, 1, 3});

  // Gray: R = G = B.
  Image gray(1, 5, 1, 8);
  const uint16_t gv[5] = {0, 255, 128, 225, 60};
  for (int x = 0; x < 5; ++x) gray.at(0, x, 0) = gv[x];
  CHECK(data::douga_from_image(gray).to_vector_i32() == std::vector<int32_t>{1, 0, 5, 9, reference_class(60, 60, 60)});
  Image gray16 = data::convert_bit_depth(gray, 16);
  CHECK(data::douga_from_image(gray16).to_vector_i32() == data::douga_from_image(gray).to_vector_i32());
  Image ga = data::convert_channels(gray, 2);
  for (int x = 0; x < 5; ++x) ga.at(0, x, 1) = uint16_t(x * 50);  // alpha ignored
  CHECK(data::douga_from_image(ga).to_vector_i32() == data::douga_from_image(gray).to_vector_i32());

  // RGBA: alpha ignored.
  Image rgb = rgb_row({{230, 0, 0}, {90, 0, 140}, {185, 240, 240}});
  Image rgba = data::convert_channels(rgb, 4);
  rgba.at(0, 0, 3) = 0;
  rgba.at(0, 1, 3) = 17;
  CHECK(data::douga_from_image(rgba).to_vector_i32() == std::vector<int32_t>{4, 2, 7});

  // Read from 16-bit RGBA files.
  DougaTempDir dir;
  const std::string path = dir.file("d16.png");
  data::write_png(path, data::convert_bit_depth(rgba, 16));
  CHECK(data::read_douga_png(path).to_vector_i32() == std::vector<int32_t>{4, 2, 7});
}

TEST_CASE("douga: bad class maps and bad files give clear errors") {
  Tensor bad = Tensor::from_vector_i32({0, 1, 2, 10, 4, 5}, {2, 3});
  CHECK_ERROR(data::douga_to_image(bad), "class value 10");
  CHECK_ERROR(data::douga_to_image(bad), "y=1, x=0");
  CHECK_ERROR(data::douga_to_rgb(Tensor::from_vector_i32({-1}, {1, 1})), "class value -1");
  CHECK_ERROR(data::douga_to_image(Tensor::zeros({2, 3})), "i32");
  CHECK_ERROR(data::douga_to_image(Tensor::zeros({1, 2, 3}, DType::i32)), "(H, W)");
  CHECK_ERROR(data::douga_to_rgb(Tensor::zeros({3}, DType::i32)), "(H, W)");

  DougaTempDir dir;
  const std::string out = dir.file("bad.png");
  CHECK_ERROR(data::write_douga_png(out, bad), out);
  CHECK_FALSE(std::filesystem::exists(out));
  const std::string missing = dir.file("missing.png");
  CHECK_ERROR(data::read_douga_png(missing), missing);
  const std::string nodir = dir.file("no/such/dir/x.png");
  CHECK_ERROR(data::write_douga_png(nodir, Tensor::zeros({2, 2}, DType::i32)), nodir);
}

TEST_CASE("douga: large frames map quickly and identically to the reference") {
  // 512×512 with many distinct colours: exercises the colour cache.
  const int h = 512, w = 512;
  Image img(h, w, 3, 8);
  std::mt19937 rng(11);
  for (auto& v : img.pixels) v = uint16_t(rng() & 255);
  const std::vector<int32_t> got = data::douga_from_image(img).to_vector_i32();
  for (size_t i = 0; i < got.size(); i += 97)
    REQUIRE(got[i] == reference_class(img.pixels[3 * i], img.pixels[3 * i + 1], img.pixels[3 * i + 2]));
}

#ifdef SAKUGA_WITH_CUDA
TEST_CASE("douga: douga_to_rgb on a CUDA tensor returns a CUDA tensor with the CPU values") {
  if (device::cuda_device_count() == 0) return;
  Tensor cls = Tensor::from_vector_i32({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}, {3, 4});
  Tensor want = data::douga_to_rgb(cls);
  Tensor got = data::douga_to_rgb(cls.to(Device::cuda()));
  CHECK(got.is_cuda());
  CHECK(got.shape() == Shape{3, 3, 4});
  CHECK(got.cpu().to_vector() == want.to_vector());
}
#endif

}  // TEST_SUITE("data")
