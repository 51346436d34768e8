// GEMM family: matmul, bmm, linear. Checks, device dispatch to kernels/gemm.h, and backward
// passes that reuse the same GEMM with transpose flags (no transposed copies):
//   C = op(A)·op(B):  dA = dC·op(B)ᵀ,  dB = op(A)ᵀ·dC
//   y = x·Wᵀ + b:     dx = dy·W,  dW = dyᵀ·x,  db = Σ_rows dy
// Operands that are transposed views (e.g. ops::transpose(w, 0, 1)) or row-sliced views are
// passed to the GEMM as they are stored; anything else is made contiguous first.
#include "tensor/ops/matmul.h"

#include <algorithm>

#include "kernels/gemm.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"

namespace sakuga::ops {

namespace {

// A rank-2 (or rank-3, batched) tensor as stored for the GEMM: the logical matrix (rows×cols,
// the last two dims) is stored row-major (trans = false) or column-major (trans = true) with
// leading dimension ld; batch i starts `stride` elements after batch i-1.
struct Operand {
  Tensor t;  // its raw() is the first element (no autograd history)
  bool trans = false;
  int64_t ld = 1;
  int64_t stride = 0;
};

Operand as_operand(const Tensor& x_in) {
  Tensor x = x_in.detach();
  const int64_t nd = x.dim();
  const int64_t rows = x.size(-2), cols = x.size(-1);
  const int64_t sr = x.strides()[size_t(nd - 2)], sc = x.strides()[size_t(nd - 1)];
  const int64_t batch = nd == 3 ? x.size(0) : 1;
  const int64_t sb = nd == 3 ? x.strides()[0] : 0;
  if (rows > 0 && cols > 0) {
    // Row-major: unit column stride, rows at least a row apart.
    if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols)) {
      int64_t ld = rows == 1 ? cols : sr;
      int64_t span = (rows - 1) * ld + cols;
      if (batch == 1 || sb >= span) return {x, false, ld, batch == 1 ? 0 : sb};
    }
    // Column-major (a transposed view): unit row stride, columns at least a column apart.
    if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows)) {
      int64_t ld = cols == 1 ? rows : sc;
      int64_t span = (cols - 1) * ld + rows;
      if (batch == 1 || sb >= span) return {x, true, ld, batch == 1 ? 0 : sb};
    }
  }
  Tensor c = x.contiguous();
  return {c, false, std::max<int64_t>(cols, 1), rows * cols};
}

// C (contiguous, batch × M × N) = op(A)·op(B) [+ bias] on C's device. `trans_*` say how the
// stored operands enter the product (they may differ from the operands' own flags).
void run_gemm(const char* op, const Tensor& C, int64_t batch, int64_t M, int64_t N, int64_t K, const Operand& A,
              bool trans_a, const Operand& B, bool trans_b, const Tensor& bias = Tensor()) {
  const int64_t stride_c = M * N;
  if (C.is_cuda()) {
    SAKUGA_CUDA_ONLY({
      if (batch == 1)
        kernels::cuda::gemm(C.dtype(), trans_a, trans_b, M, N, K, 1.f, A.t.raw(), A.ld, B.t.raw(), B.ld, 0.f, C.raw(),
                            N, stream_of(C), bias.defined() ? bias.raw() : nullptr);
      else
        kernels::cuda::gemm_strided_batched(C.dtype(), trans_a, trans_b, M, N, K, 1.f, A.t.raw(), A.ld, A.stride,
                                            B.t.raw(), B.ld, B.stride, 0.f, C.raw(), N, stride_c, batch,
                                            stream_of(C));
    });
  } else {
    dispatch_cpu_float(op, C.dtype(), [&](auto v) {
      using T = decltype(v);
      if (batch == 1)
        kernels::cpu::gemm<T>(trans_a, trans_b, M, N, K, T(1), A.t.data<T>(), A.ld, B.t.data<T>(), B.ld, T(0),
                              C.data<T>(), N, bias.defined() ? bias.data<T>() : nullptr);
      else
        kernels::cpu::gemm_strided_batched<T>(trans_a, trans_b, M, N, K, T(1), A.t.data<T>(), A.ld, A.stride,
                                              B.t.data<T>(), B.ld, B.stride, T(0), C.data<T>(), N, stride_c, batch);
    });
  }
}

