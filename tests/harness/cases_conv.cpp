// Harness cases: conv2d and conv_transpose2d (grad on CPU f64, CUDA parity in f32 and bf16).
#include "tensor/ops/conv.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

// GPU parity: under tf32 (the default GPU precision) cuDNN runs f32 convolutions on TF32 tensor
// cores (10-bit mantissa operands): relative errors of a few 1e-4 against the f32 CPU reference
// are expected, so the cases are marked `tf32` (bound 1e-3 in the harness's tf32 pass, the f32
// default 1e-5 in its fp32 pass).

std::string pair_str(int a, int b) { return "(" + std::to_string(a) + "," + std::to_string(b) + ")"; }

void conv_case(const std::string& label, Shape x, Shape w, bool bias, ops::Conv2dParams p, bool grad = true) {
  std::vector<InputSpec> inputs{in(x), in(w, 0.5)};
  if (bias) inputs.push_back(in({w[0]}));
  std::string name = "conv2d " + label + " x" + shape_str(x) + " w" + shape_str(w) + " s" +
                     pair_str(p.stride_h, p.stride_w) + " p" + pair_str(p.pad_h, p.pad_w) + " d" +
                     pair_str(p.dilation_h, p.dilation_w) + " g" + std::to_string(p.groups) +
                     (bias ? " bias" : " no bias");
  OpCase c{"conv2d", name, inputs, [bias, p](const Inputs& v) {
             return ops::conv2d(v[0], v[1], bias ? v[2] : Tensor(), p);
           }};
  c.bf16 = true;
  c.tf32 = true;
  c.grad = grad;
  add_case(c);
}

void convt_case(const std::string& label, Shape x, Shape w, int groups, bool bias, ops::ConvTranspose2dParams p) {
  std::vector<InputSpec> inputs{in(x), in(w, 0.5)};
  if (bias) inputs.push_back(in({w[1] * groups}));
  std::string name = "conv_transpose2d " + label + " x" + shape_str(x) + " w" + shape_str(w) + " s" +
                     pair_str(p.stride_h, p.stride_w) + " p" + pair_str(p.pad_h, p.pad_w) + " op" +
                     pair_str(p.output_pad_h, p.output_pad_w) + " d" + pair_str(p.dilation_h, p.dilation_w) +
                     " g" + std::to_string(p.groups) + (bias ? " bias" : " no bias");
  OpCase c{"conv_transpose2d", name, inputs, [bias, p](const Inputs& v) {
             return ops::conv_transpose2d(v[0], v[1], bias ? v[2] : Tensor(), p);
           }};
  c.bf16 = true;
  c.tf32 = true;
  add_case(c);
}

ops::Conv2dParams cp(int sh, int sw, int ph, int pw, int dh = 1, int dw = 1, int groups = 1) {
  ops::Conv2dParams p;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_h = ph;
  p.pad_w = pw;
  p.dilation_h = dh;
  p.dilation_w = dw;
  p.groups = groups;
  return p;
}

ops::ConvTranspose2dParams tp(int s, int pad, int out_pad, int groups = 1, int dil = 1) {
  ops::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = s;
  p.pad_h = p.pad_w = pad;
  p.output_pad_h = p.output_pad_w = out_pad;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  return p;
}

}  // namespace

SAKUGA_OP_CASES(conv) {
  conv_case("3x3", {2, 3, 5, 6}, {4, 3, 3, 3}, true, cp(1, 1, 1, 1));
  conv_case("3x3 no pad", {1, 2, 6, 5}, {3, 2, 3, 3}, false, cp(1, 1, 0, 0));
  conv_case("3x3 stride 2 odd", {2, 3, 7, 9}, {4, 3, 3, 3}, true, cp(2, 2, 1, 1));
  conv_case("7x7 stride 2", {1, 2, 9, 11}, {3, 2, 7, 7}, false, cp(2, 2, 3, 3));
  conv_case("1x1", {2, 4, 3, 5}, {3, 4, 1, 1}, true, cp(1, 1, 0, 0));
  conv_case("1x1 stride 2", {2, 4, 5, 7}, {3, 4, 1, 1}, false, cp(2, 2, 0, 0));
  conv_case("1x1 padded", {1, 3, 3, 4}, {2, 3, 1, 1}, true, cp(1, 1, 1, 1));
  conv_case("dilation 2", {1, 3, 8, 9}, {2, 3, 3, 3}, true, cp(1, 1, 2, 2, 2, 2));
  conv_case("dilation (2,3) stride 2", {1, 2, 9, 12}, {3, 2, 3, 3}, false, cp(2, 2, 1, 3, 2, 3));
  conv_case("groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, true, cp(1, 1, 1, 1, 1, 1, 2));
  conv_case("groups 3 stride 2", {1, 6, 7, 6}, {3, 2, 3, 3}, false, cp(2, 2, 1, 1, 1, 1, 3));
  conv_case("depthwise", {2, 4, 6, 6}, {4, 1, 3, 3}, true, cp(1, 1, 1, 1, 1, 1, 4));
  conv_case("depthwise x2 stride 2", {1, 3, 7, 7}, {6, 1, 3, 3}, false, cp(2, 2, 1, 1, 1, 1, 3));
  conv_case("1x7", {1, 3, 6, 10}, {4, 3, 1, 7}, true, cp(1, 1, 0, 3));
  conv_case("7x1", {1, 3, 10, 6}, {4, 3, 7, 1}, true, cp(1, 1, 3, 0));
  conv_case("1x25", {1, 2, 3, 30}, {2, 2, 1, 25}, false, cp(1, 1, 0, 12));
  conv_case("25x1", {1, 2, 30, 3}, {2, 2, 25, 1}, true, cp(1, 1, 12, 0));
  conv_case("asymmetric stride/pad", {2, 2, 7, 8}, {3, 2, 3, 2}, true, cp(2, 1, 1, 0));
  conv_case("kernel > input (padded)", {1, 2, 3, 3}, {2, 2, 5, 5}, false, cp(1, 1, 2, 2));
  // The CUDA bias gradient's layouts (parity only: the small cases above grad-check the op):
  // many pixels and few channels (chunked: several blocks per channel, chunks across rows),
  // more channels than the chunking threshold (one block each), and 1×1 maps (column sums).
  conv_case("bias grad, 3 channels of 2x110x190 px", {2, 2, 110, 190}, {3, 2, 1, 1}, true, cp(1, 1, 0, 0), false);
  conv_case("bias grad, 1030 channels", {1, 4, 3, 2}, {1030, 4, 1, 1}, true, cp(1, 1, 0, 0), false);
  conv_case("bias grad, 1x1 maps", {33, 8, 1, 1}, {6, 8, 1, 1}, true, cp(1, 1, 0, 0), false);

  convt_case("4x4 stride 2", {2, 3, 4, 5}, {3, 2, 4, 4}, 1, true, tp(2, 1, 0));
  convt_case("3x3 stride 2 output_pad 1", {1, 3, 4, 3}, {3, 4, 3, 3}, 1, true, tp(2, 1, 1));
  convt_case("3x3 stride 1", {1, 2, 5, 4}, {2, 3, 3, 3}, 1, false, tp(1, 1, 0));
  convt_case("groups 2", {2, 4, 3, 4}, {4, 3, 3, 3}, 2, true, tp(2, 1, 1, 2));
  convt_case("depthwise", {1, 3, 4, 4}, {3, 1, 4, 4}, 3, false, tp(2, 1, 0, 3));
  convt_case("dilation 2", {1, 2, 4, 4}, {2, 2, 3, 3}, 1, true, tp(2, 2, 1, 1, 2));
}
