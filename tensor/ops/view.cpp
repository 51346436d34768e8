#include "tensor/ops/view.h"

#include <algorithm>

#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"

namespace sakuga::ops {

namespace {

// A view of x's storage with new geometry (no autograd).
Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl().storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = x.dtype();
  impl->device = x.device();
  return Tensor(impl);
}

}  // namespace

Tensor reshape(const Tensor& x_in, const Shape& shape_in) {
  check_defined("reshape", x_in, "x");
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      SAKUGA_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape_in));
      infer = int64_t(i);
    } else {
      SAKUGA_CHECK(shape[i] >= 0, "reshape: bad size in ", shape_str(shape_in));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    SAKUGA_CHECK(known > 0 && x_in.numel() % known == 0, "reshape: cannot infer -1 in ", shape_str(shape_in),
                 " for ", x_in.numel(), " elements");
    shape[size_t(infer)] = x_in.numel() / known;
  }
  SAKUGA_CHECK(shape_numel(shape) == x_in.numel(), "reshape: ", shape_str(x_in.shape()), " (", x_in.numel(),
               " elements) cannot become ", shape_str(shape_in));
  if (shape == x_in.shape()) return x_in;
  Tensor x = x_in.contiguous();
  Tensor out = make_view(x, shape, contiguous_strides(shape), x.impl().offset);
  Shape in_shape = x.shape();
  return record("reshape", out, {x}, [in_shape](const Tensor& g, const Needs&) -> Grads {
    return {reshape(g, in_shape)};
  });
}

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  int64_t nd = std::max<int64_t>(x.dim(), 1);
  start = wrap_dim("flatten", start, nd);
  end = wrap_dim("flatten", end, nd);
  if (x.dim() == 0) return reshape(x, {1});
  Shape s;
  for (int64_t i = 0; i < start; ++i) s.push_back(x.size(i));
  int64_t m = 1;
  for (int64_t i = start; i <= end; ++i) m *= x.size(i);
  s.push_back(m);
  for (int64_t i = end + 1; i < x.dim(); ++i) s.push_back(x.size(i));
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim("unsqueeze", dim, x.dim() + 1);
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim("squeeze", dim, x.dim());
  SAKUGA_CHECK(x.size(d) == 1, "squeeze: dim ", dim, " of ", shape_str(x.shape()), " is not 1");
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  check_defined("expand", x, "x");
  if (x.shape() == shape) return x;
  SAKUGA_CHECK(shape.size() >= size_t(x.dim()), "expand: ", shape_str(x.shape()), " to ", shape_str(shape));
  Shape strides(shape.size(), 0);
  size_t lead = shape.size() - size_t(x.dim());
  for (size_t i = 0; i < size_t(x.dim()); ++i) {
    int64_t have = x.shape()[i];
    SAKUGA_CHECK(have == shape[lead + i] || have == 1, "expand: cannot broadcast ", shape_str(x.shape()), " to ",
                 shape_str(shape));
    strides[lead + i] = have == 1 ? 0 : x.strides()[i];
  }
  Tensor out = make_view(x, shape, strides, x.impl().offset);
  Shape in_shape = x.shape();
  return record("expand", out, {x}, [in_shape](const Tensor& g, const Needs&) -> Grads {
    return {sum_to(g.contiguous(), in_shape)};
  });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined("permute", x, "x");
  SAKUGA_CHECK(int64_t(dims.size()) == x.dim(), "permute: ", dims.size(), " dims for a tensor of rank ", x.dim());
  Shape s(dims.size()), st(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim("permute", dims[i], x.dim());
    SAKUGA_CHECK(inverse[size_t(d)] < 0, "permute: dim ", d, " repeated");
    inverse[size_t(d)] = int64_t(i);
    s[i] = x.shape()[size_t(d)];
    st[i] = x.strides()[size_t(d)];
  }
  Tensor out = make_view(x, s, st, x.impl().offset);
  return record("permute", out, {x}, [inverse](const Tensor& g, const Needs&) -> Grads {
    return {permute(g, inverse).contiguous()};
  });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  std::vector<int64_t> dims(size_t(x.dim()));
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = int64_t(i);
  std::swap(dims[size_t(wrap_dim("transpose", d0, x.dim()))], dims[size_t(wrap_dim("transpose", d1, x.dim()))]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  check_defined("slice", x, "x");
  int64_t d = wrap_dim("slice", dim, x.dim());
  SAKUGA_CHECK(step > 0, "slice: step must be > 0, got ", step);
  int64_t n = x.size(d);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = x.shape(), st = x.strides();
  s[size_t(d)] = (end - start + step - 1) / step;
  st[size_t(d)] *= step;
  Tensor out = make_view(x, s, st, x.impl().offset + start * x.strides()[size_t(d)]);
  Shape in_shape = x.shape();
  return record("slice", out, {x}, [=](const Tensor& g, const Needs&) -> Grads {
    Tensor gx = Tensor::zeros(in_shape, g.dtype(), g.device());
    Shape gs = in_shape, gst = contiguous_strides(in_shape);
    gs[size_t(d)] = g.size(d);
    int64_t off = start * gst[size_t(d)];
    gst[size_t(d)] *= step;
    strided_copy(g, make_view(gx, gs, gst, off));
    return {gx};
  });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = wrap_dim("select", dim, x.dim());
  int64_t n = x.size(d);
  SAKUGA_CHECK(index >= -n && index < n, "select: index ", index, " out of range for size ", n);
  if (index < 0) index += n;
  return squeeze(slice(x, d, index, index + 1), d);
}

}  // namespace sakuga::ops
