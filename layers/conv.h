#pragma once
// Conv2d and ConvTranspose2d with PyTorch's parameters, names and default init:
// kaiming_uniform(a = √5) weight (= U(±1/√fan_in)), bias U(±1/√fan_in), where fan_in is
// weight.size(1)·kh·kw (Cin/groups·kh·kw for Conv2d, Cout/groups·kh·kw for ConvTranspose2d).
// Rectangular kernels (GCN's k×1 / 1×k) through the options struct.
#include "layers/module.h"
#include "tensor/ops/conv.h"
#include "tensor/ops/shape.h"

namespace sakuga::nn {

enum class PaddingMode { zeros, reflect, replicate };

struct Conv2dOptions {
  int64_t in_channels = 0, out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  bool bias = true;
  PaddingMode padding_mode = PaddingMode::zeros;  // Conv2d only
  int output_pad_h = 0, output_pad_w = 0;         // ConvTranspose2d only

  Conv2dOptions(int64_t in, int64_t out, int kernel) : in_channels(in), out_channels(out), kernel_h(kernel), kernel_w(kernel) {}
  Conv2dOptions(int64_t in, int64_t out, int kh, int kw) : in_channels(in), out_channels(out), kernel_h(kh), kernel_w(kw) {}
  Conv2dOptions& stride(int s) { stride_h = stride_w = s; return *this; }
  Conv2dOptions& stride(int h, int w) { stride_h = h; stride_w = w; return *this; }
  Conv2dOptions& padding(int p) { pad_h = pad_w = p; return *this; }
  Conv2dOptions& padding(int h, int w) { pad_h = h; pad_w = w; return *this; }
  Conv2dOptions& dilation(int d) { dilation_h = dilation_w = d; return *this; }
  Conv2dOptions& dilation(int h, int w) { dilation_h = h; dilation_w = w; return *this; }
  Conv2dOptions& with_groups(int g) { groups = g; return *this; }
  Conv2dOptions& with_bias(bool b) { bias = b; return *this; }
  Conv2dOptions& mode(PaddingMode m) { padding_mode = m; return *this; }
  Conv2dOptions& output_padding(int p) { output_pad_h = output_pad_w = p; return *this; }
  Conv2dOptions& output_padding(int h, int w) { output_pad_h = h; output_pad_w = w; return *this; }
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int kernel, int stride = 1, int padding = 0, bool bias = true)
      : Conv2d(Conv2dOptions(in, out, kernel).stride(stride).padding(padding).with_bias(bias)) {}
  explicit Conv2d(const Conv2dOptions& opt);
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  Conv2dOptions options;
  Tensor weight;  // (out, in/groups, kh, kw)
  Tensor bias;    // (out) or undefined
};

// One options struct for both layers; output padding is for ConvTranspose2d only.
using ConvTranspose2dOptions = Conv2dOptions;

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in, int64_t out, int kernel, int stride = 1, int padding = 0, int output_padding = 0,
                  bool bias = true);
  explicit ConvTranspose2d(const ConvTranspose2dOptions& opt);
  std::string type_name() const override { return "ConvTranspose2d"; }
  std::string extra_repr() const override;
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  ConvTranspose2dOptions options;
  Tensor weight;  // (in, out/groups, kh, kw)
  Tensor bias;    // (out) or undefined
};

}  // namespace sakuga::nn
