#pragma once
// Optimizer family: the update math of SGD, Adam/AdamW and RMSprop (PyTorch semantics), and
// the multi-tensor helpers of gradient clipping (sum of squares / max |g|, scale, clamp).
//
// Every function takes a list of tensors (OptimTensor: raw pointers + size + the per-tensor
// scalars) and updates all of them. On CUDA the list is one fused launch in the style of
// apex/torch's multi_tensor_apply: a table of the tensors and their (tensor, chunk) pairs lives
// on the device — cached, uploaded again only when a pointer or size changes — the per-step
// scalars are kernel arguments, and each block updates one chunk of one tensor. The CPU reference is a
// straight loop per tensor over the same scalar math (below), so both compute one formula.
#include <cmath>

#include "kernels/common.h"

namespace sakuga::kernels {

// One parameter and its state. Unused state pointers are null.
struct OptimTensor {
  void* param = nullptr;       // updated in place
  const void* grad = nullptr;  // read only (never modified)
  void* s0 = nullptr;          // SGD: momentum_buffer | Adam: exp_avg | RMSprop: square_avg
  void* s1 = nullptr;          // Adam: exp_avg_sq | RMSprop: momentum_buffer
  void* s2 = nullptr;          // Adam: max_exp_avg_sq (amsgrad) | RMSprop: grad_avg (centered)
  int64_t n = 0;               // elements
  // Per-tensor scalars (from its parameter group and its own step count).
  double lr = 0;
  double weight_decay = 0;
  int64_t step = 0;  // this tensor's step count including the current one (1 on its first update)
};

struct SgdHyper {
  double momentum = 0, dampening = 0;
  bool nesterov = false;
};

struct AdamHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool decoupled = false;  // AdamW: p *= 1 − lr·wd before the Adam step (no wd in the gradient)
  bool amsgrad = false;
};

struct RmspropHyper {
  double alpha = 0.99, eps = 1e-8, momentum = 0;
  bool centered = false;
};

// --- scalar math shared by the CPU and CUDA kernels ------------------------------------------
// Per-tensor constants computed once on the host (in double, as PyTorch does in Python).
struct AdamScalars {
  double step_size;         // lr / (1 − β1^t)
  double bias2_sqrt;        // sqrt(1 − β2^t)
  double decay;             // AdamW: 1 − lr·wd (1 otherwise)
  double wd;                // Adam: wd added to the gradient (0 for AdamW)
};
inline AdamScalars adam_scalars(const AdamHyper& h, const OptimTensor& t) {
  AdamScalars s;
  double bc1 = 1.0 - std::pow(h.beta1, double(t.step));
  double bc2 = 1.0 - std::pow(h.beta2, double(t.step));
  s.step_size = t.lr / bc1;
  s.bias2_sqrt = std::sqrt(bc2);
  s.decay = h.decoupled ? 1.0 - t.lr * t.weight_decay : 1.0;
  s.wd = h.decoupled ? 0.0 : t.weight_decay;
  return s;
}

// torch.optim.SGD (foreach=False): d = g + wd·p; with momentum, buf = d on the first step,
// else buf = μ·buf + (1 − dampening)·d; d = nesterov ? d + μ·buf : buf; p −= lr·d.
template <class T>
SAKUGA_HD void sgd_elem(T& p, T g, T* buf, T lr, T wd, T mu, T damp, bool nesterov, bool first) {
  T d = wd != T(0) ? g + wd * p : g;
  if (buf) {
    T b = first ? d : mu * (*buf) + (T(1) - damp) * d;
    *buf = b;
    d = nesterov ? d + mu * b : b;
  }
  p = p - lr * d;
}

