// CUDA convolution family: cuDNN (legacy convolution API) for the three convolution passes,
// a small kernel for the bias and a chunked deterministic reduction for its gradient.
//
// Algorithm choice: once per (device, direction, geometry, dtype, math mode, determinism), from
// cuDNN's heuristics (cudnnGet*Algorithm_v7), kept in a process-wide map. Candidates are
// filtered by
//   - status (supported for this geometry),
//   - determinism (device::deterministic(): only CUDNN_DETERMINISTIC algorithms; bwd-data
//     ALGO_0 and bwd-filter ALGO_0/ALGO_3 are excluded by number as well),
//   - math type (precision fp32 on f32 data: always run under CUDNN_FMA_MATH, i.e. no TF32),
//   - workspace (≤ kMaxWorkspace).
// The first candidate that runs is remembered (per geometry and operand alignment); one that
// cuDNN rejects at run time (a status in the NOT_SUPPORTED or BAD_PARAM category: cuDNN 9 has
// finer codes within each) is skipped, and a cached choice rejected later sends the call back
// to the search. Other failures are errors carrying cuDNN's own message.
// Math type: fp32 → CUDNN_FMA_MATH; tf32 → CUDNN_DEFAULT_MATH (TF32 tensor cores allowed, as in
// PyTorch); bf16 data → CUDNN_TENSOR_OP_MATH (bf16 operands, f32 accumulation).
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/group_reduce.cuh"
#include "kernels/gemm.h"
#include "kernels/device.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr size_t kMaxWorkspace = size_t(1) << 30;  // 1 GiB

cudnnDataType_t cudnn_dtype(const char* op, DType dt) {
  switch (dt) {
    case DType::f32: return CUDNN_DATA_FLOAT;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
    default: SAKUGA_FAIL(op, ": CUDA supports f32 and bf16, got ", dtype_name(dt));
  }
}

// The math type requested from cuDNN for this dtype under the current precision.
cudnnMathType_t requested_math(DType dt) {
  if (dt == DType::bf16) return CUDNN_TENSOR_OP_MATH;
  return device::precision() == device::Precision::fp32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

// One cuDNN descriptor, destroyed with its owner (so a constructor that throws half-way
// through a Descs leaks nothing).
template <class H, cudnnStatus_t (*Create)(H*), cudnnStatus_t (*Destroy)(H)>
class Desc {
 public:
  Desc() { SAKUGA_CUDNN_CHECK(Create(&h_)); }
  ~Desc() { Destroy(h_); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  operator H() const { return h_; }

 private:
  H h_ = nullptr;
};
using TensorDesc = Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Desc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    Desc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

// Descriptors of one call (host-only objects, cheap to build).
struct Descs {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;

  Descs(const char* op, const ConvGeometry& g, DType dt) {
    const cudnnDataType_t t = cudnn_dtype(op, dt);
    SAKUGA_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, t, int(g.n), int(g.c_in), int(g.h), int(g.w)));
    SAKUGA_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, t, int(g.n), int(g.c_out), int(g.ho), int(g.wo)));
    SAKUGA_CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(w, t, CUDNN_TENSOR_NCHW, int(g.c_out), int(g.c_in_g()), int(g.kh), int(g.kw)));
    SAKUGA_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, int(g.pad_h), int(g.pad_w), int(g.stride_h),
                                                       int(g.stride_w), int(g.dil_h), int(g.dil_w),
                                                       CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    SAKUGA_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, int(g.groups)));
    SAKUGA_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, requested_math(dt)));
    int on = 0, oc = 0, oh = 0, ow = 0;
    SAKUGA_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &on, &oc, &oh, &ow));
    SAKUGA_CHECK(on == g.n && oc == g.c_out && oh == g.ho && ow == g.wo, op, ": cuDNN output shape (", on, ", ",
                 oc, ", ", oh, ", ", ow, ") differs from the geometry (", g.n, ", ", g.c_out, ", ", g.ho, ", ", g.wo,
                 ")");
  }
};

