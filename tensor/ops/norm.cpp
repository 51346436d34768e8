// Normalisation and dropout: checks, device dispatch, the fused kernels of kernels/norm.h and
// kernels/random.h, and their backward on the tape.
#include "tensor/ops/norm.h"

#include <algorithm>

#include "kernels/norm.h"
#include "kernels/random.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/dist.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

using kernels::NormGeom;

namespace {

// Statistics and affine parameters live in this dtype: the input's on the CPU (f32/f64),
// f32 on CUDA (also for bf16 activations).
DType stats_dtype(const Tensor& x) { return x.is_cuda() ? DType::f32 : x.dtype(); }

void check_input(const char* op, const Tensor& x) {
  check_defined(op, x, "x");
  if (x.is_cuda())
    SAKUGA_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::bf16, op, ": x on CUDA must be f32 or bf16, got ",
                 dtype_name(x.dtype()));
  else
    SAKUGA_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, op, ": x on the CPU must be f32 or f64, got ",
                 dtype_name(x.dtype()));
}

// An optional per-channel vector (weight, bias, running statistics): shape (C), float, on x's device.
void check_channel_vector(const char* op, const Tensor& t, const char* arg, int64_t C, const Tensor& x) {
  if (!t.defined()) return;
  check_float(op, t, arg);
  SAKUGA_CHECK(t.device() == x.device(), op, ": ", arg, " is on ", t.device().str(), " but x is on ",
               x.device().str());
  SAKUGA_CHECK(t.dim() == 1 && t.size(0) == C, op, ": ", arg, " must have shape (", C, ") for x of shape ",
               shape_str(x.shape()), ", got ", shape_str(t.shape()));
}

// A parameter in the statistics dtype (a recorded cast when needed, so its gradient flows back).
Tensor as_stats(const Tensor& p, DType st) { return p.defined() ? p.to(st).contiguous() : Tensor(); }

// A buffer updated in place: the kernel writes `work`, which is the buffer itself when its
// dtype and layout allow, else a copy that commit() writes back.
struct InPlace {
  Tensor orig, work;
  InPlace(const Tensor& t, DType st) : orig(t) {
    if (!t.defined()) return;
    Tensor d = t.detach();
    if (d.dtype() == st && d.is_contiguous()) {
      work = d;
    } else {
      work = Tensor::empty(d.shape(), st, d.device());
      work.copy_(d);
    }
  }
  void commit() const {
    if (orig.defined() && work.impl().storage != orig.impl().storage) orig.copy_(work);
  }
};

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

struct Forward {
  Tensor y, mean, invstd;
};

// y, mean, invstd for x (contiguous) and the geometry g. batch_stats: statistics from x (and
// the running buffers updated when given); else from stat_mean/stat_var.
Forward norm_forward(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& stat_mean,
                     const Tensor& stat_var, const NormGeom& g, bool batch_stats, double eps, double momentum) {
  const DType st = stats_dtype(x);
  Forward f;
  f.y = Tensor::empty(x.shape(), x.dtype(), x.device());
  f.mean = Tensor::empty({g.G}, st, x.device());
  f.invstd = Tensor::empty({g.G}, st, x.device());
  InPlace rm(batch_stats ? stat_mean : Tensor(), st), rv(batch_stats ? stat_var : Tensor(), st);
  Tensor sm = batch_stats ? Tensor() : as_stats(stat_mean.detach(), st);
  Tensor sv = batch_stats ? Tensor() : as_stats(stat_var.detach(), st);
  if (x.is_cuda()) {
    if (batch_stats) {
      SAKUGA_CUDA_ONLY(kernels::cuda::norm_forward_train(x.dtype(), x.raw(), ptr<float>(w), ptr<float>(b), f.y.raw(),
                                                         ptr<float>(f.mean), ptr<float>(f.invstd),
                                                         ptr<float>(rm.work), ptr<float>(rv.work), g, eps, momentum,
                                                         stream_of(x)));
    } else {
      SAKUGA_CUDA_ONLY(kernels::cuda::norm_forward_eval(x.dtype(), x.raw(), ptr<float>(w), ptr<float>(b),
                                                        ptr<float>(sm), ptr<float>(sv), f.y.raw(), ptr<float>(f.mean),
                                                        ptr<float>(f.invstd), g, eps, stream_of(x)));
    }
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (batch_stats)
        kernels::cpu::norm_forward_train<T>(x.data<T>(), ptr<T>(w), ptr<T>(b), f.y.data<T>(), f.mean.data<T>(),
                                            f.invstd.data<T>(), ptr<T>(rm.work), ptr<T>(rv.work), g, eps, momentum);
      else
        kernels::cpu::norm_forward_eval<T>(x.data<T>(), ptr<T>(w), ptr<T>(b), sm.data<T>(), sv.data<T>(),
                                           f.y.data<T>(), f.mean.data<T>(), f.invstd.data<T>(), g, eps);
    });
  }
  rm.commit();
  rv.commit();
  return f;
}

