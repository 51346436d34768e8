// Convolution ops: argument checks, device dispatch and the backward recorded on the tape.
// conv_transpose2d is the adjoint of conv2d over the same geometry (see kernels/conv.h):
// its forward is conv2d's data gradient and its data gradient is conv2d's forward.
#include "tensor/ops/conv.h"

#include "kernels/axial_conv.h"
#include "kernels/conv.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"

namespace sakuga::ops {

using kernels::ConvGeometry;

namespace {

// ---- kernel dispatch (contiguous tensors, shapes already checked) ----------------------
// Axial geometries (stride-1 odd k×1 / 1×k "same" convs, kernels/axial_conv.h) go to the axial
// kernels on both devices unless kernels::set_axial_conv_enabled(false) / SAKUGA_AXIAL_CONV=0.
// The routing sits inside the three k_* helpers on purpose: conv_transpose2d calls the same
// helpers with the same conv2d geometry (its forward is k_backward_data, its input gradient
// k_forward, its weight gradient k_backward_filter with x and gy swapped), and the axial
// kernels compute exactly the same three functions of that geometry, so the adjoint stays
// exact whichever implementation runs.

// The axial geometry of g when the axial kernels should run it.
bool use_axial(const ConvGeometry& g, kernels::AxialGeometry* ag) {
  return kernels::axial_conv_enabled() && kernels::axial_conv_applies(g, ag);
}

[[maybe_unused]] const void* raw_or_null(const Tensor& t) { return t.defined() ? t.raw() : nullptr; }

void k_forward(const char* op, const ConvGeometry& g, const Tensor& x, const Tensor& w, const Tensor& b,
               const Tensor& y) {
  kernels::AxialGeometry ag;
  if (use_axial(g, &ag)) {
    if (x.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::axial_conv_forward(ag, x.dtype(), x.raw(), w.raw(), raw_or_null(b), y.raw(),
                                                         stream_of(x)));
    } else {
      dispatch_cpu_float(op, x.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::axial_conv_forward<T>(ag, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                                            y.data<T>());
      });
    }
    return;
  }
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::conv2d_forward(g, x.dtype(), x.raw(), w.raw(), raw_or_null(b), y.raw(),
                                                   stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                                      y.data<T>());
    });
  }
}

void k_backward_data(const char* op, const ConvGeometry& g, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  kernels::AxialGeometry ag;
  if (use_axial(g, &ag)) {
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(
          kernels::cuda::axial_conv_backward_data(ag, gy.dtype(), gy.raw(), w.raw(), gx.raw(), stream_of(gy)));
    } else {
      dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::axial_conv_backward_data<T>(ag, gy.data<T>(), w.data<T>(), gx.data<T>());
      });
    }
    return;
  }
  if (gy.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::conv2d_backward_data(g, gy.dtype(), gy.raw(), w.raw(), gx.raw(), stream_of(gy)));
  } else {
    dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::conv2d_backward_data<T>(g, gy.data<T>(), w.data<T>(), gx.data<T>());
    });
  }
}

void k_backward_filter(const char* op, const ConvGeometry& g, const Tensor& x, const Tensor& gy, const Tensor& gw) {
  kernels::AxialGeometry ag;
  if (use_axial(g, &ag)) {
    if (x.is_cuda()) {
      SAKUGA_CUDA_ONLY(
          kernels::cuda::axial_conv_backward_filter(ag, x.dtype(), x.raw(), gy.raw(), gw.raw(), stream_of(x)));
    } else {
      dispatch_cpu_float(op, x.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::axial_conv_backward_filter<T>(ag, x.data<T>(), gy.data<T>(), gw.data<T>());
      });
    }
    return;
  }
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(
        kernels::cuda::conv2d_backward_filter(g, x.dtype(), x.raw(), gy.raw(), gw.raw(), stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::conv2d_backward_filter<T>(g, x.data<T>(), gy.data<T>(), gw.data<T>());
    });
  }
}

// y (n, c, h, w) += bias[c], in place.
void k_bias_add(const char* op, const Tensor& y, const Tensor& b) {
  const int64_t n = y.size(0), c = y.size(1), hw = y.size(2) * y.size(3);
  if (y.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::bias_add(y.dtype(), y.raw(), b.raw(), n, c, hw, stream_of(y)));
  } else {
    dispatch_cpu_float(op, y.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::bias_add<T>(y.data<T>(), b.data<T>(), n, c, hw);
    });
  }
}

