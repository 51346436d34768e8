#pragma once
// Helpers shared by the unit tests.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "kernels/common.h"

namespace sakuga::test {

// The message of the sakuga::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace sakuga::test

// CHECK that evaluating `expr` throws sakuga::Error with `text` in its message.
#define CHECK_ERROR(expr, text)                                          \
  do {                                                                   \
    std::string msg_ = ::sakuga::test::error_of([&] { (void)(expr); }); \
    INFO("message: ", msg_);                                             \
    CHECK(msg_.find(text) != std::string::npos);                         \
  } while (0)
