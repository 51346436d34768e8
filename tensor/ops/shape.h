#pragma once
// Shape ops that move data: concat/stack, pad, flip, gather, index_select, one_hot.
// (Pure views — reshape, permute, slice, … — are in tensor/ops/view.h.)
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::ops {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

enum class PadMode { zeros, reflect, replicate };
// `pads` as in torch.nn.functional.pad: (left, right) of the last dim, then (top, bottom) of
// the one before, … Reflect/replicate pad the last one or two dims (reflect needs pad < size).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode = PadMode::zeros, double value = 0.0);
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Bad indices and labels: an error at once on the CPU; on CUDA (no host synchronisation) they
// read 0 / give an all-zero row and raise a deferred error (device::raise_deferred_errors).
//
// out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather); index i32, same rank.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Rows of x along dim picked by a 1-D i32 index (torch.index_select).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// i32 labels of any shape → labels.shape + (classes,) in dtype (torch.nn.functional.one_hot).
// Labels outside [0, classes) are an error (deferred on CUDA, see above).
Tensor one_hot(const Tensor& labels, int64_t classes, DType dtype = DType::f32);

}  // namespace sakuga::ops
