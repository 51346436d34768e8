// CPU reference of the elementwise family: straight loops over the shared scalar math.
#include "kernels/elementwise.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

// Calls body(std::integral_constant<UnaryOp, op>) for the runtime op.
template <class Body>
void with_unary(UnaryOp op, Body&& body) {
#define SAKUGA_UNARY_CASE(name) \
  case UnaryOp::name: body(std::integral_constant<UnaryOp, UnaryOp::name>{}); return;
  switch (op) {
    SAKUGA_UNARY_CASE(neg) SAKUGA_UNARY_CASE(exp) SAKUGA_UNARY_CASE(log) SAKUGA_UNARY_CASE(sqrt)
    SAKUGA_UNARY_CASE(abs) SAKUGA_UNARY_CASE(relu) SAKUGA_UNARY_CASE(sigmoid) SAKUGA_UNARY_CASE(tanh)
    SAKUGA_UNARY_CASE(softplus) SAKUGA_UNARY_CASE(leaky_relu) SAKUGA_UNARY_CASE(pow)
    SAKUGA_UNARY_CASE(clamp) SAKUGA_UNARY_CASE(add_scalar) SAKUGA_UNARY_CASE(mul_scalar)
    SAKUGA_UNARY_CASE(square)
  }
#undef SAKUGA_UNARY_CASE
}

template <class Body>
void with_binary(BinaryOp op, Body&& body) {
  switch (op) {
    case BinaryOp::add: body(std::integral_constant<BinaryOp, BinaryOp::add>{}); return;
    case BinaryOp::sub: body(std::integral_constant<BinaryOp, BinaryOp::sub>{}); return;
    case BinaryOp::mul: body(std::integral_constant<BinaryOp, BinaryOp::mul>{}); return;
    case BinaryOp::div: body(std::integral_constant<BinaryOp, BinaryOp::div>{}); return;
  }
}

constexpr int64_t kParallelMin = 1 << 15;

}  // namespace

template <class T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double a, double b) {
  with_unary(op, [&](auto tag) {
    constexpr UnaryOp O = decltype(tag)::value;
    const T ta = T(a), tb = T(b);
    parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = unary_fwd<O>(x[i], ta, tb);
    });
  });
}

template <class T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a, double b) {
  with_unary(op, [&](auto tag) {
    constexpr UnaryOp O = decltype(tag)::value;
    const T ta = T(a), tb = T(b);
    parallel_for(n, kParallelMin / 2, [=](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) gx[i] = unary_bwd<O>(x ? x[i] : T(0), y ? y[i] : T(0), gy[i], ta, tb);
    });
  });
}

template <class T>
void binary_forward(BinaryOp op, const T* a, const T* b, T* out, const Broadcast& bc) {
  const int64_t n = bc.numel();
  const int nd = bc.ndim;
  with_binary(op, [&](auto tag) {
    constexpr BinaryOp O = decltype(tag)::value;
    if (bc.same_layout()) {
      parallel_for(n, kParallelMin, [=](int64_t i0, int64_t i1) {
#pragma omp simd
        for (int64_t i = i0; i < i1; ++i) out[i] = binary_fwd<O>(a[i], b[i]);
      });
      return;
    }
    // A row (the last dim) at a time: the leading dims' index math once per row, then a flat
    // loop whose operands step by their last-dim strides (1, or 0 for a broadcast operand).
    // (Per element, the div / mod over every dim made broadcast products a tenth of the
    // scenimefy step on the CPU.)
    const int last = nd - 1;
    const int64_t w = nd > 0 ? bc.out_shape[last] : 1, sa = nd > 0 ? bc.a_strides[last] : 0,
                  sb = nd > 0 ? bc.b_strides[last] : 0;
    const int64_t rows = w > 0 ? n / w : 0;
    parallel_for(rows, std::max<int64_t>(1, kParallelMin / 2 / std::max<int64_t>(1, w)), [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        int64_t rem = r, ia = 0, ib = 0;
        for (int d = last - 1; d >= 0; --d) {
          const int64_t idx = rem % bc.out_shape[d];
          rem /= bc.out_shape[d];
          ia += idx * bc.a_strides[d];
          ib += idx * bc.b_strides[d];
        }
        const T* pa = a + ia;
        const T* pb = b + ib;
        T* po = out + r * w;
        if (sa == 1 && sb == 1) {
#pragma omp simd
          for (int64_t j = 0; j < w; ++j) po[j] = binary_fwd<O>(pa[j], pb[j]);
        } else if (sa == 1 && sb == 0) {
          const T vb = *pb;
#pragma omp simd
          for (int64_t j = 0; j < w; ++j) po[j] = binary_fwd<O>(pa[j], vb);
        } else if (sa == 0 && sb == 1) {
          const T va = *pa;
#pragma omp simd
          for (int64_t j = 0; j < w; ++j) po[j] = binary_fwd<O>(va, pb[j]);
        } else {
          for (int64_t j = 0; j < w; ++j) po[j] = binary_fwd<O>(pa[j * sa], pb[j * sb]);
        }
      }
    });
  });
}

template <class T>
void sum_to(const T* in, T* out, const SumTo& g) {
  // Split each input index into (output index, reduced index); sum reduced indices in order.
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < g.ndim; ++d) {
    n_out *= g.out_shape[d];
    n_red *= g.out_shape[d] == 1 ? g.in_shape[d] : 1;
  }
  std::vector<int64_t> in_strides(size_t(g.ndim));
  int64_t acc = 1;
  for (int d = g.ndim - 1; d >= 0; --d) {
    in_strides[size_t(d)] = acc;
    acc *= g.in_shape[d];
  }
  parallel_for(n_out, grain_for(n_red, kParallelMin), [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      int64_t base = 0, rem = j;
      for (int d = g.ndim - 1; d >= 0; --d) {
        int64_t idx = rem % g.out_shape[d];
        rem /= g.out_shape[d];
        base += idx * in_strides[size_t(d)];
      }
      T s = T(0);
      for (int64_t r = 0; r < n_red; ++r) {
        int64_t off = 0, rr = r;
        for (int d = g.ndim - 1; d >= 0; --d) {
          if (g.out_shape[d] != 1) continue;
          int64_t idx = rr % g.in_shape[d];
          rr /= g.in_shape[d];
          off += idx * in_strides[size_t(d)];
        }
        s += in[base + off];
      }
      out[j] = s;
    }
  });
}

#define SAKUGA_INSTANTIATE(T)                                                                   \
  template void unary_forward<T>(UnaryOp, const T*, T*, int64_t, double, double);               \
  template void unary_backward<T>(UnaryOp, const T*, const T*, const T*, T*, int64_t, double, double); \
  template void binary_forward<T>(BinaryOp, const T*, const T*, T*, const Broadcast&);          \
  template void sum_to<T>(const T*, T*, const SumTo&);
SAKUGA_INSTANTIATE(float)
SAKUGA_INSTANTIATE(double)
#undef SAKUGA_INSTANTIATE

}  // namespace sakuga::kernels::cpu
