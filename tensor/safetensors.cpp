#include "tensor/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "tensor/autograd.h"

namespace sakuga::io {

namespace {

// Above this a header is not a header but a hostile or corrupt length field.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::bf16: return "BF16";
    case DType::i32: return "I32";
    case DType::u8: return "U8";
  }
  return "?";
}

bool parse_st_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::f32;
  else if (s == "F64") *out = DType::f64;
  else if (s == "BF16") *out = DType::bf16;
  else if (s == "I32") *out = DType::i32;
  else if (s == "U8") *out = DType::u8;
  else return false;
  return true;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  std::error_code ec;
  SAKUGA_CHECK(std::filesystem::is_regular_file(path, ec), path, ": not a regular file (or missing)");
  std::ifstream f(path, std::ios::binary);
  SAKUGA_CHECK(f, path, ": cannot open for reading");
  f.seekg(0, std::ios::end);
  const std::streamoff end_pos = f.tellg();
  SAKUGA_CHECK(end_pos >= 0, path, ": cannot determine the file size");
  const uint64_t file_size = uint64_t(end_pos);
  f.seekg(0);
  SAKUGA_CHECK(file_size >= 8, path, ": not a safetensors file (", file_size, " bytes, need at least 8)");
  unsigned char len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  SAKUGA_CHECK(f, path, ": read error in the header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  SAKUGA_CHECK(header_len <= kMaxHeaderBytes, path, ": header length ", header_len, " is implausible (limit ",
               kMaxHeaderBytes, ")");
  SAKUGA_CHECK(header_len <= file_size - 8, path, ": header length ", header_len, " runs past the end of the file (",
               file_size, " bytes): truncated?");
  std::string header(size_t(header_len), '\0');
  f.read(header.data(), std::streamsize(header_len));
  SAKUGA_CHECK(f, path, ": read error in header");
  const uint64_t data_start = 8 + header_len, data_size = file_size - data_start;

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    SAKUGA_FAIL(path, ": header is not valid JSON (", e.what(), ")");
  }
  SAKUGA_CHECK(j.is_object(), path, ": header must be a JSON object");

  SafetensorsFile out;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      SAKUGA_CHECK(v.is_object(), path, ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        SAKUGA_CHECK(m.value().is_string(), path, ": __metadata__.", m.key(), " must be a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = path + ": tensor '" + name + "'";
    SAKUGA_CHECK(v.is_object(), where, " must be an object");
    SAKUGA_CHECK(v.contains("dtype") && v["dtype"].is_string(), where, ": missing string field 'dtype'");
    SAKUGA_CHECK(v.contains("shape") && v["shape"].is_array(), where, ": missing array field 'shape'");
    SAKUGA_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2, where,
                 ": 'data_offsets' must be [begin, end]");
    Entry e;
    e.name = name;
    SAKUGA_CHECK(parse_st_dtype(v["dtype"].get<std::string>(), &e.dtype), where, ": unsupported dtype '",
                 v["dtype"].get<std::string>(), "' (supported: F32, F64, BF16, I32, U8)");
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      SAKUGA_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), where,
                   ": shape entries must be non-negative integers");
      uint64_t dv = d.get<uint64_t>();
      SAKUGA_CHECK(dv <= uint64_t(std::numeric_limits<int64_t>::max()), where, ": shape entry ", dv, " is too large");
      SAKUGA_CHECK(dv == 0 || numel <= std::numeric_limits<uint64_t>::max() / dv / 8, where, ": shape overflows");
      numel *= dv;
      e.shape.push_back(int64_t(dv));
    }
    for (const auto& o : v["data_offsets"])
      SAKUGA_CHECK(o.is_number_unsigned() || (o.is_number_integer() && o.get<int64_t>() >= 0), where,
                   ": data_offsets must be non-negative integers");
    e.begin = v["data_offsets"][0].get<uint64_t>();
    e.end = v["data_offsets"][1].get<uint64_t>();
    SAKUGA_CHECK(e.begin <= e.end, where, ": data_offsets begin ", e.begin, " > end ", e.end);
    SAKUGA_CHECK(e.end <= data_size, where, ": data_offsets end ", e.end, " is past the data section (", data_size,
                 " bytes): truncated file?");
    SAKUGA_CHECK(e.end - e.begin == numel * dtype_size(e.dtype), where, ": ", e.end - e.begin, " bytes for shape ",
                 shape_str(e.shape), " of ", st_dtype_name(e.dtype), " (expected ", numel * dtype_size(e.dtype), ")");
    entries.push_back(std::move(e));
  }
  // Tensors must not overlap (the format requires a dense, non-overlapping layout).
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const Entry& e : entries) spans.push_back({e.begin, e.end});
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    SAKUGA_CHECK(spans[i].first >= spans[i - 1].second, path, ": tensors overlap in the data section");

  NoGradGuard ng;
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    f.seekg(std::streamoff(data_start + e.begin));
    f.read(static_cast<char*>(t.raw()), std::streamsize(e.end - e.begin));
    SAKUGA_CHECK(f, path, ": read error in tensor '", e.name, "'");
    out.tensors.emplace(e.name, t);
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  NoGradGuard ng;
  nlohmann::json j = nlohmann::json::object();
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    SAKUGA_CHECK(t.defined(), "save_safetensors ", path, ": tensor '", name, "' is undefined");
    SAKUGA_CHECK(name != "__metadata__", "save_safetensors: '__metadata__' is reserved");
    Tensor h = t.detach().contiguous().to(Device::cpu());
    j[name] = {{"dtype", st_dtype_name(h.dtype())}, {"shape", h.shape()}, {"data_offsets", {offset, offset + h.nbytes()}}};
    offset += h.nbytes();
    host.push_back(h);
  }
  if (!metadata.empty()) j["__metadata__"] = metadata;
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keep the data 8-byte aligned

  // Write to a temporary file beside the target, then rename: a crash never leaves a torn file.
  // A name unique per process and call, so concurrent writers never share a temporary file.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    SAKUGA_CHECK(f, tmp, ": cannot open for writing");
    uint64_t n = header.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(n >> (8 * i));
    f.write(reinterpret_cast<const char*>(len_bytes), 8);
    f.write(header.data(), std::streamsize(header.size()));
    for (const Tensor& h : host) f.write(static_cast<const char*>(h.raw()), std::streamsize(h.nbytes()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      SAKUGA_FAIL(tmp, ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    SAKUGA_FAIL("cannot rename ", tmp, " to ", path);
  }
}

}  // namespace sakuga::io
