// Redraw post-processing (data/redraw/blend.h, kernels/blend.h): sRGB ↔ Lab, the colour-transfer
// ring and statistics, the Poisson blend against an analytic solution and a dense solve of the
// stated system (image-border masks included), the empty mask, bad input. The sparse-solver and
// OpenCV comparisons are in tests/oracle/test_blend.py, CUDA against the CPU in tests/test_gpu.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "data/redraw/blend.h"
#include "kernels/blend.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

using PixelFn = std::function<double(int64_t c, int64_t y, int64_t x)>;

// (C, H, W) f32 from f(c, y, x).
Tensor image_of(int64_t C, int64_t H, int64_t W, const PixelFn& f) {
  std::vector<float> v(size_t(C * H * W));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) v[size_t((c * H + y) * W + x)] = float(f(c, y, x));
  return Tensor::from_vector(v, {C, H, W});
}

Tensor mask_of(int64_t H, int64_t W, const std::function<bool(int64_t y, int64_t x)>& inside) {
  std::vector<uint8_t> v(size_t(H * W));
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) v[size_t(y * W + x)] = inside(y, x) ? 1 : 0;
  return Tensor::from_bytes(v.data(), {H, W}, DType::u8);
}

Tensor random_image(int64_t C, int64_t H, int64_t W, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  return image_of(C, H, W, [&](int64_t, int64_t, int64_t) { return u(rng); });
}

// Two overlapping discs and a notch: an irregular region inside a 40×48 image.
bool blob(int64_t y, int64_t x) {
  const double a = std::hypot(double(y) - 17, double(x) - 18), b = std::hypot(double(y) - 24, double(x) - 30);
  return (a < 9 || b < 7) && !(y > 20 && y < 24 && x > 12 && x < 20);
}

// Lab (n, 3) of the masked pixels of a (3, H, W) image.
std::vector<double> lab_pixels(const Tensor& img, const Tensor& sel) {
  const int64_t n = sel.numel();
  const float* p = img.data<float>();
  const uint8_t* m = sel.data<uint8_t>();
  std::vector<double> lab;
  for (int64_t i = 0; i < n; ++i) {
    if (!m[i]) continue;
    const double rgb[3] = {p[i], p[n + i], p[2 * n + i]};
    double v[3];
    kernels::blend_srgb_to_lab(rgb, v);
    lab.insert(lab.end(), v, v + 3);
  }
  return lab;
}

void mean_std(const std::vector<double>& lab, int k, double& mean, double& sd) {
  const size_t n = lab.size() / 3;
  mean = 0;
  for (size_t i = 0; i < n; ++i) mean += lab[3 * i + size_t(k)];
  mean /= double(n);
  sd = 0;
  for (size_t i = 0; i < n; ++i) sd += (lab[3 * i + size_t(k)] - mean) * (lab[3 * i + size_t(k)] - mean);
  sd = std::sqrt(sd / double(n));
}

