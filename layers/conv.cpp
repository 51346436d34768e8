#include "layers/conv.h"

#include <cmath>

#include "layers/init.h"

namespace sakuga::nn {

namespace {

void check_options(const char* layer, const Conv2dOptions& o) {
  SAKUGA_CHECK(o.in_channels > 0 && o.out_channels > 0, layer, ": channels must be positive, got in=", o.in_channels,
               ", out=", o.out_channels);
  SAKUGA_CHECK(o.kernel_h > 0 && o.kernel_w > 0, layer, ": kernel must be positive, got ", o.kernel_h, "x", o.kernel_w);
  SAKUGA_CHECK(o.stride_h > 0 && o.stride_w > 0, layer, ": stride must be positive");
  SAKUGA_CHECK(o.pad_h >= 0 && o.pad_w >= 0, layer, ": padding must be non-negative");
  SAKUGA_CHECK(o.dilation_h > 0 && o.dilation_w > 0, layer, ": dilation must be positive");
  SAKUGA_CHECK(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0, layer, ": groups ",
               o.groups, " must divide in_channels ", o.in_channels, " and out_channels ", o.out_channels);
}

void default_init(const Tensor& weight, const Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    double bound = 1.0 / std::sqrt(double(init::fan_in_and_out(weight).first));
    init::uniform_(bias, -bound, bound);
  }
}

std::string pair(int a, int b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

std::string common_repr(const Conv2dOptions& o, bool has_bias) {
  std::string s = std::to_string(o.in_channels) + ", " + std::to_string(o.out_channels) +
                  ", kernel_size=" + pair(o.kernel_h, o.kernel_w) + ", stride=" + pair(o.stride_h, o.stride_w);
  if (o.pad_h || o.pad_w) s += ", padding=" + pair(o.pad_h, o.pad_w);
  if (o.dilation_h != 1 || o.dilation_w != 1) s += ", dilation=" + pair(o.dilation_h, o.dilation_w);
  if (o.groups != 1) s += ", groups=" + std::to_string(o.groups);
  if (!has_bias) s += ", bias=false";
  return s;
}

}  // namespace

Conv2d::Conv2d(const Conv2dOptions& opt) : options(opt) {
  check_options("Conv2d", opt);
  SAKUGA_CHECK(opt.output_pad_h == 0 && opt.output_pad_w == 0, "Conv2d: output_padding is for ConvTranspose2d");
  weight = register_parameter(
      "weight", Tensor::empty({opt.out_channels, opt.in_channels / opt.groups, opt.kernel_h, opt.kernel_w}));
  if (opt.bias) bias = register_parameter("bias", Tensor::empty({opt.out_channels}));
  reset_parameters();
}

void Conv2d::reset_parameters() { default_init(weight, bias); }

std::string Conv2d::extra_repr() const {
  std::string s = common_repr(options, bias.defined());
  if (options.padding_mode == PaddingMode::reflect) s += ", padding_mode=reflect";
  if (options.padding_mode == PaddingMode::replicate) s += ", padding_mode=replicate";
  return s;
}

Tensor Conv2d::forward(const Tensor& x) {
  const Conv2dOptions& o = options;
  ops::Conv2dParams p;
  p.stride_h = o.stride_h;
  p.stride_w = o.stride_w;
  p.dilation_h = o.dilation_h;
  p.dilation_w = o.dilation_w;
  p.groups = o.groups;
  if (o.padding_mode == PaddingMode::zeros || (o.pad_h == 0 && o.pad_w == 0)) {
    p.pad_h = o.pad_h;
    p.pad_w = o.pad_w;
    return ops::conv2d(x, weight, bias, p);
  }
  ops::PadMode m = o.padding_mode == PaddingMode::reflect ? ops::PadMode::reflect : ops::PadMode::replicate;
  Tensor xp = ops::pad(x, {o.pad_w, o.pad_w, o.pad_h, o.pad_h}, m);
  return ops::conv2d(xp, weight, bias, p);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int kernel, int stride, int padding, int output_padding,
                                 bool with_bias)
    : ConvTranspose2d(Conv2dOptions(in, out, kernel)
                          .stride(stride)
                          .padding(padding)
                          .output_padding(output_padding)
                          .with_bias(with_bias)) {}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& opt) : options(opt) {
  check_options("ConvTranspose2d", opt);
  SAKUGA_CHECK(opt.padding_mode == PaddingMode::zeros, "ConvTranspose2d: only zero padding is supported");
  SAKUGA_CHECK(opt.output_pad_h >= 0 && opt.output_pad_w >= 0 &&
                   (opt.output_pad_h < opt.stride_h || opt.output_pad_h < opt.dilation_h) &&
                   (opt.output_pad_w < opt.stride_w || opt.output_pad_w < opt.dilation_w),
               "ConvTranspose2d: output_padding must be smaller than stride or dilation");
  weight = register_parameter(
      "weight", Tensor::empty({opt.in_channels, opt.out_channels / opt.groups, opt.kernel_h, opt.kernel_w}));
  if (opt.bias) bias = register_parameter("bias", Tensor::empty({opt.out_channels}));
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() { default_init(weight, bias); }

std::string ConvTranspose2d::extra_repr() const {
  std::string s = common_repr(options, bias.defined());
  if (options.output_pad_h || options.output_pad_w)
    s += ", output_padding=" + pair(options.output_pad_h, options.output_pad_w);
  return s;
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  const ConvTranspose2dOptions& o = options;
  ops::ConvTranspose2dParams p;
  p.stride_h = o.stride_h;
  p.stride_w = o.stride_w;
  p.pad_h = o.pad_h;
  p.pad_w = o.pad_w;
  p.output_pad_h = o.output_pad_h;
  p.output_pad_w = o.output_pad_w;
  p.dilation_h = o.dilation_h;
  p.dilation_w = o.dilation_w;
  p.groups = o.groups;
  return ops::conv_transpose2d(x, weight, bias, p);
}

}  // namespace sakuga::nn
