// Redraw post-processing on tensors: argument checks, then the kernels of kernels/blend.h on
// the tensors' device.
#include "data/redraw/blend.h"

#include "kernels/blend.h"
#include "tensor/dispatch.h"

namespace sakuga::data::redraw {

namespace {

void check_mask(const char* op, const Tensor& mask) {
  SAKUGA_CHECK(mask.defined(), op, ": mask is undefined");
  SAKUGA_CHECK(mask.dtype() == DType::u8, op, ": mask must be u8 (nonzero = inside), got ", dtype_name(mask.dtype()));
  SAKUGA_CHECK(mask.dim() == 2, op, ": mask must be (H, W), got ", shape_str(mask.shape()));
}

// image (C, H, W) f32 with the mask's H and W; C = 3 when `rgb`.
void check_image(const char* op, const Tensor& image, const char* name, const Tensor& mask, bool rgb) {
  SAKUGA_CHECK(image.defined(), op, ": ", name, " is undefined");
  SAKUGA_CHECK(image.dtype() == DType::f32, op, ": ", name, " must be f32, got ", dtype_name(image.dtype()));
  SAKUGA_CHECK(image.dim() == 3 && (!rgb || image.size(0) == 3), op, ": ", name, " must be ",
               rgb ? "(3, H, W) sRGB" : "(C, H, W)", ", got ", shape_str(image.shape()));
  SAKUGA_CHECK(image.size(1) == mask.size(0) && image.size(2) == mask.size(1), op, ": ", name, " is ",
               image.size(1), "x", image.size(2), " but the mask is ", mask.size(0), "x", mask.size(1));
  SAKUGA_CHECK(image.device() == mask.device(), op, ": ", name, " is on ", image.device().str(),
               " but the mask on ", mask.device().str());
}

}  // namespace

Tensor color_ring(const Tensor& mask, int64_t width) {
  const char* op = "color_ring";
  check_mask(op, mask);
  SAKUGA_CHECK(!mask.is_cuda(), op, ": CPU only (the colour transfer is cheap), got a ", mask.device().str(), " mask");
  SAKUGA_CHECK(width >= 1, op, ": ring width must be >= 1, got ", width);
  Tensor m = mask.contiguous();
  Tensor ring = Tensor::empty(mask.shape(), DType::u8);
  kernels::cpu::blend_ring(m.data<uint8_t>(), ring.data<uint8_t>(), mask.size(0), mask.size(1), width);
  return ring;
}

Tensor color_transfer(const Tensor& frame, const Tensor& patch, const Tensor& mask, int64_t ring_width) {
  const char* op = "color_transfer";
  check_mask(op, mask);
  check_image(op, frame, "frame", mask, true);
  check_image(op, patch, "patch", mask, true);
  SAKUGA_CHECK(!mask.is_cuda(), op, ": CPU only (the colour transfer is cheap), got ", mask.device().str(), " tensors");
  SAKUGA_CHECK(ring_width >= 1, op, ": ring width must be >= 1, got ", ring_width);
  Tensor f = frame.detach().contiguous(), p = patch.detach().contiguous(), m = mask.contiguous();
  Tensor out = Tensor::empty(patch.shape(), DType::f32);
  kernels::cpu::blend_color_transfer(f.data<float>(), p.data<float>(), m.data<uint8_t>(), out.data<float>(),
                                     mask.size(0), mask.size(1), ring_width);
  return out;
}

BlendResult poisson_blend(const Tensor& frame, const Tensor& patch, const Tensor& mask,
                          const kernels::PoissonOptions& options) {
  const char* op = "poisson_blend";
  check_mask(op, mask);
  check_image(op, frame, "frame", mask, false);
  check_image(op, patch, "patch", mask, false);
  SAKUGA_CHECK(patch.size(0) == frame.size(0), op, ": patch has ", patch.size(0), " channels, the frame ",
               frame.size(0));
  const int64_t C = frame.size(0), H = mask.size(0), W = mask.size(1);
  SAKUGA_CHECK(H * W < (int64_t(1) << 31), op, ": ", H, "x", W, " pixels is beyond the i32 indices");
  Tensor f = frame.detach().contiguous(), p = patch.detach().contiguous(), m = mask.contiguous();
  BlendResult res;
  res.image = Tensor::empty(frame.shape(), DType::f32, frame.device());
  if (frame.is_cuda()) {
    SAKUGA_CUDA_ONLY(res.stats = kernels::cuda::poisson_blend(f.data<float>(), p.data<float>(), m.data<uint8_t>(),
                                                              res.image.data<float>(), C, H, W, options, stream_of(f)));
  } else {
    res.stats = kernels::cpu::poisson_blend(f.data<float>(), p.data<float>(), m.data<uint8_t>(),
                                            res.image.data<float>(), C, H, W, options);
  }
  return res;
}

}  // namespace sakuga::data::redraw
