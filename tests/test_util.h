#pragma once
// Helpers shared by the unit tests.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "kernels/common.h"
#include "tensor/safetensors.h"

namespace sakuga::test {

// A fresh path (removed if it exists) in the system's temp folder: sakuga-LABEL-NAME-PID.
inline std::string temp_dir(const std::string& label, const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("sakuga-" + label + "-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

// The message of the sakuga::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Same shape, dtype and bytes.
inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.contiguous().raw(), b.contiguous().raw(), a.nbytes()) == 0;
}

// CHECKs that two safetensors files hold the same names with bit-identical tensors (resume tests).
inline void check_same_tensors(const std::string& a, const std::string& b) {
  const auto x = io::load_safetensors(a).tensors, y = io::load_safetensors(b).tensors;
  REQUIRE(x.size() == y.size());
  for (const auto& [k, v] : x) {
    INFO("tensor ", k);
    REQUIRE(y.count(k) == 1);
    CHECK(same_bytes(v, y.at(k)));
  }
}

}  // namespace sakuga::test

// CHECK that evaluating `expr` throws sakuga::Error with `text` in its message.
#define CHECK_ERROR(expr, text)                                          \
  do {                                                                   \
    std::string msg_ = ::sakuga::test::error_of([&] { (void)(expr); }); \
    INFO("message: ", msg_);                                             \
    CHECK(msg_.find(text) != std::string::npos);                         \
  } while (0)
