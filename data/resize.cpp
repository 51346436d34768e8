// Area resampling (data/resize.h).
#include "data/resize.h"

#include <algorithm>
#include <cmath>


namespace sakuga::data {

namespace {

// The source taps of one output index along an axis: pixels first … first + weights.size() − 1.
struct Taps {
  int64_t first = 0;
  std::vector<float> weights;  // covered length / output pixel length, summing to 1
};

// Output pixel j of `out` covers [j·in/out, (j+1)·in/out) in source units. Computed in exact
// integer arithmetic scaled by `out` (source pixel i spans [i·out, (i+1)·out)), so the taps and
// weights are the exact rationals, rounded once to float.
std::vector<Taps> axis_taps(int64_t in, int64_t out) {
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int64_t j = 0; j < out; ++j) {
    const int64_t a = j * in, b = (j + 1) * in;  // the covered span, in units of 1/out source pixels
    Taps& t = taps[size_t(j)];
    t.first = a / out;
    const int64_t last = (b - 1) / out;
    for (int64_t i = t.first; i <= last; ++i) {
      const int64_t overlap = std::min(b, (i + 1) * out) - std::max(a, i * out);
      t.weights.push_back(float(double(overlap) / double(in)));
    }
  }
  return taps;
}

}  // namespace

std::vector<float> resize_area(const std::vector<float>& src, int64_t channels, int64_t h, int64_t w, int64_t out_h,
                               int64_t out_w) {
  SAKUGA_CHECK(channels >= 1 && h >= 1 && w >= 1 && out_h >= 1 && out_w >= 1, "resize_area: bad sizes: (", channels,
               ", ", h, ", ", w, ") → (", out_h, ", ", out_w, ")");
  SAKUGA_CHECK(int64_t(src.size()) == channels * h * w, "resize_area: ", src.size(), " values for a (", channels, ", ",
               h, ", ", w, ") image");
  const std::vector<Taps> tx = axis_taps(w, out_w), ty = axis_taps(h, out_h);
  std::vector<float> rows(size_t(channels * h * out_w));  // (C, h, out_w): horizontal pass
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < h; ++y) {
      const float* s = &src[size_t((c * h + y) * w)];
      float* d = &rows[size_t((c * h + y) * out_w)];
      for (int64_t x = 0; x < out_w; ++x) {
        const Taps& t = tx[size_t(x)];
        float acc = 0.f;
        for (size_t k = 0; k < t.weights.size(); ++k) acc += t.weights[k] * s[t.first + int64_t(k)];
        d[x] = acc;
      }
    }
  std::vector<float> out(size_t(channels * out_h * out_w), 0.f);  // (C, out_h, out_w): vertical pass
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < out_h; ++y) {
      const Taps& t = ty[size_t(y)];
      float* d = &out[size_t((c * out_h + y) * out_w)];
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const float wk = t.weights[k];
        const float* s = &rows[size_t((c * h + t.first + int64_t(k)) * out_w)];
        for (int64_t x = 0; x < out_w; ++x) d[x] += wk * s[x];
      }
    }
  return out;
}

Tensor resize_area(const Tensor& chw, int64_t out_h, int64_t out_w) {
  SAKUGA_CHECK(chw.dim() == 3 && chw.dtype() == DType::f32 && !chw.is_cuda(),
               "resize_area: expected a CPU f32 (C, H, W) tensor, got ", chw.str());
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  return Tensor::from_vector(resize_area(chw.to_vector(), c, h, w, out_h, out_w), {c, out_h, out_w});
}

Tensor center_crop_resize_area(const Tensor& chw, int64_t size) {
  SAKUGA_CHECK(chw.dim() == 3 && chw.dtype() == DType::f32 && !chw.is_cuda(),
               "center_crop_resize_area: expected a CPU f32 (C, H, W) tensor, got ", chw.str());
  SAKUGA_CHECK(size >= 1, "center_crop_resize_area: size must be at least 1, got ", size);
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2), side = std::min(h, w);
  const int64_t x0 = (w - side) / 2, y0 = (h - side) / 2;
  const std::vector<float> all = chw.to_vector();
  std::vector<float> square(size_t(c * side * side));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < side; ++y)
      std::copy_n(&all[size_t((k * h + y0 + y) * w + x0)], side, &square[size_t((k * side + y) * side)]);
  return Tensor::from_vector(resize_area(square, c, side, side, size, size), {c, size, size});
}

}  // namespace sakuga::data