// {dx, dw, db} for the inputs that need them.
Grads norm_backward(const char* op, const Tensor& gy_in, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                    const Tensor& w, bool has_b, const NormGeom& g, bool batch_stats, const Needs& need) {
  Tensor gy = gy_in.contiguous();
  const DType st = mean.dtype();
  Tensor dx = need[0] ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = need[1] && w.defined() ? Tensor::empty({g.C}, st, x.device()) : Tensor();
  Tensor db = need[2] && has_b ? Tensor::empty({g.C}, st, x.device()) : Tensor();
  if (!dx.defined() && !dw.defined() && !db.defined()) return {Tensor(), Tensor(), Tensor()};
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::norm_backward(x.dtype(), gy.raw(), x.raw(), ptr<float>(mean), ptr<float>(invstd),
                                                  ptr<float>(w), dx.defined() ? dx.raw() : nullptr, ptr<float>(dw),
                                                  ptr<float>(db), g, batch_stats, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::norm_backward<T>(gy.data<T>(), x.data<T>(), mean.data<T>(), invstd.data<T>(), ptr<T>(w),
                                     ptr<T>(dx), ptr<T>(dw), ptr<T>(db), g, batch_stats);
    });
  }
  return {dx, dw, db};
}

// Run the fused forward and record the fused backward.
Tensor normalize(const char* op, const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                 const Tensor& stat_mean, const Tensor& stat_var, const NormGeom& g, bool batch_stats, double eps,
                 double momentum) {
  const DType st = stats_dtype(x_in);
  Tensor x = x_in.contiguous();
  Tensor w = as_stats(weight, st), b = as_stats(bias, st);
  Forward f = norm_forward(op, x, w, b, stat_mean, stat_var, g, batch_stats, eps, momentum);
  if (!grad_enabled() || !any_requires_grad({x, w, b})) return f.y;
  Tensor sx = x.detach(), sw = w.defined() ? w.detach() : Tensor();
  Tensor mean = f.mean, invstd = f.invstd;
  const bool has_b = b.defined();
  return record(op, f.y, {x, w, b}, [=](const Tensor& gy, const Needs& need) -> Grads {
    return norm_backward(op, gy, sx, mean, invstd, sw, has_b, g, batch_stats, need);
  });
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_input(op, x);
  SAKUGA_CHECK(x.dim() == 2 || x.dim() == 4, op, ": x must be (N, C) or (N, C, H, W), got ", shape_str(x.shape()));
  const int64_t C = x.size(1);
  check_channel_vector(op, weight, "weight", C, x);
  check_channel_vector(op, bias, "bias", C, x);
  check_channel_vector(op, running_mean, "running_mean", C, x);
  check_channel_vector(op, running_var, "running_var", C, x);
  SAKUGA_CHECK(running_mean.defined() == running_var.defined(), op,
               ": give both running_mean and running_var, or neither");
  SAKUGA_CHECK(eps > 0, op, ": eps must be > 0, got ", eps);
  NormGeom g;
  g.N = x.size(0);
  g.G = C;
  g.S = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  g.C = C;
  if (training) {
    SAKUGA_CHECK(g.count() > 1, op, ": expected more than 1 value per channel when training, got x of shape ",
                 shape_str(x.shape()));
    SAKUGA_CHECK(momentum >= 0 && momentum <= 1, op, ": momentum must be in [0, 1], got ", momentum);
  } else {
    SAKUGA_CHECK(running_mean.defined(), op, ": evaluation mode needs running_mean and running_var");
  }
  return normalize(op, x, weight, bias, running_mean, running_var, g, training, eps, momentum);
}

Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "instance_norm";
  check_input(op, x);
  SAKUGA_CHECK(x.dim() == 3 || x.dim() == 4, op, ": x must be (N, C, L) or (N, C, H, W), got ",
               shape_str(x.shape()));
  const int64_t C = x.size(1);
  check_channel_vector(op, weight, "weight", C, x);
  check_channel_vector(op, bias, "bias", C, x);
  SAKUGA_CHECK(eps > 0, op, ": eps must be > 0, got ", eps);
  NormGeom g;
  g.N = 1;
  g.G = x.size(0) * C;
  g.S = x.dim() == 4 ? x.size(2) * x.size(3) : x.size(2);
  g.C = std::max<int64_t>(C, 1);
  SAKUGA_CHECK(g.S > 1 || g.G == 0, op, ": expected more than 1 spatial element per channel, got x of shape ",
               shape_str(x.shape()));
  return normalize(op, x, weight, bias, Tensor(), Tensor(), g, true, eps, 0.0);
}

