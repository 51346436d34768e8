#pragma once
// Redraw post-processing on tensors (redraw.md "Post-processing"; the kernels and their exact
// contracts are in kernels/blend.h): Reinhard colour transfer in CIE Lab, then Poisson blending
// of the redrawn patch into the frame. `sakuga blend` runs both on PNG files.
#include "kernels/blend.h"
#include "tensor/tensor.h"

namespace sakuga::data::redraw {

// Width of the frame ring whose Lab statistics the patch takes: 8 px is ours (the paper gives
// none), wide enough for stable statistics around an eye, narrow enough to stay local.
constexpr int64_t kDefaultRingWidth = 8;

// mask (H, W) u8 (nonzero = inside), CPU → (H, W) u8 {0, 1}: the pixels within `width` steps
// of the mask in x and y (square dilation) that are not in it.
Tensor color_ring(const Tensor& mask, int64_t width = kDefaultRingWidth);

// frame, patch (3, H, W) f32 sRGB in [0, 1]; mask (H, W) u8; all on the CPU → (3, H, W): the
// patch, through one affine map per Lab channel applied to every pixel, whose Lab mean and
// standard deviation inside the mask equal the frame's in the ring (not clamped). Throws on an
// empty mask or ring.
Tensor color_transfer(const Tensor& frame, const Tensor& patch, const Tensor& mask,
                      int64_t ring_width = kDefaultRingWidth);

struct BlendResult {
  Tensor image;  // (C, H, W) f32 on the inputs' device
  kernels::PoissonStats stats;
};
// frame, patch (C, H, W) f32 and mask (H, W) u8 on one device (CPU: conjugate gradient; CUDA:
// red-black SOR) → the frame with the patch Poisson-blended into the mask (kernels/blend.h).
// An empty mask returns a copy of the frame; a mask covering the whole frame is an error.
BlendResult poisson_blend(const Tensor& frame, const Tensor& patch, const Tensor& mask,
                          const kernels::PoissonOptions& options = {});

}  // namespace sakuga::data::redraw
