// Redraw's synthetic data and readers (data/redraw/synth.h, data/redraw/dataset.h): the portrait
// options it uses, determinism, boxes against masks, designs and productions telling apart,
// the held-out split, the written layout read back, and every reader error.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "data/png.h"
#include "data/redraw/dataset.h"
#include "data/redraw/synth.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::data;
using namespace sakuga::data::redraw;
namespace fs = std::filesystem;

namespace {

draw::Box tight(const Tensor& mask) {  // (H, W) u8
  return draw::tight_box(mask.data<uint8_t>(), int(mask.shape()[0]), int(mask.shape()[1]));
}

bool same_box(const draw::Box& a, const draw::Box& b) {
  return a.x0 == b.x0 && a.y0 == b.y0 && a.x1 == b.x1 && a.y1 == b.y1;
}

// Mean absolute difference over the pixels of `mask` (H, W) of two (3, H, W) images.
double masked_diff(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const int64_t n = mask.numel();
  const float *x = a.data<float>(), *y = b.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  double s = 0;
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i)
    if (m[i]) {
      for (int64_t c = 0; c < 3; ++c) s += std::fabs(double(x[c * n + i]) - double(y[c * n + i]));
      ++k;
    }
  return k ? s / double(3 * k) : 0;
}

// The fraction of the pixels of `mask` where some channel differs by more than 0.1.
double visible_fraction(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const int64_t n = mask.numel();
  const float *x = a.data<float>(), *y = b.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  int64_t seen = 0, k = 0;
  for (int64_t i = 0; i < n; ++i)
    if (m[i]) {
      bool d = false;
      for (int64_t c = 0; c < 3; ++c) d = d || std::fabs(x[c * n + i] - y[c * n + i]) > 0.1f;
      seen += d;
      ++k;
    }
  return k ? double(seen) / double(k) : 0;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("sakuga-redraw-" + tag + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

void write_gray(const fs::path& p, int h, int w, int value) {
  fs::create_directories(p.parent_path());
  Image img(h, w, 1);
  for (auto& v : img.pixels) v = uint16_t(value);
  write_png(p.string(), img);
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("portraits: the redraw options leave the default drawing alone; the matte is premultiplied") {
  const PortraitContent c{1, 2, 0, 2};
  const PortraitStyle s{1, 2, 3, 1, 1};
  const Portrait base = render_portrait(c, s, 64, 3);
  PortraitOptions same;
  same.colors = portrait_palette_colors(3);
  CHECK(render_portrait(c, s, 64, 3, same).image.to_vector() == base.image.to_vector());
  CHECK(base.face.x1 > base.face.x0);
  for (const EyeRegion& e : base.eyes) {  // the eyes lie in the face
    CHECK(e.box.x0 >= base.face.x0);
    CHECK(e.box.x1 <= base.face.x1);
    CHECK(e.box.y0 >= base.face.y0);
    CHECK(e.box.y1 <= base.face.y1);
  }
  // Each highlight layout changes the eyes and nothing outside them.
  for (int hl = 1; hl < kPortraitHighlights; ++hl) {
    PortraitOptions o;
    o.highlights = hl;
    const std::vector<float> a = base.image.to_vector(), b = render_portrait(c, s, 64, 3, o).image.to_vector();
    size_t changed = 0, outside = 0;
    for (size_t i = 0; i < 64 * 64; ++i) {
      bool d = false;
      for (size_t ch = 0; ch < 3; ++ch) d = d || a[ch * 4096 + i] != b[ch * 4096 + i];
      changed += d;
      outside += d && !base.eyes[0].mask[i] && !base.eyes[1].mask[i];
    }
    CHECK(changed > 0);
    CHECK(outside == 0);
  }
  PortraitOptions m;
  m.matte = true;
  const Portrait p = render_portrait(c, PortraitStyle{1, 2, 3, 2, 1}, 64, 3, m);
  REQUIRE(p.alpha.shape() == Shape{1, 64, 64});
  const std::vector<float> img = p.image.to_vector(), alpha = p.alpha.to_vector();
  size_t zero = 0, full = 0;
  for (size_t i = 0; i < alpha.size(); ++i) {
    CHECK(alpha[i] >= 0.f);
    CHECK(alpha[i] <= 1.f + 1e-6f);
    for (size_t ch = 0; ch < 3; ++ch) CHECK(img[ch * 4096 + i] <= alpha[i] + 1e-5f);  // premultiplied
    zero += alpha[i] == 0.f;
    full += alpha[i] == 1.f;
  }
  CHECK(zero > 200);  // background beside the head
  CHECK(full > 1000);
  CHECK_ERROR(render_portrait(c, s, 64, 3, PortraitOptions{true, std::nullopt, 4, false}), "highlights = 4");
}

TEST_CASE("redraw synth: the world is reproducible; productions and designs are distinct; held out last") {
  const World a = make_world(5, 10, 2), b = make_world(5, 10, 2);
  REQUIRE(a.productions.size() == 5);
  REQUIRE(a.designs.size() == 10);
  CHECK(a.held_out == std::vector<int>{3, 4});
  CHECK(a.is_held_out(4));
  CHECK_FALSE(a.is_held_out(2));
  for (size_t i = 0; i < 5; ++i) CHECK(to_json(a.productions[i]) == to_json(b.productions[i]));
  for (size_t i = 0; i < 10; ++i) {
    CHECK(to_json(a.designs[i]) == to_json(b.designs[i]));
    CHECK(a.designs[i].id == int(i));
  }
  // A prefix of a bigger world is the smaller world (ids keep their meaning).
  const World big = make_world(8, 16, 1);
  for (size_t i = 0; i < 5; ++i) CHECK(to_json(big.productions[i]) == to_json(a.productions[i]));
  for (size_t i = 0; i < 10; ++i) CHECK(to_json(big.designs[i]) == to_json(a.designs[i]));
  CHECK(to_json(make_world(5, 10, 2, 99).designs[0]) != to_json(a.designs[0]));
  CHECK_ERROR(make_world(3, 4, 3), "held-out productions must be in 0 … 2");
  CHECK_ERROR(make_world(0, 4, 0), "productions must be in 1");
}

TEST_CASE("redraw synth: frames are deterministic, boxes lie in the frame and match the eye masks") {
  const World world = make_world(4, 8, 1);
  const SynthFrame f = synth_frame(world, 7, 5, 160, 200), g = synth_frame(world, 7, 5, 160, 200);
  CHECK(test::same_bytes(f.image, g.image));
  CHECK(f.boxes == g.boxes);
  CHECK_FALSE(test::same_bytes(f.image, synth_frame(world, 7, 6, 160, 200).image));
  CHECK_FALSE(test::same_bytes(f.image, synth_frame(world, 8, 5, 160, 200).image));
  REQUIRE(f.image.shape() == Shape{3, 160, 200});
  int multi = 0;
  for (int64_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    const SynthFrame fr = synth_frame(world, 11, i, 160, 200);
    CHECK(fr.production == int(i % 4));
    REQUIRE(!fr.characters.empty());
    REQUIRE(fr.boxes.size() == 3 * fr.characters.size());
    multi += fr.characters.size() > 1;
    std::set<int> designs;
    for (size_t k = 0; k < fr.characters.size(); ++k) {
      const Character& ch = fr.characters[k];
      designs.insert(ch.design);
      CHECK(ch.production == fr.production);
      CHECK(ch.content.eye_openness >= 1);
      const LabeledBox& face = fr.boxes[3 * k];
      CHECK(face.kind == BoxKind::face);
      CHECK(face.character == int(k));
      CHECK(face.design == ch.design);
      for (const LabeledBox& b : {fr.boxes[3 * k], fr.boxes[3 * k + 1], fr.boxes[3 * k + 2]}) {
        CHECK(b.box.x0 >= 0);
        CHECK(b.box.y0 >= 0);
        CHECK(b.box.x1 <= 200);
        CHECK(b.box.y1 <= 160);
        CHECK(b.box.x0 < b.box.x1);
        CHECK(b.box.y0 < b.box.y1);
        CHECK(b.production == fr.production);
      }
      for (size_t e = 0; e < 2; ++e) {
        const LabeledBox& eb = fr.boxes[3 * k + 1 + e];
        CHECK(eb.kind == BoxKind::eye);
        // The eye box is exactly the tight box of the eye's mask in the frame, inside the face.
        CHECK(same_box(eb.box, tight(ch.eye_masks[e])));
        CHECK(eb.box.x0 >= face.box.x0);
        CHECK(eb.box.x1 <= face.box.x1);
        CHECK(eb.box.y0 >= face.box.y0);
        CHECK(eb.box.y1 <= face.box.y1);
      }
      // Characters do not overlap: neither do their faces.
      for (size_t o = 0; o < k; ++o) {
        const draw::Box& a = fr.boxes[3 * o].box;
        CHECK((a.x1 <= face.box.x0 || face.box.x1 <= a.x0 || a.y1 <= face.box.y0 || face.box.y1 <= a.y0));
      }
      // The crop: its mask's tight box is the union of the eye boxes transformed (rounded
      // outward) into crop pixels — equal, not only contained.
      const FaceCrop c = face_crop(fr, k, 128);
      REQUIRE(c.image.shape() == Shape{3, 128, 128});
      REQUIRE(c.mask.shape() == Shape{128, 128});
      const draw::Box e0 = crop_box(fr.boxes[3 * k + 1].box, c.window, 128);
      const draw::Box e1 = crop_box(fr.boxes[3 * k + 2].box, c.window, 128);
      const draw::Box both{std::min(e0.x0, e1.x0), std::min(e0.y0, e1.y0), std::max(e0.x1, e1.x1),
                           std::max(e0.y1, e1.y1)};
      CHECK(same_box(tight(c.mask), both));
      for (size_t e = 0; e < 2; ++e)  // and per eye
        CHECK(same_box(tight(crop_mask(ch.eye_masks[e], c.window, 128)), e == 0 ? e0 : e1));
      CHECK(c.window.x0 >= 0);
      CHECK(c.window.y0 >= 0);
      CHECK(c.window.x0 + c.window.side <= 200);
      CHECK(c.window.y0 + c.window.side <= 160);
    }
    CHECK(designs.size() == fr.characters.size());  // distinct designs in a frame
  }
  CHECK(multi > 0);
}

TEST_CASE("redraw synth: two designs differ inside the eyes; two productions differ for one design") {
  const World world = make_world(4, 8, 1);
  const PortraitContent content{0, 0, 0, 2};
  auto render = [&](int prod, int design, const PortraitContent& c) {
    const Production& p = world.productions[size_t(prod)];
    const Design& d = world.designs[size_t(design)];
    PortraitStyle s{p.line_weight, d.eye_shape, 0, p.shading, d.iris};
    PortraitOptions o;
    o.colors = design_colors(p, d);
    o.highlights = d.highlights;
    Portrait r = render_portrait(c, s, 96, 1, o);
    apply_grade(p, r.image);
    return r;
  };
  for (int prod = 0; prod < 2; ++prod)
    for (int d1 = 0; d1 < 4; ++d1) {
      const int d2 = d1 + 4;
      PortraitContent c1 = content, c2 = content;
      c1.hair = world.designs[size_t(d1)].hair;
      c2.hair = world.designs[size_t(d2)].hair;
      const Portrait a = render(prod, d1, c1), b = render(prod, d2, c2);
      // The union of both renderings' eye regions.
      Tensor region = Tensor::zeros({96, 96}, DType::u8);
      uint8_t* r = region.data<uint8_t>();
      for (const Portrait* p : {&a, &b})
        for (const EyeRegion& e : p->eyes)
          for (size_t i = 0; i < e.mask.size(); ++i) r[i] = uint8_t(r[i] | e.mask[i]);
      CAPTURE(prod);
      CAPTURE(d1);
      // Visibly: a tenth of the eye region or more differs by over 0.1 (25 of 255) in some channel
      // (measured 0.16 … 0.89 here).
      CHECK(visible_fraction(a.image, b.image, region) > 0.1);
    }
  // One design, productions 0 … 3: the whole picture differs clearly between any two.
  PortraitContent c = content;
  c.hair = world.designs[2].hair;
  std::vector<Tensor> images;
  for (int prod = 0; prod < 4; ++prod) images.push_back(render(prod, 2, c).image);
  const Tensor all = Tensor::ones({96, 96}, DType::u8);
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = 0; j < i; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(masked_diff(images[i], images[j], all) > 0.02);
    }
  // The sheet of the world: a row per design, a column per production.
  const World small = make_world(2, 3, 1);
  const Tensor sheet = world_sheet(small, 40);
  REQUIRE(sheet.dim() == 3);
  CHECK(sheet.shape()[0] == 3);
  CHECK(sheet.shape()[1] >= 3 * 40);
  CHECK(sheet.shape()[2] >= 2 * 40);
  CHECK(test::same_bytes(design_portrait(small, 1, 2, 40), design_portrait(small, 1, 2, 40)));
  CHECK_ERROR(design_portrait(small, 2, 0, 40), "no production 2");
  CHECK_ERROR(world_sheet(make_world(100, 41, 0), 32), "is too large");
}

TEST_CASE("redraw synth: the written dataset reads back (boxes, ids, pixels, held-out split)") {
  TempDir tmp("rt");
  const std::string dir = (tmp.path / "ds").string();
  SynthOptions o;
  o.count = 6;
  o.seed = 3;
  o.height = 128;
  o.width = 160;
  o.productions = 3;
  o.designs = 5;
  o.held_out = 1;
  o.crop_size = 64;
  int64_t calls = 0;
  o.progress = [&calls](int64_t, int64_t) { ++calls; };
  write_redraw_dataset(dir, o);
  CHECK(calls == 6);
  const World world = make_world(3, 5, 1);
  const std::vector<FrameEntry> frames = read_frames(dir + "/frames");
  REQUIRE(frames.size() == 6);
  size_t characters = 0;
  for (int64_t i = 0; i < 6; ++i) {
    const SynthFrame f = synth_frame(world, 3, i, 128, 160);
    const FrameEntry& e = frames[size_t(i)];
    CHECK(e.name == frame_name(i));
    CHECK(e.height == 128);
    CHECK(e.width == 160);
    std::vector<LabeledBox> expected = f.boxes;  // as written: without the in-memory character
    for (LabeledBox& b : expected) b.character = -1;
    CHECK(e.boxes == expected);
    CHECK(read_png(e.image) == tensor_to_image(f.image));
    characters += f.characters.size();
    for (size_t k = 0; k < f.characters.size(); ++k) {
      const fs::path folder = fs::path(dir) / "crops" / std::to_string(f.production) /
                              std::to_string(f.characters[k].design);
      const std::string stem = frame_name(i) + "_" + std::to_string(k);
      const FaceCrop c = face_crop(f, k, 64);
      CHECK(read_png((folder / (stem + ".png")).string()) == tensor_to_image(c.image));
      const Crop back = read_crop({(folder / (stem + ".png")).string(), (folder / (stem + ".mask.png")).string(), stem,
                                   "", "", 0, 0});
      CHECK(test::same_bytes(back.mask, c.mask));
    }
  }
  const std::vector<CropEntry> crops = list_crops(dir + "/crops");
  CHECK(crops.size() == characters);
  for (const CropEntry& c : crops) {
    CHECK(c.production == std::stoi(c.production_name));
    CHECK(c.design == std::stoi(c.design_name));
    const std::string frame = c.name.substr(0, c.name.rfind('_'));
    const size_t k = size_t(std::stoi(c.name.substr(c.name.rfind('_') + 1)));
    bool found = false;
    for (const FrameEntry& f : frames)
      if (f.name == frame) {
        REQUIRE(3 * k < f.boxes.size());
        CHECK(f.boxes[3 * k].production == c.production);
        CHECK(f.boxes[3 * k].design == c.design);
        found = true;
      }
    CHECK(found);
  }
  // The manifest describes the world: make_world of its numbers gives the same factors.
  {
    std::ifstream in(dir + "/redraw.json");
    const nlohmann::json m = nlohmann::json::parse(in);
    const World again = make_world(int(m["productions"].size()), int(m["designs"].size()),
                                   int(m["held_out_productions"].size()), m["world_seed"].get<uint64_t>());
    for (size_t p = 0; p < again.productions.size(); ++p) CHECK(m["productions"][p] == to_json(again.productions[p]));
    for (size_t d = 0; d < again.designs.size(); ++d) CHECK(m["designs"][d] == to_json(again.designs[d]));
    CHECK(m["size"] == nlohmann::json{128, 160});
    std::ifstream f2(frames[2].json);
    CHECK(nlohmann::json::parse(f2)["held_out"] == true);
    std::ifstream f1(frames[1].json);
    CHECK(nlohmann::json::parse(f1)["held_out"] == false);
  }
  // Held out: production 2, frames 2 and 5, and only its crops.
  CHECK(held_out_productions(dir) == std::vector<int>{2});
  CHECK(held_out_productions(tmp.path.string()).empty());  // no redraw.json: all seen
  for (const FrameEntry& f : frames) {
    const bool held = f.boxes[0].production == 2;
    CHECK(held == (f.name == frame_name(2) || f.name == frame_name(5)));
  }
  size_t held_crops = 0;
  for (const CropEntry& c : crops) held_crops += c.production == 2;
  CHECK(held_crops > 0);
  CHECK(held_crops < crops.size());
  // An occupied folder is refused; a previous redraw dataset is replaced with --overwrite only.
  o.progress = nullptr;
  CHECK_ERROR(write_redraw_dataset(dir, o), "exists and is not empty");
  write_file(tmp.path / "other" / "x.txt", "x");
  o.overwrite = true;
  CHECK_ERROR(write_redraw_dataset((tmp.path / "other").string(), o), "holds no redraw.json");
  o.count = 2;
  write_redraw_dataset(dir, o);
  CHECK(read_frames(dir + "/frames").size() == 2);
}

TEST_CASE("redraw data: frame JSON errors name the file and what was expected") {
  using J = nlohmann::json;
  auto one = [](J box) { return J{{"boxes", J::array({box})}}; };
  const J good = {{"kind", "eye"}, {"box", {1, 2, 30, 40}}, {"production", 1}, {"design", 2}};
  const std::vector<LabeledBox> ok = parse_boxes(one(good), 64, 64, "f.json");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].kind == BoxKind::eye);
  CHECK(same_box(ok[0].box, {1, 2, 30, 40}));
  CHECK(ok[0].design == 2);
  CHECK(ok[0].character == -1);
  CHECK(to_json(ok[0]) == good);
  // Ids are optional; whole floats are pixels.
  CHECK(parse_boxes(one({{"kind", "face"}, {"box", {0.0, 0, 64, 64}}}), 64, 64, "f.json")[0].production == -1);
  CHECK_ERROR(parse_boxes(one({{"kind", "face"}, {"box", {0, 0, 65, 10}}}), 64, 64, "f.json"),
              "f.json: box 0: box [0,0,65,10] lies outside the 64x64 frame");
  CHECK_ERROR(parse_boxes(one({{"kind", "face"}, {"box", {-1, 0, 5, 10}}}), 64, 64, "f.json"), "lies outside");
  CHECK_ERROR(parse_boxes(one({{"kind", "nose"}, {"box", {0, 0, 5, 5}}}), 64, 64, "f.json"),
              "f.json: box 0: unknown kind \"nose\" (expected \"face\" or \"eye\")");
  CHECK_ERROR(parse_boxes(one({{"box", {0, 0, 5, 5}}}), 64, 64, "f.json"), "missing \"kind\"");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"box", {0, 0, 5}}}), 64, 64, "f.json"),
              "\"box\" must be [x0, y0, x1, y1]");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"box", {5, 0, 5, 5}}}), 64, 64, "f.json"), "is empty or reversed");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"box", {0, 0, 5.5, 5}}}), 64, 64, "f.json"),
              "not a whole number of pixels");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"box", {0, 0, "5", 5}}}), 64, 64, "f.json"), "is not a number");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"box", {0, 0, 5, 5}}, {"design", -2}}), 64, 64, "f.json"),
              "\"design\" must be a non-negative integer");
  CHECK_ERROR(parse_boxes(one({{"kind", "eye"}, {"bbox", {0, 0, 5, 5}}}), 64, 64, "f.json"), "unknown key \"bbox\"");
  CHECK_ERROR(parse_boxes(J{{"faces", J::array()}}, 64, 64, "f.json"), "f.json: expected an object with a \"boxes\"");

  // Through the folder reader: the size comes from the PNG, pairs must be complete.
  TempDir tmp("frames");
  const fs::path d = tmp.path / "frames";
  write_gray(d / "a.png", 32, 48, 10);
  write_file(d / "a.json", one({{"kind", "face"}, {"box", {0, 0, 48, 33}}}).dump());
  CHECK_ERROR(read_frames(d.string()), "a.json: box 0: box [0,0,48,33] lies outside the 32x48 frame");
  write_file(d / "a.json", one({{"kind", "face"}, {"box", {0, 0, 48, 32}}}).dump());
  CHECK(read_frames(d.string()).size() == 1);
  write_file(d / "b.json", "{\"boxes\": []}");
  CHECK_ERROR(read_frames(d.string()), "b.json: a frame's JSON without its frame");
  fs::remove(d / "b.json");
  write_gray(d / "c.png", 8, 8, 0);
  CHECK_ERROR(read_frames(d.string()), "c.png: a frame without its boxes (expected");
  write_file(d / "c.json", "{\"boxes\": [");
  CHECK_ERROR(read_frames(d.string()), "c.json: not valid JSON");
  CHECK_ERROR(read_frames((tmp.path / "none").string()), "not a folder");
  fs::create_directories(tmp.path / "empty");
  CHECK_ERROR(read_frames((tmp.path / "empty").string()), "no frames");
}