Tensor dropout(const Tensor& x_in, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_defined(op, x_in, "x");
  check_float(op, x_in, "x");
  SAKUGA_CHECK(p >= 0 && p <= 1, op, ": p must be in [0, 1], got ", p);
  if (!training || p == 0) return x_in;
  Tensor x = x_in.contiguous();
  const int64_t n = x.numel();
  const uint64_t seed = gen.seed, offset = gen.reserve(uint64_t(n));
  // y = mask(x); the backward applies the same mask (regenerated from seed/offset) to dy.
  auto apply = [seed, offset, p, n](const Tensor& src) {
    Tensor out = Tensor::empty(src.shape(), src.dtype(), src.device());
    if (src.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::dropout_forward(src.dtype(), src.raw(), out.raw(), n, p, seed, offset,
                                                      stream_of(src)));
    } else {
      dispatch_cpu_float("dropout", src.dtype(), [&](auto tag) {
        using T = decltype(tag);
        kernels::cpu::dropout_forward<T>(src.data<T>(), out.data<T>(), n, p, seed, offset);
      });
    }
    return out;
  };
  Tensor y = apply(x);
  return record(op, y, {x}, [apply](const Tensor& gy, const Needs&) -> Grads { return {apply(gy.contiguous())}; });
}

}  // namespace sakuga::ops

namespace sakuga::ops {

Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, double momentum, double eps, dist::Communicator& comm) {
  const char* op = "sync_batch_norm";
  check_input(op, x);
  SAKUGA_CHECK(x.dim() == 4, op, ": x must be (N, C, H, W), got ", shape_str(x.shape()));
  SAKUGA_CHECK(x.dtype() == DType::f32, op, ": x must be f32 (the collectives sum f32), got ", dtype_name(x.dtype()));
  const int64_t C = x.size(1);
  check_channel_vector(op, weight, "weight", C, x);
  check_channel_vector(op, bias, "bias", C, x);
  check_channel_vector(op, running_mean, "running_mean", C, x);
  check_channel_vector(op, running_var, "running_var", C, x);
  // The global count: every rank holds a slice of the same size (the harness splits the batch
  // evenly), so no count is exchanged and the step has no host synchronisation.
  const double n = double(x.size(0) * x.size(2) * x.size(3)) * double(comm.world());
  SAKUGA_CHECK(n > 1, op, ": expected more than 1 value per channel over the ranks, got ", n);
  const Shape per_channel{1, C, 1, 1};
  Tensor mean = ops::all_reduce_sum(ops::sum(x, {0, 2, 3}), comm) * (1.0 / n);
  Tensor centred = x - ops::reshape(mean, per_channel);
  Tensor var = ops::all_reduce_sum(ops::sum(ops::square(centred), {0, 2, 3}), comm) * (1.0 / n);
  Tensor invstd = ops::pow(ops::add(var, eps), -0.5);
  Tensor y = centred * ops::reshape(invstd, per_channel);
  if (weight.defined()) y = y * ops::reshape(weight, per_channel);
  if (bias.defined()) y = y + ops::reshape(bias, per_channel);
  if (running_mean.defined()) {
    NoGradGuard ng;
    running_mean.copy_(running_mean * (1.0 - momentum) + mean.detach() * momentum);
    running_var.copy_(running_var * (1.0 - momentum) + var.detach() * (momentum * n / (n - 1.0)));
  }
  return y;
}

}  // namespace sakuga::ops