// Runs the cuDNN handle on `s` for the scope (restoring its previous stream).
class StreamGuard {
 public:
  StreamGuard(cudnnHandle_t h, Stream s) : h_(h) {
    SAKUGA_CUDNN_CHECK(cudnnGetStream(h_, &prev_));
    if (prev_ != s) {
      SAKUGA_CUDNN_CHECK(cudnnSetStream(h_, s));
      changed_ = true;
    }
  }
  ~StreamGuard() {
    if (changed_) cudnnSetStream(h_, prev_);
  }

 private:
  cudnnHandle_t h_;
  cudaStream_t prev_ = nullptr;
  bool changed_ = false;
};

enum class Dir : int { fwd = 0, bwd_data = 1, bwd_filter = 2 };
const char* dir_name(Dir d) {
  return d == Dir::fwd ? "conv2d_forward" : d == Dir::bwd_data ? "conv2d_backward_data" : "conv2d_backward_filter";
}

struct Candidate {
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

// The largest power of two (≤ 256) that divides every address: some algorithms need aligned
// operands, so the choice is remembered per alignment class as well.
int64_t alignment_class(const void* a, const void* b, const void* out) {
  const uintptr_t bits = reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) |
                         reinterpret_cast<uintptr_t>(out) | uintptr_t(256);
  return int64_t(bits & (~bits + 1));
}

using Key = std::array<int64_t, 22>;
Key make_key(Dir dir, const ConvGeometry& g, DType dt, int dev, int64_t align) {
  return {int64_t(dir), int64_t(dt), int64_t(requested_math(dt)), device::deterministic() ? 1 : 0, dev,
          g.n, g.c_in, g.h, g.w, g.c_out, g.ho, g.wo, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
          g.dil_h, g.dil_w, g.groups, align};
}

// A status that rules out one candidate (try the next) rather than the whole call. cuDNN 9
// returns finer codes within these categories (e.g. NOT_SUPPORTED_SHAPE, BAD_PARAM_MISALIGNED_
// POINTER), so the category is compared, not the code.
bool candidate_rejected(cudnnStatus_t st) {
  const int cat = sakuga::cuda::cudnn_status_category(st);
  return cat == int(CUDNN_STATUS_NOT_SUPPORTED) || cat == int(CUDNN_STATUS_BAD_PARAM);
}

std::mutex g_cache_mutex;
std::map<Key, Candidate>& cache() {
  static std::map<Key, Candidate> m;
  return m;
}

bool nondeterministic_algo(Dir dir, int algo) {
  if (dir == Dir::bwd_data) return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  if (dir == Dir::bwd_filter)
    return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  return false;
}

// Workspace bytes of `algo` under `math` (nullopt when cuDNN does not support it here).
std::optional<size_t> workspace_size(Dir dir, cudnnHandle_t h, const Descs& d, int algo, cudnnMathType_t math) {
  SAKUGA_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, math));
  size_t bytes = 0;
  cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
  switch (dir) {
    case Dir::fwd:
      st = cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, cudnnConvolutionFwdAlgo_t(algo), &bytes);
      break;
    case Dir::bwd_data:
      st = cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, cudnnConvolutionBwdDataAlgo_t(algo),
                                                        &bytes);
      break;
    case Dir::bwd_filter:
      st = cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w,
                                                          cudnnConvolutionBwdFilterAlgo_t(algo), &bytes);
      break;
  }
  if (st != CUDNN_STATUS_SUCCESS) return std::nullopt;
  return bytes;
}

