// Harness cases: pooling (max, avg, adaptive avg) and resampling (bilinear, nearest).
#include <algorithm>
#include <numeric>
#include <random>

#include "tensor/ops/pool.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

// Differentiable fixed input whose values within each H×W plane are a shuffled arange, 1/16
// apart: max-pool windows never tie and finite differences never cross a tie. With at most
// 256 elements per plane the values are exact in bf16 too.
InputSpec distinct(const Shape& s) {
  const int64_t plane = s[2] * s[3], planes = shape_numel(s) / plane;
  std::vector<float> v;
  v.reserve(size_t(shape_numel(s)));
  std::mt19937 rng(uint32_t(plane * 7919 + planes));
  std::vector<int64_t> perm(static_cast<size_t>(plane));
  for (int64_t p = 0; p < planes; ++p) {
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int64_t k : perm) v.push_back(float(k - plane / 2) / 16.f);
  }
  return fixed(s, v, /*diff=*/true);
}

ops::Pool2dParams pool(int kh, int kw, int sh, int sw, int ph, int pw, bool ceil_mode = false, bool include_pad = true) {
  ops::Pool2dParams p;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_h = ph;
  p.pad_w = pw;
  p.ceil_mode = ceil_mode;
  p.count_include_pad = include_pad;
  return p;
}

std::string pool_label(const ops::Pool2dParams& p) {
  return "k" + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) + " s" + std::to_string(p.stride_h) + "x" +
         std::to_string(p.stride_w) + " p" + std::to_string(p.pad_h) + "x" + std::to_string(p.pad_w) +
         (p.ceil_mode ? " ceil" : "");
}

}  // namespace

SAKUGA_OP_CASES(pool) {
  // max_pool2d: the ResNet stem (3×3 s2 p1) on odd and even sizes, 2×2 s2, ceil mode,
  // overlapping windows (a maximum shared by several windows), rectangular windows.
  auto max_case = [](Shape s, ops::Pool2dParams p) {
    OpCase c{"max_pool2d", "max_pool2d " + shape_str(s) + " " + pool_label(p), {distinct(s)},
             [p](const Inputs& x) { return ops::max_pool2d(x[0], p); }};
    c.bf16 = s[2] * s[3] <= 256;
    add_case(c);
  };
  max_case({2, 3, 9, 11}, pool(3, 3, 2, 2, 1, 1));
  max_case({1, 2, 8, 8}, pool(3, 3, 2, 2, 1, 1));
  max_case({2, 2, 6, 8}, pool(2, 2, 2, 2, 0, 0));
  max_case({1, 3, 7, 9}, pool(2, 2, 2, 2, 0, 0));
  max_case({1, 2, 7, 9}, pool(2, 2, 2, 2, 0, 0, /*ceil=*/true));
  max_case({1, 2, 10, 10}, pool(3, 3, 2, 2, 1, 1, /*ceil=*/true));
  max_case({1, 2, 5, 6}, pool(3, 3, 1, 1, 1, 1));
  max_case({2, 1, 7, 5}, pool(3, 2, 2, 1, 1, 0));
  max_case({1, 1, 1, 1}, pool(1, 1, 1, 1, 0, 0));

  // avg_pool2d: with and without count_include_pad, ceil mode (clipped last windows).
  auto avg_case = [](Shape s, ops::Pool2dParams p) {
    OpCase c{"avg_pool2d",
             "avg_pool2d " + shape_str(s) + " " + pool_label(p) + (p.count_include_pad ? " incl-pad" : " excl-pad"),
             {in(s)}, [p](const Inputs& x) { return ops::avg_pool2d(x[0], p); }};
    c.bf16 = true;
    add_case(c);
  };
  for (bool incl : {true, false}) {
    avg_case({2, 3, 9, 11}, pool(3, 3, 2, 2, 1, 1, false, incl));
    avg_case({1, 2, 10, 10}, pool(3, 3, 2, 2, 1, 1, true, incl));
    avg_case({1, 2, 7, 9}, pool(2, 2, 2, 2, 0, 0, true, incl));
    avg_case({2, 1, 7, 6}, pool(3, 2, 2, 1, 1, 1, true, incl));
  }
  avg_case({2, 2, 6, 8}, pool(2, 2, 2, 2, 0, 0));
  avg_case({1, 2, 5, 6}, pool(3, 3, 1, 1, 1, 1));

  // adaptive_avg_pool2d: global (1×1), 7×11 → 3×5, identity, upsampling, large windows (the
  // warp-per-output CUDA path).
  auto adaptive_case = [](Shape s, int64_t oh, int64_t ow) {
    OpCase c{"adaptive_avg_pool2d",
             "adaptive_avg_pool2d " + shape_str(s) + " -> " + std::to_string(oh) + "x" + std::to_string(ow), {in(s)},
             [oh, ow](const Inputs& x) { return ops::adaptive_avg_pool2d(x[0], oh, ow); }};
    c.bf16 = true;
    add_case(c);
  };
  adaptive_case({2, 3, 7, 11}, 1, 1);
  adaptive_case({2, 3, 7, 11}, 3, 5);
  adaptive_case({1, 2, 7, 11}, 7, 11);
  adaptive_case({1, 2, 3, 4}, 5, 7);
  adaptive_case({2, 2, 10, 9}, 4, 3);
  adaptive_case({2, 3, 16, 16}, 1, 1);
  adaptive_case({1, 2, 20, 18}, 2, 1);

  // resize_bilinear, both align_corners: odd up/down sizes, 2× up, 1-pixel input and output,
  // identity.
  auto bilinear_case = [](Shape s, int64_t oh, int64_t ow, bool ac) {
    OpCase c{"resize_bilinear",
             "resize_bilinear " + shape_str(s) + " -> " + std::to_string(oh) + "x" + std::to_string(ow) +
                 (ac ? " align_corners" : ""),
             {in(s)}, [oh, ow, ac](const Inputs& x) { return ops::resize_bilinear(x[0], oh, ow, ac); }};
    c.bf16 = true;
    add_case(c);
  };
  for (bool ac : {false, true}) {
    bilinear_case({2, 3, 7, 9}, 13, 5, ac);
    bilinear_case({1, 2, 5, 5}, 3, 3, ac);
    bilinear_case({1, 2, 4, 6}, 8, 12, ac);
    bilinear_case({1, 2, 9, 7}, 4, 3, ac);
    bilinear_case({1, 2, 6, 5}, 6, 5, ac);
    bilinear_case({1, 1, 1, 1}, 3, 4, ac);
    bilinear_case({1, 2, 5, 4}, 1, 1, ac);
    bilinear_case({1, 1, 3, 17}, 11, 40, ac);
  }

  // resize_nearest: up, down, odd ratios, 1-pixel input.
  auto nearest_case = [](Shape s, int64_t oh, int64_t ow) {
    OpCase c{"resize_nearest",
             "resize_nearest " + shape_str(s) + " -> " + std::to_string(oh) + "x" + std::to_string(ow), {in(s)},
             [oh, ow](const Inputs& x) { return ops::resize_nearest(x[0], oh, ow); }};
    c.bf16 = true;
    add_case(c);
  };
  nearest_case({2, 3, 7, 9}, 13, 5);
  nearest_case({1, 2, 4, 6}, 8, 12);
  nearest_case({1, 2, 9, 7}, 4, 3);
  nearest_case({1, 2, 3, 3}, 7, 7);
  nearest_case({1, 1, 1, 1}, 2, 3);
  nearest_case({1, 2, 14, 10}, 20, 15);
}
