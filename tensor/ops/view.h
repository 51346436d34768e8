#pragma once
// View ops: new shape/strides over the same storage (no copy), differentiable.
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::ops {

// One dim may be -1 (inferred). Copies only when x is not contiguous.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// Broadcast to `shape` (size-1 dims and new leading dims) as a stride-0 view.
Tensor expand(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
// x[..., start:end:step, ...] along `dim` (negative start/end count from the end; clamped).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
// x.select(dim, index): slice of one element with the dim removed.
Tensor select(const Tensor& x, int64_t dim, int64_t index);

}  // namespace sakuga::ops
