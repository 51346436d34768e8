#pragma once
// Douga post-processing (gcn.md "Post-processing", thesis §5.7), on CPU and CUDA with identical
// output (kernels/postprocess.h holds the kernels of both devices):
//   1. lines = pixels whose argmax is a line class (1–5)
//   2. Zhang–Suen thinning of lines (pixels outside the image count as 0)
//   3. 3×3 dilation of the skeleton; each dilated pixel takes the line class with the highest
//      probability there
//   4. 4-connected components of all other pixels; each component takes the fill class (0, 6–9)
//      with the highest mean probability over the component (ties → lower id)
#include "tensor/tensor.h"

namespace sakuga::data {

// binary (H, W) u8 with values {0, 1}, CPU or CUDA → its Zhang–Suen skeleton, same device.
Tensor zhang_suen_thin(const Tensor& binary);
// probs (10, H, W) f32 class probabilities (softmax of the logits), CPU or CUDA → (H, W) i32
// class map on the same device.
Tensor douga_postprocess(const Tensor& probs);

}  // namespace sakuga::data
