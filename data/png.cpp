#include "data/png.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "tensor/autograd.h"

namespace sakuga::data {

namespace {

// ---------------------------------------------------------------------------------------------
// libpng plumbing. libpng reports errors by calling our error function, which must not return:
// it records the message and longjmps back to the setjmp in a *stage* function. Stage functions
// hold no object with a destructor in their frame (all state lives in a struct owned by the
// caller), and nothing but C frames and our callbacks (which hold no C++ objects either) lies
// between them and the longjmp, so no destructor is skipped. The caller turns a failed stage
// into a sakuga::Error naming the file, and its RAII state frees the libpng structs.
// ---------------------------------------------------------------------------------------------

struct PngIo {
  char error[512] = {0};
  // Source: a FILE* (streaming) or a memory buffer.
  std::FILE* fp = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  // Sink (writing).
  std::vector<uint8_t>* out = nullptr;
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  if (io && io->error[0] == '\0') std::snprintf(io->error, sizeof io->error, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // warnings (benign problems) are ignored

void on_png_read(png_structp png, png_bytep dst, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (io->fp) {
    size_t got = std::fread(dst, 1, n, io->fp);
    if (got != n) {
      if (std::ferror(io->fp))
        std::snprintf(io->error, sizeof io->error, "read error (%s)", std::strerror(errno));
      else
        std::snprintf(io->error, sizeof io->error, "unexpected end of file: truncated PNG");
      png_error(png, io->error);
    }
  } else {
    if (n > io->size - io->pos) {
      std::snprintf(io->error, sizeof io->error, "unexpected end of data: truncated PNG");
      png_error(png, io->error);
    }
    std::memcpy(dst, io->data + io->pos, n);
    io->pos += n;
  }
}

void on_png_write(png_structp png, png_bytep src, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  bool failed = false;
  try {
    io->out->insert(io->out->end(), src, src + n);
  } catch (...) {
    failed = true;  // png_error below, outside the handler (never longjmp out of a catch)
  }
  if (failed) {
    std::snprintf(io->error, sizeof io->error, "out of memory while encoding");
    png_error(png, io->error);
  }
}

void on_png_flush(png_structp) {}

struct ReadState {
  PngIo io;
  png_structp png = nullptr;
  png_infop info = nullptr;
  bool header_only = false;
  PngInfo hdr;
  size_t rowbytes = 0;
  std::vector<uint8_t> raw;  // decoded rows, big-endian 16-bit samples
  std::vector<png_bytep> rows;

  ReadState() {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_png_error, on_png_warning);
    SAKUGA_CHECK(png, "libpng: png_create_read_struct failed (out of memory?)");
    info = png_create_info_struct(png);
    if (!info) {
      png_destroy_read_struct(&png, nullptr, nullptr);
      SAKUGA_FAIL("libpng: png_create_info_struct failed (out of memory?)");
    }
  }
  ~ReadState() {
    png_destroy_read_struct(&png, &info, nullptr);
    if (io.fp) std::fclose(io.fp);
  }
  ReadState(const ReadState&) = delete;
  ReadState& operator=(const ReadState&) = delete;
};

// The setjmp frame of a read. Returns false after a libpng error (message in st->io.error).
bool read_stage(ReadState* st) {
  png_structp png = st->png;
  png_infop info = st->info;
  if (setjmp(png_jmpbuf(png))) return false;

  png_set_sig_bytes(png, 8);  // the caller has checked the signature
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  const int interlace = png_get_interlace_type(png, info);
  st->hdr.palette = color_type == PNG_COLOR_TYPE_PALETTE;
  st->hdr.interlaced = interlace != PNG_INTERLACE_NONE;

  // Expansions: palette → RGB(A), low-bit gray → 8 bit, tRNS → alpha. 16-bit stays 16-bit
  // (big-endian in the rows; converted by the caller).
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (st->hdr.interlaced) png_set_interlace_handling(png);
  png_read_update_info(png, info);

  st->hdr.width = int(png_get_image_width(png, info));
  st->hdr.height = int(png_get_image_height(png, info));
  st->hdr.channels = png_get_channels(png, info);
  st->hdr.bit_depth = png_get_bit_depth(png, info);
  if (st->header_only) return true;

  const uint64_t samples = uint64_t(st->hdr.width) * uint64_t(st->hdr.height) * uint64_t(st->hdr.channels);
  if (samples > kMaxPngSamples) {
    std::snprintf(st->io.error, sizeof st->io.error, "image of %dx%dx%d samples is larger than the limit of %llu",
                  st->hdr.height, st->hdr.width, st->hdr.channels, (unsigned long long)kMaxPngSamples);
    return false;
  }
  st->rowbytes = png_get_rowbytes(png, info);
  st->raw.resize(st->rowbytes * size_t(st->hdr.height));
  st->rows.resize(size_t(st->hdr.height));
  for (int y = 0; y < st->hdr.height; ++y) st->rows[size_t(y)] = st->raw.data() + size_t(y) * st->rowbytes;
  png_read_image(png, st->rows.data());
  png_read_end(png, nullptr);  // checks the chunks after the image data (and that the file ends properly)
  return true;
}

const uint8_t kSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

// Checks the 8-byte signature; `got` bytes were available.
void check_signature(const uint8_t* sig, size_t got, const std::string& name) {
  SAKUGA_CHECK(got > 0, name, ": empty file, not a PNG");
  const size_t n = std::min<size_t>(got, 8);
  const bool prefix_ok = std::memcmp(sig, kSignature, n) == 0;
  SAKUGA_CHECK(prefix_ok, name, ": not a PNG file (bad signature)");
  SAKUGA_CHECK(got >= 8, name, ": truncated PNG (", got, " bytes)");
}

// Opens a regular file for reading with a clear message, or throws.
std::FILE* open_for_read(const std::string& path) {
  std::FILE* fp = std::fopen(path.c_str(), "rb");
  SAKUGA_CHECK(fp, path, ": cannot open PNG for reading (", std::strerror(errno), ")");
  struct stat sb;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    std::fclose(fp);
    SAKUGA_FAIL(path, ": not a regular file");
  }
  return fp;
}

void run_read(ReadState& st, const std::string& name) {
  if (!read_stage(&st))
    SAKUGA_FAIL(name, ": corrupt or truncated PNG (", st.io.error[0] ? st.io.error : "libpng error", ")");
}

Image image_from_rows(const ReadState& st) {
  Image img;
  img.height = st.hdr.height;
  img.width = st.hdr.width;
  img.channels = st.hdr.channels;
  img.bit_depth = st.hdr.bit_depth;
  img.pixels.resize(img.size());
  const size_t row_samples = size_t(img.width) * size_t(img.channels);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = st.rows[size_t(y)];
    uint16_t* dst = img.pixels.data() + size_t(y) * row_samples;
    if (img.bit_depth == 16) {
      for (size_t i = 0; i < row_samples; ++i) dst[i] = uint16_t((src[2 * i] << 8) | src[2 * i + 1]);
    } else {
      for (size_t i = 0; i < row_samples; ++i) dst[i] = src[i];
    }
  }
  return img;
}

PngInfo read_file(const std::string& path, bool header_only, Image* out) {
  ReadState st;
  st.header_only = header_only;
  st.io.fp = open_for_read(path);
  uint8_t sig[8];
  size_t got = std::fread(sig, 1, 8, st.io.fp);
  SAKUGA_CHECK(!std::ferror(st.io.fp), path, ": read error (", std::strerror(errno), ")");
  check_signature(sig, got, path);
  png_set_read_fn(st.png, &st.io, on_png_read);
  run_read(st, path);
  if (out) *out = image_from_rows(st);
  return st.hdr;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

struct WriteState {
  PngIo io;
  png_structp png = nullptr;
  png_infop info = nullptr;
  const Image* img = nullptr;
  int compression = -1;
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;

  WriteState() {
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_png_error, on_png_warning);
    SAKUGA_CHECK(png, "libpng: png_create_write_struct failed (out of memory?)");
    info = png_create_info_struct(png);
    if (!info) {
      png_destroy_write_struct(&png, nullptr);
      SAKUGA_FAIL("libpng: png_create_info_struct failed (out of memory?)");
    }
  }
  ~WriteState() { png_destroy_write_struct(&png, &info); }
  WriteState(const WriteState&) = delete;
  WriteState& operator=(const WriteState&) = delete;
};

bool write_stage(WriteState* st) {
  png_structp png = st->png;
  png_infop info = st->info;
  if (setjmp(png_jmpbuf(png))) return false;
  static const int kColorTypes[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                     PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(png, &st->io, on_png_write, on_png_flush);
  png_set_IHDR(png, info, png_uint_32(st->img->width), png_uint_32(st->img->height), st->img->bit_depth,
               kColorTypes[st->img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (st->compression >= 0) png_set_compression_level(png, st->compression);
  png_write_info(png, info);
  png_write_image(png, st->rows.data());
  png_write_end(png, nullptr);
  return true;
}

// Writes bytes to a temporary file beside `path`, then renames it over `path`.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  SAKUGA_CHECK(fd >= 0, path, ": cannot create a temporary file to write the PNG (", std::strerror(errno), ")");
  const std::string tmp(name.data());
  auto fail = [&](const char* what) {
    int err = errno;
    if (fd >= 0) close(fd);
    unlink(tmp.c_str());
    SAKUGA_FAIL(path, ": ", what, " (", std::strerror(err), ")");
  };
  fchmod(fd, 0644);  // mkstemp creates 0600; images are ordinary files
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write failed (disk full?)");
    done += size_t(w);
  }
  if (close(fd) != 0) {
    fd = -1;
    fail("write failed on close");
  }
  fd = -1;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename the temporary file into place");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Image
// ---------------------------------------------------------------------------------------------

Image::Image(int h, int w, int c, int bd) : height(h), width(w), channels(c), bit_depth(bd) {
  SAKUGA_CHECK(h >= 1 && w >= 1, "Image: height and width must be ≥ 1, got ", h, "x", w);
  SAKUGA_CHECK(c >= 1 && c <= 4, "Image: channels must be 1..4, got ", c);
  SAKUGA_CHECK(bd == 8 || bd == 16, "Image: bit_depth must be 8 or 16, got ", bd);
  SAKUGA_CHECK(uint64_t(h) * uint64_t(w) * uint64_t(c) <= kMaxPngSamples, "Image: ", h, "x", w, "x", c,
               " is too large");
  pixels.assign(size(), 0);
}

void Image::validate(const std::string& what) const {
  SAKUGA_CHECK(height >= 1 && width >= 1, what, ": image height and width must be ≥ 1, got ", height, "x", width);
  SAKUGA_CHECK(channels >= 1 && channels <= 4, what, ": image channels must be 1..4, got ", channels);
  SAKUGA_CHECK(bit_depth == 8 || bit_depth == 16, what, ": image bit_depth must be 8 or 16, got ", bit_depth);
  SAKUGA_CHECK(uint64_t(height) * uint64_t(width) * uint64_t(channels) <= kMaxPngSamples, what, ": image ", height,
               "x", width, "x", channels, " is too large");
  SAKUGA_CHECK(pixels.size() == size(), what, ": image has ", pixels.size(), " samples, expected ", height, "*",
               width, "*", channels, " = ", size());
  if (bit_depth == 8) {
    for (size_t i = 0; i < pixels.size(); ++i)
      SAKUGA_CHECK(pixels[i] <= 255, what, ": 8-bit image has sample value ", pixels[i], " at index ", i);
  }
}

// ---------------------------------------------------------------------------------------------
// Read / write
// ---------------------------------------------------------------------------------------------

Image read_png(const std::string& path) {
  Image img;
  read_file(path, false, &img);
  return img;
}

PngInfo read_png_info(const std::string& path) { return read_file(path, true, nullptr); }

Image decode_png(const void* data, size_t size, const std::string& name) {
  SAKUGA_CHECK(data || size == 0, name, ": null buffer");
  check_signature(static_cast<const uint8_t*>(data), size, name);
  ReadState st;
  st.io.data = static_cast<const uint8_t*>(data) + 8;
  st.io.size = size - 8;
  png_set_read_fn(st.png, &st.io, on_png_read);
  run_read(st, name);
  return image_from_rows(st);
}

std::vector<uint8_t> encode_png(const Image& img, int compression) {
  img.validate("encode_png");
  SAKUGA_CHECK(compression >= -1 && compression <= 9, "encode_png: compression level must be -1..9, got ",
               compression);
  WriteState st;
  st.img = &img;
  st.compression = compression;
  std::vector<uint8_t> out;
  out.reserve(img.size() / 2 + 1024);
  st.io.out = &out;
  const size_t bytes_per_sample = img.bit_depth == 16 ? 2 : 1;
  const size_t row_samples = size_t(img.width) * size_t(img.channels);
  st.raw.resize(row_samples * bytes_per_sample * size_t(img.height));
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    if (bytes_per_sample == 2) {
      st.raw[2 * i] = uint8_t(img.pixels[i] >> 8);
      st.raw[2 * i + 1] = uint8_t(img.pixels[i] & 0xff);
    } else {
      st.raw[i] = uint8_t(img.pixels[i]);
    }
  }
  st.rows.resize(size_t(img.height));
  for (int y = 0; y < img.height; ++y)
    st.rows[size_t(y)] = st.raw.data() + size_t(y) * row_samples * bytes_per_sample;
  if (!write_stage(&st)) SAKUGA_FAIL("encode_png: libpng error (", st.io.error, ")");
  return out;
}

void write_png(const std::string& path, const Image& img) {
  img.validate(path);
  std::vector<uint8_t> bytes = encode_png(img);
  write_file_atomic(path, bytes);
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

Image convert_channels(const Image& img, int channels) {
  img.validate("convert_channels");
  SAKUGA_CHECK(channels >= 1 && channels <= 4, "convert_channels: channels must be 1..4, got ", channels);
  if (channels == img.channels) return img;
  Image out(img.height, img.width, channels, img.bit_depth);
  const bool src_color = img.channels >= 3, src_alpha = img.channels == 2 || img.channels == 4;
  const bool dst_color = channels >= 3, dst_alpha = channels == 2 || channels == 4;
  const size_t n = size_t(img.height) * size_t(img.width);
  const uint32_t opaque = uint32_t(img.max_value());
  for (size_t p = 0; p < n; ++p) {
    const uint16_t* s = img.pixels.data() + p * size_t(img.channels);
    uint16_t* d = out.pixels.data() + p * size_t(channels);
    uint32_t r, g, b;
    if (src_color) {
      r = s[0], g = s[1], b = s[2];
    } else {
      r = g = b = s[0];
    }
    const uint32_t a = src_alpha ? s[img.channels - 1] : opaque;
    if (dst_color) {
      d[0] = uint16_t(r), d[1] = uint16_t(g), d[2] = uint16_t(b);
    } else {
      d[0] = src_color ? uint16_t((299 * r + 587 * g + 114 * b + 500) / 1000) : uint16_t(r);
    }
    if (dst_alpha) d[channels - 1] = uint16_t(a);
  }
  return out;
}

Image convert_bit_depth(const Image& img, int bit_depth) {
  img.validate("convert_bit_depth");
  SAKUGA_CHECK(bit_depth == 8 || bit_depth == 16, "convert_bit_depth: bit_depth must be 8 or 16, got ", bit_depth);
  if (bit_depth == img.bit_depth) return img;
  Image out = img;
  out.bit_depth = bit_depth;
  for (uint16_t& v : out.pixels) v = bit_depth == 16 ? uint16_t(v * 257u) : uint16_t((uint32_t(v) * 255u + 32767u) / 65535u);
  return out;
}

Tensor image_to_tensor(const Image& img) {
  img.validate("image_to_tensor");
  NoGradGuard ng;
  Tensor t = Tensor::empty({img.channels, img.height, img.width}, DType::f32);
  float* p = t.data<float>();
  const size_t hw = size_t(img.height) * size_t(img.width);
  const float scale = 1.0f / float(img.max_value());
  for (size_t i = 0; i < hw; ++i)
    for (int c = 0; c < img.channels; ++c)
      p[size_t(c) * hw + i] = float(img.pixels[i * size_t(img.channels) + size_t(c)]) * scale;
  return t;
}

Image tensor_to_image(const Tensor& t, int bit_depth) {
  SAKUGA_CHECK(t.defined(), "tensor_to_image: undefined tensor");
  SAKUGA_CHECK(dtype_is_float(t.dtype()), "tensor_to_image: expected a float tensor, got ", dtype_name(t.dtype()));
  SAKUGA_CHECK(t.dim() == 2 || t.dim() == 3, "tensor_to_image: expected (C, H, W) or (H, W), got shape ",
               shape_str(t.shape()));
  SAKUGA_CHECK(bit_depth == 8 || bit_depth == 16, "tensor_to_image: bit_depth must be 8 or 16, got ", bit_depth);
  const int64_t C = t.dim() == 3 ? t.size(0) : 1, H = t.size(-2), W = t.size(-1);
  SAKUGA_CHECK(C >= 1 && C <= 4, "tensor_to_image: C must be 1..4 (gray, gray+alpha, RGB, RGBA), got shape ",
               shape_str(t.shape()));
  SAKUGA_CHECK(H >= 1 && W >= 1 && H <= INT_MAX && W <= INT_MAX, "tensor_to_image: bad image size in shape ",
               shape_str(t.shape()));
  Image img(int(H), int(W), int(C), bit_depth);
  NoGradGuard ng;
  const std::vector<float> v = t.to_vector();
  const size_t hw = size_t(H) * size_t(W);
  const float maxv = float(img.max_value());
  for (size_t i = 0; i < hw; ++i)
    for (int64_t c = 0; c < C; ++c) {
      float x = v[size_t(c) * hw + i];
      x = std::isnan(x) ? 0.0f : std::min(1.0f, std::max(0.0f, x));
      img.pixels[i * size_t(C) + size_t(c)] = uint16_t(std::lround(x * maxv));
    }
  return img;
}

Tensor image_to_labels(const Image& img, DType dtype) {
  img.validate("image_to_labels");
  SAKUGA_CHECK(img.channels == 1, "image_to_labels: a label map must be a 1-channel (gray) image, got ",
               img.channels, " channels");
  SAKUGA_CHECK(dtype == DType::i32 || dtype == DType::u8, "image_to_labels: dtype must be i32 or u8, got ",
               dtype_name(dtype));
  NoGradGuard ng;
  Tensor t = Tensor::empty({img.height, img.width}, dtype);
  if (dtype == DType::i32) {
    int32_t* p = t.data<int32_t>();
    for (size_t i = 0; i < img.pixels.size(); ++i) p[i] = img.pixels[i];
  } else {
    uint8_t* p = t.data<uint8_t>();
    for (size_t i = 0; i < img.pixels.size(); ++i) {
      SAKUGA_CHECK(img.pixels[i] <= 255, "image_to_labels: label ", img.pixels[i], " does not fit in u8");
      p[i] = uint8_t(img.pixels[i]);
    }
  }
  return t;
}

Image labels_to_image(const Tensor& labels) {
  SAKUGA_CHECK(labels.defined(), "labels_to_image: undefined tensor");
  SAKUGA_CHECK(labels.dtype() == DType::i32 || labels.dtype() == DType::u8,
               "labels_to_image: expected an i32 or u8 tensor, got ", dtype_name(labels.dtype()));
  SAKUGA_CHECK(labels.dim() == 2, "labels_to_image: expected (H, W), got shape ", shape_str(labels.shape()));
  const int64_t H = labels.size(0), W = labels.size(1);
  SAKUGA_CHECK(H >= 1 && W >= 1 && H <= INT_MAX && W <= INT_MAX, "labels_to_image: bad size ",
               shape_str(labels.shape()));
  NoGradGuard ng;
  const std::vector<int32_t> v = labels.to_vector_i32();
  int32_t lo = 0, hi = 0;
  for (int32_t x : v) lo = std::min(lo, x), hi = std::max(hi, x);
  SAKUGA_CHECK(lo >= 0 && hi <= 65535, "labels_to_image: labels must lie in [0, 65535], found ", lo < 0 ? lo : hi);
  Image img(int(H), int(W), 1, hi <= 255 ? 8 : 16);
  for (size_t i = 0; i < v.size(); ++i) img.pixels[i] = uint16_t(v[i]);
  return img;
}

Tensor read_png_tensor(const std::string& path, int channels) {
  Image img = read_png(path);
  if (channels > 0) {
    SAKUGA_CHECK(channels <= 4, path, ": requested channels must be 1..4, got ", channels);
    img = convert_channels(img, channels);
  }
  return image_to_tensor(img);
}

void write_png_tensor(const std::string& path, const Tensor& chw, int bit_depth) {
  write_png(path, tensor_to_image(chw, bit_depth));
}

Tensor read_png_labels(const std::string& path, DType dtype) {
  Image img = read_png(path);
  SAKUGA_CHECK(img.channels == 1, path, ": a label map must be a 1-channel (gray) PNG, this one has ", img.channels,
               " channels", img.channels >= 3 ? " (color label maps need a palette mapping)" : "");
  SAKUGA_CHECK(dtype != DType::u8 || img.bit_depth == 8 ||
                   *std::max_element(img.pixels.begin(), img.pixels.end()) <= 255,
               path, ": 16-bit labels do not fit in u8");
  return image_to_labels(img, dtype);
}

void write_png_labels(const std::string& path, const Tensor& labels) { write_png(path, labels_to_image(labels)); }

}  // namespace sakuga::data
