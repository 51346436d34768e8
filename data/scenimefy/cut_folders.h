#pragma once
// scenimefy's data in CUT's layout (scenimefy.md "Data"): DIR/trainA/*.png photos, DIR/trainB/*.png
// anime frames (unpaired), and optionally DIR/pairs/A + DIR/pairs/B pseudo pairs matched by file
// name (the reference matches by sorted index, which pairs the wrong files as soon as one is
// missing). Images load as (3, H, W) f32 in [−1, 1]; CUT's "resize_and_crop": an area resize to
// load × load, a random crop × crop window and a horizontal flip, both from (seed, index) — the
// same window and flip for the two halves of a pair.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data::scenimefy {

struct CutFolders {
  std::string root;
  std::vector<std::string> a, b;                          // trainA, trainB files (sorted)
  std::vector<std::pair<std::string, std::string>> pairs;  // (pairs/A/x, pairs/B/x), sorted by name
};

// The .png files of `dir`, sorted by path. A missing folder, or one without a .png, is an error
// naming it and `what` it should hold when `required`; otherwise an empty list.
std::vector<std::string> list_pngs(const std::string& dir, bool required, const std::string& what);

// Lists DIR. Errors name the folder or file: a missing or empty trainA / trainB; a pair whose
// partner is missing (pairs/A/x.png without pairs/B/x.png, or the reverse); pairs/A without
// pairs/B. Files that are not .png are ignored.
CutFolders open_cut_folders(const std::string& dir);

struct CropSettings {
  int64_t load = 286, crop = 256;  // CUT's defaults; crop ≤ load, crop a multiple of 4
  bool flip = true;
};
void check_crop(const CropSettings& s);  // errors name data.load_size / data.crop_size

// One image, resized, cropped and flipped by `key` (a hash of seed and sample index).
Tensor load_crop(const std::string& path, const CropSettings& s, uint64_t key);
// A pair with one window and flip for both; the two files must have the same size (the error
// names both files and sizes).
std::pair<Tensor, Tensor> load_pair_crop(const std::string& a, const std::string& b, const CropSettings& s,
                                         uint64_t key);

}  // namespace sakuga::data::scenimefy