// The system of kernels/blend.h written out densely for one channel and solved by Gaussian
// elimination with partial pivoting: an independent reading of the same formula.
std::vector<double> dense_solve(const float* frame, const float* patch, const uint8_t* mask, int64_t H, int64_t W) {
  std::vector<int64_t> id(size_t(H * W), -1), pix;
  for (int64_t i = 0; i < H * W; ++i)
    if (mask[i]) id[size_t(i)] = int64_t(pix.size()), pix.push_back(i);
  const size_t n = pix.size();
  std::vector<double> A(n * n, 0), b(n, 0);
  for (size_t k = 0; k < n; ++k) {
    const int64_t y = pix[k] / W, x = pix[k] % W;
    const int64_t ny[4] = {y - 1, y + 1, y, y}, nx[4] = {x, x, x - 1, x + 1};
    for (int d = 0; d < 4; ++d) {
      if (ny[d] < 0 || ny[d] >= H || nx[d] < 0 || nx[d] >= W) continue;
      const int64_t q = ny[d] * W + nx[d];
      A[k * n + k] += 1;
      b[k] += double(patch[pix[k]]) - double(patch[q]);
      if (mask[q])
        A[k * n + size_t(id[size_t(q)])] -= 1;
      else
        b[k] += frame[q];
    }
  }
  for (size_t c = 0; c < n; ++c) {
    size_t piv = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(A[r * n + c]) > std::fabs(A[piv * n + c])) piv = r;
    for (size_t j = 0; j < n; ++j) std::swap(A[c * n + j], A[piv * n + j]);
    std::swap(b[c], b[piv]);
    for (size_t r = c + 1; r < n; ++r) {
      const double f = A[r * n + c] / A[c * n + c];
      for (size_t j = c; j < n; ++j) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (size_t c = n; c-- > 0;) {
    double s = b[c];
    for (size_t j = c + 1; j < n; ++j) s -= A[c * n + j] * x[j];
    x[c] = s / A[c * n + c];
  }
  std::vector<double> full(size_t(H * W));
  for (int64_t i = 0; i < H * W; ++i) full[size_t(i)] = frame[i];
  for (size_t k = 0; k < n; ++k) full[size_t(pix[k])] = x[k];
  return full;
}

// max |got − dense solve| over all channels.
double dense_error(const Tensor& got, const Tensor& frame, const Tensor& patch, const Tensor& mask) {
  const int64_t C = frame.size(0), H = frame.size(1), W = frame.size(2);
  double err = 0;
  for (int64_t c = 0; c < C; ++c) {
    const auto want = dense_solve(frame.data<float>() + c * H * W, patch.data<float>() + c * H * W,
                                  mask.data<uint8_t>(), H, W);
    for (int64_t i = 0; i < H * W; ++i)
      err = std::max(err, std::fabs(double(got.data<float>()[c * H * W + i]) - want[size_t(i)]));
  }
  return err;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("blend: sRGB to Lab round trip within 1e-4, and known Lab values") {
  double worst = 0;
  for (int r = 0; r <= 16; ++r)
    for (int g = 0; g <= 16; ++g)
      for (int b = 0; b <= 16; ++b) {
        const double rgb[3] = {r / 16.0, g / 16.0, b / 16.0};
        double lab[3], back[3];
        kernels::blend_srgb_to_lab(rgb, lab);
        kernels::blend_lab_to_srgb(lab, back);
        for (int k = 0; k < 3; ++k) worst = std::max(worst, std::fabs(back[k] - rgb[k]));
      }
  MESSAGE("sRGB -> Lab -> sRGB over a 17^3 grid: max error ", worst);
  CHECK(worst < 1e-4);
  // Out of gamut (what a transfer can produce) round-trips too: the curve is extended oddly.
  const double odd[3] = {-0.05, 1.08, 0.5};
  double lab[3], back[3];
  kernels::blend_srgb_to_lab(odd, lab);
  kernels::blend_lab_to_srgb(lab, back);
  for (int k = 0; k < 3; ++k) CHECK(back[k] == doctest::Approx(odd[k]).epsilon(1e-9));
  // White, black, and the sRGB primaries (Lindbloom's calculator, D65, 2° observer).
  struct Known {
    double rgb[3], lab[3];
  };
  const Known known[] = {{{1, 1, 1}, {100, 0, 0}},
                         {{0, 0, 0}, {0, 0, 0}},
                         {{1, 0, 0}, {53.2408, 80.0925, 67.2032}},
                         {{0, 1, 0}, {87.7347, -86.1827, 83.1793}},
                         {{0, 0, 1}, {32.2970, 79.1875, -107.8602}},
                         {{0.5, 0.5, 0.5}, {53.3890, 0, 0}}};
  for (const Known& k : known) {
    kernels::blend_srgb_to_lab(k.rgb, lab);
    INFO("sRGB (", k.rgb[0], ", ", k.rgb[1], ", ", k.rgb[2], ") -> Lab (", lab[0], ", ", lab[1], ", ", lab[2], ")");
    for (int j = 0; j < 3; ++j) CHECK(std::fabs(lab[j] - k.lab[j]) < 2e-3);
  }
}

TEST_CASE("blend: the colour ring is the square dilation minus the mask, clipped at the image border") {
  // A 3×4 rectangle at (2, 1) in a 10×12 image, ring width 2: rows 0..6, columns 0..6 (the
  // left side is clipped at the border), minus the rectangle.
  const Tensor mask = mask_of(10, 12, [](int64_t y, int64_t x) { return y >= 2 && y < 5 && x >= 1 && x < 5; });
  const Tensor ring = data::redraw::color_ring(mask, 2);
  const uint8_t* r = ring.data<uint8_t>();
  int64_t count = 0;
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 12; ++x) {
      const bool want = y <= 6 && x <= 6 && !(y >= 2 && y < 5 && x >= 1 && x < 5);
      INFO("(", y, ", ", x, ")");
      CHECK(bool(r[y * 12 + x]) == want);
      count += r[y * 12 + x];
    }
  CHECK(count == 7 * 7 - 12);
  CHECK_ERROR(data::redraw::color_ring(mask, 0), "ring width must be >= 1");
}

TEST_CASE("blend: colour transfer gives the masked patch the Lab mean and deviation of the frame's ring") {
  const int64_t H = 40, W = 48;
  const Tensor mask = mask_of(H, W, blob);
  // A dark bluish frame with texture, a bright reddish patch with other texture.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  const Tensor frame = image_of(3, H, W, [&](int64_t c, int64_t y, int64_t x) {
    return 0.2 + 0.1 * c + 0.05 * std::sin(0.3 * double(x + y)) + 0.03 * u(rng);
  });
  const Tensor patch = image_of(3, H, W, [&](int64_t c, int64_t y, int64_t x) {
    return 0.8 - 0.2 * c + 0.1 * std::cos(0.5 * double(x)) + 0.05 * u(rng);
  });
  for (int64_t width : {int64_t(1), int64_t(8)}) {
    INFO("ring width ", width);
    const Tensor out = data::redraw::color_transfer(frame, patch, mask, width);
    const auto want = lab_pixels(frame, data::redraw::color_ring(mask, width)), got = lab_pixels(out, mask);
    for (int k = 0; k < 3; ++k) {
      double mw, sw, mg, sg;
      mean_std(want, k, mw, sw);
      mean_std(got, k, mg, sg);
      INFO("Lab channel ", k, ": ring mean ", mw, " sd ", sw, "; patch after transfer mean ", mg, " sd ", sg);
      // f32 storage of the result: ~1e-7 relative in sRGB, well below 1e-3 in Lab.
      CHECK(std::fabs(mg - mw) < 1e-3);
      CHECK(std::fabs(sg - sw) < 1e-3);
    }
  }
}