// torch.optim.Adam / AdamW (foreach=False): m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
// denom = sqrt(v̂)/sqrt(1 − β2^t) + eps (v̂ = max(vmax, v) with amsgrad); p −= step_size·m/denom.
template <class T>
SAKUGA_HD void adam_elem(T& p, T g, T& m, T& v, T* vmax, T step_size, T bias2_sqrt, T decay, T wd, T b1,
                         T b2, T eps) {
  using std::sqrt;
  p = p * decay;
  if (wd != T(0)) g = g + wd * p;
  m = m * b1 + g * (T(1) - b1);
  v = v * b2 + (T(1) - b2) * g * g;
  T vv = v;
  if (vmax) {
    vv = *vmax > v ? *vmax : v;
    *vmax = vv;
  }
  T denom = sqrt(vv) / bias2_sqrt + eps;
  p = p - step_size * (m / denom);
}

// torch.optim.RMSprop: sq = α·sq + (1 − α)·g²; centered: ga = α·ga + (1 − α)·g, avg =
// sqrt(sq − ga²) + eps, else avg = sqrt(sq) + eps; momentum: buf = μ·buf + g/avg, p −= lr·buf;
// else p −= lr·g/avg.
template <class T>
SAKUGA_HD void rmsprop_elem(T& p, T g, T& sq, T* buf, T* ga, T lr, T wd, T alpha, T eps, T mu) {
  using std::sqrt;
  if (wd != T(0)) g = g + wd * p;
  sq = sq * alpha + (T(1) - alpha) * g * g;
  T avg;
  if (ga) {
    *ga = *ga * alpha + (T(1) - alpha) * g;
    avg = sqrt(sq - *ga * *ga) + eps;
  } else {
    avg = sqrt(sq) + eps;
  }
  if (buf) {
    *buf = *buf * mu + g / avg;
    p = p - lr * *buf;
  } else {
    p = p - lr * (g / avg);
  }
}

namespace cpu {
// T = float or double; every tensor in the list has dtype T.
template <class T>
void sgd_step(const OptimTensor* ts, int64_t count, const SgdHyper& h);
template <class T>
void adam_step(const OptimTensor* ts, int64_t count, const AdamHyper& h);
template <class T>
void rmsprop_step(const OptimTensor* ts, int64_t count, const RmspropHyper& h);

// Gradient clipping over a list of (grad) buffers: `grads[i]` has `sizes[i]` elements.
// norm_type 2: returns sqrt(Σ g²) (accumulated in double); norm_type inf: max |g|.
template <class T>
double total_norm(const T* const* grads, const int64_t* sizes, int64_t count, bool inf_norm);
// g *= coef for every buffer.
template <class T>
void scale(T* const* grads, const int64_t* sizes, int64_t count, double coef);
// g = clamp(g, −clip, clip) for every buffer.
template <class T>
void clamp(T* const* grads, const int64_t* sizes, int64_t count, double clip);
}  // namespace cpu

namespace cuda {
// dtype: f32 (master weights). One fused launch for the whole list, queued on `s`; `dev` is
// the device that owns every pointer (the tensor table goes through its caching allocator).
void sgd_step(DType dtype, const OptimTensor* ts, int64_t count, const SgdHyper& h, int dev, Stream s);
void adam_step(DType dtype, const OptimTensor* ts, int64_t count, const AdamHyper& h, int dev, Stream s);
void rmsprop_step(DType dtype, const OptimTensor* ts, int64_t count, const RmspropHyper& h, int dev, Stream s);

// Gradient clipping without a host synchronisation: `norm_out` (one f32 on the device)
// receives the total norm (2-norm or max |g|), computed deterministically (per-chunk partial
// results reduced in a fixed order). Then, when `apply`, every gradient is scaled by
// min(max_norm / (norm + 1e-6), 1) read from the device (torch.nn.utils.clip_grad_norm_).
void clip_grad_norm(DType dtype, void* const* grads, const int64_t* sizes, int64_t count, bool inf_norm,
                    double max_norm, bool apply, void* norm_out, int dev, Stream s);
void clamp(DType dtype, void* const* grads, const int64_t* sizes, int64_t count, double clip, int dev, Stream s);
// Tensor tables uploaded so far (process-wide): a test hook for the table cache.
size_t optim_table_uploads();
}  // namespace cuda

}  // namespace sakuga::kernels
