// Redraw's fused ops: argument checks, device dispatch and the recorded backward.
//
// redraw_d_inputs: one recorded output packs t, q and c as (3, B, C, H, W); the three results
//   are views of it, so their gradients meet in that tensor's gradient and one backward kernel
//   turns it into ∂/∂g and ∂/∂l.
// patch_ce_pair: the forward kernel writes each discriminator's d = ∂loss/∂logits beside the two
//   losses, so the backward is two scalings by the upstream gradient.
#include "tensor/ops/redraw.h"

#include "kernels/redraw.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

void check_labels(const char* op, const Tensor& logits, const Tensor& labels, const char* arg) {
  check_defined(op, labels, arg);
  check_same_device(op, logits, labels);
  SAKUGA_CHECK(labels.dtype() == DType::i32, op, ": '", arg, "' must be i32, got ", dtype_name(labels.dtype()));
  SAKUGA_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), op, ": '", arg, "' must have shape (",
               logits.size(0), ",) (one label per image), got ", shape_str(labels.shape()));
}

}  // namespace

RedrawDInputs redraw_d_inputs(const Tensor& g_in, const Tensor& l_in, const Tensor& m_in, const Tensor& band_in) {
  const char* op = "redraw_d_inputs";
  check_defined(op, g_in, "g");
  check_float(op, g_in, "g");
  check_like(op, g_in, l_in, "l");
  check_like(op, g_in, m_in, "m");
  check_like(op, g_in, band_in, "band");
  SAKUGA_CHECK(g_in.dim() == 4, op, ": 'g' must have shape (B, C, H, W), got ", shape_str(g_in.shape()));
  SAKUGA_CHECK(l_in.shape() == g_in.shape(), op, ": 'l' shape ", shape_str(l_in.shape()), " does not match 'g' shape ",
               shape_str(g_in.shape()));
  const int64_t B = g_in.size(0), C = g_in.size(1), H = g_in.size(2), W = g_in.size(3), P = H * W;
  const Shape mask_shape{B, 1, H, W};
  SAKUGA_CHECK(m_in.shape() == mask_shape, op, ": 'm' must have shape ", shape_str(mask_shape), ", got ",
               shape_str(m_in.shape()));
  SAKUGA_CHECK(band_in.shape() == mask_shape, op, ": 'band' must have shape ", shape_str(mask_shape), ", got ",
               shape_str(band_in.shape()));
  check_constant(op, m_in, "m");
  check_constant(op, band_in, "band");
  Tensor g = g_in.contiguous(), l = l_in.contiguous(), m = m_in.contiguous().detach(),
         band = band_in.contiguous().detach();
  const int64_t n = B * C * P;
  Tensor packed = Tensor::empty({3, B, C, H, W}, g.dtype(), g.device());
  const int64_t bytes = n * int64_t(dtype_size(g.dtype()));
  auto part = [&](Tensor& t, int64_t i) { return static_cast<char*>(t.raw()) + i * bytes; };
  if (g.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::redraw_d_inputs_forward(g.dtype(), g.raw(), l.raw(), m.raw(), band.raw(), B, C, P,
                                                            part(packed, 0), part(packed, 1), part(packed, 2),
                                                            stream_of(g)));
  } else {
    dispatch_cpu_float(op, g.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* out = packed.data<T>();
      kernels::cpu::redraw_d_inputs_forward<T>(g.data<T>(), l.data<T>(), m.data<T>(), band.data<T>(), B, C, P, out,
                                               out + n, out + 2 * n);
    });
  }
  if (grad_enabled() && (g.requires_grad() || l.requires_grad())) {
    packed = record(op, packed, {g, l}, [m, band, B, C, P, n](const Tensor& up_in, const Needs& needs) -> Grads {
      const Tensor up = up_in.contiguous();
      const Shape s{B, C, m.size(2), m.size(3)};
      Tensor gg = needs[0] ? Tensor::empty(s, up.dtype(), up.device()) : Tensor();
      Tensor gl = needs[1] ? Tensor::empty(s, up.dtype(), up.device()) : Tensor();
      if (up.is_cuda()) {
        const int64_t bytes = n * int64_t(dtype_size(up.dtype()));
        const char* u = static_cast<const char*>(up.raw());
        SAKUGA_CUDA_ONLY(kernels::cuda::redraw_d_inputs_backward(
            up.dtype(), m.raw(), band.raw(), B, C, P, u, u + bytes, u + 2 * bytes, gg.defined() ? gg.raw() : nullptr,
            gl.defined() ? gl.raw() : nullptr, stream_of(up)));
      } else {
        dispatch_cpu_float("redraw_d_inputs backward", up.dtype(), [&](auto tag) {
          using T = decltype(tag);
          const T* u = up.data<T>();
          kernels::cpu::redraw_d_inputs_backward<T>(m.data<T>(), band.data<T>(), B, C, P, u, u + n, u + 2 * n,
                                                    gg.defined() ? gg.data<T>() : nullptr,
                                                    gl.defined() ? gl.data<T>() : nullptr);
        });
      }
      return {gg, gl};
    });
  }
  return {select(packed, 0, 0), select(packed, 0, 1), select(packed, 0, 2)};
}

