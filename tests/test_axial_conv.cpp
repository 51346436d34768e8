// Unit tests of the axial convolution kernels (kernels/axial_conv.h): the CPU axial kernels agree
// with the generic im2col kernels (kernels::cpu::conv2d_*) on many k×1 / 1×k geometries in f32
// and f64 — the proof that routing conv2d to them is right —, axial_conv_applies accepts exactly
// the axial geometries, and the process-wide switch gives the same numbers through ops::conv2d
// and ops::conv_transpose2d.
#include "tests/test_util.h"
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/axial_conv.h"
#include "tensor/autograd.h"
#include "tensor/ops/conv.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"

// Test hook of kernels/cpu/axial_conv.cpp (not in the pinned header): the band buffer budget in
// elements (≤ 0: the default). Small budgets split every image into many bands of rows.
namespace sakuga::kernels::cpu {
void axial_conv_set_band_budget(int64_t elements);
}

using namespace sakuga;
using kernels::AxialGeometry;
using kernels::ConvGeometry;

namespace {

// Deterministic pseudo-random values in [-1, 1).
template <class T>
std::vector<T> noise(int64_t n, uint32_t seed) {
  std::vector<T> v(static_cast<size_t>(n));
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = T(double(s >> 8) / double(1 << 23) - 1.0);
  }
  return v;
}

// max |a − b| / max(1, max |b|)
template <class T>
double rel_err(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0, m = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
    m = std::max(m, std::fabs(double(b[i])));
  }
  return d / m;
}

ConvGeometry axial_geom(int64_t n, int64_t ci, int64_t co, int64_t h, int64_t w, int64_t k, bool vertical) {
  ConvGeometry g;
  g.n = n;
  g.c_in = ci;
  g.c_out = co;
  g.h = h;
  g.w = w;
  g.kh = vertical ? k : 1;
  g.kw = vertical ? 1 : k;
  g.pad_h = vertical ? k / 2 : 0;
  g.pad_w = vertical ? 0 : k / 2;
  g.ho = ConvGeometry::out_size(g.h, g.kh, 1, g.pad_h, 1);
  g.wo = ConvGeometry::out_size(g.w, g.kw, 1, g.pad_w, 1);
  return g;
}

struct Case {
  int64_t n, ci, co, h, w, k;
  bool vertical;
};

std::string str(const Case& c) {
  return std::to_string(c.n) + "x" + std::to_string(c.ci) + "x" + std::to_string(c.h) + "x" + std::to_string(c.w) +
         " -> " + std::to_string(c.co) + (c.vertical ? " k×1 k=" : " 1×k k=") + std::to_string(c.k);
}

