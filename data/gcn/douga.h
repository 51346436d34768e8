#pragma once
// The douga schema of gcn.md: 10 classes of colour-coded line art, their palette, and reading /
// writing douga PNGs. Reading maps every pixel to the class of the nearest palette colour
// (squared RGB distance, ties → lower class id); writing uses each class's first colour.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/png.h"
#include "tensor/tensor.h"

namespace sakuga::data {

constexpr int kDougaClasses = 10;

struct Rgb {
  uint8_t r, g, b;
};

// "flat_area", "visible_line", ..., "book_fill" (ids 0..9).
const std::array<const char*, kDougaClasses>& douga_class_names();
// Every palette colour of class c (first = the one written).
const std::vector<Rgb>& douga_colors(int c);
// Lines: 1–5. Fills: 0, 6–9.
inline bool is_line_class(int c) { return c >= 1 && c <= 5; }

// Image (gray, gray+alpha, RGB or RGBA; 8 or 16 bit; alpha ignored) → (H, W) i32 class map.
Tensor douga_from_image(const Image& img);
// (H, W) i32 class map with values in [0, 10) → 8-bit RGB image. Out-of-range values are an
// error naming the value and pixel.
Image douga_to_image(const Tensor& classes);
// (H, W) class map → (3, H, W) f32 RGB in [0, 1] (for sample sheets and the adversarial
// "colour" encoding). Any device; i32 input.
Tensor douga_to_rgb(const Tensor& classes);

Tensor read_douga_png(const std::string& path);  // errors name the file
void write_douga_png(const std::string& path, const Tensor& classes);

}  // namespace sakuga::data
