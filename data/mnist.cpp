#include "data/mnist.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/autograd.h"

namespace sakuga::data {

namespace {

constexpr uint32_t kMagicImages = 0x00000803;  // u8, 3 dims
constexpr uint32_t kMagicLabels = 0x00000801;  // u8, 1 dim
constexpr const char* kPackageHint = "Fashion-MNIST comes from the Debian package dataset-fashion-mnist "
                                     "(apt-get install dataset-fashion-mnist)";

// An open gzip (or plain) file; closes itself.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    struct stat sb;
    if (stat(path.c_str(), &sb) != 0) {
      const int err = errno;
      SAKUGA_FAIL(path, ": cannot open IDX file (", std::strerror(err), ")",
                  err == ENOENT ? std::string("; ") + kPackageHint : std::string());
    }
    SAKUGA_CHECK(S_ISREG(sb.st_mode), path, ": not a regular file");
    gz_ = gzopen(path.c_str(), "rb");
    SAKUGA_CHECK(gz_, path, ": cannot open IDX file (", errno ? std::strerror(errno) : "out of memory", ")");
    gzbuffer(gz_, 1 << 18);
  }
  ~GzFile() {
    if (gz_) gzclose(gz_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads exactly n bytes or throws (truncated / corrupt), `what` naming the part of the file.
  void read(void* dst, size_t n, const char* what) {
    auto* p = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = unsigned(std::min<size_t>(n - done, size_t(1) << 24));
      const int got = gzread(gz_, p + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        SAKUGA_FAIL(path_, ": corrupt or truncated gzip data while reading ", what, " (",
                    code == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "zlib error"), ")");
      }
      if (got == 0) {
        int code = 0;
        gzerror(gz_, &code);
        SAKUGA_FAIL(path_, ": truncated", code == Z_BUF_ERROR ? " gzip stream" : " file", ": the ", what, " needs ", n,
                    " bytes, the data ends after ", done);
      }
      done += size_t(got);
    }
  }

  uint32_t read_u32(const char* what) {
    uint8_t b[4];
    read(b, 4, what);
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
  }

  // Reads n bytes into a vector that grows as data arrives (a hostile count in a header cannot
  // make us allocate more than the file holds, give or take one chunk).
  std::vector<uint8_t> read_bytes(size_t n, const char* what) {
    std::vector<uint8_t> out;
    out.reserve(std::min<size_t>(n, size_t(64) << 20));
    const size_t kChunk = size_t(4) << 20;
    while (out.size() < n) {
      const size_t old = out.size(), take = std::min(kChunk, n - old);
      out.resize(old + take);
      read(out.data() + old, take, what);
    }
    return out;
  }

  // After a full read: the file must end here (this also makes zlib verify the gzip CRC).
  void expect_end(const char* what) {
    uint8_t b;
    const int got = gzread(gz_, &b, 1);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(gz_, &code);
      SAKUGA_FAIL(path_, ": corrupt gzip data at the end of the ", what, " (",
                  code == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "zlib error"), ")");
    }
    SAKUGA_CHECK(got == 0, path_, ": more data after the ", what, " than the header's count declares");
    // zlib reports a gzip stream cut short (e.g. in its trailer) as end of file plus Z_BUF_ERROR.
    int code = 0;
    const char* msg = gzerror(gz_, &code);
    SAKUGA_CHECK(code == Z_OK, path_, ": truncated or corrupt gzip stream after the ", what, " (",
                 msg ? msg : "zlib error", ")");
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile gz_ = nullptr;
};

struct IdxHeader {
  uint32_t count = 0, rows = 0, cols = 0;
};

IdxHeader read_header(GzFile& f, uint32_t want_magic) {
  const uint32_t magic = f.read_u32("header (magic number)");
  const bool images = want_magic == kMagicImages;
  if (magic != want_magic) {
    const char* found = magic == kMagicImages ? " (an image file)"
                        : magic == kMagicLabels ? " (a label file)"
                                                : "";
    SAKUGA_FAIL(f.path(), ": bad IDX magic number 0x", std::hex, magic, found, ", expected 0x", want_magic, std::dec,
                images ? " (u8 images, 3 dims)" : " (u8 labels, 1 dim)");
  }
  IdxHeader h;
  h.count = f.read_u32("header (count)");
  SAKUGA_CHECK(h.count <= uint32_t(INT32_MAX), f.path(), ": implausible count ", h.count);
  if (images) {
    h.rows = f.read_u32("header (rows)");
    h.cols = f.read_u32("header (cols)");
    SAKUGA_CHECK(h.rows >= 1 && h.cols >= 1 && uint64_t(h.rows) * h.cols <= (uint64_t(1) << 24), f.path(),
                 ": implausible image size ", h.rows, "x", h.cols);
  }
  return h;
}