// Σ over (n, h, w) of gy (n, c, h, w) → (c), in gy's dtype.
Tensor k_bias_grad(const char* op, const Tensor& gy) {
  const int64_t n = gy.size(0), c = gy.size(1), hw = gy.size(2) * gy.size(3);
  Tensor gb = Tensor::empty({c}, gy.dtype(), gy.device());
  if (gy.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::bias_grad(gy.dtype(), gy.raw(), gb.raw(), n, c, hw, stream_of(gy)));
  } else {
    dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::bias_grad<T>(gy.data<T>(), gb.data<T>(), n, c, hw);
    });
  }
  return gb;
}

// ---- checks -------------------------------------------------------------------------------

void check_inputs(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_defined(op, x, "x");
  check_defined(op, w, "weight");
  check_dim(op, x, 4, "x");
  check_dim(op, w, 4, "weight");
  check_float(op, x, "x");
  check_same_device(op, x, w);
  check_same_dtype(op, x, w);
  if (b.defined()) {
    check_dim(op, b, 1, "bias");
    check_same_device(op, x, b);
    check_same_dtype(op, x, b);
  }
}

void check_params(const char* op, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                  int64_t groups) {
  SAKUGA_CHECK(sh >= 1 && sw >= 1, op, ": stride must be >= 1, got (", sh, ", ", sw, ")");
  SAKUGA_CHECK(ph >= 0 && pw >= 0, op, ": padding must be >= 0, got (", ph, ", ", pw, ")");
  SAKUGA_CHECK(dh >= 1 && dw >= 1, op, ": dilation must be >= 1, got (", dh, ", ", dw, ")");
  SAKUGA_CHECK(groups >= 1, op, ": groups must be >= 1, got ", groups);
}

Tensor contiguous_or_undef(const Tensor& t) { return t.defined() ? t.contiguous() : t; }

}  // namespace

// ---- conv2d ---------------------------------------------------------------------------------

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Conv2dParams& p) {
  const char* op = "conv2d";
  check_inputs(op, x_in, w_in, b_in);
  check_params(op, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups);
  const Shape& xs = x_in.shape();
  const Shape& ws = w_in.shape();
  ConvGeometry g;
  g.n = xs[0];
  g.c_in = xs[1];
  g.h = xs[2];
  g.w = xs[3];
  g.c_out = ws[0];
  g.kh = ws[2];
  g.kw = ws[3];
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.dil_h = p.dilation_h;
  g.dil_w = p.dilation_w;
  g.groups = p.groups;
  SAKUGA_CHECK(g.c_in % g.groups == 0, op, ": input channels (x has ", g.c_in, ", shape ", shape_str(xs),
               ") are not divisible by groups (", g.groups, ")");
  SAKUGA_CHECK(g.c_out % g.groups == 0, op, ": output channels (weight has ", g.c_out, ", shape ", shape_str(ws),
               ") are not divisible by groups (", g.groups, ")");
  SAKUGA_CHECK(ws[1] == g.c_in / g.groups, op, ": weight ", shape_str(ws), " expects ", ws[1] * g.groups,
               " input channels (", ws[1], " per group × ", g.groups, " groups), but x ", shape_str(xs), " has ",
               g.c_in);
  SAKUGA_CHECK(g.kh >= 1 && g.kw >= 1, op, ": empty kernel, weight shape ", shape_str(ws));
  if (b_in.defined())
    SAKUGA_CHECK(b_in.size(0) == g.c_out, op, ": bias ", shape_str(b_in.shape()), " must have ", g.c_out,
                 " elements (one per output channel)");
  g.ho = ConvGeometry::out_size(g.h, g.kh, g.stride_h, g.pad_h, g.dil_h);
  g.wo = ConvGeometry::out_size(g.w, g.kw, g.stride_w, g.pad_w, g.dil_w);
  SAKUGA_CHECK(g.ho >= 1 && g.wo >= 1, op, ": kernel ", g.kh, "x", g.kw, " (dilation ", g.dil_h, ", ", g.dil_w,
               ") does not fit the padded input ", shape_str(xs), " with padding (", g.pad_h, ", ", g.pad_w, ")");

  Tensor x = x_in.contiguous(), w = w_in.contiguous(), b = contiguous_or_undef(b_in);
  Tensor y = Tensor::empty({g.n, g.c_out, g.ho, g.wo}, x.dtype(), x.device());
  k_forward(op, g, x, w, b, y);

  // Save only what the backward reads: x for the weight gradient, w for the input gradient.
  Tensor x_saved = w.requires_grad() ? x.detach() : Tensor();
  Tensor w_saved = x.requires_grad() ? w.detach() : Tensor();
  return record(op, y, {x, w, b}, [g, x_saved, w_saved](const Tensor& gy_in, const Needs& need) -> Grads {
    const char* op = "conv2d backward";
    Tensor gy = gy_in.contiguous();
    Tensor gx, gw, gb;
    if (need[0]) {
      gx = Tensor::empty({g.n, g.c_in, g.h, g.w}, gy.dtype(), gy.device());
      k_backward_data(op, g, gy, w_saved, gx);
    }
    if (need[1]) {
      gw = Tensor::empty({g.c_out, g.c_in_g(), g.kh, g.kw}, gy.dtype(), gy.device());
      k_backward_filter(op, g, x_saved, gy, gw);
    }
    if (need[2]) gb = k_bias_grad(op, gy);
    return {gx, gw, gb};
  });
}

