// The gadn folder dataset (data/gadn/label_folders.h).
#include "data/gadn/label_folders.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "data/png.h"
#include "data/resize.h"
#include "data/sampling.h"

namespace sakuga::data::gadn {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLayout = "a gadn dataset holds DIR/<label>/*.png, one folder per label";

bool is_png_name(const std::string& name) {
  if (name.size() <= 4) return false;
  std::string ext = name.substr(name.size() - 4);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

bool hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

// The entries of `dir` (names, sorted), split into folders and PNG files; other files ignored.
void list_dir(const std::string& dir, std::vector<std::string>* folders, std::vector<std::string>* pngs) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  SAKUGA_CHECK(!ec, "cannot list folder ", dir, ": ", ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    SAKUGA_CHECK(!ec, "cannot list folder ", dir, ": ", ec.message());
    const std::string name = it->path().filename().string();
    if (hidden(name)) continue;
    std::error_code ec2;
    const bool is_folder = it->is_directory(ec2);
    if (is_folder && folders) folders->push_back(name);
    if (!is_folder && pngs && is_png_name(name)) pngs->push_back(name);
  }
  if (folders) std::sort(folders->begin(), folders->end());
  if (pngs) std::sort(pngs->begin(), pngs->end());
}

// A factor value's sort key: numbers (and booleans) by value, then strings by text.
struct LevelKey {
  bool is_string;
  double number;
  std::string text;
  bool operator<(const LevelKey& o) const {
    if (is_string != o.is_string) return !is_string;
    return is_string ? text < o.text : number < o.number;
  }
};

LevelKey level_key(const nlohmann::json& v) {
  if (v.is_string()) return {true, 0.0, v.get<std::string>()};
  if (v.is_boolean()) return {false, v.get<bool>() ? 1.0 : 0.0, v.dump()};
  return {false, v.get<double>(), v.dump()};
}

bool is_factor_value(const nlohmann::json& v) { return v.is_number() || v.is_string() || v.is_boolean(); }

}  // namespace

Tensor load_label_image(const std::string& path, int64_t size, bool alpha) {
  SAKUGA_CHECK(size >= 1, path, ": image size must be at least 1, got ", size);
  const Image img = read_png(path);  // errors name the file
  const int64_t h = img.height, w = img.width, n = h * w;
  const bool has_alpha = img.channels == 2 || img.channels == 4;
  const int colour = img.channels <= 2 ? 1 : 3;
  const float scale = 1.0f / float(img.max_value());
  const int64_t out_c = alpha ? 4 : 3;
  std::vector<float> chw(size_t(out_c * n));  // (C, h, w) in [0, 1]
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t* p = &img.pixels[size_t(i) * size_t(img.channels)];
    const float a = has_alpha ? float(p[img.channels - 1]) * scale : 1.0f;
    for (int64_t c = 0; c < 3; ++c) {
      const float v = float(p[colour == 1 ? 0 : c]) * scale;
      chw[size_t(c * n + i)] = v * a + (1.0f - a);  // over white
    }
    if (alpha) chw[size_t(3 * n + i)] = a;
  }
  const int64_t side = std::min(h, w), x0 = (w - side) / 2, y0 = (h - side) / 2;
  std::vector<float> square(size_t(out_c * side * side));
  for (int64_t c = 0; c < out_c; ++c)
    for (int64_t y = 0; y < side; ++y)
      std::copy_n(&chw[size_t((c * h + y0 + y) * w + x0)], side, &square[size_t((c * side + y) * side)]);
  std::vector<float> out = resize_area(square, out_c, side, side, size, size);
  for (float& v : out) v = 2.0f * v - 1.0f;
  return Tensor::from_vector(out, {out_c, size, size});
}

LabelFolderDataset::LabelFolderDataset(const std::string& dir, const LabelFolderOptions& opt) : dir_(dir), opt_(opt) {
  SAKUGA_CHECK(opt.size >= 1, "gadn dataset ", dir, ": image size must be at least 1, got ", opt.size);
  std::error_code ec;
  SAKUGA_CHECK(fs::is_directory(dir, ec), "gadn dataset: folder ", dir, " does not exist or is not a folder (",
               kLayout, ")");
  std::vector<std::string> folders, stray;
  list_dir(dir, &folders, &stray);
  SAKUGA_CHECK(stray.empty(), "gadn dataset: ", (fs::path(dir) / stray.front()).string(),
               " is not inside a label folder (", kLayout, ")");
  SAKUGA_CHECK(!folders.empty(), "gadn dataset: ", dir, " holds no label folders (", kLayout, ")");
  SAKUGA_CHECK(folders.size() >= 2, "gadn dataset: ", dir, " holds a single label folder '", folders.front(),
               "': style/content training needs at least 2 labels (an image is redrawn in another label's style)");
  for (const std::string& label : folders) {
    const std::string folder = (fs::path(dir) / label).string();
    std::vector<std::string> pngs;
    list_dir(folder, nullptr, &pngs);
    SAKUGA_CHECK(!pngs.empty(), "gadn dataset: label folder ", folder, " holds no *.png file (", kLayout, ")");
    SAKUGA_CHECK(pngs.size() >= 2, "gadn dataset: label folder ", folder, " holds a single image (",
                 (fs::path(folder) / pngs.front()).string(),
                 "); every label needs at least 2: a label with one image cannot be both trained on and held out, "
                 "and its class statistics (centre distance, naive-Bayes variance) need two");
    const int64_t index = int64_t(labels_.size());
    labels_.push_back(label);
    for (const std::string& name : pngs) {
      const std::string file = label + "/" + name;
      const std::string full = (fs::path(dir) / file).string();
      const PngInfo info = read_png_info(full);  // errors name the file
      (void)info;
      files_.push_back(file);
      file_labels_.push_back(index);
    }
  }
  const std::string factors = (fs::path(dir) / "factors.jsonl").string();
  if (fs::exists(factors, ec)) read_factors(factors);
}

