#include "losses/gadn.h"

#include <cmath>
#include <vector>

#include "kernels/common.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"
#include "tensor/ops/gadn.h"

namespace sakuga::losses {

namespace {

// log C[b, a_b] for log_probs (B, n) and labels (B) i32 → (B).
Tensor picked(const char* what, const Tensor& log_probs, const Tensor& labels) {
  SAKUGA_CHECK(log_probs.defined() && log_probs.dim() == 2, what,
               ": log-probabilities must have shape (B, labels), got ",
               log_probs.defined() ? shape_str(log_probs.shape()) : "undefined");
  SAKUGA_CHECK(
      labels.defined() && labels.dtype() == DType::i32 && labels.dim() == 1 && labels.size(0) == log_probs.size(0),
      what, ": labels must be an i32 tensor of shape ", shape_str(Shape{log_probs.size(0)}), ", got ",
      labels.defined() ? std::string(dtype_name(labels.dtype())) + " " + shape_str(labels.shape())
                       : std::string("undefined"));
  return ops::reshape(ops::gather(log_probs, 1, ops::unsqueeze(labels, 1)), {log_probs.size(0)});
}

}  // namespace

Tensor reconstruction_loss(const Tensor& generated, const Tensor& target, const Tensor& pixel_weight) {
  return ops::pixel_l2_loss(generated, target, pixel_weight);
}

CodeSample sample_code(const Tensor& mean, const Tensor& sigma, Generator& gen, const Tensor& dim_weight) {
  SAKUGA_CHECK(mean.defined(), "sample_code: 'mean' is undefined");
  Tensor eps = randn(mean.shape(), gen, mean.dtype(), mean.device());
  ops::GaussianSampleKl r = ops::gaussian_sample_kl(mean, sigma, eps, dim_weight);
  return {r.z, r.kl};
}

Tensor kl_divergence(const Tensor& mean, const Tensor& sigma, const Tensor& dim_weight) {
  return ops::gaussian_sample_kl(mean, sigma, Tensor(), dim_weight).kl;
}

double nested_dropout_p(int64_t z) {
  SAKUGA_CHECK(z >= 1, "nested dropout: the code must have at least one dimension, got ", z);
  return std::max(0.0, 1.0 - 2.0 / double(z));
}

Tensor nested_dropout_keep_probs(int64_t z, double p, Device device) {
  SAKUGA_CHECK(z >= 1, "nested dropout: the code must have at least one dimension, got ", z);
  SAKUGA_CHECK(p >= 0 && p <= 1, "nested dropout: p must be in [0, 1], got ", p);
  std::vector<float> keep(static_cast<size_t>(z));
  for (int64_t i = 0; i < z; ++i) keep[size_t(i)] = float(i == 0 ? 1.0 : std::pow(p, double(i)));
  return Tensor::from_vector(keep, {z}).to(device);
}

Tensor nested_dropout_mask(int64_t batch, int64_t z, double p, Generator& gen, Device device) {
  SAKUGA_CHECK(batch >= 1, "nested dropout: batch must be >= 1, got ", batch);
  const std::vector<float> keep = nested_dropout_keep_probs(z, p).to_vector();
  const std::vector<float> u = rand_uniform({batch}, 0.0, 1.0, gen).to_vector();  // one level per sample
  std::vector<float> mask(size_t(batch * z));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < z; ++i) mask[size_t(b * z + i)] = keep[size_t(i)] >= u[size_t(b)] ? 1.f : 0.f;
  return Tensor::from_vector(mask, {batch, z}).to(device);
}

Tensor classifier_nll(const Tensor& log_probs, const Tensor& labels) {
  return ops::neg(ops::mean(picked("classifier_nll", log_probs, labels)));
}

Tensor c1_adversarial_loss(const Tensor& log_probs, const Tensor& labels, const Tensor& class_freq, bool capped) {
  const Tensor l = picked("c1_adversarial_loss", log_probs, labels);  // (B)
  if (!capped) return ops::neg(ops::mean(l));
  SAKUGA_CHECK(class_freq.defined() && class_freq.dim() == 1 && class_freq.size(0) == log_probs.size(1),
               "c1_adversarial_loss: class_freq must have shape ", shape_str(Shape{log_probs.size(1)}),
               " (one frequency per label), got ", class_freq.defined() ? shape_str(class_freq.shape()) : "undefined");
  Tensor floor_;  // log freq_a: the classifier's log-likelihood at chance (a constant)
  {
    NoGradGuard ng;
    floor_ = ops::index_select(ops::log(class_freq.to(log_probs.dtype()).to(log_probs.device())), 0, labels);
  }
  // max(l, c) = c + relu(l − c): the gradient is 1 above the cap and 0 below (0 at a tie).
  return ops::neg(ops::mean(floor_ + ops::relu(l - floor_)));
}

Tensor negative_log_unlikelihood(const Tensor& log_probs, const Tensor& labels) {
  const Tensor l = picked("negative_log_unlikelihood", log_probs, labels);
  // −log((1 − p) + 1e−6), p = exp(log C[a']), in the code's order of operations (1 + 1e−6
  // first would round 1e−6 away by 5 % in f32 when p → 1).
  return ops::neg(ops::mean(ops::log(ops::add(ops::add(ops::neg(ops::exp(l)), 1.0), 1e-6))));
}

Tensor lsgan_discriminator_loss(const Tensor& d_real, const Tensor& d_fake) {
  return ops::mean(ops::square(d_real - 1.0)) + ops::mean(ops::square(d_fake + 1.0));
}

Tensor lsgan_generator_loss(const Tensor& d_fake) { return ops::mean(ops::square(d_fake)); }

Tensor content_consistency_loss(const Tensor& mu_fake, const Tensor& mu_real) {
  SAKUGA_CHECK(mu_fake.defined() && mu_real.defined() && mu_fake.dim() == 2 && mu_fake.shape() == mu_real.shape(),
               "content_consistency_loss: codes must both have shape (B, Z), got ",
               mu_fake.defined() ? shape_str(mu_fake.shape()) : "undefined", " and ",
               mu_real.defined() ? shape_str(mu_real.shape()) : "undefined");
  return ops::mean(ops::sum(ops::square(mu_fake - mu_real), {1}));
}

}  // namespace sakuga::losses
