#pragma once
// Triplet loss on embeddings (redraw.md "Style-aware clustering"; Schroff et al. 2015, FaceNet),
// composed of recorded ops, so it runs and differentiates on every device:
//
//   d(i, j)  = ‖e_i − e_j + ε‖₂   (torch.nn.functional.pairwise_distance, ε = 1e-6)
//   hard     (Hermans et al. 2017, "batch hard"): per anchor i, its farthest positive and its
//            closest negative, ℓ_i = max(0, max_p d(i, p) − min_n d(i, n) + margin); the mean
//            over anchors that have a positive and a negative
//   all      ("batch all"): the mean of max(0, d(i, p) − d(i, n) + margin) over every triplet
//            (i, p, n) with label(p) = label(i), p ≠ i, label(n) ≠ label(i)
//
// Each equals torch.nn.TripletMarginLoss(margin, p=2) on the triplets it picks (the oracle test).
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::losses {

// Rows of x (N, D) scaled to unit L2 norm: x / max(‖x‖₂, eps) (torch.nn.functional.normalize).
Tensor l2_normalize(const Tensor& x, double eps = 1e-12);

// (N, N) distances d(i, j) = ‖x_i − x_j + eps‖₂ of the rows of x (N, D).
Tensor pairwise_distances(const Tensor& x, double eps = 1e-6);

enum class TripletMining { hard, all };
// "hard" | "all"; errors name `where`.
TripletMining parse_triplet_mining(const std::string& s, const std::string& where);
const char* triplet_mining_name(TripletMining m);

// The triplet loss of embeddings (N, D) (normalise them first: the margin is meant for the unit
// sphere) with one label per row. A batch without any valid triplet is an error.
Tensor triplet_loss(const Tensor& embeddings, const std::vector<int>& labels, double margin,
                    TripletMining mining = TripletMining::hard);

}  // namespace sakuga::losses
