#pragma once
// Checked CUDA / cuBLAS / cuDNN calls: a failure throws sakuga::Error naming the call, the
// file and the line. Every kernel launch (and every cuDNN/cuBLAS call that runs work on the
// device) is followed by SAKUGA_LAUNCH_CHECK().
//
// SAKUGA_LAUNCH_CHECK() reports launch errors (bad configuration, missing kernel image) at
// once. A fault while the kernel runs (illegal address, device-side assert) would only show
// at some later call. With the environment variable SAKUGA_SYNC_LAUNCHES=1 (read once, see
// device::sync_launches()) every check also waits for the device, so such a fault is reported
// at the launch that caused it, with its file and line. That is slow and cannot be used while
// a CUDA graph is being captured; `sakuga info` prints whether it is on.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/common.h"
#include "kernels/device.h"

#define SAKUGA_CUDA_CHECK(call)                                                           \
  do {                                                                                    \
    cudaError_t sakuga_err_ = (call);                                                     \
    if (sakuga_err_ != cudaSuccess)                                                       \
      ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat(               \
          "CUDA call ", #call, " failed: ", cudaGetErrorString(sakuga_err_)));            \
  } while (0)

#define SAKUGA_LAUNCH_CHECK() ::sakuga::cuda::check_launch(__FILE__, __LINE__)

// Grid-stride loop over [0, n) for a kernel launched with grid_for(n).
#define SAKUGA_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

#define SAKUGA_CUBLAS_CHECK(call)                                                         \
  do {                                                                                    \
    cublasStatus_t sakuga_st_ = (call);                                                   \
    if (sakuga_st_ != CUBLAS_STATUS_SUCCESS)                                              \
      ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat(               \
          "cuBLAS call ", #call, " failed: ", cublasGetStatusString(sakuga_st_)));        \
  } while (0)

#define SAKUGA_CUDNN_CHECK(call)                                                          \
  do {                                                                                    \
    cudnnStatus_t sakuga_st_ = (call);                                                    \
    if (sakuga_st_ != CUDNN_STATUS_SUCCESS)                                               \
      ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat(               \
          "cuDNN call ", #call, " failed: ", ::sakuga::cuda::cudnn_status_text(sakuga_st_))); \
  } while (0)

namespace sakuga::cuda {

// The body of SAKUGA_LAUNCH_CHECK (kernels/cuda/runtime.cu).
void check_launch(const char* file, int line);

// cuDNN's name of a status plus, from cuDNN 9 on, its own message about the failure (the
// thread's last error string), e.g. which parameter was bad.
inline std::string cudnn_status_text(cudnnStatus_t st) {
  std::string text = cudnnGetErrorString(st);
#if CUDNN_MAJOR >= 9
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  if (detail[0]) text += std::string(": ") + detail;
#endif
  return text;
}

// cuDNN 9 reports finer codes (e.g. CUDNN_STATUS_NOT_SUPPORTED_SHAPE = 3002) under a category
// (CUDNN_STATUS_NOT_SUPPORTED = 3000); older versions have the categories only.
inline int cudnn_status_category(cudnnStatus_t st) {
#ifdef CUDNN_STATUS_CATEGORY
  return int(CUDNN_STATUS_CATEGORY(int(st)));
#else
  return int(st);
#endif
}

// Grid size for a grid-stride loop over n elements.
inline unsigned grid_for(int64_t n, int block = 256) {
  int64_t g = (n + block - 1) / block;
  return unsigned(g < 1 ? 1 : (g > 65535 * 8 ? 65535 * 8 : g));
}

// Load/store helpers: math in f32 for bf16 storage.
__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16(v); }

// Typed views of the void pointers of the kernel signatures.
template <class T>
const T* cp(const void* p) {
  return static_cast<const T*>(p);
}
template <class T>
T* mp(void* p) {
  return static_cast<T*>(p);
}

// Calls f(T{}) with T = float or __nv_bfloat16.
template <class F>
void dispatch_float_bf16(const char* op, DType dt, F&& f) {
  switch (dt) {
    case DType::f32: f(float{}); return;
    case DType::bf16: f(__nv_bfloat16{}); return;
    default: SAKUGA_FAIL(op, ": CUDA supports f32 and bf16, got ", dtype_name(dt));
  }
}

// Per-device library handles bound to the device's sakuga stream (kernels/cuda/runtime.cu).
cublasHandle_t cublas_handle(int dev);
cublasLtHandle_t cublaslt_handle(int dev);
cudnnHandle_t cudnn_handle(int dev);
int current_device();
// Workspace from the caching allocator, freed when the guard goes out of scope.
class Workspace {
 public:
  Workspace(size_t bytes, int dev);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  int dev_ = 0;
};

}  // namespace sakuga::cuda
