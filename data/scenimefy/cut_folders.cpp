// CUT-layout folders for scenimefy (cut_folders.h).
#include "data/scenimefy/cut_folders.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/draw.h"
#include "data/png.h"
#include "data/resize.h"
#include "tensor/ops.h"

namespace sakuga::data::scenimefy {

namespace fs = std::filesystem;

namespace {

// (3, H, W) in [−1, 1].
Tensor load_rgb(const std::string& path) {
  NoGradGuard ng;
  return ops::add(ops::mul(read_png_tensor(path, 3), 2.0), -1.0);
}

// Resize to load × load, then the crop window and flip that `key` chooses.
Tensor crop_flip(const Tensor& img, const CropSettings& s, uint64_t key) {
  NoGradGuard ng;
  Tensor x = (img.size(1) == s.load && img.size(2) == s.load) ? img : resize_area(img, s.load, s.load);
  draw::Rng rng(key);
  const int64_t span = s.load - s.crop;
  const int64_t y0 = span > 0 ? int64_t(rng.next() % uint64_t(span + 1)) : 0;
  const int64_t x0 = span > 0 ? int64_t(rng.next() % uint64_t(span + 1)) : 0;
  x = ops::slice(ops::slice(x, 1, y0, y0 + s.crop), 2, x0, x0 + s.crop);
  if (s.flip && rng.chance(0.5)) x = ops::flip(x, {2});
  return x.contiguous();
}

}  // namespace

std::vector<std::string> list_pngs(const std::string& dir_name, bool required, const std::string& what) {
  const fs::path dir(dir_name);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    SAKUGA_CHECK(!required, "scenimefy dataset: ", dir.string(), " is missing (", what, ")");
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".png") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  SAKUGA_CHECK(!out.empty() || !required, "scenimefy dataset: ", dir.string(), " holds no .png file (", what, ")");
  return out;
}

CutFolders open_cut_folders(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  SAKUGA_CHECK(fs::is_directory(root, ec), "scenimefy dataset: ", dir,
               " is not a folder (expected trainA/, trainB/ and optionally pairs/A/ + pairs/B/)");
  CutFolders f;
  f.root = dir;
  f.a = list_pngs(root / "trainA", true, "photos");
  f.b = list_pngs(root / "trainB", true, "anime frames");
  const std::vector<std::string> pa = list_pngs(root / "pairs" / "A", false, ""), pb = list_pngs(root / "pairs" / "B", false, "");
  const bool has_a = fs::is_directory(root / "pairs" / "A", ec), has_b = fs::is_directory(root / "pairs" / "B", ec);
  SAKUGA_CHECK(has_a == has_b, "scenimefy dataset: ", (root / "pairs").string(), " has ",
               has_a ? "A/ but no B/" : "B/ but no A/", " (pseudo pairs need both halves)");
  std::map<std::string, std::string> by_name;
  for (const auto& p : pb) by_name[fs::path(p).filename().string()] = p;
  for (const auto& p : pa) {
    const std::string name = fs::path(p).filename().string();
    auto it = by_name.find(name);
    SAKUGA_CHECK(it != by_name.end(), "scenimefy dataset: ", p, " has no partner ",
                 (root / "pairs" / "B" / name).string(), " (pairs are matched by file name)");
    f.pairs.emplace_back(p, it->second);
    by_name.erase(it);
  }
  SAKUGA_CHECK(by_name.empty(), "scenimefy dataset: ", by_name.begin()->second, " has no partner ",
               (root / "pairs" / "A" / by_name.begin()->first).string(), " (pairs are matched by file name)");
  return f;
}

void check_crop(const CropSettings& s) {
  SAKUGA_CHECK(s.crop >= 4 && s.crop % 4 == 0, "config data.crop_size: expected a multiple of 4 (the generator "
               "downsamples twice), got ", s.crop);
  SAKUGA_CHECK(s.load >= s.crop, "config data.load_size: expected at least data.crop_size (", s.crop, "), got ",
               s.load);
}

Tensor load_crop(const std::string& path, const CropSettings& s, uint64_t key) {
  check_crop(s);
  return crop_flip(load_rgb(path), s, key);
}

std::pair<Tensor, Tensor> load_pair_crop(const std::string& a, const std::string& b, const CropSettings& s,
                                         uint64_t key) {
  check_crop(s);
  const Tensor x = load_rgb(a), y = load_rgb(b);
  SAKUGA_CHECK(x.size(1) == y.size(1) && x.size(2) == y.size(2), "scenimefy dataset: the pair ", a, " (",
               x.size(2), "x", x.size(1), ") and ", b, " (", y.size(2), "x", y.size(1),
               ") differ in size; the halves of a pair must match pixel for pixel");
  return {crop_flip(x, s, key), crop_flip(y, s, key)};
}

}  // namespace sakuga::data::scenimefy
