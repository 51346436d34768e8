// Redraw's data on disk (data/redraw/dataset.h).
#include "data/redraw/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/png.h"

namespace sakuga::data::redraw {

namespace fs = std::filesystem;

const char* box_kind_name(BoxKind k) { return k == BoxKind::face ? "face" : "eye"; }

nlohmann::json to_json(const LabeledBox& b) {
  nlohmann::json j = {{"kind", box_kind_name(b.kind)}, {"box", {b.box.x0, b.box.y0, b.box.x1, b.box.y1}}};
  if (b.production >= 0) j["production"] = b.production;
  if (b.design >= 0) j["design"] = b.design;
  return j;
}

namespace {

// A whole number that fits an int, or an error.
int whole(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    SAKUGA_CHECK(x >= -(int64_t(1) << 30) && x <= (int64_t(1) << 30), what, " = ", x, " is out of range");
    return int(x);
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    SAKUGA_CHECK(std::isfinite(x) && x == std::floor(x) && std::fabs(x) <= double(1 << 30), what, " = ", v.dump(),
                 " is not a whole number of pixels");
    return int(x);
  }
  SAKUGA_FAIL(what, " = ", v.dump(), " is not a number");
}

int optional_id(const nlohmann::json& b, const char* key, const std::string& where) {
  if (!b.contains(key)) return -1;
  const nlohmann::json& v = b[key];
  SAKUGA_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < (int64_t(1) << 30), where,
               ": \"", key, "\" must be a non-negative integer, got ", v.dump());
  return v.get<int>();
}

}  // namespace

std::vector<LabeledBox> parse_boxes(const nlohmann::json& j, int64_t height, int64_t width, const std::string& where) {
  SAKUGA_CHECK(j.is_object() && j.contains("boxes") && j["boxes"].is_array(), where,
               ": expected an object with a \"boxes\" list, got ", j.dump().substr(0, 80));
  std::vector<LabeledBox> out;
  const nlohmann::json& boxes = j["boxes"];
  for (size_t i = 0; i < boxes.size(); ++i) {
    const nlohmann::json& b = boxes[i];
    const std::string at = where + ": box " + std::to_string(i);
    SAKUGA_CHECK(b.is_object(), at, " is not an object: ", b.dump());
    for (const auto& [key, value] : b.items())
      SAKUGA_CHECK(key == "kind" || key == "box" || key == "production" || key == "design" || key == "character", at,
                   ": unknown key \"", key, "\" (expected kind, box, production, design, character)");
    SAKUGA_CHECK(b.contains("kind") && b["kind"].is_string(), at, ": missing \"kind\" (\"face\" or \"eye\")");
    const std::string kind = b["kind"].get<std::string>();
    SAKUGA_CHECK(kind == "face" || kind == "eye", at, ": unknown kind \"", kind, "\" (expected \"face\" or \"eye\")");
    SAKUGA_CHECK(b.contains("box") && b["box"].is_array() && b["box"].size() == 4, at,
                 ": \"box\" must be [x0, y0, x1, y1], got ", b.contains("box") ? b["box"].dump() : "nothing");
    LabeledBox lb;
    lb.kind = kind == "face" ? BoxKind::face : BoxKind::eye;
    const nlohmann::json& c = b["box"];
    lb.box = {whole(c[0], at + " x0"), whole(c[1], at + " y0"), whole(c[2], at + " x1"), whole(c[3], at + " y1")};
    SAKUGA_CHECK(lb.box.x0 < lb.box.x1 && lb.box.y0 < lb.box.y1, at, ": box ", c.dump(),
                 " is empty or reversed (expected x0 < x1 and y0 < y1; x1, y1 exclusive)");
    SAKUGA_CHECK(lb.box.x0 >= 0 && lb.box.y0 >= 0 && lb.box.x1 <= width && lb.box.y1 <= height, at, ": box ",
                 c.dump(), " lies outside the ", height, "x", width, " frame (expected 0 <= x0 < x1 <= ", width,
                 ", 0 <= y0 < y1 <= ", height, ")");
    lb.production = optional_id(b, "production", at);
    lb.design = optional_id(b, "design", at);
    lb.character = optional_id(b, "character", at);
    out.push_back(lb);
  }
  return out;
}

namespace {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path);
  SAKUGA_CHECK(f, path, ": cannot open");
  nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  SAKUGA_CHECK(!j.is_discarded(), path, ": not valid JSON");
  return j;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir, ec)) v.push_back(e.path());
  SAKUGA_CHECK(!ec, dir.string(), ": cannot list: ", ec.message());
  std::sort(v.begin(), v.end());
  return v;
}

bool is_decimal(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Ids of `names` (sorted, distinct): the numbers when all are decimal, else their ranks.
std::map<std::string, int> ids_of(const std::set<std::string>& names) {
  const bool numeric = std::all_of(names.begin(), names.end(), is_decimal);
  std::map<std::string, int> ids;
  int rank = 0;
  for (const std::string& n : names) ids[n] = numeric ? std::stoi(n) : rank++;
  if (numeric) {  // "3" and "03" would share an id
    std::set<int> seen;
    for (const auto& [n, id] : ids)
      SAKUGA_CHECK(seen.insert(id).second, "crop folders: two folder names give the id ", id, " (", n, ")");
  }
  return ids;
}

}  // namespace

