#pragma once
// safetensors (https://github.com/huggingface/safetensors format): 8-byte little-endian
// header length, JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
// then raw little-endian data. The reader checks every field and bound and names the file and
// the field in its errors; the writer is atomic (temporary file + rename).
#include <map>
#include <string>

#include "tensor/tensor.h"

namespace sakuga::io {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // on the CPU
  std::map<std::string, std::string> metadata;
};

SafetensorsFile load_safetensors(const std::string& path);
// Tensors may live on any device (copied to the host). dtypes: F32, F64, BF16, I32, U8.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace sakuga::io