TEST_CASE("blend: colour transfer maps every patch pixel alike, so the patch stays continuous at the mask border") {
  // A patch of two flat colours whose halves straddle the mask: after the transfer each half is
  // still one colour on both sides of the border (the Poisson guidance reads it there).
  const int64_t H = 20, W = 24;
  const Tensor mask = mask_of(H, W, [](int64_t y, int64_t x) { return y >= 6 && y < 14 && x >= 6 && x < 18; });
  const Tensor frame = random_image(3, H, W, 9);
  const Tensor patch = image_of(3, H, W, [](int64_t c, int64_t, int64_t x) { return x < 12 ? 0.2 + 0.1 * c : 0.7; });
  const Tensor out = data::redraw::color_transfer(frame, patch, mask);
  const float* o = out.data<float>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t ref = c * H * W + 10 * W + (x < 12 ? 6 : 17);  // a masked pixel of the same half
        INFO("channel ", c, " (", y, ", ", x, ")");
        CHECK(o[c * H * W + y * W + x] == doctest::Approx(o[ref]).epsilon(1e-6));
      }
}

TEST_CASE("blend: colour transfer of a flat patch onto a flat ring gives the ring's colour") {
  // Known value: both deviations are 0 (scale 1), so every masked pixel takes the ring's Lab
  // mean, i.e. the ring's colour itself.
  const int64_t H = 12, W = 14;
  const Tensor mask = mask_of(H, W, [](int64_t y, int64_t x) { return y >= 4 && y < 8 && x >= 5 && x < 10; });
  const double ring_rgb[3] = {0.25, 0.5, 0.75};
  const Tensor frame = image_of(3, H, W, [&](int64_t c, int64_t, int64_t) { return ring_rgb[c]; });
  const Tensor patch = image_of(3, H, W, [&](int64_t c, int64_t, int64_t) { return 0.9 - 0.3 * double(c); });
  const Tensor out = data::redraw::color_transfer(frame, patch, mask, 3);
  const float* o = out.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  for (int64_t i = 0; i < H * W; ++i)
    for (int64_t c = 0; c < 3; ++c) CHECK(o[c * H * W + i] == doctest::Approx(ring_rgb[c]).epsilon(1e-5));
}