Tensor patch_ce_pair(const Tensor& logits_q, const Tensor& labels_q, const Tensor& logits_c, const Tensor& labels_c) {
  const char* op = "patch_ce_pair";
  check_defined(op, logits_q, "logits_q");
  check_float(op, logits_q, "logits_q");
  check_like(op, logits_q, logits_c, "logits_c");
  SAKUGA_CHECK(logits_q.dim() == 4 && logits_c.dim() == 4, op, ": logits must have shape (B, K, H, W), got ",
               shape_str(logits_q.shape()), " and ", shape_str(logits_c.shape()));
  const int64_t B = logits_q.size(0);
  SAKUGA_CHECK(logits_c.size(0) == B, op, ": both discriminators must see the same batch, got ", B, " and ",
               logits_c.size(0), " images");
  SAKUGA_CHECK(B > 0 && logits_q.numel() > 0 && logits_c.numel() > 0, op, ": empty logits");
  check_labels(op, logits_q, labels_q, "labels_q");
  check_labels(op, logits_c, labels_c, "labels_c");
  const int64_t Kq = logits_q.size(1), Pq = logits_q.size(2) * logits_q.size(3);
  const int64_t Kc = logits_c.size(1), Pc = logits_c.size(2) * logits_c.size(3);
  Tensor aq = logits_q.contiguous(), ac = logits_c.contiguous();
  Tensor yq = labels_q.contiguous(), yc = labels_c.contiguous();
  const bool need = grad_enabled() && (aq.requires_grad() || ac.requires_grad());
  Tensor loss = Tensor::empty({2}, aq.dtype(), aq.device());
  Tensor dq = need ? Tensor::empty(aq.shape(), aq.dtype(), aq.device()) : Tensor();
  Tensor dc = need ? Tensor::empty(ac.shape(), ac.dtype(), ac.device()) : Tensor();
  if (aq.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::patch_ce_pair_forward(aq.dtype(), aq.raw(), yq.data<int32_t>(), Kq, Pq, ac.raw(),
                                                          yc.data<int32_t>(), Kc, Pc, B, loss.raw(),
                                                          need ? dq.raw() : nullptr, need ? dc.raw() : nullptr,
                                                          stream_of(aq)));
  } else {
    dispatch_cpu_float(op, aq.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::patch_ce_pair_forward<T>(aq.data<T>(), yq.data<int32_t>(), Kq, Pq, ac.data<T>(),
                                             yc.data<int32_t>(), Kc, Pc, B, loss.data<T>(),
                                             need ? dq.data<T>() : nullptr, need ? dc.data<T>() : nullptr);
    });
  }
  if (!need) return loss;
  return record(op, loss, {aq, ac}, [dq, dc](const Tensor& up, const Needs& needs) -> Grads {
    // CPU: the two upstream values are read (a flat scaling); CUDA: they stay on the device.
    Tensor gq, gc;
    if (up.is_cuda()) {
      if (needs[0]) gq = mul(dq, select(up, 0, 0));
      if (needs[1]) gc = mul(dc, select(up, 0, 1));
    } else {
      const Tensor u = up.contiguous();
      if (needs[0]) gq = mul(dq, select(u, 0, 0).item());
      if (needs[1]) gc = mul(dc, select(u, 0, 1).item());
    }
    return {gq, gc};
  });
}

}  // namespace sakuga::ops