// All three passes of the axial kernels against the generic ones on one geometry.
template <class T>
void compare_with_generic(const Case& c, double tol) {
  INFO("case ", str(c), " ", sizeof(T) == 8 ? "f64" : "f32");
  const ConvGeometry g = axial_geom(c.n, c.ci, c.co, c.h, c.w, c.k, c.vertical);
  AxialGeometry ag;
  REQUIRE(kernels::axial_conv_applies(g, &ag));
  CHECK(ag.k == c.k);
  CHECK(ag.vertical == c.vertical);
  const int64_t nx = c.n * c.ci * c.h * c.w, ny = c.n * c.co * c.h * c.w, nw = c.co * c.ci * c.k;
  auto x = noise<T>(nx, 1), w = noise<T>(nw, 2), b = noise<T>(c.co, 3), gy = noise<T>(ny, 4);
  // Sentinels in the outputs: both implementations must overwrite every element.
  std::vector<T> y1(size_t(ny), T(7)), y2(size_t(ny), T(-7));
  for (bool bias : {false, true}) {
    kernels::cpu::conv2d_forward<T>(g, x.data(), w.data(), bias ? b.data() : nullptr, y1.data());
    kernels::cpu::axial_conv_forward<T>(ag, x.data(), w.data(), bias ? b.data() : nullptr, y2.data());
    INFO("forward, bias ", bias);
    CHECK(rel_err(y2, y1) <= tol);
  }
  std::vector<T> gx1(size_t(nx), T(7)), gx2(size_t(nx), T(-7));
  kernels::cpu::conv2d_backward_data<T>(g, gy.data(), w.data(), gx1.data());
  kernels::cpu::axial_conv_backward_data<T>(ag, gy.data(), w.data(), gx2.data());
  {
    INFO("backward data");
    CHECK(rel_err(gx2, gx1) <= tol);
  }
  std::vector<T> gw1(size_t(nw), T(7)), gw2(size_t(nw), T(-7));
  kernels::cpu::conv2d_backward_filter<T>(g, x.data(), gy.data(), gw1.data());
  kernels::cpu::axial_conv_backward_filter<T>(ag, x.data(), gy.data(), gw2.data());
  {
    INFO("backward filter");
    CHECK(rel_err(gw2, gw1) <= tol);
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> v = {
      // n, ci, co, h, w, k, vertical
      {1, 1, 1, 5, 4, 3, true},    {1, 1, 1, 4, 5, 3, false},   {2, 3, 4, 7, 6, 3, true},
      {2, 3, 4, 6, 7, 3, false},   {1, 4, 2, 13, 17, 7, true},  {1, 4, 2, 13, 17, 7, false},
      {2, 5, 3, 9, 11, 25, true},  {2, 5, 3, 11, 9, 25, false},  // k > h / k > w
      {1, 2, 3, 1, 1, 3, true},    {1, 2, 3, 1, 1, 5, false},   // 1×1 images
      {1, 1, 2, 30, 1, 25, true},  {1, 2, 1, 1, 30, 25, false},  // single column / row
      {1, 2, 2, 3, 8, 49, true},   {1, 2, 2, 8, 3, 49, false},  // k ≫ h, w
      {2, 40, 1, 12, 10, 7, true}, {2, 40, 2, 10, 12, 7, false}, {1, 32, 10, 9, 13, 5, true},  // c_in ≫ c_out
      {1, 10, 10, 16, 12, 9, true}, {1, 10, 10, 12, 16, 9, false},                             // C → C
      {2, 3, 20, 8, 9, 5, true},   {2, 3, 20, 9, 8, 5, false},  {1, 1, 33, 6, 7, 3, true},     // c_out ≫ c_in
      {2, 64, 10, 16, 24, 25, true}, {2, 64, 10, 16, 24, 25, false},                           // GCN-like
  };
  return v;
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("axial conv: CPU kernels agree with the generic im2col kernels (f64)") {
    for (const Case& c : cases()) compare_with_generic<double>(c, 1e-12);
  }

  TEST_CASE("axial conv: CPU kernels agree with the generic im2col kernels (f32)") {
    for (const Case& c : cases()) compare_with_generic<float>(c, 2e-5);
  }

  TEST_CASE("axial conv: CPU kernels agree with the generic kernels when images are split into bands") {
    // Budget 1: one output row per band (vertical few-output-channel cases then run tap by tap);
    // 1000 / 3000: a few rows per band with a shorter last band.
    for (int64_t budget : {int64_t(1), int64_t(1000), int64_t(3000)}) {
      INFO("band budget ", budget);
      kernels::cpu::axial_conv_set_band_budget(budget);
      for (const Case& c : cases()) compare_with_generic<double>(c, 1e-12);
    }
    kernels::cpu::axial_conv_set_band_budget(0);
  }

  TEST_CASE("axial conv: axial_conv_applies accepts only stride-1 odd k×1 / 1×k same convolutions") {
    AxialGeometry ag;
    // Accepted: both orientations, the geometry is filled in.
    CHECK(kernels::axial_conv_applies(axial_geom(2, 3, 4, 10, 11, 7, true), &ag));
    CHECK((ag.n == 2 && ag.c_in == 3 && ag.c_out == 4 && ag.h == 10 && ag.w == 11 && ag.k == 7 && ag.vertical));
    CHECK(ag.pad() == 3);
    CHECK(kernels::axial_conv_applies(axial_geom(1, 2, 5, 4, 9, 49, false), &ag));
    CHECK((ag.k == 49 && !ag.vertical && ag.c_out == 5));
    CHECK(kernels::axial_conv_applies(axial_geom(1, 1, 1, 1, 1, 3, true)));  // null out is fine
    // Rejected.
    auto rejects = [](ConvGeometry g) {
      g.ho = ConvGeometry::out_size(g.h, g.kh, g.stride_h, g.pad_h, g.dil_h);
      g.wo = ConvGeometry::out_size(g.w, g.kw, g.stride_w, g.pad_w, g.dil_w);
      return !kernels::axial_conv_applies(g);
    };
    ConvGeometry base = axial_geom(1, 4, 4, 12, 12, 5, true);
    {
      ConvGeometry g = base;
      g.stride_h = 2;
      CHECK(rejects(g));
      g = base;
      g.stride_w = 2;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;
      g.dil_h = 2;
      g.pad_h = 4;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;
      g.groups = 2;
      CHECK(rejects(g));
      g.groups = 4;  // depthwise
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;  // even k
      g.kh = 4;
      g.pad_h = 2;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;  // padding not k/2
      g.pad_h = 1;
      CHECK(rejects(g));
      g.pad_h = 0;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;  // padding along the other axis too
      g.pad_w = 1;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = axial_geom(1, 4, 4, 12, 12, 5, false);  // 1×k with the vertical padding
      g.pad_h = 2;
      g.pad_w = 0;
      CHECK(rejects(g));
    }
    {
      ConvGeometry g = base;  // k×k, 1×1, and k = 1 along the axis
      g.kw = 5;
      g.pad_w = 2;
      CHECK(rejects(g));
      g = base;
      g.kh = 1;
      g.pad_h = 0;
      CHECK(rejects(g));
    }
  }

  TEST_CASE("axial conv: the switch gives the same numbers through conv2d and conv_transpose2d") {
    // Start-up state: on unless SAKUGA_AXIAL_CONV=0 (the other tests restore what they change).
    const char* env = std::getenv("SAKUGA_AXIAL_CONV");
    CHECK(kernels::axial_conv_enabled() == !(env && std::string(env) == "0"));
    const bool was = kernels::axial_conv_enabled();
    struct Run {
      std::vector<double> y, gx, gw, gb;
    };
    auto run = [](bool axial, bool vertical, bool transpose) {
      kernels::set_axial_conv_enabled(axial);
      const int64_t k = 5;
      Shape xs{2, 3, 7, 9};
      Shape ws = transpose ? (vertical ? Shape{3, 4, k, 1} : Shape{3, 4, 1, k})
                           : (vertical ? Shape{4, 3, k, 1} : Shape{4, 3, 1, k});
      Tensor x = Tensor::from_vector(noise<float>(2 * 3 * 7 * 9, 11), xs).set_requires_grad(true);
      Tensor w = Tensor::from_vector(noise<float>(4 * 3 * k, 12), ws).set_requires_grad(true);
      Tensor b = Tensor::from_vector(noise<float>(4, 13), {4}).set_requires_grad(true);
      Tensor y;
      if (transpose) {
        ops::ConvTranspose2dParams p;
        p.pad_h = vertical ? k / 2 : 0;
        p.pad_w = vertical ? 0 : k / 2;
        y = ops::conv_transpose2d(x, w, b, p);
      } else {
        ops::Conv2dParams p;
        p.pad_h = vertical ? k / 2 : 0;
        p.pad_w = vertical ? 0 : k / 2;
        y = ops::conv2d(x, w, b, p);
      }
      Tensor r = Tensor::from_vector(noise<float>(y.numel(), 14), y.shape());
      ops::sum(ops::mul(y, r)).backward();
      return Run{y.to_vector_f64(), x.grad().to_vector_f64(), w.grad().to_vector_f64(), b.grad().to_vector_f64()};
    };
    for (bool transpose : {false, true})
      for (bool vertical : {true, false}) {
        INFO("transpose ", transpose, " vertical ", vertical);
        Run a = run(true, vertical, transpose), g = run(false, vertical, transpose);
        CHECK(kernels::axial_conv_enabled() == false);
        CHECK(rel_err(a.y, g.y) <= 1e-5);
        CHECK(rel_err(a.gx, g.gx) <= 1e-5);
        CHECK(rel_err(a.gw, g.gw) <= 1e-5);
        CHECK(rel_err(a.gb, g.gb) <= 1e-5);
        // Different code paths: the sums are not bit-identical in general, but must be close
        // (and here they are not trivially equal through a shared path).
      }
    kernels::set_axial_conv_enabled(was);
    CHECK(kernels::axial_conv_enabled() == was);
  }
}
