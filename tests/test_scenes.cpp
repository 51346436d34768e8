// Synthetic scenes for scenimefy (data/scenes.h): reproducible, any size, the anime rendering
// flat and outlined where the photo is textured, the identity baseline far from the truth, and
// the pinned folder layout.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "data/png.h"
#include "data/scenes.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

// The fraction of horizontally neighbouring pixels of one region that have the same colour
// (flat areas: near 1; texture and noise: near 0).
double flat_fraction(const data::draw::Raster& im, const std::vector<uint8_t>& reg) {
  size_t same = 0, n = 0;
  for (int y = 0; y < im.h; ++y)
    for (int x = 0; x + 2 < im.w; ++x) {
      const size_t i = size_t(y) * size_t(im.w) + size_t(x);
      if (reg[i] != reg[i + 1] || reg[i + 1] != reg[i + 2]) continue;  // skip edges and outlines
      same += im.px[i * 3] == im.px[(i + 1) * 3] && im.px[i * 3 + 1] == im.px[(i + 1) * 3 + 1] &&
              im.px[i * 3 + 2] == im.px[(i + 1) * 3 + 2];
      ++n;
    }
  return n ? double(same) / double(n) : 0.0;
}

// The mean drop in brightness (sum of RGB / 3) across vertical region boundaries that are not
// sky | cloud: the two pixels at the boundary against their neighbours one further out, inside
// the same regions.
double boundary_dip(const data::draw::Raster& im, const std::vector<uint8_t>& reg) {
  using data::scenes::cloud, data::scenes::sky;
  auto soft = [](uint8_t r) { return r == sky || r == cloud; };
  auto bright = [&](size_t i) { return (im.px[i * 3] + im.px[i * 3 + 1] + im.px[i * 3 + 2]) / 3.0; };
  double dip = 0;
  size_t edges = 0;
  for (int y = 0; y < im.h; ++y)
    for (int x = 1; x + 2 < im.w; ++x) {
      const size_t i = size_t(y) * size_t(im.w) + size_t(x);
      if (reg[i] == reg[i + 1] || (soft(reg[i]) && soft(reg[i + 1]))) continue;
      if (reg[i - 1] != reg[i] || reg[i + 2] != reg[i + 1]) continue;
      dip += 0.5 * (bright(i - 1) + bright(i + 2)) - 0.5 * (bright(i) + bright(i + 1));
      ++edges;
    }
  REQUIRE(edges > 10);
  return dip / double(edges);
}

