#pragma once
// Gradient clipping with torch.nn.utils semantics. Parameters without a gradient are skipped;
// the gradients must share one device and dtype.
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::optim {

// Total norm of all gradients (as if concatenated): 2-norm, or max |g| for norm_type = inf.
// Every gradient is then multiplied by min(max_norm / (total + 1e-6), 1) in place. Returns the
// total norm before clipping as a 0-dim tensor on the gradients' device (f32 on CUDA, computed
// and applied there without a host synchronisation; call .item() to read it). With no
// gradients at all it returns 0 (f32, CPU).
Tensor clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);
Tensor clip_grad_norm(const std::vector<std::pair<std::string, Tensor>>& params, double max_norm,
                      double norm_type = 2.0);
// The total norm only (no clipping), e.g. for logging.
Tensor grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

// Clamps every gradient element to [−clip, clip] in place.
void clip_grad_value(const std::vector<Tensor>& params, double clip);
void clip_grad_value(const std::vector<std::pair<std::string, Tensor>>& params, double clip);

}  // namespace sakuga::optim
