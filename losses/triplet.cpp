#include "losses/triplet.h"

#include "kernels/common.h"
#include "tensor/ops.h"

namespace sakuga::losses {

Tensor l2_normalize(const Tensor& x, double eps) {
  SAKUGA_CHECK(x.dim() == 2, "l2_normalize: expected rows (N, D), got ", shape_str(x.shape()));
  Tensor norm = ops::sqrt(ops::sum(ops::square(x), {1}, true));  // (N, 1)
  return x / ops::clamp(norm, eps, 1e30);
}

Tensor pairwise_distances(const Tensor& x, double eps) {
  SAKUGA_CHECK(x.dim() == 2, "pairwise_distances: expected rows (N, D), got ", shape_str(x.shape()));
  Tensor diff = ops::unsqueeze(x, 1) - ops::unsqueeze(x, 0);           // (N, N, D)
  return ops::sqrt(ops::sum(ops::square(diff + eps), {2}, false));     // (N, N)
}

TripletMining parse_triplet_mining(const std::string& s, const std::string& where) {
  if (s == "hard") return TripletMining::hard;
  if (s == "all") return TripletMining::all;
  SAKUGA_FAIL(where, ": expected hard or all, got '", s, "'");
}

const char* triplet_mining_name(TripletMining m) { return m == TripletMining::hard ? "hard" : "all"; }

Tensor triplet_loss(const Tensor& e, const std::vector<int>& labels, double margin, TripletMining mining) {
  SAKUGA_CHECK(e.dim() == 2 && e.size(0) == int64_t(labels.size()), "triplet_loss: expected embeddings (N, D) with N = ",
               labels.size(), " labels, got ", shape_str(e.shape()));
  const int64_t n = e.size(0);
  const DType dt = e.dtype();
  const Device dev = e.device();
  Tensor d = pairwise_distances(e);  // (N, N)
  // Masks as constants: big offsets push the entries that are not candidates out of max / min
  // (distances of unit rows are at most 2 + ε).
  constexpr float kBig = 1e4f;
  if (mining == TripletMining::hard) {
    std::vector<float> pos_off(size_t(n * n)), neg_off(size_t(n * n)), valid(size_t(n), 0.f);
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) {
      bool has_pos = false, has_neg = false;
      for (int64_t j = 0; j < n; ++j) {
        const bool pos = j != i && labels[size_t(i)] == labels[size_t(j)], neg = labels[size_t(i)] != labels[size_t(j)];
        pos_off[size_t(i * n + j)] = pos ? 0.f : -kBig;
        neg_off[size_t(i * n + j)] = neg ? 0.f : kBig;
        has_pos |= pos;
        has_neg |= neg;
      }
      if (has_pos && has_neg) {
        valid[size_t(i)] = 1.f;
        ++count;
      }
    }
    SAKUGA_CHECK(count > 0, "triplet_loss: no anchor has both a positive (same label) and a negative");
    Tensor hp = ops::max(d + Tensor::from_vector(pos_off, {n, n}, dt, dev), 1);  // (N)
    Tensor hn = ops::min(d + Tensor::from_vector(neg_off, {n, n}, dt, dev), 1);  // (N)
    Tensor per = ops::relu(hp - hn + margin);
    return ops::sum(per * Tensor::from_vector(valid, {n}, dt, dev)) / double(count);
  }
  std::vector<float> mask(size_t(n * n * n), 0.f);
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < n; ++p) {
      if (p == i || labels[size_t(p)] != labels[size_t(i)]) continue;
      for (int64_t q = 0; q < n; ++q)
        if (labels[size_t(q)] != labels[size_t(i)]) {
          mask[size_t((i * n + p) * n + q)] = 1.f;
          ++count;
        }
    }
  SAKUGA_CHECK(count > 0, "triplet_loss: no triplet (an anchor with a positive of its label and a negative)");
  // t[i, p, q] = d(i, p) − d(i, q) + margin
  Tensor t = ops::relu(ops::unsqueeze(d, 2) - ops::unsqueeze(d, 1) + margin);
  return ops::sum(t * Tensor::from_vector(mask, {n, n, n}, dt, dev)) / double(count);
}

}  // namespace sakuga::losses
