// The cel / douga folder datasets (data/gcn/seg_dataset.h).
#include <doctest/doctest.h>

#include "kernels/log.h"
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/gcn/douga.h"
#include "data/png.h"
#include "data/gcn/seg_dataset.h"
#include "tests/test_util.h"

using namespace sakuga;
using data::Image;
namespace fs = std::filesystem;

namespace {

// A fresh folder under temp_directory_path(), removed with its contents at scope exit.
struct SegTempDir {
  std::string path;
  SegTempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = (fs::temp_directory_path() / ("sakuga_segds_" + std::to_string(::getpid()) + "_" +
                                          std::to_string(stamp) + "_" + std::to_string(counter++)))
               .string();
    fs::create_directories(path);
  }
  ~SegTempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string sub(const std::string& rel) const {
    const std::string p = path + "/" + rel;
    fs::create_directories(fs::path(p).parent_path());
    return p;
  }
  void mkdir(const std::string& rel) const { fs::create_directories(path + "/" + rel); }
};

// A deterministic test image: sample (y, x, c) = (seed + 37 y + 11 x + 101 c) mod (max + 1).
Image pattern(int h, int w, int channels, int bit_depth, int seed) {
  Image img(h, w, channels, bit_depth);
  const uint32_t m = uint32_t(img.max_value()) + 1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) img.at(y, x, c) = uint16_t(uint32_t(seed + 37 * y + 11 * x + 101 * c) % m);
  return img;
}

// A gray mask image from a 0/1 pattern (value `on` for 1, `off` for 0).
Image mask_image(int h, int w, int seed, int bit_depth = 8) {
  Image img(h, w, 1, bit_depth);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at(y, x, 0) = ((x + y + seed) % 3 == 0) ? uint16_t(img.max_value()) : 0;
  return img;
}
std::vector<float> mask_values(int h, int w, int seed) {
  std::vector<float> v;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) v.push_back((x + y + seed) % 3 == 0 ? 1.0f : 0.0f);
  return v;
}

Tensor douga_map(int h, int w, int seed) {
  std::vector<int32_t> v;
  for (int i = 0; i < h * w; ++i) v.push_back((i * 7 + seed) % data::kDougaClasses);
  return Tensor::from_vector_i32(v, {h, w});
}

// Expected (3, H, W) frame tensor of an image (channels → RGB, alpha dropped).
std::vector<float> frame_values(const Image& img) {
  Image rgb = data::convert_channels(img, 3);
  return data::image_to_tensor(rgb).to_vector();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  REQUIRE(f);
  f << text;
}

void truncate_file(const std::string& path, uintmax_t keep) { fs::resize_file(path, keep); }

// A good cel set: a.png (RGB 8), b.png (RGBA 16), c.png (gray 8), all 4×5 (H×W) except c (3×2).
void make_cel_set(const SegTempDir& d) {
  data::write_png(d.sub("frames/a.png"), pattern(4, 5, 3, 8, 1));
  data::write_png(d.sub("masks/a.png"), mask_image(4, 5, 0));
  data::write_png(d.sub("frames/b.png"), pattern(4, 5, 4, 16, 2));
  data::write_png(d.sub("masks/b.png"), data::convert_channels(mask_image(4, 5, 1), 3));  // RGB mask
  data::write_png(d.sub("frames/c.png"), pattern(3, 2, 1, 8, 3));
  data::write_png(d.sub("masks/c.png"), mask_image(3, 2, 2, 16));  // 16-bit mask
}