int64_t take_count(uint32_t count, int64_t max_count) {
  return max_count < 0 ? int64_t(count) : std::min<int64_t>(count, max_count);
}

Tensor images_from(GzFile& f, const IdxHeader& h, int64_t n) {
  const size_t per = size_t(h.rows) * h.cols;
  std::vector<uint8_t> bytes = f.read_bytes(size_t(n) * per, "image data");
  if (n == int64_t(h.count)) f.expect_end("image data");
  NoGradGuard ng;
  Tensor t = Tensor::empty({n, 1, int64_t(h.rows), int64_t(h.cols)}, DType::f32);
  float* p = t.data<float>();
  const size_t total = bytes.size();
  kernels::cpu::parallel_for(int64_t(total), int64_t(1) << 20, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) p[i] = float(bytes[size_t(i)]) / 255.0f;
  });
  return t;
}

Tensor labels_from(GzFile& f, const IdxHeader& h, int64_t n) {
  std::vector<uint8_t> bytes = f.read_bytes(size_t(n), "label data");
  if (n == int64_t(h.count)) f.expect_end("label data");
  NoGradGuard ng;
  Tensor t = Tensor::empty({n}, DType::i32);
  int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = bytes[size_t(i)];
  return t;
}

}  // namespace

Tensor load_idx_images(const std::string& path, int64_t max_count) {
  GzFile f(path);
  IdxHeader h = read_header(f, kMagicImages);
  return images_from(f, h, take_count(h.count, max_count));
}

Tensor load_idx_labels(const std::string& path, int64_t max_count) {
  GzFile f(path);
  IdxHeader h = read_header(f, kMagicLabels);
  return labels_from(f, h, take_count(h.count, max_count));
}

MnistSet load_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t max_count) {
  GzFile fi(images_path), fl(labels_path);
  IdxHeader hi = read_header(fi, kMagicImages), hl = read_header(fl, kMagicLabels);
  SAKUGA_CHECK(hi.count == hl.count, "count mismatch: ", images_path, " holds ", hi.count, " images but ",
               labels_path, " holds ", hl.count, " labels");
  const int64_t n = take_count(hi.count, max_count);
  MnistSet s;
  s.labels = labels_from(fl, hl, n);
  s.images = images_from(fi, hi, n);
  return s;
}

MnistSet load_fashion_mnist(const std::string& split, int64_t max_count, const std::string& dir) {
  std::string prefix;
  if (split == "train")
    prefix = "train";
  else if (split == "test" || split == "t10k")
    prefix = "t10k";
  else
    SAKUGA_FAIL("load_fashion_mnist: split must be 'train' or 'test', got '", split, "'");
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  const std::string images = base + prefix + "-images-idx3-ubyte.gz", labels = base + prefix + "-labels-idx1-ubyte.gz";
  for (const std::string& p : {images, labels}) {
    struct stat sb;
    SAKUGA_CHECK(stat(p.c_str(), &sb) == 0, p, ": Fashion-MNIST file not found; install the Debian package "
                 "dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass the folder that holds it");
  }
  MnistSet s = load_idx_pair(images, labels, max_count);
  SAKUGA_CHECK(s.images.size(2) == 28 && s.images.size(3) == 28, images, ": Fashion-MNIST images must be 28x28, got ",
               s.images.size(2), "x", s.images.size(3));
  const int32_t* l = s.labels.data<int32_t>();
  for (int64_t i = 0; i < s.size(); ++i)
    SAKUGA_CHECK(l[i] >= 0 && l[i] <= 9, labels, ": label ", l[i], " at index ", i, " is outside 0..9");
  return s;
}

const char* fashion_mnist_class_name(int label) {
  static const char* kNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  SAKUGA_CHECK(label >= 0 && label <= 9, "fashion_mnist_class_name: label ", label, " is outside 0..9");
  return kNames[label];
}

}  // namespace sakuga::data
