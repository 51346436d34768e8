#include "optim/clip.h"

#include <cmath>

#include "kernels/optim.h"
#include "tensor/dispatch.h"

namespace sakuga::optim {

namespace {

struct GradList {
  std::vector<Tensor> keep;  // holds the gradient tensors alive
  std::vector<void*> ptrs;
  std::vector<int64_t> sizes;
  Device dev;
  DType dtype = DType::f32;
};

GradList collect(const char* op, const std::vector<Tensor>& params) {
  GradList g;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    Tensor gr = p.grad();
    if (!gr.defined()) continue;
    if (!gr.is_contiguous()) {
      gr = gr.contiguous().detach();
      p.set_grad(gr);
    }
    if (g.keep.empty()) {
      g.dev = gr.device();
      g.dtype = gr.dtype();
    }
    SAKUGA_CHECK(gr.device() == g.dev, op, ": gradients on different devices (", g.dev.str(), " and ",
                 gr.device().str(), ")");
    SAKUGA_CHECK(gr.dtype() == g.dtype, op, ": gradients of different dtypes (", dtype_name(g.dtype), " and ",
                 dtype_name(gr.dtype()), ")");
    g.keep.push_back(gr);
    g.ptrs.push_back(gr.raw());
    g.sizes.push_back(gr.numel());
  }
  return g;
}

bool is_inf_norm(const char* op, double norm_type) {
  if (std::isinf(norm_type) && norm_type > 0) return true;
  SAKUGA_CHECK(norm_type == 2.0, op, ": norm_type must be 2 or inf, got ", norm_type);
  return false;
}

std::vector<Tensor> tensors(const std::vector<std::pair<std::string, Tensor>>& params) {
  std::vector<Tensor> out;
  out.reserve(params.size());
  for (const auto& np : params) out.push_back(np.second);
  return out;
}

Tensor norm_impl(const char* op, const std::vector<Tensor>& params, double max_norm, double norm_type, bool apply) {
  const bool inf = is_inf_norm(op, norm_type);
  GradList g = collect(op, params);
  if (g.keep.empty()) return Tensor::scalar(0.0);
  const int64_t count = int64_t(g.ptrs.size());
  if (g.dev.is_cuda()) {
    Tensor out = Tensor::empty({}, DType::f32, g.dev);
    SAKUGA_CUDA_ONLY(kernels::cuda::clip_grad_norm(g.dtype, g.ptrs.data(), g.sizes.data(), count, inf, max_norm,
                                                   apply, out.raw(), g.dev.index, device::stream(g.dev.index)));
    return out;
  }
  double total = 0;
  dispatch_cpu_float(op, g.dtype, [&](auto t) {
    using T = decltype(t);
    std::vector<const T*> cp;
    std::vector<T*> mp;
    for (void* p : g.ptrs) {
      cp.push_back(static_cast<const T*>(p));
      mp.push_back(static_cast<T*>(p));
    }
    total = kernels::cpu::total_norm<T>(cp.data(), g.sizes.data(), count, inf);
    if (apply) {
      // In the gradients' precision, as torch computes it.
      // torch multiplies by min(coef, 1) (NaN stays NaN); × 1 is skipped as the identity.
      const T coef = T(max_norm) / (T(total) + T(1e-6));
      if (coef < T(1) || coef != coef) kernels::cpu::scale<T>(mp.data(), g.sizes.data(), count, double(coef));
    }
  });
  return Tensor::scalar(total, g.dtype);
}

}  // namespace

Tensor clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  return norm_impl("clip_grad_norm", params, max_norm, norm_type, true);
}
Tensor clip_grad_norm(const std::vector<std::pair<std::string, Tensor>>& params, double max_norm,
                      double norm_type) {
  return clip_grad_norm(tensors(params), max_norm, norm_type);
}
Tensor grad_norm(const std::vector<Tensor>& params, double norm_type) {
  return norm_impl("grad_norm", params, 0.0, norm_type, false);
}

void clip_grad_value(const std::vector<Tensor>& params, double clip) {
  SAKUGA_CHECK(clip >= 0, "clip_grad_value: clip must be non-negative, got ", clip);
  GradList g = collect("clip_grad_value", params);
  if (g.keep.empty()) return;
  const int64_t count = int64_t(g.ptrs.size());
  if (g.dev.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::clamp(g.dtype, g.ptrs.data(), g.sizes.data(), count, clip, g.dev.index,
                                          device::stream(g.dev.index)));
    return;
  }
  dispatch_cpu_float("clip_grad_value", g.dtype, [&](auto t) {
    using T = decltype(t);
    std::vector<T*> mp;
    for (void* p : g.ptrs) mp.push_back(static_cast<T*>(p));
    kernels::cpu::clamp<T>(mp.data(), g.sizes.data(), count, clip);
  });
}
void clip_grad_value(const std::vector<std::pair<std::string, Tensor>>& params, double clip) {
  clip_grad_value(tensors(params), clip);
}

}  // namespace sakuga::optim