TEST_CASE("redraw data: crop folder errors name the file and what was expected") {
  TempDir tmp("crops");
  const fs::path d = tmp.path / "crops";
  write_gray(d / "kon" / "yui" / "x.png", 16, 16, 100);
  write_gray(d / "kon" / "yui" / "x.mask.png", 16, 16, 255);
  write_gray(d / "kon" / "mio" / "y.png", 16, 16, 100);
  write_gray(d / "kon" / "mio" / "y.mask.png", 16, 16, 255);
  write_gray(d / "lucky" / "yui" / "z.png", 16, 16, 100);
  write_gray(d / "lucky" / "yui" / "z.mask.png", 16, 16, 255);
  std::vector<CropEntry> crops = list_crops(d.string());
  REQUIRE(crops.size() == 3);
  // Names, not numbers: ids are ranks in sorted order; one design name is one design.
  CHECK(crops[0].production_name == "kon");
  CHECK(crops[0].design_name == "mio");
  CHECK(crops[0].design == 0);
  CHECK(crops[1].design == 1);
  CHECK(crops[2].production == 1);
  CHECK(crops[2].design == 1);
  const Crop c = read_crop(crops[0]);
  CHECK(c.image.shape() == Shape{3, 16, 16});
  CHECK(c.mask.shape() == Shape{16, 16});

  write_gray(d / "kon" / "mio" / "y.mask.png", 16, 12, 255);
  CHECK_ERROR(read_crop(list_crops(d.string())[0]), "y.mask.png: mask is 16x12, expected its crop's size 16x16");
  write_gray(d / "kon" / "mio" / "y.mask.png", 16, 16, 100);
  CHECK_ERROR(read_crop(list_crops(d.string())[0]), "y.mask.png: the mask is empty");
  write_gray(d / "kon" / "mio" / "y.mask.png", 16, 16, 255);
  fs::remove(d / "lucky" / "yui" / "z.mask.png");
  CHECK_ERROR(list_crops(d.string()), "z.png: a crop without its mask (expected");
  write_gray(d / "lucky" / "yui" / "w.mask.png", 16, 16, 255);
  fs::remove(d / "lucky" / "yui" / "z.png");
  CHECK_ERROR(list_crops(d.string()), "w.mask.png: a mask without its crop");
  fs::remove_all(d / "lucky");
  fs::create_directories(d / "lucky");
  CHECK_ERROR(list_crops(d.string()), "lucky: a production folder with no designs");
  fs::create_directories(d / "lucky" / "kagami");
  CHECK_ERROR(list_crops(d.string()), "kagami: a design folder with no crops");
  fs::create_directories(tmp.path / "bare");
  CHECK_ERROR(list_crops((tmp.path / "bare").string()), "no production folders");
  CHECK_ERROR(list_crops((tmp.path / "nowhere").string()), "not a folder");
}

}  // TEST_SUITE
