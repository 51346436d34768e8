#pragma once
// Reductions and softmax family. `dims` empty = all dims. Reductions accumulate in the
// input's precision on CPU (f32/f64) and in f32 on CUDA, in a fixed order (deterministic).
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::ops {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Max over one dim (values). The gradient goes to the first maximal element.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
// Index of the first maximal element along dim, as i32 (not differentiable).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);

}  // namespace sakuga::ops