std::vector<FrameEntry> read_frames(const std::string& dir) {
  std::error_code ec;
  SAKUGA_CHECK(fs::is_directory(dir, ec), dir, ": not a folder (expected the frames/ folder: NAME.png + NAME.json)");
  std::vector<FrameEntry> out;
  std::set<std::string> pngs;
  for (const fs::path& p : sorted_entries(dir)) {
    const std::string file = p.filename().string();
    if (p.extension() == ".png") pngs.insert(p.stem().string());
  }
  for (const fs::path& p : sorted_entries(dir)) {
    if (p.extension() != ".json") continue;
    SAKUGA_CHECK(pngs.count(p.stem().string()), p.string(), ": a frame's JSON without its frame (expected ",
                 (p.parent_path() / (p.stem().string() + ".png")).string(), ")");
  }
  for (const std::string& name : pngs) {
    FrameEntry e;
    e.name = name;
    e.image = (fs::path(dir) / (name + ".png")).string();
    e.json = (fs::path(dir) / (name + ".json")).string();
    SAKUGA_CHECK(fs::exists(e.json, ec), e.image, ": a frame without its boxes (expected ", e.json, ")");
    const PngInfo info = read_png_info(e.image);
    e.height = info.height;
    e.width = info.width;
    e.boxes = parse_boxes(read_json_file(e.json), e.height, e.width, e.json);
    out.push_back(std::move(e));
  }
  SAKUGA_CHECK(!out.empty(), dir, ": no frames (expected NAME.png + NAME.json)");
  return out;
}

std::vector<CropEntry> list_crops(const std::string& dir) {
  std::error_code ec;
  SAKUGA_CHECK(fs::is_directory(dir, ec), dir,
               ": not a folder (expected the crops/ folder: DIR/<production>/<design>/X.png + X.mask.png)");
  std::vector<fs::path> productions;
  for (const fs::path& p : sorted_entries(dir))
    if (fs::is_directory(p, ec)) productions.push_back(p);
  SAKUGA_CHECK(!productions.empty(), dir,
               ": no production folders (expected DIR/<production>/<design>/X.png + X.mask.png)");
  std::set<std::string> production_names, design_names;
  struct Found {
    fs::path folder;
    std::string production, design;
  };
  std::vector<Found> designs;
  for (const fs::path& p : productions) {
    production_names.insert(p.filename().string());
    size_t n = 0;
    for (const fs::path& d : sorted_entries(p))
      if (fs::is_directory(d, ec)) {
        designs.push_back({d, p.filename().string(), d.filename().string()});
        design_names.insert(d.filename().string());
        ++n;
      }
    SAKUGA_CHECK(n > 0, p.string(), ": a production folder with no designs (expected ", p.string(),
                 "/<design>/X.png + X.mask.png)");
  }
  const std::map<std::string, int> pid = ids_of(production_names), did = ids_of(design_names);
  std::vector<CropEntry> out;
  for (const Found& f : designs) {
    std::set<std::string> images, masks;
    for (const fs::path& p : sorted_entries(f.folder)) {
      const std::string file = p.filename().string();
      if (!fs::is_regular_file(p, ec) || p.extension() != ".png") continue;
      if (ends_with(file, ".mask.png"))
        masks.insert(file.substr(0, file.size() - 9));
      else
        images.insert(file.substr(0, file.size() - 4));
    }
    for (const std::string& m : masks)
      SAKUGA_CHECK(images.count(m), (f.folder / (m + ".mask.png")).string(), ": a mask without its crop (expected ",
                   (f.folder / (m + ".png")).string(), ")");
    SAKUGA_CHECK(!images.empty(), f.folder.string(), ": a design folder with no crops (expected X.png + X.mask.png)");
    for (const std::string& name : images) {
      CropEntry e;
      e.name = name;
      e.image = (f.folder / (name + ".png")).string();
      e.mask = (f.folder / (name + ".mask.png")).string();
      SAKUGA_CHECK(masks.count(name), e.image, ": a crop without its mask (expected ", e.mask, ")");
      e.production_name = f.production;
      e.design_name = f.design;
      e.production = pid.at(f.production);
      e.design = did.at(f.design);
      out.push_back(std::move(e));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const CropEntry& a, const CropEntry& b) {
    if (a.production != b.production) return a.production < b.production;
    if (a.design != b.design) return a.design < b.design;
    return a.name < b.name;
  });
  return out;
}

Crop read_crop(const CropEntry& e) {
  const Image img = read_png(e.image);
  const Image mask = convert_channels(read_png(e.mask), 1);
  SAKUGA_CHECK(mask.height == img.height && mask.width == img.width, e.mask, ": mask is ", mask.height, "x",
               mask.width, ", expected its crop's size ", img.height, "x", img.width, " (", e.image, ")");
  Crop c;
  c.image = image_to_tensor(convert_channels(img, 3));
  c.mask = Tensor::empty({mask.height, mask.width}, DType::u8);
  uint8_t* m = c.mask.data<uint8_t>();
  int64_t inside = 0;
  for (size_t i = 0; i < mask.pixels.size(); ++i) {
    m[i] = 2 * int(mask.pixels[i]) > mask.max_value() ? 1 : 0;
    inside += m[i];
  }
  SAKUGA_CHECK(inside > 0, e.mask, ": the mask is empty (no pixel above 127): expected white over the eye region");
  return c;
}

std::vector<int> held_out_productions(const std::string& dataset_dir) {
  const fs::path p = fs::path(dataset_dir) / "redraw.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};
  const nlohmann::json j = read_json_file(p.string());
  SAKUGA_CHECK(j.is_object() && j.contains("held_out_productions") && j["held_out_productions"].is_array(),
               p.string(), ": expected a \"held_out_productions\" list");
  std::vector<int> ids;
  for (const auto& v : j["held_out_productions"]) {
    SAKUGA_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0, p.string(),
                 ": held_out_productions holds a non-id ", v.dump());
    ids.push_back(v.get<int>());
  }
  return ids;
}

}  // namespace sakuga::data::redraw