void make_douga_set(const SegTempDir& d, int n = 3) {
  for (int i = 0; i < n; ++i) {
    const std::string name = std::string(1, char('a' + i)) + ".png";
    data::write_png(d.sub("frames/" + name), pattern(3, 4, 3, 8, i));
    data::write_douga_png(d.sub("douga/" + name), douga_map(3, 4, i));
  }
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("seg dataset: task names") {
  CHECK(data::parse_seg_task("cel") == data::SegTask::cel);
  CHECK(data::parse_seg_task("douga") == data::SegTask::douga);
  CHECK(std::string(data::seg_task_name(data::SegTask::cel)) == "cel");
  CHECK(std::string(data::seg_task_name(data::SegTask::douga)) == "douga");
  CHECK_ERROR(data::parse_seg_task("Cel"), "'Cel'");
  CHECK_ERROR(data::parse_seg_task(""), "expected 'cel' or 'douga'");
}

TEST_CASE("seg dataset: a good cel set loads with the right values") {
  SegTempDir d;
  make_cel_set(d);
  d.mkdir("backgrounds");
  data::write_png(d.sub("backgrounds/z.png"), pattern(6, 6, 3, 8, 9));
  data::write_png(d.sub("backgrounds/y.png"), pattern(6, 6, 3, 8, 8));
  write_text(d.sub("backgrounds/readme.txt"), "not a png");
  data::SegDataset ds(d.path, data::SegTask::cel);
  CHECK(ds.task() == data::SegTask::cel);
  CHECK(ds.dir() == d.path);
  CHECK(ds.size() == 3);
  CHECK(ds.names() == std::vector<std::string>{"a.png", "b.png", "c.png"});
  CHECK(ds.skipped() == 0);
  CHECK(ds.has_masks());
  REQUIRE(ds.background_files().size() == 2);
  CHECK(fs::path(ds.background_files()[0]).filename() == "y.png");
  CHECK(fs::path(ds.background_files()[1]).filename() == "z.png");
  CHECK(ds.texture_files().empty());

  data::SegSample a = ds.load(0);
  CHECK(a.name == "a.png");
  CHECK(a.frame.shape() == Shape{3, 4, 5});
  CHECK(a.frame.dtype() == DType::f32);
  CHECK(a.frame.to_vector() == frame_values(pattern(4, 5, 3, 8, 1)));
  CHECK(a.mask.shape() == Shape{1, 4, 5});
  CHECK(a.mask.to_vector() == mask_values(4, 5, 0));
  CHECK_FALSE(a.douga.defined());

  data::SegSample b = ds.load(1);
  CHECK(b.frame.shape() == Shape{3, 4, 5});
  CHECK(b.frame.to_vector() == frame_values(pattern(4, 5, 4, 16, 2)));  // alpha dropped
  CHECK(b.mask.to_vector() == mask_values(4, 5, 1));

  data::SegSample c = ds.load(2);
  CHECK(c.frame.shape() == Shape{3, 3, 2});
  const std::vector<float> cf = c.frame.to_vector();
  CHECK(std::equal(cf.begin(), cf.begin() + 6, cf.begin() + 6));  // gray → R = G = B
  CHECK(c.mask.shape() == Shape{1, 3, 2});
  CHECK(c.mask.to_vector() == mask_values(3, 2, 2));
  CHECK_ERROR(ds.load(3), "out of range");
}

TEST_CASE("seg dataset: cel mask threshold is > 127 on the 8-bit scale") {
  SegTempDir d;
  data::write_png(d.sub("frames/m.png"), pattern(1, 6, 3, 8, 0));
  Image m(1, 6, 1, 8);
  const uint16_t vals[6] = {0, 127, 128, 200, 255, 1};
  for (int x = 0; x < 6; ++x) m.at(0, x, 0) = vals[x];
  data::write_png(d.sub("masks/m.png"), m);
  // 16-bit: 127.4·257 rounds to 127 (0), 127.6·257 to 128 (1).
  data::write_png(d.sub("frames/n.png"), pattern(1, 2, 3, 8, 0));
  Image m16(1, 2, 1, 16);
  m16.at(0, 0, 0) = uint16_t(127.4 * 257);
  m16.at(0, 1, 0) = uint16_t(127.6 * 257);
  data::write_png(d.sub("masks/n.png"), m16);
  // RGB mask: converted to gray (BT.601 luma) first: pure red 255 → 76 (0), white → 255 (1).
  data::write_png(d.sub("frames/o.png"), pattern(1, 2, 3, 8, 0));
  Image mrgb(1, 2, 3, 8);
  mrgb.at(0, 0, 0) = 255;
  for (int c = 0; c < 3; ++c) mrgb.at(0, 1, c) = 255;
  data::write_png(d.sub("masks/o.png"), mrgb);
  data::SegDataset ds(d.path, data::SegTask::cel);
  CHECK(ds.load(0).mask.to_vector() == std::vector<float>{0, 0, 1, 1, 1, 0});
  CHECK(ds.load(1).mask.to_vector() == std::vector<float>{0, 1});
  CHECK(ds.load(2).mask.to_vector() == std::vector<float>{0, 1});
}

TEST_CASE("seg dataset: a good douga set loads, with and without masks") {
  SegTempDir d;
  make_douga_set(d);
  {
    data::SegDataset ds(d.path, data::SegTask::douga);
    CHECK(ds.size() == 3);
    CHECK_FALSE(ds.has_masks());
    for (size_t i = 0; i < 3; ++i) {
      data::SegSample s = ds.load(i);
      CHECK(s.frame.shape() == Shape{3, 3, 4});
      CHECK(s.frame.to_vector() == frame_values(pattern(3, 4, 3, 8, int(i))));
      CHECK(s.douga.shape() == Shape{3, 4});
      CHECK(s.douga.dtype() == DType::i32);
      CHECK(s.douga.to_vector_i32() == douga_map(3, 4, int(i)).to_vector_i32());
      CHECK_FALSE(s.mask.defined());
    }
    CHECK_ERROR(data::SegDataset(d.path, data::SegTask::douga, {false, true}), "masks");
  }
  // Masks for some frames only: usable, but has_masks() is false; require_masks names the frame.
  data::write_png(d.sub("masks/a.png"), mask_image(3, 4, 0));
  data::write_png(d.sub("masks/b.png"), mask_image(3, 4, 1));
  {
    data::SegDataset ds(d.path, data::SegTask::douga);
    CHECK(ds.size() == 3);
    CHECK_FALSE(ds.has_masks());
    CHECK_FALSE(ds.load(0).mask.defined());
    CHECK_ERROR(data::SegDataset(d.path, data::SegTask::douga, {false, true}), "masks/c.png");
    log::CaptureWarnings warnings;
    data::SegDataset skip(d.path, data::SegTask::douga, {true, true});
    CHECK(skip.size() == 2);
    CHECK(skip.skipped() == 1);
    CHECK(warnings.contains("masks/c.png"));
    CHECK(skip.has_masks());
  }
  // Masks for every frame.
  data::write_png(d.sub("masks/c.png"), mask_image(3, 4, 2));
  {
    data::SegDataset ds(d.path, data::SegTask::douga, {false, true});
    CHECK(ds.has_masks());
    for (size_t i = 0; i < 3; ++i) {
      data::SegSample s = ds.load(i);
      CHECK(s.mask.shape() == Shape{1, 3, 4});
      CHECK(s.mask.to_vector() == mask_values(3, 4, int(i)));
      CHECK(s.douga.to_vector_i32() == douga_map(3, 4, int(i)).to_vector_i32());
    }
  }
  // A wrong-sized douga mask is an error naming it.
  data::write_png(d.sub("masks/c.png"), mask_image(2, 4, 2));
  CHECK_ERROR(data::SegDataset(d.path, data::SegTask::douga), "masks/c.png");
  // A mask without a frame is an error naming it.
  data::write_png(d.sub("masks/c.png"), mask_image(3, 4, 2));
  data::write_png(d.sub("masks/zz.png"), mask_image(3, 4, 2));
  CHECK_ERROR(data::SegDataset(d.path, data::SegTask::douga), "masks/zz.png");
}

TEST_CASE("seg dataset: every failure mode is an error naming the file") {
  using data::SegDataset;
  using data::SegTask;
  SUBCASE("missing dataset folder") {
    SegTempDir d;
    const std::string nowhere = d.path + "/nowhere";
    CHECK_ERROR(SegDataset(nowhere, SegTask::cel), nowhere);
  }
  SUBCASE("missing frames/ folder") {
    SegTempDir d;
    d.mkdir("masks");
    const std::string msg = test::error_of([&] { SegDataset(d.path, SegTask::cel); });
    CHECK(msg.find(d.path + "/frames") != std::string::npos);
    CHECK(msg.find("masks/NAME.png") != std::string::npos);  // says what layout is expected
  }
  SUBCASE("missing masks/ and douga/ folders") {
    SegTempDir d;
    make_douga_set(d);
    CHECK_ERROR(SegDataset(d.path, SegTask::cel), d.path + "/masks");
    fs::remove_all(d.path + "/douga");
    CHECK_ERROR(SegDataset(d.path, SegTask::douga), d.path + "/douga");
  }
  SUBCASE("empty frames/ folder") {
    SegTempDir d;
    d.mkdir("frames");
    d.mkdir("masks");
    write_text(d.sub("frames/notes.txt"), "no pngs here");
    CHECK_ERROR(SegDataset(d.path, SegTask::cel), "no frames");
    CHECK_ERROR(SegDataset(d.path, SegTask::cel, {true, false}), d.path + "/frames");
  }
  SUBCASE("frame without its mask") {
    SegTempDir d;
    make_cel_set(d);
    fs::remove(d.path + "/masks/b.png");
    const std::string msg = test::error_of([&] { SegDataset(d.path, SegTask::cel); });
    CHECK(msg.find(d.path + "/masks/b.png") != std::string::npos);
    CHECK(msg.find(d.path + "/frames/b.png") != std::string::npos);
  }
  SUBCASE("frame without its douga") {
    SegTempDir d;
    make_douga_set(d);
    fs::remove(d.path + "/douga/c.png");
    CHECK_ERROR(SegDataset(d.path, SegTask::douga), d.path + "/douga/c.png");
  }
  SUBCASE("mask without its frame") {
    SegTempDir d;
    make_cel_set(d);
    data::write_png(d.sub("masks/orphan.png"), mask_image(4, 5, 0));
    CHECK_ERROR(SegDataset(d.path, SegTask::cel), d.path + "/masks/orphan.png");
  }
  SUBCASE("wrong-sized mask") {
    SegTempDir d;
    make_cel_set(d);
    data::write_png(d.sub("masks/a.png"), mask_image(4, 6, 0));
    const std::string msg = test::error_of([&] { SegDataset(d.path, SegTask::cel); });
    INFO(msg);
    CHECK(msg.find(d.path + "/masks/a.png") != std::string::npos);
    CHECK(msg.find(d.path + "/frames/a.png") != std::string::npos);
    CHECK(msg.find("5x4") != std::string::npos);
    CHECK(msg.find("6x4") != std::string::npos);
  }
  SUBCASE("wrong-sized douga") {
    SegTempDir d;
    make_douga_set(d);
    data::write_douga_png(d.sub("douga/b.png"), douga_map(4, 4, 0));
    CHECK_ERROR(SegDataset(d.path, SegTask::douga), d.path + "/douga/b.png");
  }
  SUBCASE("truncated PNG (header cut)") {
    SegTempDir d;
    make_cel_set(d);
    truncate_file(d.path + "/frames/c.png", 20);
    CHECK_ERROR(SegDataset(d.path, SegTask::cel), d.path + "/frames/c.png");
  }
  SUBCASE("truncated PNG (pixel data cut): found by load(), naming the file") {
    SegTempDir d;
    make_cel_set(d);
    const std::string f = d.path + "/masks/a.png";
    truncate_file(f, fs::file_size(f) - 20);
    data::SegDataset ds(d.path, SegTask::cel);  // header still readable: open succeeds
    CHECK_ERROR(ds.load(0), f);
    CHECK(ds.load(1).frame.defined());
  }
  SUBCASE("a text file named x.png") {
    SegTempDir d;
    make_cel_set(d);
    write_text(d.sub("frames/x.png"), "this is not a PNG\n");
    data::write_png(d.sub("masks/x.png"), mask_image(4, 5, 0));
    CHECK_ERROR(SegDataset(d.path, SegTask::cel), d.path + "/frames/x.png");
  }
  SUBCASE("a text douga named x.png") {
    SegTempDir d;
    make_douga_set(d);
    data::write_png(d.sub("frames/x.png"), pattern(3, 4, 3, 8, 0));
    write_text(d.sub("douga/x.png"), "neither is this\n");
    CHECK_ERROR(SegDataset(d.path, SegTask::douga), d.path + "/douga/x.png");
  }
  SUBCASE("files changed after opening: load() names the file") {
    SegTempDir d;
    make_douga_set(d);
    data::SegDataset ds(d.path, SegTask::douga);
    write_text(d.path + "/douga/a.png", "gone bad");
    CHECK_ERROR(ds.load(0), d.path + "/douga/a.png");
    write_text(d.path + "/frames/b.png", "gone bad");
    CHECK_ERROR(ds.load(1), d.path + "/frames/b.png");
    data::write_douga_png(d.path + "/douga/c.png", douga_map(2, 2, 0));
    CHECK_ERROR(ds.load(2), d.path + "/douga/c.png");
  }
}

TEST_CASE("seg dataset: skip_bad warns, counts and continues") {
  SegTempDir d;
  make_cel_set(d);  // a, b, c good
  data::write_png(d.sub("frames/d.png"), pattern(4, 5, 3, 8, 4));  // no mask
  data::write_png(d.sub("frames/e.png"), pattern(4, 5, 3, 8, 5));
  data::write_png(d.sub("masks/e.png"), mask_image(5, 5, 0));  // wrong size
  write_text(d.sub("frames/f.png"), "text");                   // not a PNG
  data::write_png(d.sub("masks/f.png"), mask_image(4, 5, 0));
  data::write_png(d.sub("masks/g.png"), mask_image(4, 5, 0));  // no frame
  CHECK_ERROR(data::SegDataset(d.path, data::SegTask::cel), d.path);
  log::CaptureWarnings warnings;
  data::SegDataset ds(d.path, data::SegTask::cel, {true, false});
  CHECK(warnings.messages().size() == 4);
  CHECK(warnings.contains("skipping"));
  CHECK(ds.size() == 3);
  CHECK(ds.names() == std::vector<std::string>{"a.png", "b.png", "c.png"});
  CHECK(ds.skipped() == 4);
  CHECK(ds.load(2).mask.shape() == Shape{1, 3, 2});

  // Nothing usable: still an error.
  SegTempDir e;
  data::write_png(e.sub("frames/a.png"), pattern(2, 2, 3, 8, 0));
  e.mkdir("masks");
  CHECK_ERROR(data::SegDataset(e.path, data::SegTask::cel, {true, false}), "no usable");
}

TEST_CASE("seg dataset: the train/validation split is deterministic") {
  CHECK_FALSE(data::is_validation_name("a.png", 0.0));
  CHECK(data::is_validation_name("a.png", 1.0));
  // The folder does not matter.
  for (const char* n : {"a.png", "frame_0001.png", "x"}) {
    for (double f : {0.1, 0.3, 0.5, 0.9}) {
      CHECK(data::is_validation_name(n, f) == data::is_validation_name(std::string("some/dir/") + n, f));
      CHECK(data::is_validation_name(n, f) == data::is_validation_name(n, f));
    }
  }
  // Monotone in the fraction, and roughly the fraction on 1000 names.
  for (double f : {0.1, 0.25, 0.5}) {
    int val = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::string n = "frame_" + std::to_string(i) + ".png";
      const bool v = data::is_validation_name(n, f);
      val += v;
      if (v) CHECK(data::is_validation_name(n, f + 0.1));
    }
    CAPTURE(f);
    CHECK(val > int(1000 * f) - 50);
    CHECK(val < int(1000 * f) + 50);
  }
  // Known value of FNV-1a 64: "a" hashes to 0xaf63dc4c8601ec8c → 0.685...
  CHECK(data::is_validation_name("a", 0.686));
  CHECK_FALSE(data::is_validation_name("a", 0.685));

  SegTempDir d;
  make_douga_set(d, 12);
  data::SegDataset ds(d.path, data::SegTask::douga);
  for (double f : {0.0, 0.3, 1.0}) {
    const auto val = ds.split(true, f), train = ds.split(false, f);
    CHECK(val.size() + train.size() == ds.size());
    for (size_t i : val) CHECK(data::is_validation_name(ds.names()[i], f));
    for (size_t i : train) CHECK_FALSE(data::is_validation_name(ds.names()[i], f));
    CHECK(std::is_sorted(val.begin(), val.end()));
    CHECK(ds.split(true, f) == val);
    data::SegDataset again(d.path, data::SegTask::douga);
    CHECK(again.split(true, f) == val);
  }
  CHECK(ds.split(true, 0.0).empty());
  CHECK(ds.split(false, 1.0).empty());
  CHECK(ds.split(true, 1.0).size() == 12);
}

}  // TEST_SUITE("data")