size_t distinct_colours(const data::draw::Raster& im) {
  std::set<std::tuple<int, int, int>> s;
  for (size_t i = 0; i < im.px.size(); i += 3)
    s.insert({int(im.px[i] * 255), int(im.px[i + 1] * 255), int(im.px[i + 2] * 255)});
  return s.size();
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("scenes: the same seed gives the same bits, another seed another scene, any size") {
  const auto a = data::scenes::render_scene(7, 48, 64), b = data::scenes::render_scene(7, 48, 64);
  CHECK(a.photo.px == b.photo.px);
  CHECK(a.anime.px == b.anime.px);
  CHECK(data::scenes::render_scene(8, 48, 64).photo.px != a.photo.px);
  const auto odd = data::scenes::render_scene(3, 37, 53);
  CHECK(odd.photo.h == 37);
  CHECK(odd.photo.w == 53);
  CHECK_THROWS_WITH_AS(data::scenes::render_scene(1, 8, 64), doctest::Contains("at least 16x16"), Error);
}

TEST_CASE("scenes: the anime rendering is flat and outlined, the photo textured; identity is far from the truth") {
  double flat_anime = 0, flat_photo = 0, l1 = 0;
  size_t colours_anime = 0, colours_photo = 0;
  const int n = 6;
  for (int k = 0; k < n; ++k) {
    const auto s = data::scenes::render_scene(100 + uint64_t(k), 64, 96);
    flat_anime += flat_fraction(s.anime, s.regions);
    flat_photo += flat_fraction(s.photo, s.regions);
    colours_anime += distinct_colours(s.anime);
    colours_photo += distinct_colours(s.photo);
    double d = 0;
    for (size_t i = 0; i < s.photo.px.size(); ++i) d += std::abs(s.photo.px[i] - s.anime.px[i]);
    l1 += d / double(s.photo.px.size());
    // Outlines (anti-aliased): the anime rendering dips in brightness across region boundaries,
    // the photo does not.
    const double dip_anime = boundary_dip(s.anime, s.regions), dip_photo = boundary_dip(s.photo, s.regions);
    CHECK_MESSAGE(dip_anime > 0.03, "scene ", k, ": anime dip ", dip_anime);
    CHECK_MESSAGE(dip_anime > 3 * std::max(dip_photo, 0.0), "scene ", k, ": anime dip ", dip_anime, " photo ", dip_photo);
  }
  MESSAGE("flat neighbours within regions: anime ", flat_anime / n, " photo ", flat_photo / n, "; colours anime ",
          colours_anime / n, " photo ", colours_photo / n, "; identity L1 ", l1 / n);
  CHECK(flat_anime / n > 0.85);  // anti-aliased outlines and edges reach a pixel into the regions
  CHECK(flat_photo / n < 0.1);
  CHECK(colours_anime * 10 < colours_photo);
  CHECK(l1 / n > 0.03);  // the identity baseline has something to lose
}

TEST_CASE("scenes: write_dataset writes the pinned layout, pairs matched by name") {
  const fs::path dir = fs::temp_directory_path() / ("sakuga-scenes-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  int64_t last = 0;
  data::scenes::write_dataset(dir.string(), 5, 3, 32, 40, [&](int64_t done, int64_t total) {
    CHECK(done == last + 1);
    last = done;
    CHECK(total == 12);  // 5 photos (+ truth), 5 anime, 2 pairs
  });
  auto names = [&](const char* sub) {
    std::set<std::string> s;
    for (const auto& e : fs::directory_iterator(dir / sub)) s.insert(e.path().filename().string());
    return s;
  };
  CHECK(names("trainA").size() == 5);
  CHECK(names("trainA") == names("truth"));
  CHECK(names("trainB").size() == 5);
  CHECK(names("pairs/A").size() == 2);
  CHECK(names("pairs/A") == names("pairs/B"));
  const data::Image im = data::read_png((dir / "trainA" / "scene-000000.png").string());
  CHECK(im.height == 32);
  CHECK(im.width == 40);
  fs::remove_all(dir);
}

}  // TEST_SUITE

#include "data/scenimefy/cut_folders.h"

TEST_SUITE("data") {

TEST_CASE("cut folders: pairs matched by name, one crop and flip for both halves, clear errors") {
  const fs::path dir = fs::temp_directory_path() / ("sakuga-cut-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  data::scenes::write_dataset(dir.string(), 4, 5, 40, 48);
  const auto f = data::scenimefy::open_cut_folders(dir.string());
  CHECK(f.a.size() == 4);
  CHECK(f.b.size() == 4);
  REQUIRE(f.pairs.size() == 1);
  CHECK(fs::path(f.pairs[0].first).filename() == fs::path(f.pairs[0].second).filename());

  data::scenimefy::CropSettings s{36, 32, true};
  // The same key: the same window and flip for both halves (pairs/A's photo and the same photo as
  // "B" give identical crops); another key moves the window.
  const std::string photo = f.pairs[0].first;
  auto [x, y] = data::scenimefy::load_pair_crop(photo, photo, s, 11);
  CHECK(x.shape() == Shape{3, 32, 32});
  CHECK(x.to_vector_f64() == y.to_vector_f64());
  CHECK(x.to_vector_f64() == data::scenimefy::load_crop(photo, s, 11).to_vector_f64());
  bool moved = false;
  for (uint64_t k = 12; k < 20 && !moved; ++k)
    moved = data::scenimefy::load_crop(photo, s, k).to_vector_f64() != x.to_vector_f64();
  CHECK(moved);
  const auto v = x.to_vector_f64();
  CHECK(*std::min_element(v.begin(), v.end()) >= -1.0);
  CHECK(*std::max_element(v.begin(), v.end()) <= 1.0);

  // A missing partner, sizes that differ, a crop not a multiple of 4, a missing trainB.
  fs::remove(fs::path(f.pairs[0].second));
  CHECK_THROWS_WITH_AS(data::scenimefy::open_cut_folders(dir.string()), doctest::Contains("has no partner"), Error);
  data::write_png_tensor(f.pairs[0].second, Tensor::zeros({3, 20, 20}));
  CHECK_THROWS_WITH_AS(data::scenimefy::load_pair_crop(f.pairs[0].first, f.pairs[0].second, s, 1),
                       doctest::Contains("differ in size"), Error);
  CHECK_THROWS_WITH_AS(data::scenimefy::load_crop(photo, {36, 30, true}, 1), doctest::Contains("data.crop_size"),
                       Error);
  fs::remove_all(dir / "trainB");
  CHECK_THROWS_WITH_AS(data::scenimefy::open_cut_folders(dir.string()), doctest::Contains("trainB"), Error);
  fs::remove_all(dir);
}

}  // TEST_SUITE
