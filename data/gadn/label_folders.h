#pragma once
// The gadn folder dataset (gadn.md "Data"): one folder per label,
//   DIR/<label>/*.png            images of any size, gray / RGB / RGBA, 8 or 16 bit
//   DIR/factors.jsonl            optional: one JSON object per image, {"file": "<label>/<name>.png"
//                                (relative to DIR), "style": "<label>", <content factor>: value, …}
// Labels are the folder names in sorted order (index = position). Opening lists every folder and
// reads every PNG header (no pixels), so a bad dataset fails at once with an Error naming the
// file or folder; pixels are decoded by load(), whose errors also name the file.
//
// An image becomes (C, R, R) f32 in [−1, 1]: its central square (side = the shorter side) is
// area-resampled to R × R (data/resize.h). RGB is the image composited over white (what a
// viewer shows); with `alpha`, the alpha channel follows as a 4th channel, also mapped to
// [−1, 1] (+1 = opaque, also where the file has none). Gray is repeated to RGB.
//
// The train/validation split is by file name (data/sampling.h is_validation_name), so it does not
// depend on the folder or on which other files exist.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/tensor.h"

namespace sakuga::data::gadn {

struct LabelFolderOptions {
  int64_t size = 64;   // R: output height and width
  bool alpha = false;  // a 4th channel with the image's alpha (C = 4)
};

// One image of the dataset, on the CPU.
struct LabelledImage {
  Tensor image;       // (C, R, R) f32 in [−1, 1], C = 3 or 4
  int64_t label = 0;  // index into labels()
  std::string file;   // relative to the dataset folder: "<label>/<name>.png"
};

class LabelFolderDataset {
 public:
  // Errors (each names the folder or file): `dir` missing; no label folders; fewer than 2 labels;
  // a label folder without PNGs or with a single one; a PNG directly in `dir`; an unreadable PNG
  // header; size < 1; a bad factors.jsonl (see below).
  LabelFolderDataset(const std::string& dir, const LabelFolderOptions& opt = {});

  const std::string& dir() const { return dir_; }
  int64_t image_size() const { return opt_.size; }
  int64_t channels() const { return opt_.alpha ? 4 : 3; }
  size_t size() const { return files_.size(); }
  const std::vector<std::string>& labels() const { return labels_; }  // sorted folder names
  int64_t label_count() const { return int64_t(labels_.size()); }
  const std::string& file(size_t i) const;  // relative to dir, "<label>/<name>.png"
  int64_t label(size_t i) const;
  std::string path(size_t i) const;  // dir / file(i)
  // Images per label, index = label.
  std::vector<int64_t> label_counts() const;

  // Indices of the training (validation = false) or validation part by is_validation_name of the
  // file name, in dataset order (sorted by label, then name).
  std::vector<size_t> split(bool validation, double val_fraction) const;

  // Decodes and resamples image i. Thread-safe (no shared mutable state).
  LabelledImage load(size_t i) const;
  // Images `indices` stacked: (B, C, R, R) f32 in [−1, 1]; their labels as (B,) i32 in *labels
  // when given.
  Tensor load_batch(const std::vector<size_t>& indices, Tensor* labels = nullptr) const;

  // --- factors.jsonl -------------------------------------------------------------------------
  // When the file exists, every line (blank lines skipped) must be a JSON object with a string
  // `file` naming an image of the dataset, once; `style`, when given, must be that image's folder;
  // every image needs a line, and every line the same content factors: the other keys whose
  // values are numbers, strings or booleans (object / array values, e.g. `style_factors`, are
  // kept in factors() but are not content factors). Errors name the file and line.
  bool has_factors() const { return !factors_.empty(); }
  const nlohmann::json& factors(size_t i) const;        // the image's whole object
  const std::vector<std::string>& content_factor_names() const { return content_names_; }  // sorted
  // The content factor `name` as a class index per image: its distinct values sorted (numbers by
  // value, before strings, strings by text) are the classes; their text in *levels when given.
  std::vector<int64_t> factor_classes(const std::string& name, std::vector<std::string>* levels = nullptr) const;

 private:
  void read_factors(const std::string& path);

  std::string dir_;
  LabelFolderOptions opt_;
  std::vector<std::string> labels_;
  std::vector<std::string> files_;
  std::vector<int64_t> file_labels_;
  std::vector<nlohmann::json> factors_;  // per image when factors.jsonl exists, else empty
  std::vector<std::string> content_names_;
};

// The image at `path` (any PNG) as (C, size, size) f32 in [−1, 1]: the dataset's conversion
// (central square, area resampling, RGB over white, optional alpha channel). Errors name the file.
Tensor load_label_image(const std::string& path, int64_t size, bool alpha);

}  // namespace sakuga::data::gadn
