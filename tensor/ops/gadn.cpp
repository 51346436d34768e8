// GADN fused losses: argument checks, device dispatch and the recorded backward.
//
// pixel_l2_loss: the forward kernel writes d = ∂loss/∂generated next to the loss, so the
//   backward is d·g (and −d·g for the target).
// gaussian_sample_kl: one recorded output packs z (B·Z values) and kl (one value) into a
//   single (B·Z + 1) tensor; z and kl are views of it. Their gradients meet in that tensor's
//   gradient, and one backward kernel turns it into ∂/∂mu and ∂/∂sigma.
#include "tensor/ops/gadn.h"

#include "kernels/gadn.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

[[maybe_unused]] const void* raw_or_null(const Tensor& t) { return t.defined() ? t.raw() : nullptr; }
template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

Tensor pixel_l2_loss(const Tensor& generated, const Tensor& target, const Tensor& weight) {
  const char* op = "pixel_l2_loss";
  check_defined(op, generated, "generated");
  check_float(op, generated, "generated");
  check_like(op, generated, target, "target");
  SAKUGA_CHECK(generated.dim() >= 2, op, ": 'generated' must have shape (B, C, H, W) (or (B, C, d1, ...)), got ",
               shape_str(generated.shape()));
  SAKUGA_CHECK(target.shape() == generated.shape(), op, ": target shape ", shape_str(target.shape()),
               " does not match generated shape ", shape_str(generated.shape()));
  const int64_t B = generated.size(0), C = generated.size(1), P = generated.numel() / std::max<int64_t>(B * C, 1);
  SAKUGA_CHECK(B > 0 && C > 0 && P > 0, op, ": empty input of shape ", shape_str(generated.shape()));
  Shape pixel_shape = generated.shape();
  pixel_shape.erase(pixel_shape.begin() + 1);
  Tensor w;
  if (weight.defined()) {
    check_like(op, generated, weight, "weight");
    SAKUGA_CHECK(weight.shape() == pixel_shape, op, ": 'weight' must have shape ", shape_str(pixel_shape),
                 " (one weight per pixel: the generated shape without the channel dim 1), got ",
                 shape_str(weight.shape()));
    check_constant(op, weight, "weight");
    w = weight.contiguous().detach();
  }
  Tensor g = generated.contiguous(), x = target.contiguous();
  const bool need = grad_enabled() && (g.requires_grad() || x.requires_grad());
  Tensor loss = Tensor::empty({}, g.dtype(), g.device());
  Tensor d = need ? Tensor::empty(g.shape(), g.dtype(), g.device()) : Tensor();
  if (g.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::pixel_l2_forward(g.dtype(), g.raw(), x.raw(), raw_or_null(w), B, C, P, loss.raw(),
                                                     d.defined() ? d.raw() : nullptr, stream_of(g)));
  } else {
    dispatch_cpu_float(op, g.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::pixel_l2_forward<T>(g.data<T>(), x.data<T>(), data_or_null<T>(w), B, C, P, loss.data<T>(),
                                        d.defined() ? d.data<T>() : nullptr);
    });
  }
  if (!need) return loss;
  return record(op, loss, {g, x}, [d](const Tensor& gout, const Needs& needs) -> Grads {
    // On the CPU the upstream scalar is read (a scalar multiply is a flat loop, a 0-dim
    // broadcast is not); on CUDA it stays on the device (reading it would synchronise).
    Tensor gg = gout.is_cuda() ? mul(d, gout) : mul(d, gout.item());
    return {needs[0] ? gg : Tensor(), needs[1] ? neg(gg) : Tensor()};
  });
}

