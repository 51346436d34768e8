#include "data/image_quality.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "data/resize.h"
#include "kernels/common.h"
#include "tensor/ops.h"

namespace sakuga::data {

namespace {

// The normalised 1-D Gaussian of `size` taps (σ 1.5), as ssim.m's fspecial('gaussian', 11, 1.5).
std::vector<double> gaussian_taps(int size) {
  std::vector<double> g(static_cast<size_t>(size));
  double sum = 0;
  for (int i = 0; i < size; ++i) {
    const double x = i - (size - 1) / 2.0;
    g[size_t(i)] = std::exp(-x * x / (2 * 1.5 * 1.5));
    sum += g[size_t(i)];
  }
  for (double& v : g) v /= sum;
  return g;
}

// Separable valid filtering of one plane (h, w) → (h − k + 1, w − k + 1).
std::vector<double> filter_valid(const std::vector<double>& x, int h, int w, const std::vector<double>& g) {
  const int k = int(g.size()), oh = h - k + 1, ow = w - k + 1;
  std::vector<double> rows(size_t(h) * size_t(ow)), out(size_t(oh) * size_t(ow));
  for (int y = 0; y < h; ++y)
    for (int x0 = 0; x0 < ow; ++x0) {
      double s = 0;
      for (int t = 0; t < k; ++t) s += g[size_t(t)] * x[size_t(y) * size_t(w) + size_t(x0 + t)];
      rows[size_t(y) * size_t(ow) + size_t(x0)] = s;
    }
  for (int y0 = 0; y0 < oh; ++y0)
    for (int x0 = 0; x0 < ow; ++x0) {
      double s = 0;
      for (int t = 0; t < k; ++t) s += g[size_t(t)] * rows[size_t(y0 + t) * size_t(ow) + size_t(x0)];
      out[size_t(y0) * size_t(ow) + size_t(x0)] = s;
    }
  return out;
}

}  // namespace

ImageQuality image_quality(const Tensor& image, const Tensor& reference) {
  SAKUGA_CHECK(image.dim() == 3 && image.shape() == reference.shape(), "image_quality: expected two (C, H, W) images of ",
               "one shape, got ", shape_str(image.shape()), " and ", shape_str(reference.shape()));
  const std::vector<float> a = image.to(Device::cpu()).to(DType::f32).contiguous().to_vector();
  const std::vector<float> b = reference.to(Device::cpu()).to(DType::f32).contiguous().to_vector();
  const int c = int(image.size(0)), h = int(image.size(1)), w = int(image.size(2));
  ImageQuality q;
  double abs_sum = 0, sq_sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    abs_sum += std::abs(d);
    sq_sum += d * d;
  }
  const double n = double(a.size());
  q.l1 = abs_sum / n;
  q.psnr = sq_sum == 0 ? 100.0 : std::min(100.0, 10 * std::log10(n / sq_sum));

  const std::vector<double> g = gaussian_taps(std::min({11, h, w}));
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double ssim_sum = 0;
  int64_t ssim_n = 0;
  const size_t plane = size_t(h) * size_t(w);
  for (int ch = 0; ch < c; ++ch) {
    std::vector<double> x(plane), y(plane), xx(plane), yy(plane), xy(plane);
    for (size_t i = 0; i < plane; ++i) {
      x[i] = a[size_t(ch) * plane + i];
      y[i] = b[size_t(ch) * plane + i];
      xx[i] = x[i] * x[i];
      yy[i] = y[i] * y[i];
      xy[i] = x[i] * y[i];
    }
    const auto mx = filter_valid(x, h, w, g), my = filter_valid(y, h, w, g), sxx = filter_valid(xx, h, w, g),
               syy = filter_valid(yy, h, w, g), sxy = filter_valid(xy, h, w, g);
    for (size_t i = 0; i < mx.size(); ++i) {
      const double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i];
      ssim_sum += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) /
                  ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
      ++ssim_n;
    }
  }
  q.ssim = ssim_sum / double(ssim_n);
  return q;
}

Tensor proxy_features(const std::vector<Tensor>& images) {
  std::vector<Tensor> rows;
  for (const Tensor& im : images) rows.push_back(ops::reshape(resize_area(im, 8, 8), {192}));
  return ops::stack(rows, 0);
}

}  // namespace sakuga::data
