// Douga post-processing on tensors: checks, then the kernels of kernels/postprocess.h on the
// tensor's device.
#include "data/gcn/postprocess.h"

#include "kernels/postprocess.h"
#include "tensor/dispatch.h"

namespace sakuga::data {

namespace {

void check_plane_size(const char* op, int64_t H, int64_t W) {
  SAKUGA_CHECK(H * W < (int64_t(1) << 31), op, ": ", H, "x", W, " pixels is beyond the i32 labels (max 2^31 - 1)");
}

}  // namespace

Tensor zhang_suen_thin(const Tensor& binary) {
  const char* op = "zhang_suen_thin";
  SAKUGA_CHECK(binary.defined(), op, ": binary is undefined");
  SAKUGA_CHECK(binary.dtype() == DType::u8, op, ": binary must be u8 with values {0, 1}, got ",
               dtype_name(binary.dtype()));
  SAKUGA_CHECK(binary.dim() == 2, op, ": binary must be (H, W), got ", shape_str(binary.shape()));
  const int64_t H = binary.size(0), W = binary.size(1);
  check_plane_size(op, H, W);
  Tensor in = binary.detach().contiguous();
  Tensor out = Tensor::empty({H, W}, DType::u8, binary.device());
  if (binary.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::postprocess_zhang_suen(in.data<uint8_t>(), out.data<uint8_t>(), H, W,
                                                           stream_of(in)));
  } else {
    kernels::cpu::postprocess_zhang_suen(in.data<uint8_t>(), out.data<uint8_t>(), H, W);
  }
  return out;
}

Tensor douga_postprocess(const Tensor& probs) {
  const char* op = "douga_postprocess";
  SAKUGA_CHECK(probs.defined(), op, ": probs is undefined");
  SAKUGA_CHECK(probs.dtype() == DType::f32, op, ": probs must be f32 class probabilities, got ",
               dtype_name(probs.dtype()));
  SAKUGA_CHECK(probs.dim() == 3 && probs.size(0) == kernels::kPostprocessClasses, op,
               ": probs must be (10, H, W) douga class probabilities, got ", shape_str(probs.shape()));
  const int64_t H = probs.size(1), W = probs.size(2);
  check_plane_size(op, H, W);
  Tensor in = probs.detach().contiguous();
  Tensor out = Tensor::empty({H, W}, DType::i32, probs.device());
  if (probs.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::postprocess_douga(in.data<float>(), out.data<int32_t>(), H, W, stream_of(in)));
  } else {
    kernels::cpu::postprocess_douga(in.data<float>(), out.data<int32_t>(), H, W);
  }
  return out;
}

}  // namespace sakuga::data