GaussianSampleKl gaussian_sample_kl(const Tensor& mu, const Tensor& sigma, const Tensor& eps, const Tensor& weight) {
  const char* op = "gaussian_sample_kl";
  check_defined(op, mu, "mu");
  check_float(op, mu, "mu");
  SAKUGA_CHECK(mu.dim() == 2, op, ": 'mu' must have shape (B, Z), got ", shape_str(mu.shape()));
  const int64_t B = mu.size(0), Z = mu.size(1);
  SAKUGA_CHECK(B > 0 && Z > 0, op, ": empty code of shape ", shape_str(mu.shape()));
  check_like(op, mu, sigma, "sigma");
  SAKUGA_CHECK(sigma.shape() == mu.shape(), op, ": sigma shape ", shape_str(sigma.shape()), " does not match mu shape ",
               shape_str(mu.shape()));
  Tensor e, w;
  if (eps.defined()) {
    check_like(op, mu, eps, "eps");
    SAKUGA_CHECK(eps.shape() == mu.shape(), op, ": eps shape ", shape_str(eps.shape()), " does not match mu shape ",
                 shape_str(mu.shape()));
    check_constant(op, eps, "eps");
    e = eps.contiguous().detach();
  }
  if (weight.defined()) {
    check_like(op, mu, weight, "weight");
    SAKUGA_CHECK(weight.dim() == 1 && weight.size(0) == Z, op, ": 'weight' must have shape ", shape_str(Shape{Z}),
                 " (one weight per code dimension), got ", shape_str(weight.shape()));
    check_constant(op, weight, "weight");
    w = weight.contiguous().detach();
  }
  Tensor m = mu.contiguous(), s = sigma.contiguous();
  const int64_t n = B * Z;
  Tensor packed = Tensor::empty({n + 1}, m.dtype(), m.device());  // z (B·Z values), then kl
  if (m.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::gaussian_kl_forward(
        m.dtype(), m.raw(), s.raw(), raw_or_null(e), raw_or_null(w), B, Z, packed.raw(),
        static_cast<char*>(packed.raw()) + n * int64_t(dtype_size(m.dtype())), stream_of(m)));
  } else {
    dispatch_cpu_float(op, m.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::gaussian_kl_forward<T>(m.data<T>(), s.data<T>(), data_or_null<T>(e), data_or_null<T>(w), B, Z,
                                           packed.data<T>(), packed.data<T>() + n);
    });
  }
  if (grad_enabled() && (m.requires_grad() || s.requires_grad())) {
    Tensor md = m.detach(), sd = s.detach();
    packed = record(op, packed, {m, s}, [md, sd, e, w, B, Z, n](const Tensor& g_in, const Needs& needs) -> Grads {
      const Tensor g = g_in.contiguous();
      Tensor gmu = needs[0] ? Tensor::empty(md.shape(), md.dtype(), md.device()) : Tensor();
      Tensor gsigma = needs[1] ? Tensor::empty(md.shape(), md.dtype(), md.device()) : Tensor();
      if (md.is_cuda()) {
        SAKUGA_CUDA_ONLY(kernels::cuda::gaussian_kl_backward(
            md.dtype(), md.raw(), sd.raw(), raw_or_null(e), raw_or_null(w), B, Z, g.raw(),
            static_cast<const char*>(g.raw()) + n * int64_t(dtype_size(g.dtype())), gmu.defined() ? gmu.raw() : nullptr,
            gsigma.defined() ? gsigma.raw() : nullptr, stream_of(md)));
      } else {
        dispatch_cpu_float("gaussian_sample_kl backward", md.dtype(), [&](auto tag) {
          using T = decltype(tag);
          kernels::cpu::gaussian_kl_backward<T>(
              md.data<T>(), sd.data<T>(), data_or_null<T>(e), data_or_null<T>(w), B, Z, g.data<T>(), g.data<T>() + n,
              gmu.defined() ? gmu.data<T>() : nullptr, gsigma.defined() ? gsigma.data<T>() : nullptr);
        });
      }
      return {gmu, gsigma};
    });
  }
  return {reshape(slice(packed, 0, 0, n), {B, Z}), reshape(slice(packed, 0, n, n + 1), {})};
}

}  // namespace sakuga::ops
