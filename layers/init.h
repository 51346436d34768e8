#pragma once
// Parameter initialisers (torch.nn.init semantics), drawing from the Philox generator of
// tensor/random.h, so the same seed gives the same weights on CPU and CUDA. All fill in place
// and are not recorded by autograd.
#include <string>
#include <utility>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace sakuga::nn::init {

enum class FanMode { fan_in, fan_out };

// (fan_in, fan_out) of a weight: dim 1 × receptive field, dim 0 × receptive field (torch's
// _calculate_fan_in_and_fan_out; a ConvTranspose2d weight (Cin, Cout/g, kh, kw) gets
// fan_in = Cout/g · kh · kw, as in torch). Needs at least 2 dims.
std::pair<int64_t, int64_t> fan_in_and_out(const Tensor& t);
// torch.nn.init.calculate_gain: "linear", "conv2d", "sigmoid" → 1, "tanh" → 5/3, "relu" → √2,
// "leaky_relu" → √(2/(1 + param²)), "selu" → 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(const Tensor& t, double lo = 0.0, double hi = 1.0, Generator& gen = default_generator());
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);

// std = gain / √fan with gain = calculate_gain(nonlinearity, a); uniform bound = √3 · std.
void kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
// std = gain · √(2 / (fan_in + fan_out)); uniform bound = √3 · std.
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

// Rescales each output filter of a weight to norm `scale`: w_f ← scale · w_f / √(Σ w_f² + eps).
// The output filters are the slices along `out_dim`: 0 for Conv2d (Cout, Cin/g, kh, kw) and
// Linear (out, in), 1 for ConvTranspose2d (Cin, Cout/g, kh, kw) (the GADN networks' init,
// gadn.md "Init": unit norm, ×2 for the stride-2 transposed convolutions, eps 1e-8).
void unit_norm_filters_(const Tensor& weight, int64_t out_dim = 0, double scale = 1.0, double eps = 1e-8);

}  // namespace sakuga::nn::init
