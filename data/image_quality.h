#pragma once
// Paired image quality (scenimefy.md "Metrics"): L1, PSNR and SSIM of an image against its
// reference, both (3, H, W) f32 in [0, 1] on the CPU.
//   l1    mean |a − b|
//   psnr  10·log10(1 / mean (a − b)²) in dB (capped at 100 for identical images)
//   ssim  Wang et al. 2004 (their ssim.m): an 11×11 Gaussian window σ 1.5 over the valid region
//         (smaller images: a window of the image's smaller side), C1 = 0.01², C2 = 0.03²,
//         mean over channels and positions.
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::data {

struct ImageQuality {
  double l1 = 0, psnr = 0, ssim = 0;
};

ImageQuality image_quality(const Tensor& image, const Tensor& reference);

// The FID / KID proxy features where no Inception weights are given: each image (3, H, W)
// area-resampled to 8×8, 192 values — colour and layout statistics only, so distances from
// them are *not comparable to published FID*. (N, 192).
Tensor proxy_features(const std::vector<Tensor>& images);

}  // namespace sakuga::data
