// The gadn data layer: area resampling (data/resize.h), the folder-per-label dataset and its
// factors.jsonl (data/gadn/label_folders.h), Fashion-MNIST × artists
// (data/gadn/fmnist_artists.h) and the `synth gadn` writer (data/gadn/writer.h).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/gadn/fmnist_artists.h"
#include "data/gadn/label_folders.h"
#include "data/gadn/writer.h"
#include "data/png.h"
#include "data/portraits.h"
#include "data/resize.h"
#include "data/sampling.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::data;
using namespace sakuga::data::gadn;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) {
    path = (fs::temp_directory_path() / ("sakuga-gadn-" + name)).string();
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& sub) const { return (fs::path(path) / sub).string(); }
};

bool fmnist_available() { return fs::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz"); }

// An 8-bit image filled with one colour.
Image solid(int h, int w, std::vector<uint16_t> colour) {
  Image img(h, w, int(colour.size()));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (size_t c = 0; c < colour.size(); ++c) img.at(y, x, int(c)) = colour[c];
  return img;
}

// write_png, creating the parent folders.
void put(const std::string& path, const Image& img) {
  fs::create_directories(fs::path(path).parent_path());
  write_png(path, img);
}

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A valid dataset: labels "a" (3 images) and "b" (2), 6×6 RGB.
void small_dataset(const TempDir& d) {
  for (const char* f : {"a/x1.png", "a/x2.png", "a/x3.png", "b/y1.png", "b/y2.png"}) {
    put(d / f, solid(6, 6, {10, 20, 30}));
  }
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Intersection over union of two masks.
double iou(const std::vector<bool>& a, const std::vector<bool>& b) {
  size_t inter = 0, uni = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    inter += a[i] && b[i];
    uni += a[i] || b[i];
  }
  return uni ? double(inter) / double(uni) : 1.0;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("resize_area: a 3x3 → 2x2 shrink matches the hand-computed coverage weights") {
  // Output pixel 0 covers source pixels 0 (fully) and 1 (half): weights 2/3, 1/3 per axis.
  const std::vector<float> src = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> out = resize_area(src, 1, 3, 3, 2, 2);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == doctest::Approx(7.0 / 3));   // (4·1 + 2·2 + 2·4 + 1·5) / 9
  CHECK(out[1] == doctest::Approx(11.0 / 3));  // (2·2 + 4·3 + 1·5 + 2·6) / 9
  CHECK(out[2] == doctest::Approx(19.0 / 3));  // (2·4 + 1·5 + 4·7 + 2·8) / 9
  CHECK(out[3] == doctest::Approx(23.0 / 3));  // (1·5 + 2·6 + 2·8 + 4·9) / 9
}

TEST_CASE("resize_area: integer factors are block means / replication; the mean is kept at any size") {
  // 4×4 → 2×2: means of 2×2 blocks, per channel.
  std::vector<float> src(2 * 16);
  for (size_t i = 0; i < src.size(); ++i) src[i] = float(i);
  const std::vector<float> half = resize_area(src, 2, 4, 4, 2, 2);
  CHECK(half[0] == doctest::Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(half[3] == doctest::Approx((10 + 11 + 14 + 15) / 4.0));
  CHECK(half[4] == doctest::Approx((16 + 17 + 20 + 21) / 4.0));
  // Same size: the identity.
  CHECK(resize_area(src, 2, 4, 4, 4, 4) == src);
  // 2×2 → 4×4: each pixel replicated; 1×2 → 1×3: the middle output straddles both halves.
  const std::vector<float> up = resize_area({1, 2, 3, 4}, 1, 2, 2, 4, 4);
  CHECK(up == std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  const std::vector<float> three = resize_area({0, 3}, 1, 1, 2, 1, 3);
  CHECK(three[0] == doctest::Approx(0));
  CHECK(three[1] == doctest::Approx(1.5));
  CHECK(three[2] == doctest::Approx(3));
  // Mean preservation (area weights sum to one) for an odd shrink and an odd stretch.
  std::vector<float> r(7 * 5);
  double mean = 0;
  for (size_t i = 0; i < r.size(); ++i) mean += (r[i] = float((i * 37) % 11));
  mean /= double(r.size());
  for (auto [oh, ow] : {std::pair<int, int>{3, 4}, {9, 11}}) {
    const std::vector<float> o = resize_area(r, 1, 7, 5, oh, ow);
    double m = 0;
    for (float v : o) m += v;
    CHECK(m / double(o.size()) == doctest::Approx(mean).epsilon(1e-5));
  }
  CHECK_ERROR(resize_area(src, 2, 4, 4, 0, 2), "bad sizes");
  CHECK_ERROR(resize_area(src, 3, 4, 4, 2, 2), "values for a (3, 4, 4) image");
}

TEST_CASE("center_crop_resize_area: the central square, then the area resize") {
  // (1, 2, 4): the central 2×2 is columns 1 and 2.
  const Tensor t = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 4});
  CHECK(center_crop_resize_area(t, 2).to_vector() == std::vector<float>{1, 2, 5, 6});
  CHECK(center_crop_resize_area(t, 1).to_vector()[0] == doctest::Approx((1 + 2 + 5 + 6) / 4.0));
  // (1, 3, 1): the central 1×1 is the middle row.
  CHECK(center_crop_resize_area(Tensor::from_vector({4, 5, 6}, {1, 3, 1}), 1).to_vector()[0] == 5);
}

TEST_CASE("gadn folders: labels sorted, images (C, R, R) in [-1, 1], crop, alpha, gray, 16 bit") {
  TempDir d("folders");
  fs::create_directories(d / "zeta");
  fs::create_directories(d / "alpha");
  // zeta: a solid colour (exact values), and a 4×8 image whose centre square is white.
  put(d / "zeta/solid.png", solid(4, 4, {255, 0, 51}));
  Image wide = solid(4, 8, {0, 0, 0});
  for (int y = 0; y < 4; ++y)
    for (int x = 2; x < 6; ++x)
      for (int c = 0; c < 3; ++c) wide.at(y, x, c) = 255;
  put(d / "zeta/wide.png", wide);
  // alpha: RGBA half transparent red → over white = (1, 0.5, 0.5); gray 16-bit.
  put(d / "alpha/rgba.png", solid(2, 2, {255, 0, 0, 0}));
  Image gray16(3, 3, 1, 16);
  for (uint16_t& v : gray16.pixels) v = 65535;
  put(d / "alpha/gray.png", gray16);
  // Non-PNG files are ignored; hidden folders too.
  write_file(d / "alpha/notes.txt", "x");
  fs::create_directories(d / ".cache");

  LabelFolderDataset ds(d.path, {2, false});
  CHECK(ds.labels() == std::vector<std::string>{"alpha", "zeta"});
  REQUIRE(ds.size() == 4);
  CHECK(ds.file(0) == "alpha/gray.png");
  CHECK(ds.file(3) == "zeta/wide.png");
  CHECK(ds.label(0) == 0);
  CHECK(ds.label(3) == 1);
  CHECK(ds.label_counts() == std::vector<int64_t>{2, 2});
  CHECK(!ds.has_factors());

  LabelledImage s = ds.load(2);
  CHECK(s.file == "zeta/solid.png");
  CHECK(s.label == 1);
  CHECK(s.image.shape() == Shape{3, 2, 2});
  const std::vector<float> v = s.image.to_vector();
  for (int i = 0; i < 4; ++i) {
    CHECK(v[size_t(i)] == doctest::Approx(1.0));
    CHECK(v[size_t(4 + i)] == doctest::Approx(-1.0));
    CHECK(v[size_t(8 + i)] == doctest::Approx(2 * 51 / 255.0 - 1));
  }
  for (float x : ds.load(3).image.to_vector()) CHECK(x == doctest::Approx(1.0));  // the white centre
  for (float x : ds.load(0).image.to_vector()) CHECK(x == doctest::Approx(1.0));  // 16-bit white gray
  const std::vector<float> rgba = ds.load(1).image.to_vector();
  CHECK(rgba[0] == doctest::Approx(1.0));
  CHECK(rgba[4] == doctest::Approx(1.0));  // alpha 0: fully transparent, so RGB is white

  LabelFolderDataset with_alpha(d.path, {2, true});
  CHECK(with_alpha.channels() == 4);
  const std::vector<float> a = with_alpha.load(1).image.to_vector();
  REQUIRE(a.size() == 16);
  CHECK(a[12] == doctest::Approx(-1.0));  // alpha 0
  CHECK(with_alpha.load(2).image.to_vector()[12] == doctest::Approx(1.0));  // no alpha in the file: opaque

  Tensor labels;
  const Tensor batch = ds.load_batch({3, 0, 2}, &labels);
  CHECK(batch.shape() == Shape{3, 3, 2, 2});
  CHECK(labels.to_vector_i32() == std::vector<int32_t>{1, 0, 1});
  const std::vector<float> all = batch.to_vector();
  CHECK(max_abs_diff(std::vector<float>(all.begin() + 24, all.end()), v) == 0);
}

TEST_CASE("gadn folders: a half-transparent pixel is composited over white") {
  TempDir d("composite");
  put(d / "a/p.png", solid(1, 1, {0, 0, 255, 128}));
  put(d / "a/q.png", solid(1, 1, {0, 0, 0}));
  put(d / "b/p2.png", solid(1, 1, {0, 0, 0}));
  put(d / "b/q2.png", solid(1, 1, {0, 0, 0}));
  const std::vector<float> v = LabelFolderDataset(d.path, {1, true}).load(0).image.to_vector();
  const double a = 128 / 255.0;
  CHECK(v[0] == doctest::Approx(2 * (1 - a) - 1));  // red: 0·a + (1 − a)
  CHECK(v[2] == doctest::Approx(1.0));              // blue: 1·a + (1 − a)
  CHECK(v[3] == doctest::Approx(2 * a - 1));        // alpha
}

TEST_CASE("gadn folders: the split is by file name and covers every image once") {
  TempDir d("split");
  for (int l = 0; l < 3; ++l)
    for (int i = 0; i < 10; ++i) {
      const std::string f = "l" + std::to_string(l) + "/img" + std::to_string(l * 10 + i) + ".png";
      put(d / f, solid(2, 2, {1, 2, 3}));
    }
  LabelFolderDataset ds(d.path, {4, false});
  const std::vector<size_t> train = ds.split(false, 0.3), val = ds.split(true, 0.3);
  CHECK(train.size() + val.size() == 30);
  CHECK(!val.empty());
  CHECK(!train.empty());
  for (size_t i : val) CHECK(is_validation_name(ds.file(i), 0.3));
  for (size_t i : train) CHECK(!is_validation_name(ds.file(i), 0.3));
  CHECK(ds.split(true, 0.0).empty());
  CHECK(ds.split(false, 0.3) == train);  // deterministic
}

TEST_CASE("gadn folders: bad datasets are errors naming the folder or file") {
  TempDir d("bad");
  CHECK_ERROR(LabelFolderDataset(d / "missing"), "does not exist");
  CHECK_ERROR(LabelFolderDataset(d.path), "holds no label folders");
  put(d / "only/a.png", solid(2, 2, {0, 0, 0}));
  put(d / "only/b.png", solid(2, 2, {0, 0, 0}));
  CHECK_ERROR(LabelFolderDataset(d.path), "single label folder 'only'");
  fs::create_directories(d / "empty");
  CHECK_ERROR(LabelFolderDataset(d.path), d / "empty");
  CHECK_ERROR(LabelFolderDataset(d.path), "holds no *.png");
  put(d / "empty/one.png", solid(2, 2, {0, 0, 0}));
  CHECK_ERROR(LabelFolderDataset(d.path), "holds a single image");
  CHECK_ERROR(LabelFolderDataset(d.path), "needs at least 2");
  put(d / "empty/two.png", solid(2, 2, {0, 0, 0}));
  CHECK_NOTHROW(LabelFolderDataset(d.path));
  write_file(d / "empty/broken.png", "not a png at all");
  CHECK_ERROR(LabelFolderDataset(d.path), d / "empty/broken.png");
  fs::remove(d / "empty/broken.png");
  put(d / "stray.png", solid(2, 2, {0, 0, 0}));
  CHECK_ERROR(LabelFolderDataset(d.path), "is not inside a label folder");
  fs::remove(d / "stray.png");
  CHECK_ERROR(LabelFolderDataset(d.path, {0, false}), "at least 1");
  // A file that breaks after opening (truncated): load names it.
  LabelFolderDataset ds(d.path, {2, false});
  const std::vector<uint8_t> bytes = encode_png(solid(8, 8, {1, 2, 3}));
  std::ofstream(d / "empty/two.png", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 40);
  CHECK_ERROR(ds.load(1), "two.png");
  CHECK_ERROR(ds.load(99), "out of range");
}

TEST_CASE("gadn folders: factors.jsonl is read, checked and turned into classes") {
  TempDir d("factors");
  small_dataset(d);
  const std::string good =
      "{\"file\": \"a/x1.png\", \"style\": \"a\", \"class\": 10, \"kind\": \"cat\", \"style_factors\": {\"k\": 1}}\n"
      "{\"file\": \"a/x2.png\", \"class\": 2, \"kind\": \"ant\"}\n"
      "\n"
      "{\"file\": \"a/x3.png\", \"class\": 2.0, \"kind\": \"cat\"}\n"
      "{\"file\": \"b/y1.png\", \"class\": 1, \"kind\": \"bee\"}\n"
      "{\"file\": \"b/y2.png\", \"class\": 10, \"kind\": \"ant\"}\n";
  write_file(d / "factors.jsonl", good);
  LabelFolderDataset ds(d.path, {2, false});
  REQUIRE(ds.has_factors());
  CHECK(ds.content_factor_names() == std::vector<std::string>{"class", "kind"});
  CHECK(ds.factors(0)["style_factors"]["k"] == 1);
  std::vector<std::string> levels;
  CHECK(ds.factor_classes("class", &levels) == std::vector<int64_t>{2, 1, 1, 0, 2});  // 2 and 2.0 are one class
  CHECK(levels == std::vector<std::string>{"1", "2", "10"});
  CHECK(ds.factor_classes("kind", &levels) == std::vector<int64_t>{2, 0, 2, 1, 0});
  CHECK(levels == std::vector<std::string>{"ant", "bee", "cat"});
  CHECK_ERROR(ds.factor_classes("style_factors"), "no content factor 'style_factors'");

  struct Bad {
    std::string text, message;
  };
  const std::string rest =
      "{\"file\": \"a/x2.png\", \"class\": 1}\n{\"file\": \"a/x3.png\", \"class\": 1}\n"
      "{\"file\": \"b/y1.png\", \"class\": 1}\n{\"file\": \"b/y2.png\", \"class\": 1}\n";
  const Bad bads[] = {
      {"{\"file\": \"a/x1.png\", \"class\": 1\n" + rest, "factors.jsonl:1: not valid JSON"},
      {"[1, 2]\n" + rest, "factors.jsonl:1: expected a JSON object"},
      {"{\"class\": 1}\n" + rest, "missing string \"file\""},
      {"{\"file\": \"a/zz.png\", \"class\": 1}\n" + rest, "a/zz.png is not an image of the dataset"},
      {"{\"file\": \"a/x1.png\", \"style\": \"b\", \"class\": 1}\n" + rest, "does not match the folder 'a'"},
      {"{\"file\": \"a/x1.png\", \"colour\": 1}\n" + rest, "factors.jsonl:2: content factors differ"},
      {"{\"file\": \"a/x2.png\", \"class\": 1}\n" + rest, "a/x2.png is listed twice"},
      {rest, "no line for the image a/x1.png"},
  };
  for (const Bad& b : bads) {
    INFO(b.text);
    write_file(d / "factors.jsonl", b.text);
    CHECK_ERROR(LabelFolderDataset(d.path), b.message);
    CHECK_ERROR(LabelFolderDataset(d.path), d / "factors.jsonl");
  }
}

TEST_CASE("fmnist-artists: distinct, deterministic styles within their ranges") {
  const std::vector<ArtistStyle> a = artist_styles(16), b = artist_styles(16), c = artist_styles(16, 7);
  REQUIRE(a.size() == 16);
  std::set<int> strokes;
  for (size_t k = 0; k < a.size(); ++k) {
    CHECK(to_json(a[k]) == to_json(b[k]));
    CHECK(std::fabs(draw::luma(a[k].ink) - draw::luma(a[k].paper)) >= 0.4f);
    CHECK(a[k].thickness >= -1.f);
    CHECK(a[k].thickness <= 1.f);
    CHECK(std::fabs(a[k].slant) <= 0.2f);
    CHECK((a[k].hatch_angle % 45 == 0 && a[k].hatch_angle >= 0 && a[k].hatch_angle <= 135));
    CHECK((a[k].hatch_period == 3 || a[k].hatch_period == 4));
    strokes.insert(int(a[k].stroke));
    for (size_t j = 0; j < k; ++j) CHECK(to_json(a[k]) != to_json(a[j]));
  }
  CHECK(strokes.size() == 3);  // every stroke is used among 16 artists
  CHECK(to_json(a[0]) != to_json(c[0]));
  // A prefix does not depend on the count.
  const std::vector<ArtistStyle> four = artist_styles(4);
  for (size_t k = 0; k < 4; ++k) CHECK(to_json(four[k]) == to_json(a[k]));
  CHECK(artist_label(3) == "artist-03");
  CHECK_ERROR(artist_styles(0), "at least 1 artist");
}

TEST_CASE("fmnist-artists: render is deterministic, in range, distinct per artist, garment shape kept") {
  if (!fmnist_available()) {
    MESSAGE("dataset-fashion-mnist not installed: skipped (tools/setup installs it)");
    return;
  }
  const FmnistArtists fa("test", 40);
  REQUIRE(fa.size() == 40);
  REQUIRE(fa.artists() == kDefaultArtists);
  // The styles under test: the 16 default artists and the corners of the parameter ranges.
  std::vector<ArtistStyle> styles = artist_styles(16);
  for (Stroke st : {Stroke::fill, Stroke::outline, Stroke::hatching})
    for (float thick : {-1.f, 1.f})
      for (float slant : {-0.2f, 0.2f}) {
        ArtistStyle s;
        s.stroke = st;
        s.thickness = thick;
        s.slant = slant;
        styles.push_back(s);
      }
  double worst_iou = 1, worst_slant_iou = 1;
  for (int64_t g = 0; g < fa.size(); ++g) {
    const Tensor garment = fa.garment(g);
    const std::vector<float> g28 = garment.to_vector();
    // The thresholded original, padded to 32 × 32.
    std::vector<bool> original(32 * 32, false);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) original[size_t((y + 2) * 32 + x + 2)] = g28[size_t(y * 28 + x)] >= 0.15f;
    std::vector<std::vector<float>> renders;
    for (const ArtistStyle& s : styles) {
      const Tensor t = render_garment(garment, s);
      REQUIRE(t.shape() == Shape{3, 32, 32});
      const std::vector<float> v = t.to_vector();
      for (float x : v) {
        CHECK(x >= -1.f);
        CHECK(x <= 1.f);
      }
      // The ink mask, read from the image: how far each pixel is from the paper toward the ink.
      const float ink[3] = {s.ink.r, s.ink.g, s.ink.b}, paper[3] = {s.paper.r, s.paper.g, s.paper.b};
      std::vector<bool> drawn(32 * 32);
      for (size_t i = 0; i < drawn.size(); ++i) {
        double num = 0, den = 0;
        for (size_t c = 0; c < 3; ++c) {
          const double d = ink[c] - paper[c];
          num += (0.5 * (v[c * 1024 + i] + 1) - paper[c]) * d;
          den += d * d;
        }
        drawn[i] = num / den >= kSilhouette;
      }
      // The reference: the original, thresholded, padded and slanted like this style (a plain
      // fill without thickening draws exactly that silhouette); without slant, the original.
      ArtistStyle geometry;
      geometry.slant = s.slant;
      const std::vector<float> gw = garment_ink_weight(g28, geometry);
      std::vector<bool> reference(32 * 32);
      for (size_t i = 0; i < reference.size(); ++i) reference[i] = gw[i] >= kSilhouette;
      worst_iou = std::min(worst_iou, iou(drawn, reference));
      worst_slant_iou = std::min(worst_slant_iou, iou(reference, original));
      renders.push_back(v);
    }
    const std::vector<float> upright = garment_ink_weight(g28, ArtistStyle{});
    for (size_t i = 0; i < original.size(); ++i) CHECK((upright[i] >= kSilhouette) == original[i]);
    CHECK(render_garment(garment, styles[0]).to_vector() == renders[0]);  // a pure function
    CHECK(fa.sample(g, 3).to_vector() == renders[3]);
    // Every pair of the 16 artists draws this garment differently (by more than a faint trace).
    for (size_t a = 0; a < 16; ++a)
      for (size_t b = 0; b < a; ++b) CHECK(max_abs_diff(renders[a], renders[b]) > 0.3);
  }
  MESSAGE("worst silhouette IoU over 40 garments x 28 styles: ", worst_iou, " (", worst_slant_iou,
          " between the slanted and the upright original)");
  CHECK(worst_iou >= 0.5);
  CHECK(worst_slant_iou >= 0.4);
  CHECK(fa.garment_class(0) == 9);  // the first test garment is an ankle boot
  CHECK_ERROR(fa.sample(40, 0), "out of range");
  CHECK_ERROR(fa.sample(0, 16), "artist 16 out of range");
  CHECK_ERROR(render_garment(Tensor::zeros({1, 27, 28}), styles[0]), "(28, 28) garment");
}