// Heuristic candidates, best first, filtered as described at the top of the file.
template <class Perf>
void filter_perfs(Dir dir, DType dt, const Perf* perfs, int count, cudnnHandle_t h, const Descs& d,
                  std::vector<Candidate>& out) {
  const bool det = device::deterministic();
  const bool strict_fp32 = dt == DType::f32 && device::precision() == device::Precision::fp32;
  for (int i = 0; i < count; ++i) {
    const Perf& p = perfs[i];
    if (p.status != CUDNN_STATUS_SUCCESS) continue;
    if (det && (p.determinism != CUDNN_DETERMINISTIC || nondeterministic_algo(dir, int(p.algo)))) continue;
    // fp32 on f32 data: run every candidate under FMA math (as PyTorch does with TF32 off;
    // the reported math type is not always FMA); one that cannot is rejected at launch.
    const cudnnMathType_t math = strict_fp32 ? CUDNN_FMA_MATH : p.mathType;
    std::optional<size_t> ws = workspace_size(dir, h, d, int(p.algo), math);
    if (!ws || *ws > kMaxWorkspace) continue;
    bool dup = false;
    for (const Candidate& c : out) dup |= c.algo == int(p.algo) && c.math == math;
    if (!dup) out.push_back({int(p.algo), math, *ws});
  }
}

std::vector<Candidate> candidates(Dir dir, DType dt, cudnnHandle_t h, const Descs& d) {
  std::vector<Candidate> out;
  int returned = 0;
  switch (dir) {
    case Dir::fwd: {
      cudnnConvolutionFwdAlgoPerf_t perfs[CUDNN_CONVOLUTION_FWD_ALGO_COUNT * 2];
      SAKUGA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y,
                                                                 CUDNN_CONVOLUTION_FWD_ALGO_COUNT * 2, &returned, perfs));
      filter_perfs(dir, dt, perfs, returned, h, d, out);
      break;
    }
    case Dir::bwd_data: {
      cudnnConvolutionBwdDataAlgoPerf_t perfs[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT * 2];
      SAKUGA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, d.w, d.y, d.conv, d.x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT * 2, &returned, perfs));
      filter_perfs(dir, dt, perfs, returned, h, d, out);
      break;
    }
    case Dir::bwd_filter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perfs[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT * 2];
      SAKUGA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, d.x, d.y, d.conv, d.w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT * 2, &returned, perfs));
      filter_perfs(dir, dt, perfs, returned, h, d, out);
      break;
    }
  }
  // Last resort: the plain implicit-GEMM algorithms (deterministic, no TF32 under FMA math).
  const int fallback = dir == Dir::fwd        ? int(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM)
                       : dir == Dir::bwd_data ? int(CUDNN_CONVOLUTION_BWD_DATA_ALGO_1)
                                              : int(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
  const cudnnMathType_t fb_math = requested_math(dt);
  bool have = false;
  for (const Candidate& c : out) have |= c.algo == fallback && c.math == fb_math;
  if (!have) {
    std::optional<size_t> ws = workspace_size(dir, h, d, fallback, fb_math);
    if (ws) out.push_back({fallback, fb_math, *ws});
  }
  return out;
}