TEST_CASE("blend: colour transfer then Poisson leaves no seam at the mask border") {
  // A smooth frame and a smooth patch of other colours. Across the mask border the blend keeps
  // the (transferred) patch's own steps: the mean |step| over the border pairs stays close to
  // the transferred patch's mean |step| there, a texture-sized step. A transfer applied inside
  // the mask only put the colour difference (~0.3) into every border step.
  const int64_t H = 40, W = 48;
  const Tensor mask = mask_of(H, W, blob);
  const Tensor frame = image_of(3, H, W, [](int64_t c, int64_t y, int64_t x) {
    return 0.3 + 0.1 * double(c) + 0.004 * double(x) + 0.003 * double(y);
  });
  const Tensor patch = image_of(3, H, W, [](int64_t c, int64_t y, int64_t x) {
    return 0.9 - 0.25 * double(c) + 0.05 * std::sin(0.3 * double(x)) * std::cos(0.2 * double(y));
  });
  const Tensor moved = data::redraw::color_transfer(frame, patch, mask);
  const Tensor out = data::redraw::poisson_blend(frame, moved, mask).image;
  const float *o = out.data<float>(), *t = moved.data<float>();
  const uint8_t* m = mask.data<uint8_t>();
  double seam = 0, own = 0;
  int64_t pairs = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x + 1 < W; ++x)
        if (m[y * W + x] != m[y * W + x + 1]) {
          const int64_t i = c * H * W + y * W + x;
          seam += std::fabs(o[i + 1] - o[i]);
          own += std::fabs(t[i + 1] - t[i]);
          ++pairs;
        }
  seam /= double(pairs);
  own /= double(pairs);
  MESSAGE("mean |step| across the mask border after the blend ", seam, ", of the transferred patch there ", own);
  CHECK(seam < own + 0.01);
  CHECK(seam < 0.03);  // the patch's texture steps, not the ~0.3 colour difference
}

TEST_CASE("blend: Poisson recovers a smooth f* from patch = f* + harmonic + constant, frame = f* outside") {
  const int64_t H = 40, W = 48;
  const Tensor mask = mask_of(H, W, blob);
  // f* quadratic per channel; h = x² − y² and x·y are discrete-harmonic (Δ = 0 exactly), so
  // Δpatch = Δf* and the solution with f* on the border is f* itself.
  auto fstar = [](int64_t c, int64_t y, int64_t x) {
    const double X = double(x) - 24, Y = double(y) - 20;
    return 0.5 + 0.1 * double(c) + 3e-4 * X * X - 2e-4 * Y * Y + 1e-4 * (1 + double(c)) * X * Y + 2e-3 * X;
  };
  auto harmonic = [](int64_t c, int64_t y, int64_t x) {
    const double X = double(x) - 10, Y = double(y) - 30;
    return 0.15 + 4e-4 * (X * X - Y * Y) - 3e-4 * double(c) * X * Y;
  };
  const Tensor frame = image_of(3, H, W, [&](int64_t c, int64_t y, int64_t x) {
    return blob(y, x) ? 0.9 : fstar(c, y, x);  // the frame's own content inside does not matter
  });
  const Tensor patch = image_of(3, H, W, [&](int64_t c, int64_t y, int64_t x) { return fstar(c, y, x) + harmonic(c, y, x); });
  for (double tolerance : {0.25 / 255, 1e-6}) {
    kernels::PoissonOptions opt;
    opt.tolerance = tolerance;
    const data::redraw::BlendResult res = data::redraw::poisson_blend(frame, patch, mask, opt);
    const float* o = res.image.data<float>();
    double err = 0;
    bool outside_is_frame = true;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          const int64_t i = (c * H + y) * W + x;
          err = std::max(err, std::fabs(double(o[i]) - fstar(c, y, x)));
          if (!blob(y, x) && o[i] != frame.data<float>()[i]) outside_is_frame = false;
        }
    const auto& st = res.stats;
    MESSAGE("analytic Poisson, tolerance ", tolerance, ": max error ", err, ", ", st.unknowns, " unknowns, ",
            st.iterations, " CG iterations (", st.total_iterations, " over 3 channels), residual ", st.residual,
            " <= ", st.residual_target, ", error bound ", st.error_bound);
    CHECK(outside_is_frame);
    CHECK(st.converged);
    CHECK(st.iterations > 0);
    CHECK(st.total_iterations >= st.iterations);
    CHECK(st.residual <= st.residual_target);
    CHECK(st.error_bound <= tolerance);
    CHECK(err <= tolerance + 1e-6);  // + f32 rounding of the output
    CHECK(err < 1.0 / 255);
  }
  // A constant offset alone: the start (patch + mean border offset) is already the solution.
  const Tensor shifted = image_of(3, H, W, [&](int64_t c, int64_t y, int64_t x) { return fstar(c, y, x) + 0.2; });
  const auto res = data::redraw::poisson_blend(frame, shifted, mask);
  CHECK(res.stats.iterations == 0);
  CHECK(res.stats.converged);
}

