// CPU reference of the random family: one counter per element, straight loops.
#include "kernels/random.h"
#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 14;
}

template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = T(normal_value(seed, offset + uint64_t(i), mean, std));
  });
}

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = T(uniform_value(seed, offset + uint64_t(i), lo, hi));
  });
}

void dropout_mask(uint8_t* keep, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const float pf = float(p);
  parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) keep[i] = dropout_keep(seed, offset + uint64_t(i), pf) ? 1 : 0;
  });
}

template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const float pf = float(p);
  const T scale = T(dropout_scale(p));
  parallel_for(n, kParallelMin / 4, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = dropout_keep(seed, offset + uint64_t(i), pf) ? x[i] * scale : T(0);
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                  \
  template void fill_normal<T>(T*, int64_t, uint64_t, uint64_t, double, double);               \
  template void fill_uniform<T>(T*, int64_t, uint64_t, uint64_t, double, double);              \
  template void dropout_forward<T>(const T*, T*, int64_t, double, uint64_t, uint64_t);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
