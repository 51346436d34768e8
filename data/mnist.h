#pragma once
// (Fashion-)MNIST in IDX format, gzip-compressed or not (read through zlib, which also reads
// plain files). Debian package `dataset-fashion-mnist` installs the four files in
// /usr/share/datasets/fashion-mnist/:
//   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60000)
//   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10000)
// IDX: big-endian magic 0x00000803 (u8, 3 dims) / 0x00000801 (u8, 1 dim), then the dims as
// big-endian u32, then the samples. Every failure throws sakuga::Error naming the file.
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace sakuga::data {

inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct MnistSet {
  Tensor images;  // (N, 1, rows, cols) f32 in [0, 1] (byte / 255), CPU
  Tensor labels;  // (N,) i32, CPU
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// One IDX3 u8 image file → (N, 1, rows, cols) f32 in [0, 1]. max_count < 0: all; otherwise
// the first min(N, max_count) images.
Tensor load_idx_images(const std::string& path, int64_t max_count = -1);
// One IDX1 u8 label file → (N,) i32.
Tensor load_idx_labels(const std::string& path, int64_t max_count = -1);
// Both files; their counts must agree.
MnistSet load_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t max_count = -1);

// split: "train" (60000) or "test" (10000, the t10k files). Labels are checked to be 0..9.
// A missing file names the Debian package to install.
MnistSet load_fashion_mnist(const std::string& split, int64_t max_count = -1,
                            const std::string& dir = kFashionMnistDir);

// Fashion-MNIST class names, index = label.
const char* fashion_mnist_class_name(int label);

}  // namespace sakuga::data