TEST_CASE("synth gadn: fmnist-artists written and read back with its factors") {
  if (!fmnist_available()) {
    MESSAGE("dataset-fashion-mnist not installed: skipped");
    return;
  }
  TempDir d("synth-fmnist");
  SynthOptions opt;
  opt.kind = SynthKind::fmnist_artists;
  opt.count = 18;
  opt.seed = 5;
  opt.artists = 4;
  opt.max_garments = 10;  // count > garments: the shuffle goes round twice
  int64_t calls = 0, last = 0;
  opt.progress = [&](int64_t done, int64_t total) {
    ++calls;
    last = done;
    CHECK(total == 18);
  };
  write_gadn_dataset(d / "set", opt);
  CHECK(calls == 18);
  CHECK(last == 18);
  CHECK(fs::exists(d / "set/artist-00/fmnist-000000.png"));
  CHECK(fs::exists(d / "set/artist-01/fmnist-000005.png"));
  CHECK(!fs::exists(d / "set/factors.jsonl.tmp"));

  LabelFolderDataset ds(d / "set", {32, false});
  CHECK(ds.labels() == std::vector<std::string>{"artist-00", "artist-01", "artist-02", "artist-03"});
  CHECK(ds.label_counts() == std::vector<int64_t>{5, 5, 4, 4});
  REQUIRE(ds.has_factors());
  CHECK(ds.content_factor_names() == std::vector<std::string>{"class"});
  const FmnistArtists fa("test", 10, 4);
  std::set<int64_t> garments_first_round;
  for (size_t i = 0; i < ds.size(); ++i) {
    const nlohmann::json& f = ds.factors(i);
    const int64_t g = f["source"]["index"].get<int64_t>();
    CHECK(f["style"] == ds.labels()[size_t(ds.label(i))]);
    CHECK(f["class"].get<int>() == fa.garment_class(g));
    CHECK(f["source"]["split"] == "test");
    CHECK(f["style_factors"] == to_json(fa.style(int(ds.label(i)))));
    const int64_t sample = std::stoll(ds.file(i).substr(ds.file(i).size() - 10, 6));
    CHECK(sample % 4 == ds.label(i));
    if (sample < 10) garments_first_round.insert(g);
    // The PNG holds the rendered sample to within 8-bit rounding.
    CHECK(max_abs_diff(ds.load(i).image.to_vector(), fa.sample(g, int(ds.label(i))).to_vector()) <= 1.01 / 255);
  }
  CHECK(garments_first_round.size() == 10);  // each garment once per round

  // Same options, same bytes.
  write_gadn_dataset(d / "again", opt);
  std::ifstream f1(d / "set/factors.jsonl"), f2(d / "again/factors.jsonl");
  CHECK(std::string(std::istreambuf_iterator<char>(f1), {}) == std::string(std::istreambuf_iterator<char>(f2), {}));
}

