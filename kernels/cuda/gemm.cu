// CUDA GEMM family: cuBLASLt matmuls with one cached plan per problem, the bias fused into the
// epilogue, and a deterministic two-stage column sum for the bias gradient.
//
// Row-major ↔ cuBLASLt (column-major): a row-major C (M×N, ldc) is a column-major Cᵀ (N×M,
// ldc), and C = op(A)·op(B) ⇔ Cᵀ = op(B)ᵀ·op(A)ᵀ. So cuBLASLt is asked for the column-major
// product m = N, n = M, k = K with its "A" = our B (transa = trans_b) and its "B" = our A
// (transb = trans_a); every stored matrix is passed as is, nothing is transposed in memory.
// The bias (length N) is then a per-row vector of the column-major D: CUBLASLT_EPILOGUE_BIAS.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "kernels/cuda/check.cuh"
#include "kernels/device.h"
#include "kernels/gemm.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

constexpr size_t kMaxWorkspace = size_t(32) << 20;  // cuBLASLt workspace cap (H100 guidance)

// ----------------------------------------------------------------------------------------
// Small kernels: K == 0 products, the bias add when no fused epilogue exists, bias gradient.
// ----------------------------------------------------------------------------------------

// C = beta·C (+ bias) over batch matrices; beta == 0 never reads C.
template <class T>
__global__ void scale_bias_kernel(T* C, const T* bias, float beta, int64_t M, int64_t N, int64_t ldc,
                                  int64_t stride_c, int64_t batch) {
  const int64_t n_tot = batch * M * N;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_tot; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = i % N, m = (i / N) % M, b = i / (M * N);
    int64_t off = b * stride_c + m * ldc + n;
    float v = beta == 0.f ? 0.f : beta * load(C, off);
    if (bias) v += load(bias, n);
    store(C, off, v);
  }
}

// C[m, n] += bias[n]
template <class T>
__global__ void add_bias_kernel(T* C, const T* bias, int64_t M, int64_t N, int64_t ldc) {
  const int64_t n_tot = M * N;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n_tot; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = i % N, m = i / N;
    store(C, m * ldc + n, load(C, m * ldc + n) + load(bias, n));
  }
}

// Stage 1 of db = Σ_m dC[m, :]: block (32, 8) covers 32 columns of one chunk of rows; each
// thread sums a strided subset of the chunk's rows, then the 8 partials are added in a fixed
// order. partial[chunk·N + n]. Deterministic: fixed partition, no atomics.
constexpr int kColTile = 32, kRowLanes = 8;
template <class T>
__global__ void bias_grad_partial_kernel(const T* dC, float* partial, int64_t M, int64_t N, int64_t ldc,
                                         int64_t rows_per_chunk) {
  __shared__ float sh[kRowLanes][kColTile];
  const int64_t n = int64_t(blockIdx.x) * kColTile + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  const int64_t m0 = chunk * rows_per_chunk;
  const int64_t m1 = min(M, m0 + rows_per_chunk);
  float s = 0.f;
  if (n < N)
    for (int64_t m = m0 + threadIdx.y; m < m1; m += kRowLanes) s += load(dC, m * ldc + n);
  sh[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && n < N) {
    float t = 0.f;
    for (int r = 0; r < kRowLanes; ++r) t += sh[r][threadIdx.x];
    partial[chunk * N + n] = t;
  }
}

// Stage 2: db[n] = Σ_chunk partial[chunk, n] in chunk order.
template <class T>
__global__ void bias_grad_final_kernel(const float* partial, T* db, int64_t chunks, int64_t N) {
  for (int64_t n = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; n < N; n += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    for (int64_t c = 0; c < chunks; ++c) s += partial[c * N + n];
    store(db, n, s);
  }
}

// ----------------------------------------------------------------------------------------
// cuBLASLt plans, cached per problem.
// ----------------------------------------------------------------------------------------

struct PlanKey {
  int dev = 0;
  int dtype = 0;
  int compute = 0;
  bool trans_a = false, trans_b = false, bias = false;
  int64_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  int64_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
  uint32_t align_a = 0, align_b = 0, align_c = 0, align_bias = 0;

