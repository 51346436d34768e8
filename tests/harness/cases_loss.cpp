// Harness cases: mse, l1, BCE with logits, cross entropy and NLL (every reduction, class
// weights, ignore_index present in the labels, (N, C) and (N, C, d1, ...) layouts).
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

const char* red_name(ops::Reduction r) {
  switch (r) {
    case ops::Reduction::none: return "none";
    case ops::Reduction::mean: return "mean";
    case ops::Reduction::sum: return "sum";
  }
  return "?";
}

// Labels drawn in [0, C] with the value C turned into ignore_index (so about 1 in C+1 items
// are ignored), on the labels' device.
Tensor with_ignored(const Tensor& labels, int64_t C, int64_t ignore_index) {
  std::vector<int32_t> v = labels.to_vector_i32();
  for (int32_t& y : v)
    if (y == C) y = int32_t(ignore_index);
  return Tensor::from_vector_i32(v, labels.shape()).to(labels.device());
}

}  // namespace

SAKUGA_OP_CASES(loss) {
  const ops::Reduction reds[] = {ops::Reduction::none, ops::Reduction::mean, ops::Reduction::sum};

  for (ops::Reduction r : reds) {
    const std::string rn = red_name(r);
    add_case({"mse_loss", "mse_loss (3,4,5) " + rn, {in({3, 4, 5}), in({3, 4, 5})},
              [r](const Inputs& v) { return ops::mse_loss(v[0], v[1], r); }});
    add_case({"mse_loss", "mse_loss (6,7) const target " + rn, {in({6, 7}), constant(in({6, 7}))},
              [r](const Inputs& v) { return ops::mse_loss(v[0], v[1], r); }});
    add_case({"l1_loss", "l1_loss (3,4,5) " + rn, {in({3, 4, 5}), in({3, 4, 5})},
              [r](const Inputs& v) { return ops::l1_loss(v[0], v[1], r); }});

    // BCE with logits: target in [0, 1] (differentiable, as in PyTorch), with/without pos_weight.
    add_case({"bce_with_logits", "bce_with_logits (4,5) " + rn, {in({4, 5}, 3.0), uniform({4, 5}, 0.0, 1.0)},
              [r](const Inputs& v) { return ops::bce_with_logits(v[0], v[1], r); }});
    add_case({"bce_with_logits", "bce_with_logits (2,3,4,5) pos_weight (5) " + rn,
              {in({2, 3, 4, 5}, 3.0), uniform({2, 3, 4, 5}, 0.0, 1.0), uniform({5}, 0.5, 3.0)},
              [r](const Inputs& v) { return ops::bce_with_logits(v[0], v[1], r, v[2]); }});
    add_case({"bce_with_logits", "bce_with_logits (2,3,4,5) pos_weight (3,1,1) const target " + rn,
              {in({2, 3, 4, 5}, 3.0), constant(uniform({2, 3, 4, 5}, 0.0, 1.0)), uniform({3, 1, 1}, 0.5, 3.0)},
              [r](const Inputs& v) { return ops::bce_with_logits(v[0], v[1], r, v[2]); }});

    // Cross entropy and NLL on (N, C): plain, class weights, ignore_index, both.
    for (bool weighted : {false, true}) {
      for (bool ignore : {false, true}) {
        const std::string tag = std::string(weighted ? " weighted" : "") + (ignore ? " ignore_index" : "") + " " + rn;
        const int64_t C = 5, ig = -100;
        std::vector<InputSpec> ins = {in({6, C}, 2.0), labels({6}, int(ignore ? C + 1 : C))};
        if (weighted) ins.push_back(constant(uniform({C}, 0.3, 2.0)));
        add_case({"cross_entropy", "cross_entropy (6,5)" + tag, ins, [=](const Inputs& v) {
                    Tensor t = ignore ? with_ignored(v[1], C, ig) : v[1];
                    return ops::cross_entropy(v[0], t, weighted ? v[2] : Tensor(), ig, r);
                  }});
        std::vector<InputSpec> nins = {in({6, C}, 2.0), labels({6}, int(ignore ? C + 1 : C))};
        if (weighted) nins.push_back(constant(uniform({C}, 0.3, 2.0)));
        add_case({"nll_loss", "nll_loss (6,5)" + tag, nins, [=](const Inputs& v) {
                    Tensor t = ignore ? with_ignored(v[1], C, ig) : v[1];
                    return ops::nll_loss(v[0], t, weighted ? v[2] : Tensor(), ig, r);
                  }});
      }
    }

    // (N, C, H, W) segmentation layout with odd H/W, weights and ignore_index 255.
    add_case({"cross_entropy", "cross_entropy (2,4,5,3) weighted ignore 255 " + rn,
              {in({2, 4, 5, 3}, 2.0), labels({2, 5, 3}, 5), constant(uniform({4}, 0.3, 2.0))},
              [r](const Inputs& v) { return ops::cross_entropy(v[0], with_ignored(v[1], 4, 255), v[2], 255, r); }});
    add_case({"cross_entropy", "cross_entropy (2,3,7) " + rn, {in({2, 3, 7}, 2.0), labels({2, 7}, 3)},
              [r](const Inputs& v) { return ops::cross_entropy(v[0], v[1], Tensor(), -100, r); }});
    add_case({"nll_loss", "nll_loss (2,4,3,5) weighted ignore -1 " + rn,
              {in({2, 4, 3, 5}), labels({2, 3, 5}, 5), constant(uniform({4}, 0.3, 2.0))},
              [r](const Inputs& v) { return ops::nll_loss(v[0], with_ignored(v[1], 4, -1), v[2], -1, r); }});
  }

  // Many classes: the block-per-row path of the CUDA cross entropy (C > 2048).
  {
    OpCase c{"cross_entropy", "cross_entropy (3,3000) weighted mean",
             {in({3, 3000}, 2.0), labels({3}, 3000), constant(uniform({3000}, 0.3, 2.0))},
             [](const Inputs& v) { return ops::cross_entropy(v[0], v[1], v[2]); }};
    c.max_probe = 24;
    add_case(c);
  }
  // Unbatched (C) logits with a 0-dim target.
  add_case({"cross_entropy", "cross_entropy unbatched (7)", {in({7}), labels({}, 7)},
            [](const Inputs& v) { return ops::cross_entropy(v[0], v[1]); }});
  // cross_entropy == nll_loss(log_softmax) (the composition is checked by the harness too).
  add_case({"nll_loss", "nll_loss(log_softmax) (4,6,3)", {in({4, 6, 3}), labels({4, 3}, 6)},
            [](const Inputs& v) { return ops::nll_loss(ops::log_softmax(v[0], 1), v[1]); }});
}
