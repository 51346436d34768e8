#pragma once
// The bottom of the house: errors, dtypes, bf16 and the stream handle that every kernel
// signature uses. No Tensor here, no CUDA headers (so CPU-only code can include it).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define SAKUGA_HD __host__ __device__ __forceinline__
#else
#define SAKUGA_HD inline
#endif

// cudaStream_t is `struct CUstream_st*`; forward-declaring it keeps CUDA headers out of here.
struct CUstream_st;

namespace sakuga {

using Stream = CUstream_st*;  // nullptr = the legacy default stream; ignored on CPU

// The one exception type. Messages say what was expected and what was found.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
[[noreturn]] inline void fail(const char* file, int line, const std::string& msg) {
  throw Error(concat(msg, " [", file, ":", line, "]"));
}
}  // namespace detail

}  // namespace sakuga

// SAKUGA_CHECK(cond, "message parts", ...): throws sakuga::Error when cond is false.
#define SAKUGA_CHECK(cond, ...)                                                      \
  do {                                                                               \
    if (!(cond)) ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat(__VA_ARGS__)); \
  } while (0)
#define SAKUGA_FAIL(...) ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat(__VA_ARGS__))

namespace sakuga {

enum class DType : uint8_t { f32, f64, bf16, i32, u8 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::bf16: return 2;
    case DType::i32: return 4;
    case DType::u8: return 1;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
  }
  return "?";
}
inline bool dtype_is_float(DType t) { return t == DType::f32 || t == DType::f64 || t == DType::bf16; }

// Host-side bf16 (bit pattern of the upper half of an IEEE f32, round-to-nearest-even).
// The GPU uses __nv_bfloat16, which has the same bits.
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  explicit bf16(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }
  static uint16_t from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
  static float to_float(uint16_t b) {
    uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

}  // namespace sakuga