TEST_CASE("blend: Poisson with masks on the image border equals a dense solve of the stated system") {
  const int64_t H = 9, W = 11;
  const Tensor frame = random_image(3, H, W, 5), patch = random_image(3, H, W, 6);
  struct Case {
    const char* what;
    std::function<bool(int64_t, int64_t)> inside;
  };
  const Case cases[] = {
      {"interior", [](int64_t y, int64_t x) { return y >= 2 && y < 7 && x >= 3 && x < 9 && !(y == 4 && x == 5); }},
      {"top-left corner", [](int64_t y, int64_t x) { return y + x < 7 && !(y == 2 && x == 2); }},
      {"left to right", [](int64_t y, int64_t x) { return y >= 3 && y < 6; }},
      {"all four borders (heuristic bound)", [](int64_t y, int64_t x) { return y == 4 || x == 5 || (y + x) % 5 == 0; }},
  };
  for (const Case& c : cases) {
    const Tensor mask = mask_of(H, W, c.inside);
    for (double tolerance : {0.25 / 255, 1e-7}) {
      kernels::PoissonOptions opt;
      opt.tolerance = tolerance;
      const auto res = data::redraw::poisson_blend(frame, patch, mask, opt);
      const double err = dense_error(res.image, frame, patch, mask);
      INFO(c.what, ", tolerance ", tolerance, ": max difference to the dense solve ", err, ", ",
           res.stats.iterations, " CG iterations");
      CHECK(res.stats.converged);
      CHECK(err <= tolerance + 1e-6);
    }
  }
}

TEST_CASE("blend: an empty mask leaves the frame untouched") {
  const Tensor frame = random_image(3, 8, 10, 1), patch = random_image(3, 8, 10, 2);
  const Tensor mask = Tensor::zeros({8, 10}, DType::u8);
  const auto res = data::redraw::poisson_blend(frame, patch, mask);
  CHECK(test::same_bytes(res.image, frame));
  CHECK(res.stats.unknowns == 0);
  CHECK(res.stats.iterations == 0);
  CHECK(res.stats.converged);
  // One channel works as well (the blend is per channel).
  const Tensor grey = random_image(1, 8, 10, 3);
  CHECK(test::same_bytes(data::redraw::poisson_blend(grey, grey, mask).image, grey));
}

TEST_CASE("blend: bad input names what was expected") {
  const Tensor frame = random_image(3, 8, 10, 1), patch = random_image(3, 8, 10, 2);
  const Tensor mask = mask_of(8, 10, [](int64_t y, int64_t x) { return y > 2 && y < 5 && x > 3 && x < 7; });
  CHECK_ERROR(data::redraw::poisson_blend(frame, random_image(3, 8, 9, 2), mask), "patch is 8x9 but the mask is 8x10");
  CHECK_ERROR(data::redraw::poisson_blend(frame, random_image(1, 8, 10, 2), mask), "patch has 1 channels, the frame 3");
  CHECK_ERROR(data::redraw::poisson_blend(frame, patch, Tensor::zeros({8, 10})), "mask must be u8");
  CHECK_ERROR(data::redraw::poisson_blend(frame, patch, Tensor::ones({8, 10}, DType::u8)),
              "the mask covers the whole 8x10 image");
  CHECK_ERROR(data::redraw::color_transfer(frame, patch, Tensor::zeros({8, 10}, DType::u8)), "the mask is empty");
  CHECK_ERROR(data::redraw::color_transfer(random_image(1, 8, 10, 1), patch, mask), "frame must be (3, H, W) sRGB");
  kernels::PoissonOptions opt;
  opt.tolerance = 0;
  CHECK_ERROR(data::redraw::poisson_blend(frame, patch, mask, opt), "tolerance must be > 0");
}

}  // TEST_SUITE
