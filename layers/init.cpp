#include "layers/init.h"

#include <cmath>
#include <vector>

#include "tensor/autograd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"

namespace sakuga::nn::init {

std::pair<int64_t, int64_t> fan_in_and_out(const Tensor& t) {
  SAKUGA_CHECK(t.defined() && t.dim() >= 2, "init: fan in/out needs a tensor with at least 2 dims, got ",
               t.defined() ? shape_str(t.shape()) : "undefined");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "conv1d" || nl == "conv2d" || nl == "conv3d" || nl == "conv_transpose2d" ||
      nl == "sigmoid")
    return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nl == "selu") return 3.0 / 4.0;
  SAKUGA_FAIL("init: unsupported nonlinearity '", nl, "' (linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu)");
}

void uniform_(const Tensor& t, double lo, double hi, Generator& gen) { sakuga::uniform_(t, lo, hi, gen); }
void normal_(const Tensor& t, double mean, double std, Generator& gen) { sakuga::normal_(t, mean, std, gen); }
void constant_(const Tensor& t, double value) {
  if (t.is_contiguous()) {
    t.fill_(value);
  } else {
    t.copy_(Tensor::full(t.shape(), value, t.dtype(), t.device()));
  }
}
void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

static double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nl) {
  auto [fan_in, fan_out] = fan_in_and_out(t);
  int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  SAKUGA_CHECK(fan > 0, "init: kaiming on a tensor with zero fan (shape ", shape_str(t.shape()), ")");
  return calculate_gain(nl, a) / std::sqrt(double(fan));
}

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
  double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nl);
  sakuga::uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
  sakuga::normal_(t, 0.0, kaiming_std(t, a, mode, nl), gen);
}

static double xavier_std(const Tensor& t, double gain) {
  auto [fan_in, fan_out] = fan_in_and_out(t);
  SAKUGA_CHECK(fan_in + fan_out > 0, "init: xavier on an empty tensor");
  return gain * std::sqrt(2.0 / double(fan_in + fan_out));
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  double bound = std::sqrt(3.0) * xavier_std(t, gain);
  sakuga::uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) { sakuga::normal_(t, 0.0, xavier_std(t, gain), gen); }

void unit_norm_filters_(const Tensor& weight, int64_t out_dim, double scale, double eps) {
  SAKUGA_CHECK(weight.defined() && weight.dim() >= 2, "init: unit_norm_filters_ needs a weight with at least 2 dims, got ",
               weight.defined() ? shape_str(weight.shape()) : "undefined");
  SAKUGA_CHECK(out_dim >= 0 && out_dim < weight.dim(), "init: unit_norm_filters_: out_dim ", out_dim,
               " out of range for a weight of shape ", shape_str(weight.shape()));
  SAKUGA_CHECK(eps >= 0, "init: unit_norm_filters_: eps must be >= 0, got ", eps);
  NoGradGuard ng;
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < weight.dim(); ++d)
    if (d != out_dim) dims.push_back(d);
  const Tensor w = weight.detach();
  const Tensor norm = ops::sqrt(ops::add(ops::sum(ops::square(w), dims, true), eps));
  weight.copy_(ops::mul(ops::div(w, norm), scale));
}

}  // namespace sakuga::nn::init