TEST_CASE("synth gadn: portraits written and read back with their factors and eye boxes") {
  TempDir d("synth-portraits");
  SynthOptions opt;
  opt.kind = SynthKind::portraits;
  opt.count = 9;
  opt.seed = 11;
  opt.artists = 3;
  opt.size = 32;
  write_gadn_dataset(d / "set", opt);
  LabelFolderDataset ds(d / "set", {32, false});
  CHECK(ds.size() == 9);
  CHECK(ds.label_counts() == std::vector<int64_t>{3, 3, 3});
  CHECK(ds.content_factor_names() == std::vector<std::string>{"eye_openness", "hair", "mouth", "yaw"});
  const std::vector<PortraitStyle> styles = portrait_artist_styles(3, kDefaultArtistSeed);
  for (size_t i = 0; i < ds.size(); ++i) {
    const nlohmann::json& f = ds.factors(i);
    const int64_t sample = std::stoll(ds.file(i).substr(ds.file(i).size() - 10, 6));
    const Portrait p = sample_portrait(11, sample, 32, styles[size_t(ds.label(i))]);
    CHECK(portrait_content_from_json(f) == p.content);
    CHECK(portrait_style_from_json(f["style_factors"]) == p.style);
    for (size_t e = 0; e < 2; ++e) {
      const draw::Box& b = p.eyes[e].box;
      CHECK(f["eyes"][e] == nlohmann::json::array({b.x0, b.y0, b.x1, b.y1}));
    }
    std::vector<float> want = p.image.to_vector();
    for (float& v : want) v = 2 * v - 1;
    CHECK(max_abs_diff(ds.load(i).image.to_vector(), want) <= 1.01 / 255);
  }
}