void LabelFolderDataset::read_factors(const std::string& path) {
  std::ifstream in(path);
  SAKUGA_CHECK(in, path, ": cannot open");
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < files_.size(); ++i) index[files_[i]] = i;
  std::vector<nlohmann::json> factors(files_.size());
  std::vector<bool> seen(files_.size(), false);
  std::set<std::string> names;
  bool first = true;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      SAKUGA_FAIL(where, ": not valid JSON (", e.what(), ")");
    }
    SAKUGA_CHECK(obj.is_object(), where, ": expected a JSON object per line, got ", obj.type_name());
    SAKUGA_CHECK(obj.contains("file") && obj["file"].is_string(), where,
                 ": missing string \"file\" (the image path relative to ", dir_, ")");
    const std::string file = obj["file"].get<std::string>();
    auto it = index.find(file);
    SAKUGA_CHECK(it != index.end(), where, ": \"file\" ", file, " is not an image of the dataset (expected ",
                 "<label>/<name>.png relative to ", dir_, ")");
    SAKUGA_CHECK(!seen[it->second], where, ": ", file, " is listed twice");
    const std::string& label = labels_[size_t(file_labels_[it->second])];
    if (obj.contains("style"))
      SAKUGA_CHECK(obj["style"].is_string() && obj["style"].get<std::string>() == label, where, ": \"style\" ",
                   obj["style"].dump(), " does not match the folder '", label, "' of ", file);
    std::set<std::string> here;
    for (auto kv = obj.begin(); kv != obj.end(); ++kv)
      if (kv.key() != "file" && kv.key() != "style" && is_factor_value(kv.value())) here.insert(kv.key());
    if (first) names = here;
    SAKUGA_CHECK(here == names, where, ": content factors differ from the first line's (every line needs the same "
                 "factors; ", file, ")");
    first = false;
    seen[it->second] = true;
    factors[it->second] = std::move(obj);
  }
  SAKUGA_CHECK(!in.bad(), path, ": read error");
  for (size_t i = 0; i < files_.size(); ++i)
    SAKUGA_CHECK(seen[i], path, ": no line for the image ", files_[i], " (every image needs its factors)");
  factors_ = std::move(factors);
  content_names_.assign(names.begin(), names.end());
}

const std::string& LabelFolderDataset::file(size_t i) const {
  SAKUGA_CHECK(i < files_.size(), "gadn dataset ", dir_, ": index ", i, " out of range (", files_.size(), " images)");
  return files_[i];
}

int64_t LabelFolderDataset::label(size_t i) const {
  file(i);
  return file_labels_[i];
}

std::string LabelFolderDataset::path(size_t i) const { return (fs::path(dir_) / file(i)).string(); }

std::vector<int64_t> LabelFolderDataset::label_counts() const {
  std::vector<int64_t> counts(labels_.size(), 0);
  for (int64_t l : file_labels_) ++counts[size_t(l)];
  return counts;
}

std::vector<size_t> LabelFolderDataset::split(bool validation, double val_fraction) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < files_.size(); ++i)
    if (is_validation_name(files_[i], val_fraction) == validation) out.push_back(i);
  return out;
}

LabelledImage LabelFolderDataset::load(size_t i) const {
  LabelledImage s;
  s.file = file(i);
  s.label = file_labels_[i];
  s.image = load_label_image(path(i), opt_.size, opt_.alpha);
  return s;
}

Tensor LabelFolderDataset::load_batch(const std::vector<size_t>& indices, Tensor* labels) const {
  const int64_t b = int64_t(indices.size()), c = channels(), r = opt_.size, per = c * r * r;
  std::vector<float> images(size_t(b * per));
  std::vector<int32_t> ls(static_cast<size_t>(b));
  for (int64_t k = 0; k < b; ++k) {
    const std::vector<float> one = load(indices[size_t(k)]).image.to_vector();
    std::copy(one.begin(), one.end(), images.begin() + k * per);
    ls[size_t(k)] = int32_t(file_labels_[indices[size_t(k)]]);
  }
  if (labels) *labels = Tensor::from_vector_i32(ls, {b});
  return Tensor::from_vector(images, {b, c, r, r});
}

const nlohmann::json& LabelFolderDataset::factors(size_t i) const {
  SAKUGA_CHECK(has_factors(), "gadn dataset ", dir_, ": no factors.jsonl");
  file(i);
  return factors_[i];
}

std::vector<int64_t> LabelFolderDataset::factor_classes(const std::string& name, std::vector<std::string>* levels) const {
  SAKUGA_CHECK(has_factors(), "gadn dataset ", dir_, ": no factors.jsonl, so no factor '", name, "'");
  SAKUGA_CHECK(std::find(content_names_.begin(), content_names_.end(), name) != content_names_.end(), "gadn dataset ",
               dir_, ": factors.jsonl has no content factor '", name, "'");
  std::map<LevelKey, int64_t> classes;
  for (const nlohmann::json& f : factors_) classes.emplace(level_key(f[name]), 0);
  int64_t next = 0;
  if (levels) levels->clear();
  for (auto& kv : classes) {
    kv.second = next++;
    if (levels) levels->push_back(kv.first.text);
  }
  std::vector<int64_t> out;
  out.reserve(factors_.size());
  for (const nlohmann::json& f : factors_) out.push_back(classes.at(level_key(f[name])));
  return out;
}

}  // namespace sakuga::data::gadn