  bool operator==(const PlanKey& o) const {
    return dev == o.dev && dtype == o.dtype && compute == o.compute && trans_a == o.trans_a &&
           trans_b == o.trans_b && bias == o.bias && M == o.M && N == o.N && K == o.K && lda == o.lda &&
           ldb == o.ldb && ldc == o.ldc && batch == o.batch && stride_a == o.stride_a &&
           stride_b == o.stride_b && stride_c == o.stride_c && align_a == o.align_a && align_b == o.align_b &&
           align_c == o.align_c && align_bias == o.align_bias;
  }
};

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    auto mix = [&h](uint64_t v) {
      h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      h *= 0xff51afd7ed558ccdull;
    };
    mix(uint64_t(k.dev));
    mix(uint64_t(k.dtype) | uint64_t(k.compute) << 8 | uint64_t(k.trans_a) << 40 | uint64_t(k.trans_b) << 41 |
        uint64_t(k.bias) << 42);
    for (int64_t v : {k.M, k.N, k.K, k.lda, k.ldb, k.ldc, k.batch, k.stride_a, k.stride_b, k.stride_c})
      mix(uint64_t(v));
    mix(uint64_t(k.align_a) | uint64_t(k.align_b) << 16 | uint64_t(k.align_c) << 32 |
        uint64_t(k.align_bias) << 48);
    return size_t(h);
  }
};

// Descriptors + the algorithm the heuristic picked; cached for the process lifetime.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;  // cuBLASLt's A (our B), B (our A), C/D
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  bool fused_bias = false;  // the epilogue adds the bias
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    // Destruction at process exit: errors are ignored (the driver may already be gone).
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

std::mutex g_mu;
std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash>& plans() {
  // Leaked on purpose: destroying cuBLASLt objects after the library is unloaded at exit crashes.
  static auto* m = new std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash>();
  return *m;
}

cudaDataType_t cuda_type(DType dt) {
  switch (dt) {
    case DType::f32: return CUDA_R_32F;
    case DType::bf16: return CUDA_R_16BF;
    default: SAKUGA_FAIL("cuda::gemm: CUDA supports f32 and bf16, got ", dtype_name(dt));
  }
}

cublasComputeType_t compute_type(DType dt) {
  if (dt == DType::bf16) return CUBLAS_COMPUTE_32F;  // bf16 inputs, f32 accumulation
  switch (device::precision()) {
    case device::Precision::fp32: return CUBLAS_COMPUTE_32F;
    case device::Precision::tf32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case device::Precision::bf16: return CUBLAS_COMPUTE_32F_FAST_16BF;
  }
  return CUBLAS_COMPUTE_32F;
}

// Largest power of two ≤ 256 dividing the address (and, for batches, the batch stride in bytes).
uint32_t alignment(const void* p, int64_t stride_elems, size_t elem_bytes, int64_t batch) {
  uint64_t v = uint64_t(reinterpret_cast<uintptr_t>(p));
  if (batch > 1) v |= uint64_t(stride_elems) * elem_bytes;
  uint32_t al = 256;
  while (al > 1 && (v % al) != 0) al >>= 1;
  return al;
}

cublasLtMatrixLayout_t make_layout(cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                                   int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  SAKUGA_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, t, uint64_t(rows), uint64_t(cols), ld));
  if (batch > 1) {
    int32_t count = int32_t(batch);
    SAKUGA_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
    SAKUGA_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
  return l;
}

// Best algorithm for the plan's descriptors (with its current epilogue); false when none.
bool pick_algo(cublasLtHandle_t handle, Plan& p, const PlanKey& k) {
  cublasLtMatmulPreference_t pref = nullptr;
  SAKUGA_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  struct PrefGuard {
    cublasLtMatmulPreference_t p;
    ~PrefGuard() { cublasLtMatmulPreferenceDestroy(p); }
  } guard{pref};
  uint64_t ws = kMaxWorkspace;
  SAKUGA_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  // cuBLASLt's A is our B and its B is our A (see the top of the file).
  uint32_t al_a = k.align_b, al_b = k.align_a, al_c = k.align_c;
  SAKUGA_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof(al_a)));
  SAKUGA_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof(al_b)));
  SAKUGA_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, sizeof(al_c)));
  SAKUGA_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c, sizeof(al_c)));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || found == 0) return false;
  SAKUGA_CUBLAS_CHECK(st);
  if (result.state != CUBLAS_STATUS_SUCCESS) return false;
  p.algo = result.algo;
  p.workspace = result.workspaceSize;
  return true;
}

