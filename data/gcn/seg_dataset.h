#pragma once
// The cel / douga datasets of gcn.md ("Datasets"): plain folders of PNGs matched by file name.
//   cel:   DIR/frames/NAME.png + DIR/masks/NAME.png (white = cel, > 127 → 1)
//   douga: DIR/frames/NAME.png + DIR/douga/NAME.png (palette, data/gcn/douga.h) [+ DIR/masks/NAME.png]
//   optional DIR/backgrounds/*.png and DIR/textures/*.png (augmentation sources)
// Opening checks every pair (partner present, same size, PNG header readable) without decoding
// pixels; each problem is an Error naming the file, or with skip_bad a warning on stderr and a
// count. Pixels are decoded in load(), which also names the file on failure.
#include <cstdint>
#include <string>
#include <vector>

#include "data/sampling.h"
#include "tensor/tensor.h"

namespace sakuga::data {

enum class SegTask { cel, douga };
SegTask parse_seg_task(const std::string& s);  // "cel" | "douga", else an error
const char* seg_task_name(SegTask t);

// One frame with its labels, on the CPU.
struct SegSample {
  std::string name;
  Tensor frame;  // (3, H, W) f32 in [0, 1]
  Tensor mask;   // (1, H, W) f32 in {0, 1}: the cel mask (cel task; douga when masks/ exists); may be undefined
  Tensor douga;  // (H, W) i32 class map (douga task); undefined for cel
};

// The train/validation split by file name: data/sampling.h is_validation_name.

struct SegDatasetOptions {
  bool skip_bad = false;       // bad pairs become warnings + a count instead of an error
  bool require_masks = false;  // douga manual-cel variant: every frame needs masks/NAME.png
};

class SegDataset {
 public:
  SegDataset(const std::string& dir, SegTask task, const SegDatasetOptions& opt = {});

  SegTask task() const { return task_; }
  const std::string& dir() const { return dir_; }
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }  // sorted, usable pairs only
  int skipped() const { return skipped_; }                          // bad pairs skipped (skip_bad)
  bool has_masks() const { return has_masks_; }  // cel, or douga with a mask for every frame
  // Indices of the training or validation part (is_validation_name).
  std::vector<size_t> split(bool validation, double val_fraction) const;

  SegSample load(size_t index) const;  // decodes the PNGs; errors name the file

  // Augmentation sources (empty when the folders are absent): (3, h, w) f32 images, loaded on
  // first use and cached.
  const std::vector<std::string>& background_files() const { return backgrounds_; }
  const std::vector<std::string>& texture_files() const { return textures_; }

 private:
  std::string dir_;
  SegTask task_;
  SegDatasetOptions opt_;
  std::vector<std::string> names_, backgrounds_, textures_;
  int skipped_ = 0;
  bool has_masks_ = false;
};

}  // namespace sakuga::data
