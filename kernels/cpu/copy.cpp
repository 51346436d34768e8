#include "kernels/copy.h"

#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {
template <class T>
T from_double(double v) { return T(v); }
template <>
bf16 from_double<bf16>(double v) { return bf16(float(v)); }
template <class T>
double to_double(T v) { return double(v); }
template <>
double to_double<bf16>(bf16 v) { return double(float(v)); }

// Calls f(T{}) with T the C++ type of `dtype`.
template <class F>
void dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    case DType::bf16: f(bf16{}); return;
    case DType::i32: f(int32_t{}); return;
    case DType::u8: f(uint8_t{}); return;
  }
}
}  // namespace

void fill(void* dst, DType dtype, int64_t n, double value) {
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = from_double<T>(value);
    T* d = static_cast<T*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = v;
  });
}

void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n) {
  dispatch(src_dtype, [&](auto stag) {
    using S = decltype(stag);
    dispatch(dst_dtype, [&](auto dtag) {
      using D = decltype(dtag);
      const S* s = static_cast<const S*>(src);
      D* d = static_cast<D*>(dst);
      parallel_for(n, 65536, [=](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) d[i] = from_double<D>(to_double<S>(s[i]));
      });
    });
  });
}

void strided_copy(const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  DType dtype, const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (n == 0) return;
  const int64_t es = int64_t(dtype_size(dtype));
  const char* s = static_cast<const char*>(src);
  char* o = static_cast<char*>(dst);
  // The innermost dims that are contiguous in both src and dst form one block: one memcpy each
  // (the whole copy when both are contiguous, e.g. a gradient handed to a leaf).
  int64_t block = 1;
  int outer = ndim;
  while (outer > 0 && src_strides[outer - 1] == block && dst_strides[outer - 1] == block) {
    block *= shape[outer - 1];
    --outer;
  }
  if (outer == 0) {
    std::memcpy(o, s, size_t(n * es));
    return;
  }
  std::vector<int64_t> idx(size_t(outer), 0);
  int64_t so = 0, d_off = 0;  // element offsets of idx, advanced like an odometer
  for (int64_t i = 0; i < n / block; ++i) {
    std::memcpy(o + d_off * es, s + so * es, size_t(block * es));
    for (int d = outer - 1; d >= 0; --d) {
      if (++idx[size_t(d)] < shape[d]) {
        so += src_strides[d];
        d_off += dst_strides[d];
        break;
      }
      so -= (shape[d] - 1) * src_strides[d];
      d_off -= (shape[d] - 1) * dst_strides[d];
      idx[size_t(d)] = 0;
    }
  }
}

}  // namespace sakuga::kernels::cpu