cudnnStatus_t launch(Dir dir, cudnnHandle_t h, const Descs& d, const Candidate& c, void* ws, const void* a,
                     const void* b, void* out) {
  const float alpha = 1.f, beta = 0.f;
  cudnnStatus_t st = cudnnSetConvolutionMathType(d.conv, c.math);
  if (st != CUDNN_STATUS_SUCCESS) return st;
  switch (dir) {
    case Dir::fwd:  // a = x, b = w, out = y
      return cudnnConvolutionForward(h, &alpha, d.x, a, d.w, b, d.conv, cudnnConvolutionFwdAlgo_t(c.algo), ws,
                                     c.workspace, &beta, d.y, out);
    case Dir::bwd_data:  // a = gy, b = w, out = gx
      return cudnnConvolutionBackwardData(h, &alpha, d.w, b, d.y, a, d.conv, cudnnConvolutionBwdDataAlgo_t(c.algo),
                                          ws, c.workspace, &beta, d.x, out);
    case Dir::bwd_filter:  // a = x, b = gy, out = gw
      return cudnnConvolutionBackwardFilter(h, &alpha, d.x, a, d.y, b, d.conv,
                                            cudnnConvolutionBwdFilterAlgo_t(c.algo), ws, c.workspace, &beta, d.w, out);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// Launches candidate c with a workspace of its size from the caching allocator.
cudnnStatus_t launch_with_workspace(Dir dir, cudnnHandle_t h, const Descs& d, const Candidate& c, int dev,
                                    const void* a, const void* b, void* out) {
  std::optional<sakuga::cuda::Workspace> ws;
  if (c.workspace > 0) ws.emplace(c.workspace, dev);
  return launch(dir, h, d, c, ws ? ws->get() : nullptr, a, b, out);
}

[[noreturn]] void fail_no_algorithm(const char* op, const ConvGeometry& g, DType dt, size_t tried,
                                    const std::string& last) {
  SAKUGA_FAIL(op, ": no usable cuDNN algorithm for x (", g.n, ", ", g.c_in, ", ", g.h, ", ", g.w, "), w (", g.c_out,
              ", ", g.c_in_g(), ", ", g.kh, ", ", g.kw, "), stride (", g.stride_h, ", ", g.stride_w, "), pad (",
              g.pad_h, ", ", g.pad_w, "), dilation (", g.dil_h, ", ", g.dil_w, "), groups ", g.groups, ", ",
              dtype_name(dt), device::deterministic() ? ", deterministic" : "", " (", tried,
              " candidates; last status: ", last, ")");
}

// One convolution pass with the cached (or newly chosen) algorithm. A cached choice that cuDNN
// rejects now (a candidate can depend on more than the key, e.g. on workspace limits) sends the
// call back to the search, which replaces the cache entry with the candidate that runs.
void run(Dir dir, const ConvGeometry& g, DType dt, const void* a, const void* b, void* out, Stream s) {
  const char* op = dir_name(dir);
  const int dev = sakuga::cuda::current_device();
  cudnnHandle_t h = sakuga::cuda::cudnn_handle(dev);
  StreamGuard sg(h, s);
  Descs d(op, g, dt);
  const Key key = make_key(dir, g, dt, dev, alignment_class(a, b, out));
  std::optional<Candidate> cached;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto it = cache().find(key);
    if (it != cache().end()) cached = it->second;
  }
  if (cached) {
    const cudnnStatus_t st = launch_with_workspace(dir, h, d, *cached, dev, a, b, out);
    if (st == CUDNN_STATUS_SUCCESS) {
      SAKUGA_LAUNCH_CHECK();
      return;
    }
    if (!candidate_rejected(st))
      SAKUGA_FAIL(op, ": cuDNN algorithm ", cached->algo, " failed: ", sakuga::cuda::cudnn_status_text(st));
  }
  std::vector<Candidate> cands = candidates(dir, dt, h, d);
  std::string last = "none tried";
  for (const Candidate& c : cands) {
    if (cached && c.algo == cached->algo && c.math == cached->math) continue;  // rejected just now
    const cudnnStatus_t st = launch_with_workspace(dir, h, d, c, dev, a, b, out);
    if (st == CUDNN_STATUS_SUCCESS) {
      SAKUGA_LAUNCH_CHECK();
      std::lock_guard<std::mutex> lock(g_cache_mutex);
      cache()[key] = c;
      return;
    }
    last = sakuga::cuda::cudnn_status_text(st);
    if (!candidate_rejected(st)) SAKUGA_FAIL(op, ": cuDNN algorithm ", c.algo, " failed: ", last);
  }
  fail_no_algorithm(op, g, dt, cands.size(), last);
}

bool empty_geometry(const ConvGeometry& g) {
  return g.n == 0 || g.c_in == 0 || g.c_out == 0 || g.ho == 0 || g.wo == 0;
}

// I = uint32_t when the tensor has fewer than 2^31 elements: 32-bit division per element.
template <class T, class I>
__global__ void bias_add_kernel(T* y, const T* bias, I total, I c, I hw) {
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += I(gridDim.x) * I(blockDim.x))
    store(y, int64_t(i), load(y, int64_t(i)) + load(bias, int64_t((i / hw) % c)));
}