std::unique_ptr<Plan> make_plan(cublasLtHandle_t handle, const PlanKey& k, DType dtype, const void* bias) {
  auto p = std::make_unique<Plan>();
  const cudaDataType_t t = cuda_type(dtype);
  SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->op, cublasComputeType_t(k.compute), CUDA_R_32F));
  cublasOperation_t op_a = k.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt A = our B
  cublasOperation_t op_b = k.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLASLt B = our A
  SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
  SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
  // Stored (column-major) shapes: our row-major X (r×c, ld) is column-major c×r with the same ld.
  p->a = make_layout(t, k.trans_b ? k.K : k.N, k.trans_b ? k.N : k.K, k.ldb, k.batch, k.stride_b);
  p->b = make_layout(t, k.trans_a ? k.M : k.K, k.trans_a ? k.K : k.M, k.lda, k.batch, k.stride_a);
  p->c = make_layout(t, k.N, k.M, k.ldc, k.batch, k.stride_c);

  if (k.bias) {
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    cudaDataType_t bias_type = t;
    SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    SAKUGA_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)));
    // The heuristic reads the pointer's alignment (k.align_bias, part of the key).
    SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    if (pick_algo(handle, *p, k)) {
      p->fused_bias = true;
      return p;
    }
    // No algorithm fuses the bias for this problem: plain product + add_bias_kernel.
    epi = CUBLASLT_EPILOGUE_DEFAULT;
    const void* none = nullptr;
    SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &none, sizeof(none)));
  }
  SAKUGA_CHECK(pick_algo(handle, *p, k), "cuda::gemm: cuBLASLt found no algorithm for ", dtype_name(dtype), " M=",
               k.M, " N=", k.N, " K=", k.K, " lda=", k.lda, " ldb=", k.ldb, " ldc=", k.ldc, " batch=", k.batch,
               " trans_a=", k.trans_a, " trans_b=", k.trans_b);
  return p;
}

void check_args(const char* fn, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                int64_t ldb, int64_t ldc, int64_t batch) {
  SAKUGA_CHECK(M >= 0 && N >= 0 && K >= 0 && batch >= 0, fn, ": negative size M=", M, " N=", N, " K=", K,
               " batch=", batch);
  const int64_t a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
  SAKUGA_CHECK(lda >= (a_cols > 1 ? a_cols : 1), fn, ": lda ", lda, " < ", a_cols);
  SAKUGA_CHECK(ldb >= (b_cols > 1 ? b_cols : 1), fn, ": ldb ", ldb, " < ", b_cols);
  SAKUGA_CHECK(ldc >= (N > 1 ? N : 1), fn, ": ldc ", ldc, " < ", N);
  SAKUGA_CHECK(batch <= INT32_MAX, fn, ": batch ", batch, " exceeds cuBLASLt's 32-bit batch count");
}