// ---- conv_transpose2d ----------------------------------------------------------------------

Tensor conv_transpose2d(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const ConvTranspose2dParams& p) {
  const char* op = "conv_transpose2d";
  check_inputs(op, x_in, w_in, b_in);
  check_params(op, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups);
  SAKUGA_CHECK(p.output_pad_h >= 0 && p.output_pad_w >= 0, op, ": output_padding must be >= 0, got (",
               p.output_pad_h, ", ", p.output_pad_w, ")");
  SAKUGA_CHECK((p.output_pad_h < p.stride_h || p.output_pad_h < p.dilation_h) &&
                   (p.output_pad_w < p.stride_w || p.output_pad_w < p.dilation_w),
               op, ": output_padding (", p.output_pad_h, ", ", p.output_pad_w,
               ") must be smaller than either stride or dilation (stride (", p.stride_h, ", ", p.stride_w,
               "), dilation (", p.dilation_h, ", ", p.dilation_w, "))");
  const Shape& xs = x_in.shape();
  const Shape& ws = w_in.shape();
  // The conv2d this op is the adjoint of: its output is our input x, its input is our output.
  ConvGeometry g;
  g.n = xs[0];
  g.c_out = xs[1];
  g.ho = xs[2];
  g.wo = xs[3];
  g.kh = ws[2];
  g.kw = ws[3];
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.dil_h = p.dilation_h;
  g.dil_w = p.dilation_w;
  g.groups = p.groups;
  SAKUGA_CHECK(ws[0] == g.c_out, op, ": weight ", shape_str(ws), " (layout (in, out/groups, kh, kw)) expects ",
               ws[0], " input channels, but x ", shape_str(xs), " has ", g.c_out);
  SAKUGA_CHECK(g.c_out % g.groups == 0, op, ": input channels (x has ", g.c_out, ", shape ", shape_str(xs),
               ") are not divisible by groups (", g.groups, ")");
  SAKUGA_CHECK(g.kh >= 1 && g.kw >= 1, op, ": empty kernel, weight shape ", shape_str(ws));
  g.c_in = ws[1] * g.groups;
  if (b_in.defined())
    SAKUGA_CHECK(b_in.size(0) == g.c_in, op, ": bias ", shape_str(b_in.shape()), " must have ", g.c_in,
                 " elements (one per output channel)");
  g.h = (g.ho - 1) * g.stride_h - 2 * g.pad_h + g.dil_h * (g.kh - 1) + p.output_pad_h + 1;
  g.w = (g.wo - 1) * g.stride_w - 2 * g.pad_w + g.dil_w * (g.kw - 1) + p.output_pad_w + 1;
  SAKUGA_CHECK(g.h >= 1 && g.w >= 1, op, ": output size (", g.h, ", ", g.w, ") for input ", shape_str(xs),
               " is not positive (padding (", g.pad_h, ", ", g.pad_w, ") too large)");

  Tensor x = x_in.contiguous(), w = w_in.contiguous(), b = contiguous_or_undef(b_in);
  Tensor y = Tensor::empty({g.n, g.c_in, g.h, g.w}, x.dtype(), x.device());
  k_backward_data(op, g, x, w, y);
  if (b.defined()) k_bias_add(op, y, b);

  Tensor x_saved = w.requires_grad() ? x.detach() : Tensor();
  Tensor w_saved = x.requires_grad() ? w.detach() : Tensor();
  return record(op, y, {x, w, b}, [g, x_saved, w_saved](const Tensor& gy_in, const Needs& need) -> Grads {
    const char* op = "conv_transpose2d backward";
    Tensor gy = gy_in.contiguous();
    Tensor gx, gw, gb;
    if (need[0]) {  // conv2d of the output gradient
      gx = Tensor::empty({g.n, g.c_out, g.ho, g.wo}, gy.dtype(), gy.device());
      k_forward(op, g, gy, w_saved, Tensor(), gx);
    }
    if (need[1]) {  // conv2d's filter gradient with (input, output gradient) = (gy, x)
      gw = Tensor::empty({g.c_out, g.c_in_g(), g.kh, g.kw}, gy.dtype(), gy.device());
      k_backward_filter(op, g, gy, x_saved, gw);
    }
    if (need[2]) gb = k_bias_grad(op, gy);
    return {gx, gw, gb};
  });
}

}  // namespace sakuga::ops
