#pragma once
// PNG read/write through libpng, and conversions between images and Tensors.
//
// Reading accepts every PNG: gray, gray+alpha, RGB, RGBA at 8 or 16 bits; palette images are
// expanded to RGB (RGBA when they carry transparency), 1/2/4-bit gray to 8-bit, and a tRNS
// chunk on gray/RGB images to an alpha channel. Interlaced images are de-interlaced.
// Every failure (missing file, not a PNG, truncated or corrupt data, absurd dimensions) throws
// sakuga::Error naming the file; libpng's own errors are caught (longjmp) and rethrown.
//
// Writing is atomic: the PNG is encoded in memory, written to a temporary file beside the
// target and renamed over it, so a reader never sees a torn file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data {

// An image in host memory: interleaved (H, W, C) samples, one uint16_t per sample whatever
// the bit depth (8-bit images hold 0..255, 16-bit ones 0..65535).
struct Image {
  int height = 0, width = 0;
  int channels = 0;   // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  int bit_depth = 8;  // 8 or 16
  std::vector<uint16_t> pixels;  // height * width * channels, row-major, channels last

  Image() = default;
  // Zero-filled image; checks the arguments.
  Image(int height, int width, int channels, int bit_depth = 8);

  int max_value() const { return bit_depth == 16 ? 65535 : 255; }
  size_t size() const { return size_t(height) * size_t(width) * size_t(channels); }
  uint16_t& at(int y, int x, int c) { return pixels[(size_t(y) * size_t(width) + size_t(x)) * size_t(channels) + size_t(c)]; }
  uint16_t at(int y, int x, int c) const {
    return pixels[(size_t(y) * size_t(width) + size_t(x)) * size_t(channels) + size_t(c)];
  }
  bool operator==(const Image& o) const {
    return height == o.height && width == o.width && channels == o.channels && bit_depth == o.bit_depth &&
           pixels == o.pixels;
  }
  bool operator!=(const Image& o) const { return !(*this == o); }
  // Throws sakuga::Error when fields are out of range or pixels has the wrong size / values
  // above max_value(). `what` prefixes the message.
  void validate(const std::string& what) const;
};

// Dimensions and format of a PNG without decoding its pixels (after the same expansions as
// read_png: `channels` and `bit_depth` are what read_png would return).
struct PngInfo {
  int height = 0, width = 0, channels = 0, bit_depth = 0;
  bool interlaced = false;
  bool palette = false;  // the file stores a palette (expanded on read)
};

// Largest image read_png accepts, in samples (height * width * channels).
constexpr uint64_t kMaxPngSamples = uint64_t(1) << 31;

Image read_png(const std::string& path);
PngInfo read_png_info(const std::string& path);
// Decodes a PNG held in memory; `name` is used in error messages.
Image decode_png(const void* data, size_t size, const std::string& name = "<memory>");

void write_png(const std::string& path, const Image& img);
// Encodes to an in-memory PNG (no file). `compression` is the zlib level, -1 = default.
std::vector<uint8_t> encode_png(const Image& img, int compression = -1);

// Changes the channel layout: gray ↔ RGB by replication / ITU-R BT.601 luma (rounded),
// alpha added as opaque or dropped (no compositing). Same bit depth.
Image convert_channels(const Image& img, int channels);
// 8 ↔ 16 bit (v * 257, and rounded v / 257 back).
Image convert_bit_depth(const Image& img, int bit_depth);

// --- Tensors --------------------------------------------------------------------------------
// (C, H, W) f32 in [0, 1] (sample / max_value) on the CPU.
Tensor image_to_tensor(const Image& img);
// From a (C, H, W) or (H, W) float tensor (any device), C in 1..4: values clamped to [0, 1],
// scaled to max_value and rounded to nearest.
Image tensor_to_image(const Tensor& t, int bit_depth = 8);
// (H, W) label map of a 1-channel image, dtype i32 or u8 (u8 needs every value ≤ 255).
Tensor image_to_labels(const Image& img, DType dtype = DType::i32);
// From an (H, W) i32 or u8 tensor: 1-channel, 8-bit when every label ≤ 255, else 16-bit;
// labels must lie in [0, 65535].
Image labels_to_image(const Tensor& labels);

// Shorthands: read_png + (convert_channels when channels > 0) + image_to_tensor, and
// tensor_to_image + write_png.
Tensor read_png_tensor(const std::string& path, int channels = 0);
void write_png_tensor(const std::string& path, const Tensor& chw, int bit_depth = 8);
// read_png + image_to_labels (the file must be 1-channel) and labels_to_image + write_png.
Tensor read_png_labels(const std::string& path, DType dtype = DType::i32);
void write_png_labels(const std::string& path, const Tensor& labels);

}  // namespace sakuga::data
