#pragma once
// A small RGB raster for the pictures runs write: labelled image grids (every family's sample
// sheets) and metric curves (nets/harness/plot.h). Text uses a built-in 5×7 pixel font (ASCII
// 32–126; other bytes draw as '?'), so no font files are needed anywhere.
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data {

struct Color {
  float r = 0, g = 0, b = 0;
};
inline constexpr Color kWhite{1, 1, 1}, kBlack{0, 0, 0}, kGray{0.6f, 0.6f, 0.6f}, kLightGray{0.9f, 0.9f, 0.9f};

class Canvas {
 public:
  Canvas(int64_t height, int64_t width, Color background = kWhite);
  int64_t height() const { return h_; }
  int64_t width() const { return w_; }

  // Drawing clips at the borders.
  void pixel(int64_t x, int64_t y, Color c);
  void line(int64_t x0, int64_t y0, int64_t x1, int64_t y1, Color c);
  void rect(int64_t x, int64_t y, int64_t w, int64_t h, Color c, bool filled = false);
  // Text with its top-left corner at (x, y); each character is 6×8 pixels times `scale`.
  void text(int64_t x, int64_t y, const std::string& s, Color c, int scale = 1);
  static int64_t text_width(const std::string& s, int scale = 1) { return int64_t(s.size()) * 6 * scale; }
  static int64_t text_height(int scale = 1) { return 8 * scale; }
  // Copies an image (1 or 3, h, w) in [0, 1] (gray is repeated) with its top-left at (x, y).
  void blit(const Tensor& image, int64_t x, int64_t y);

  Tensor tensor() const;  // (3, H, W) f32 in [0, 1]

 private:
  int64_t h_, w_;
  std::vector<float> px_;  // (3, H, W)
};

// Images (1 or 3, h, w) in [0, 1] laid out in rows, with optional column labels above and row
// labels on the left. Rows may have different lengths; cells are as large as the largest image.
struct GridLabels {
  std::vector<std::string> columns;  // empty: no header row
  std::vector<std::string> rows;     // empty: no label column
};
Tensor image_grid(const std::vector<std::vector<Tensor>>& rows, const GridLabels& labels = {}, int64_t pad = 2);

// The size (H, W) image_grid gives for `rows` × `columns` cells of cell_h × cell_w.
std::pair<int64_t, int64_t> image_grid_size(int64_t rows, int64_t columns, int64_t cell_h, int64_t cell_w,
                                            const GridLabels& labels = {}, int64_t pad = 2);

}  // namespace sakuga::data