// The shared body of gemm and gemm_strided_batched.
void run(const char* fn, DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
         const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b, float beta,
         void* C, int64_t ldc, int64_t stride_c, int64_t batch, const void* bias, Stream s) {
  check_args(fn, trans_a, trans_b, M, N, K, lda, ldb, ldc, batch);
  cuda_type(dtype);  // rejects dtypes other than f32/bf16
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {  // no product: C = beta·C (+ bias)
    const int64_t n = batch * M * N;
    sakuga::cuda::dispatch_float_bf16(fn, dtype, [&](auto v) {
      using T = decltype(v);
      scale_bias_kernel<T><<<grid_for(n), 256, 0, s>>>(static_cast<T*>(C), static_cast<const T*>(bias), beta, M, N,
                                                       ldc, stride_c, batch);
    });
    SAKUGA_LAUNCH_CHECK();
    return;
  }
  if (batch == 1) stride_a = stride_b = stride_c = 0;

  const int dev = sakuga::cuda::current_device();
  const size_t es = dtype_size(dtype);
  PlanKey k;
  k.dev = dev;
  k.dtype = int(dtype);
  k.compute = int(compute_type(dtype));
  k.trans_a = trans_a;
  k.trans_b = trans_b;
  k.bias = bias != nullptr;
  k.M = M, k.N = N, k.K = K, k.lda = lda, k.ldb = ldb, k.ldc = ldc;
  k.batch = batch, k.stride_a = stride_a, k.stride_b = stride_b, k.stride_c = stride_c;
  k.align_a = alignment(A, stride_a, es, batch);
  k.align_b = alignment(B, stride_b, es, batch);
  k.align_c = alignment(C, stride_c, es, batch);
  k.align_bias = bias ? alignment(bias, 0, es, 1) : 0;

  cublasLtHandle_t handle = sakuga::cuda::cublaslt_handle(dev);
  // The lock also covers the call: the cached descriptor's bias pointer is set per call.
  std::lock_guard<std::mutex> lock(g_mu);
  auto& cache = plans();
  auto it = cache.find(k);
  if (it == cache.end()) it = cache.emplace(k, make_plan(handle, k, dtype, bias)).first;
  Plan& p = *it->second;
  if (p.fused_bias)
    SAKUGA_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  std::optional<sakuga::cuda::Workspace> ws;
  if (p.workspace) ws.emplace(p.workspace, dev);
  // cuBLASLt's A is our B, its B is our A.
  SAKUGA_CUBLAS_CHECK(cublasLtMatmul(handle, p.op, &alpha, B, p.a, A, p.b, &beta, C, p.c, C, p.c, &p.algo,
                                     ws ? ws->get() : nullptr, p.workspace, s));
  SAKUGA_LAUNCH_CHECK();  // cuBLASLt launched kernels (SAKUGA_SYNC_LAUNCHES attributes faults here)
  if (bias && !p.fused_bias) {  // batch == 1 here: only gemm() takes a bias
    sakuga::cuda::dispatch_float_bf16(fn, dtype, [&](auto v) {
      using T = decltype(v);
      add_bias_kernel<T><<<grid_for(M * N), 256, 0, s>>>(static_cast<T*>(C), static_cast<const T*>(bias), M, N, ldc);
    });
    SAKUGA_LAUNCH_CHECK();
  }
}

}  // namespace

void gemm(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void* A,
          int64_t lda, const void* B, int64_t ldb, float beta, void* C, int64_t ldc, Stream s, const void* bias) {
  run("cuda::gemm", dtype, trans_a, trans_b, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, bias, s);
}

void gemm_strided_batched(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb,
                          int64_t stride_b, float beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch,
                          Stream s) {
  SAKUGA_CHECK(stride_a >= 0 && stride_b >= 0 && stride_c >= 0, "cuda::gemm_strided_batched: negative stride");
  run("cuda::gemm_strided_batched", dtype, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b,
      beta, C, ldc, stride_c, batch, nullptr, s);
}

void gemm_bias_grad(DType dtype, const void* dC, void* db, int64_t M, int64_t N, int64_t ldc, Stream s) {
  SAKUGA_CHECK(M >= 0 && N >= 0 && ldc >= N, "cuda::gemm_bias_grad: bad sizes M=", M, " N=", N, " ldc=", ldc);
  if (N == 0) return;
  // About 64 rows per thread lane in stage 1, at most 1024 chunks for stage 2 to add.
  int64_t rows_per_chunk = std::max<int64_t>(512, (M + 1023) / 1024);
  int64_t chunks = std::max<int64_t>(1, (M + rows_per_chunk - 1) / rows_per_chunk);
  const int dev = sakuga::cuda::current_device();
  sakuga::cuda::Workspace ws(size_t(chunks * N) * sizeof(float), dev);
  float* partial = static_cast<float*>(ws.get());
  sakuga::cuda::dispatch_float_bf16("cuda::gemm_bias_grad", dtype, [&](auto v) {
    using T = decltype(v);
    dim3 grid(unsigned((N + kColTile - 1) / kColTile), unsigned(chunks));
    bias_grad_partial_kernel<T><<<grid, dim3(kColTile, kRowLanes), 0, s>>>(static_cast<const T*>(dC), partial, M, N,
                                                                          ldc, rows_per_chunk);
    SAKUGA_LAUNCH_CHECK();
    bias_grad_final_kernel<T><<<grid_for(N), 256, 0, s>>>(partial, static_cast<T*>(db), chunks, N);
    SAKUGA_LAUNCH_CHECK();
  });
}

size_t gemm_plan_cache_size() {
  std::lock_guard<std::mutex> lock(g_mu);
  return plans().size();
}

}  // namespace sakuga::kernels::cuda
