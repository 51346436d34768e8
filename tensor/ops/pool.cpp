// Pooling and resampling ops: checks, device dispatch, and the backward recorded on the tape.
#include "tensor/ops/pool.h"

#include <limits>

#include "kernels/pool.h"
#include "kernels/resize.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"

namespace sakuga::ops {

namespace {

// x must be a float (N, C, H, W) tensor with a non-empty plane.
void check_nchw(const char* op, const Tensor& x) {
  check_defined(op, x, "x");
  check_float(op, x, "x");
  SAKUGA_CHECK(x.dim() == 4, op, ": expected a 4-D (N, C, H, W) input, got ", shape_str(x.shape()));
  SAKUGA_CHECK(x.size(2) > 0 && x.size(3) > 0, op, ": input ", shape_str(x.shape()), " has an empty plane");
}

kernels::Pool2dGeom pool_geom(const char* op, const Tensor& x, const Pool2dParams& p) {
  check_nchw(op, x);
  SAKUGA_CHECK(p.kernel_h > 0 && p.kernel_w > 0, op, ": kernel must be > 0, got ", p.kernel_h, "x", p.kernel_w);
  SAKUGA_CHECK(p.stride_h > 0 && p.stride_w > 0, op, ": stride must be > 0, got ", p.stride_h, "x", p.stride_w);
  SAKUGA_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be >= 0, got ", p.pad_h, "x", p.pad_w);
  SAKUGA_CHECK(p.pad_h <= p.kernel_h / 2 && p.pad_w <= p.kernel_w / 2, op,
               ": padding must be at most half the kernel size, got padding ", p.pad_h, "x", p.pad_w,
               " for kernel ", p.kernel_h, "x", p.kernel_w);
  kernels::Pool2dGeom g;
  g.planes = x.size(0) * x.size(1);
  g.H = x.size(2);
  g.W = x.size(3);
  g.kh = p.kernel_h;
  g.kw = p.kernel_w;
  g.sh = p.stride_h;
  g.sw = p.stride_w;
  g.ph = p.pad_h;
  g.pw = p.pad_w;
  g.count_include_pad = p.count_include_pad;
  g.OH = kernels::pool_out_size(g.H, g.kh, g.sh, g.ph, p.ceil_mode);
  g.OW = kernels::pool_out_size(g.W, g.kw, g.sw, g.pw, p.ceil_mode);
  SAKUGA_CHECK(g.OH >= 1 && g.OW >= 1, op, ": input ", shape_str(x.shape()), " is too small for kernel ", g.kh, "x",
               g.kw, " with padding ", g.ph, "x", g.pw, " (output would be ", g.OH, "x", g.OW, ")");
  return g;
}

void check_out_size(const char* op, int64_t out_h, int64_t out_w) {
  SAKUGA_CHECK(out_h >= 1 && out_w >= 1, op, ": output size must be >= 1, got ", out_h, "x", out_w);
}

Shape out_shape(const Tensor& x, int64_t oh, int64_t ow) { return {x.size(0), x.size(1), oh, ow}; }

}  // namespace

Tensor max_pool2d(const Tensor& x_in, const Pool2dParams& p) {
  const char* op = "max_pool2d";
  kernels::Pool2dGeom g = pool_geom(op, x_in, p);
  SAKUGA_CHECK(g.H * g.W <= std::numeric_limits<int32_t>::max(), op, ": plane of ", g.H, "x", g.W,
               " is too large for 32-bit indices");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(out_shape(x, g.OH, g.OW), x.dtype(), x.device());
  Tensor idx = Tensor::empty(y.shape(), DType::i32, x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::max_pool2d_forward(x.dtype(), x.raw(), y.raw(), static_cast<int32_t*>(idx.raw()),
                                                       g, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::max_pool2d_forward<T>(x.data<T>(), y.data<T>(), idx.data<int32_t>(), g);
    });
  }
  Shape in_shape = x.shape();
  return record(op, y, {x}, [g, idx, in_shape](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::max_pool2d_backward(gy.dtype(), gy.raw(), static_cast<const int32_t*>(idx.raw()),
                                                          gx.raw(), g, stream_of(gy)));
    } else {
      dispatch_cpu_float("max_pool2d_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::max_pool2d_backward<T>(gy.data<T>(), idx.data<int32_t>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

Tensor avg_pool2d(const Tensor& x_in, const Pool2dParams& p) {
  const char* op = "avg_pool2d";
  kernels::Pool2dGeom g = pool_geom(op, x_in, p);
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(out_shape(x, g.OH, g.OW), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::avg_pool2d_forward(x.dtype(), x.raw(), y.raw(), g, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::avg_pool2d_forward<T>(x.data<T>(), y.data<T>(), g);
    });
  }
  Shape in_shape = x.shape();
  return record(op, y, {x}, [g, in_shape](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::avg_pool2d_backward(gy.dtype(), gy.raw(), gx.raw(), g, stream_of(gy)));
    } else {
      dispatch_cpu_float("avg_pool2d_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::avg_pool2d_backward<T>(gy.data<T>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

Tensor adaptive_avg_pool2d(const Tensor& x_in, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_nchw(op, x_in);
  check_out_size(op, out_h, out_w);
  kernels::AdaptivePoolGeom g;
  g.planes = x_in.size(0) * x_in.size(1);
  g.H = x_in.size(2);
  g.W = x_in.size(3);
  g.OH = out_h;
  g.OW = out_w;
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(out_shape(x, g.OH, g.OW), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::adaptive_avg_pool2d_forward(x.dtype(), x.raw(), y.raw(), g, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::adaptive_avg_pool2d_forward<T>(x.data<T>(), y.data<T>(), g);
    });
  }
  Shape in_shape = x.shape();
  return record(op, y, {x}, [g, in_shape](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::adaptive_avg_pool2d_backward(gy.dtype(), gy.raw(), gx.raw(), g, stream_of(gy)));
    } else {
      dispatch_cpu_float("adaptive_avg_pool2d_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::adaptive_avg_pool2d_backward<T>(gy.data<T>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

namespace {

enum class Mode { bilinear, nearest };

Tensor resize(Mode mode, const char* op, const Tensor& x_in, int64_t out_h, int64_t out_w, bool align_corners) {
  check_nchw(op, x_in);
  check_out_size(op, out_h, out_w);
  kernels::ResizeGeom g;
  g.planes = x_in.size(0) * x_in.size(1);
  g.H = x_in.size(2);
  g.W = x_in.size(3);
  g.OH = out_h;
  g.OW = out_w;
  g.align_corners = align_corners;
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(out_shape(x, g.OH, g.OW), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(mode == Mode::bilinear
                         ? kernels::cuda::resize_bilinear_forward(x.dtype(), x.raw(), y.raw(), g, stream_of(x))
                         : kernels::cuda::resize_nearest_forward(x.dtype(), x.raw(), y.raw(), g, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      if (mode == Mode::bilinear) kernels::cpu::resize_bilinear_forward<T>(x.data<T>(), y.data<T>(), g);
      else kernels::cpu::resize_nearest_forward<T>(x.data<T>(), y.data<T>(), g);
    });
  }
  Shape in_shape = x.shape();
  return record(op, y, {x}, [mode, g, in_shape](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(mode == Mode::bilinear
                           ? kernels::cuda::resize_bilinear_backward(gy.dtype(), gy.raw(), gx.raw(), g, stream_of(gy))
                           : kernels::cuda::resize_nearest_backward(gy.dtype(), gy.raw(), gx.raw(), g, stream_of(gy)));
    } else {
      dispatch_cpu_float(mode == Mode::bilinear ? "resize_bilinear_backward" : "resize_nearest_backward",
                         gy.dtype(), [&](auto t) {
                           using T = decltype(t);
                           if (mode == Mode::bilinear)
                             kernels::cpu::resize_bilinear_backward<T>(gy.data<T>(), gx.data<T>(), g);
                           else
                             kernels::cpu::resize_nearest_backward<T>(gy.data<T>(), gx.data<T>(), g);
                         });
    }
    return {gx};
  });
}

}  // namespace

Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return resize(Mode::bilinear, "resize_bilinear", x, out_h, out_w, align_corners);
}

Tensor resize_nearest(const Tensor& x, int64_t out_h, int64_t out_w) {
  return resize(Mode::nearest, "resize_nearest", x, out_h, out_w, false);
}

}  // namespace sakuga::ops