// db (N) = Σ over the M rows of g (M×N, row-major with leading dimension ld).
void run_bias_grad(const char* op, const Tensor& g, int64_t ld, const Tensor& db, int64_t M, int64_t N) {
  if (db.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::gemm_bias_grad(db.dtype(), g.raw(), db.raw(), M, N, ld, stream_of(db)));
  } else {
    dispatch_cpu_float(op, db.dtype(), [&](auto v) {
      using T = decltype(v);
      kernels::cpu::gemm_bias_grad<T>(g.data<T>(), db.data<T>(), M, N, ld);
    });
  }
}

void check_pair(const char* op, const Tensor& a, const Tensor& b, const char* na, const char* nb) {
  check_defined(op, a, na);
  check_defined(op, b, nb);
  check_same_device(op, a, b);
  check_same_dtype(op, a, b);
  check_float(op, a, na);
}

// (batch ×) (M×K)·(K×N), shapes already checked; records the backward.
Tensor mm(const char* op, const Tensor& a, const Tensor& b) {
  const bool batched = a.dim() == 3;
  const int64_t batch = batched ? a.size(0) : 1;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Operand A = as_operand(a), B = as_operand(b);
  Tensor out = Tensor::empty(batched ? Shape{batch, M, N} : Shape{M, N}, a.dtype(), a.device());
  run_gemm(op, out, batch, M, N, K, A, A.trans, B, B.trans);
  if (!any_requires_grad({a, b})) return out;
  // dA needs B and dB needs A: keep only what the requested gradients read.
  Operand sa = b.requires_grad() ? A : Operand{}, sb = a.requires_grad() ? B : Operand{};
  Shape shape_a = a.shape(), shape_b = b.shape();
  return record(op, out, {a, b}, [=](const Tensor& gy, const Needs& need) -> Grads {
    Operand G = as_operand(gy);
    Tensor ga, gb;
    if (need[0]) {  // dA (M×K) = dC (M×N) · op(B)ᵀ (N×K)
      ga = Tensor::empty(shape_a, gy.dtype(), gy.device());
      run_gemm(op, ga, batch, M, K, N, G, G.trans, sb, !sb.trans);
    }
    if (need[1]) {  // dB (K×N) = op(A)ᵀ (K×M) · dC (M×N)
      gb = Tensor::empty(shape_b, gy.dtype(), gy.device());
      run_gemm(op, gb, batch, K, N, M, sa, !sa.trans, G, G.trans);
    }
    return {ga, gb};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_pair("matmul", a, b, "a", "b");
  const bool ok_rank = (a.dim() == 2 && b.dim() == 2) || (a.dim() == 3 && b.dim() == 3);
  SAKUGA_CHECK(ok_rank, "matmul: expected (M, K) @ (K, N) or (B, M, K) @ (B, K, N), got ", shape_str(a.shape()),
               " @ ", shape_str(b.shape()));
  if (a.dim() == 3)
    SAKUGA_CHECK(a.size(0) == b.size(0), "matmul: batch sizes differ: ", shape_str(a.shape()), " @ ",
                 shape_str(b.shape()));
  SAKUGA_CHECK(a.size(-1) == b.size(-2), "matmul: inner dimensions differ: a ", shape_str(a.shape()), " has ",
               a.size(-1), " columns but b ", shape_str(b.shape()), " has ", b.size(-2), " rows");
  return mm("matmul", a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_pair("bmm", a, b, "a", "b");
  SAKUGA_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected (B, M, K) @ (B, K, N), got ", shape_str(a.shape()),
               " @ ", shape_str(b.shape()));
  SAKUGA_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: ", shape_str(a.shape()), " @ ",
               shape_str(b.shape()));
  SAKUGA_CHECK(a.size(2) == b.size(1), "bmm: inner dimensions differ: a ", shape_str(a.shape()), " has ",
               a.size(2), " columns but b ", shape_str(b.shape()), " has ", b.size(1), " rows");
  return mm("bmm", a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias_in) {
  check_pair("linear", x, weight, "x", "weight");
  SAKUGA_CHECK(weight.dim() == 2, "linear: weight must be (out_features, in_features), got ",
               shape_str(weight.shape()));
  SAKUGA_CHECK(x.dim() >= 1, "linear: input must have at least 1 dimension, got a scalar");
  const int64_t in_f = weight.size(1), out_f = weight.size(0);
  SAKUGA_CHECK(x.size(-1) == in_f, "linear: input ", shape_str(x.shape()), " has ", x.size(-1),
               " features but weight ", shape_str(weight.shape()), " expects in_features = ", in_f);
  const bool has_bias = bias_in.defined();
  Tensor bias;
  if (has_bias) {
    check_same_device("linear", x, bias_in);
    check_same_dtype("linear", x, bias_in);
    SAKUGA_CHECK(bias_in.dim() == 1 && bias_in.size(0) == out_f, "linear: bias must be (", out_f,
                 ") for weight ", shape_str(weight.shape()), ", got ", shape_str(bias_in.shape()));
    bias = bias_in.detach().contiguous();
  }
  // x (..., in) as a (rows × in) matrix: a rank-2 x may be a transposed view, others are
  // flattened (a copy only when x is not contiguous).
  const int64_t rows = in_f > 0 ? x.numel() / in_f : shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Operand X;
  if (x.dim() == 2) {
    X = as_operand(x);
  } else {
    X = {x.detach().contiguous(), false, std::max<int64_t>(in_f, 1), 0};
  }
  Operand W = as_operand(weight);  // W (out × in); the product needs Wᵀ (in × out)
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(out_f);
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  run_gemm("linear", out, 1, rows, out_f, in_f, X, X.trans, W, !W.trans, bias);

  std::vector<Tensor> inputs{x, weight};
  if (has_bias) inputs.push_back(bias_in);
  if (!any_requires_grad(inputs)) return out;
  Operand sx = weight.requires_grad() ? X : Operand{}, sw = x.requires_grad() ? W : Operand{};
  Shape x_shape = x.shape(), w_shape = weight.shape();
  return record("linear", out, inputs, [=](const Tensor& gy, const Needs& need) -> Grads {
    // dy as a (rows × out) matrix.
    Operand G = gy.dim() == 2 ? as_operand(gy) : Operand{gy.contiguous(), false, std::max<int64_t>(out_f, 1), 0};
    Grads grads(has_bias ? 3 : 2);
    if (need[0]) {  // dx (rows × in) = dy (rows × out) · W (out × in)
      grads[0] = Tensor::empty(x_shape, gy.dtype(), gy.device());
      run_gemm("linear", grads[0], 1, rows, in_f, out_f, G, G.trans, sw, sw.trans);
    }
    if (need[1]) {  // dW (out × in) = dyᵀ (out × rows) · x (rows × in)
      grads[1] = Tensor::empty(w_shape, gy.dtype(), gy.device());
      run_gemm("linear", grads[1], 1, out_f, in_f, rows, G, !G.trans, sx, sx.trans);
    }
    if (has_bias && need[2]) {  // db (out) = Σ_rows dy
      Operand R = G.trans ? Operand{G.t.contiguous(), false, std::max<int64_t>(out_f, 1), 0} : G;
      grads[2] = Tensor::empty({out_f}, gy.dtype(), gy.device());
      run_bias_grad("linear", R.t, R.ld, grads[2], rows, out_f);
    }
    return grads;
  });
}

}  // namespace sakuga::ops