TEST_CASE("synth gadn: bad options and occupied folders are refused, naming the path") {
  TempDir d("synth-bad");
  SynthOptions opt;
  opt.kind = SynthKind::portraits;
  opt.count = 4;
  opt.artists = 2;
  opt.size = 32;
  CHECK_ERROR(parse_synth_kind("mnist"), "expected 'fmnist-artists' or 'portraits'");
  CHECK(parse_synth_kind("portraits") == SynthKind::portraits);
  CHECK(std::string(synth_kind_name(SynthKind::fmnist_artists)) == "fmnist-artists");
  SynthOptions few = opt;
  few.count = 3;
  CHECK_ERROR(write_gadn_dataset(d / "x", few), "at least 4");
  SynthOptions big = opt;
  big.size = 300;
  CHECK_ERROR(write_gadn_dataset(d / "x", big), "portrait size");
  SynthOptions fm = opt;
  fm.kind = SynthKind::fmnist_artists;
  fm.size = 64;
  CHECK_ERROR(write_gadn_dataset(d / "x", fm), "fmnist-artists images are 32x32");
  fm.size = 0;
  fm.split = "val";
  CHECK_ERROR(write_gadn_dataset(d / "x", fm), "split must be 'train' or 'test'");
  CHECK(!fs::exists(d / "x"));  // nothing written on a bad option

  write_file(d / "occupied/keep.txt", "mine");
  CHECK_ERROR(write_gadn_dataset(d / "occupied", opt), "is not empty");
  SynthOptions over = opt;
  over.overwrite = true;
  CHECK_ERROR(write_gadn_dataset(d / "occupied", over), "not a gadn dataset");
  CHECK(fs::exists(d / "occupied/keep.txt"));
  write_file(d / "file", "x");
  CHECK_ERROR(write_gadn_dataset(d / "file", opt), "is not a folder");

  // Overwriting a previous gadn dataset replaces it whole (no stale label folders).
  SynthOptions three = opt;
  three.artists = 3;
  three.count = 6;
  write_gadn_dataset(d / "set", three);
  CHECK(fs::exists(d / "set/artist-02"));
  CHECK_ERROR(write_gadn_dataset(d / "set", opt), "is not empty");
  write_gadn_dataset(d / "set", over);
  CHECK(!fs::exists(d / "set/artist-02"));
  CHECK(LabelFolderDataset(d / "set", {32, false}).size() == 4);
}

}  // TEST_SUITE
