// Harness cases of the axial convolution family: conv2d with k×1 / 1×k "same" geometries, which
// ops::conv2d routes to the axial kernels (kernels/axial_conv.h) on both devices. Grad mode checks
// the axial CPU kernels in f64 by finite differences; parity mode checks the hand-written CUDA
// kernels (f32 and bf16) against the CPU. Shapes stay small: the grad check probes each input by
// central differences on the CPU.
#include "kernels/axial_conv.h"
#include "tensor/ops/conv.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

// As in cases_conv.cpp: under tf32 the generic CUDA path (cuDNN) may use TF32 tensor cores; the
// axial kernels accumulate in f32 FMA, but the cases keep the conv bound of the tf32 pass (`tf32`).
// The harness's fp32 pass holds them to the f32 default 1e-5.

// An axial conv2d case: x (n, c_in, h, w) → c_out with a k×1 (vertical) or 1×k kernel.
void axial_case(const std::string& label, int64_t n, int64_t ci, int64_t co, int64_t h, int64_t w, int64_t k,
                bool vertical, bool bias) {
  Shape xs{n, ci, h, w};
  Shape ws = vertical ? Shape{co, ci, k, 1} : Shape{co, ci, 1, k};
  ops::Conv2dParams p;
  p.pad_h = vertical ? int(k / 2) : 0;
  p.pad_w = vertical ? 0 : int(k / 2);
  std::vector<InputSpec> inputs{in(xs), in(ws, 0.5)};
  if (bias) inputs.push_back(in({co}));
  std::string name = "axial conv2d " + label + " x" + shape_str(xs) + " w" + shape_str(ws) +
                     (bias ? " bias" : " no bias");
  OpCase c{"conv2d (axial)", name, inputs, [bias, p](const Inputs& v) {
             return ops::conv2d(v[0], v[1], bias ? v[2] : Tensor(), p);
           }};
  c.bf16 = true;
  c.tf32 = true;
  add_case(c);
}

}  // namespace

SAKUGA_OP_CASES(axial_conv) {
  //                                n  ci  co   h   w   k  vertical bias
  axial_case("3x1", 2, 3, 4, 5, 6, 3, true, true);
  axial_case("1x3", 2, 3, 4, 5, 6, 3, false, true);
  axial_case("7x1", 1, 3, 2, 9, 5, 7, true, false);
  axial_case("1x7", 1, 3, 2, 5, 9, 7, false, true);
  axial_case("25x1", 1, 2, 2, 28, 3, 25, true, true);
  axial_case("1x25", 1, 2, 2, 3, 28, 25, false, false);
  axial_case("odd 13x17 7x1", 1, 2, 3, 13, 17, 7, true, true);
  axial_case("odd 13x17 1x7", 2, 2, 3, 13, 17, 7, false, false);
  axial_case("k > h", 2, 2, 3, 4, 5, 9, true, true);
  axial_case("k > w", 1, 2, 3, 5, 4, 9, false, true);
  axial_case("k = 25 > h, w", 1, 2, 2, 6, 7, 25, true, false);
  axial_case("1x1 image", 2, 3, 2, 1, 1, 5, false, true);
  axial_case("c_in 24 -> 1", 1, 24, 1, 6, 7, 5, true, true);
  axial_case("c_in 24 -> 2", 2, 24, 2, 7, 6, 5, false, false);
  axial_case("c_in 20 -> 10", 1, 20, 10, 5, 6, 7, true, true);
  axial_case("c_in 20 -> 10 1xk", 1, 20, 10, 6, 5, 7, false, true);
  axial_case("10 -> 10", 1, 10, 10, 8, 6, 5, true, false);
  axial_case("10 -> 10 1xk", 2, 10, 10, 6, 8, 5, false, true);
  axial_case("3 -> 20", 2, 3, 20, 6, 5, 3, true, true);
  axial_case("3 -> 20 1xk", 1, 3, 20, 5, 6, 3, false, false);
  axial_case("1 -> 1", 1, 1, 1, 9, 10, 5, true, true);
}