// Σ gy over the pixels and images of one channel: gy viewed as (N, C, HW), group = channel.
template <class T>
struct LoadGy {
  const T* gy;
  __device__ group::Sums<1> operator()(int64_t i, int64_t) const { return {{load(gy, i)}}; }
};

// gb[c] = the chunk sums of channel c added in order.
template <class T>
__global__ void bias_grad_final_kernel(const float* partial, group::Plan p, T* gb) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < p.G; c += int64_t(gridDim.x) * blockDim.x)
    store(gb, c, float(group::group_total(partial, p, 0, c)));
}

}  // namespace

void conv2d_forward(const ConvGeometry& g, DType dtype, const void* x, const void* w, const void* bias, void* y,
                    Stream s) {
  if (empty_geometry(g)) return;
  run(Dir::fwd, g, dtype, x, w, y, s);
  if (bias) bias_add(dtype, y, bias, g.n, g.c_out, g.ho * g.wo, s);
}

void conv2d_backward_data(const ConvGeometry& g, DType dtype, const void* gy, const void* w, void* gx, Stream s) {
  if (g.n == 0 || g.c_in == 0) return;
  if (empty_geometry(g)) {
    SAKUGA_CUDA_CHECK(cudaMemsetAsync(gx, 0, size_t(g.n * g.c_in * g.h * g.w) * dtype_size(dtype), s));
    return;
  }
  run(Dir::bwd_data, g, dtype, gy, w, gx, s);
}

void conv2d_backward_filter(const ConvGeometry& g, DType dtype, const void* x, const void* gy, void* gw, Stream s) {
  if (g.c_out == 0) return;
  if (empty_geometry(g)) {
    SAKUGA_CUDA_CHECK(cudaMemsetAsync(gw, 0, size_t(g.c_out * g.c_in_g() * g.kh * g.kw) * dtype_size(dtype), s));
    return;
  }
  run(Dir::bwd_filter, g, dtype, x, gy, gw, s);
}

void bias_add(DType dtype, void* y, const void* bias, int64_t n, int64_t c, int64_t hw, Stream s) {
  const int64_t total = n * c * hw;
  if (total == 0) return;
  sakuga::cuda::dispatch_float_bf16("bias_add", dtype, [&](auto t) {
    using T = decltype(t);
    if (total < (int64_t(1) << 31))
      bias_add_kernel<T, uint32_t><<<grid_for(total), 256, 0, s>>>(static_cast<T*>(y), static_cast<const T*>(bias),
                                                                   uint32_t(total), uint32_t(c), uint32_t(hw));
    else
      bias_add_kernel<T, int64_t><<<grid_for(total), 256, 0, s>>>(static_cast<T*>(y), static_cast<const T*>(bias),
                                                                  total, c, hw);
  });
  SAKUGA_LAUNCH_CHECK();
}

// A chunked two-stage reduction (kernels/cuda/group_reduce.cuh): the GCN head's 10 channels of
// 4×1080×1920 pixels become ~1000 blocks instead of 10. Pixel-less maps (hw = 1, as after a
// global pool) are the column sums of an (n, c) matrix: gemm_bias_grad's coalesced layout.
void bias_grad(DType dtype, const void* gy, void* gb, int64_t n, int64_t c, int64_t hw, Stream s) {
  if (c == 0) return;
  if (hw == 1 && n > 0) {
    gemm_bias_grad(dtype, gy, gb, n, c, c, s);
    return;
  }
  const group::Plan p = group::make_plan(n, c, hw);
  sakuga::cuda::Workspace ws(size_t(p.blocks()) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  sakuga::cuda::dispatch_float_bf16("bias_grad", dtype, [&](auto t) {
    using T = decltype(t);
    group::launch_partial<1>(p, LoadGy<T>{static_cast<const T*>(gy)}, partial, s);
    bias_grad_final_kernel<T><<<grid_for(c), 256, 0, s>>>(partial, p, static_cast<T*>(gb));
    SAKUGA_LAUNCH_CHECK();
  });
}

}  // namespace sakuga::kernels::cuda
