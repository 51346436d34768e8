#pragma once
// The CPU thread pool every parallel CPU loop of sakuga runs on (instead of OpenMP regions), and
// GEMM split over it.
//
// Why not OpenMP: a training step is thousands of short parallel loops. An OpenMP region ends
// in a barrier that waits for every thread of the team, so on a busy machine each loop waits
// for a thread the OS has not scheduled, while the others spin; with one other busy process on
// a 2-core machine a 2-thread Fashion-MNIST run took 10–25× longer than 1 thread. Here the
// calling thread takes chunks itself and only waits for chunks a worker has actually started:
// a worker that is not running simply gets nothing to do, so a busy machine degrades toward
// single-thread speed instead of collapsing. Idle workers spin briefly, then sleep.
//
// Results never depend on the thread count: chunk boundaries are a function of the loop size
// and the grain only, every chunk writes its own outputs, and GEMMs are split into the same
// sub-products for any count (each element keeps its K-summation order).
#include <algorithm>
#include <cstdint>
#include <vector>
#include <type_traits>

namespace sakuga::kernels::cpu {

// Pool size including the calling thread (kernels/device.h set_cpu_threads changes it).
int pool_threads();
void set_pool_threads(int n);

namespace detail {
using ChunkFn = void (*)(void* ctx, int64_t begin, int64_t end);
void parallel_for_impl(int64_t n, int64_t grain, ChunkFn fn, void* ctx);
}  // namespace detail

// Calls f(begin, end) for the chunks [0, grain), [grain, 2·grain), … of [0, n), on the calling
// thread and the pool's workers, and returns when all are done. The chunks are the same in
// every case; they run one after another on the calling thread when there is one chunk, one
// thread, inside another parallel_for, or while another thread's parallel_for holds the pool.
// An exception a chunk throws reaches the caller (in the pool: the first one, once the other
// chunks have run).
//
// Each thread calls its own copy of f: a closure that captures pointers and scalars by value
// ([=]) then lives in a local whose address never escapes, so the compiler knows stores
// through the captured pointers cannot change the captured values and can unswitch and
// vectorise the loop inside (with [&], or with the caller's copy, it often cannot).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  using Fn = std::decay_t<F>;
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n <= grain || pool_threads() == 1) {
    Fn local(f);
    for (int64_t b = 0; b < n; b += grain) local(b, n - b > grain ? b + grain : n);
    return;
  }
  detail::parallel_for_impl(
      n, grain,
      [](void* ctx, int64_t b, int64_t e) {
        Fn local(*static_cast<const Fn*>(ctx));
        local(b, e);
      },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Σ_k term(k) for k in [0, n), deterministically: fixed chunks of `chunk` terms, each summed in
// double in increasing k on whichever thread runs it, the chunk sums added in chunk order — so
// the result depends on n and chunk only, never on the thread count. term may also write
// outputs (the fused losses write their gradients on the way).
template <class F>
double chunked_sum(int64_t n, int64_t chunk, F&& term) {
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> partial(size_t(std::max<int64_t>(chunks, 0)), 0.0);
  double* out = partial.data();
  parallel_for(n, chunk, [=, &term](int64_t lo, int64_t hi) {
    double s = 0;
    for (int64_t k = lo; k < hi; ++k) s += term(k);
    out[lo / chunk] = s;
  });
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

// Grain for loops whose items cost about `work_per_item` elementary operations: chunks of about
// `target` operations (large enough that handing a chunk to a thread is cheap in comparison).
inline int64_t grain_for(int64_t work_per_item, int64_t target = int64_t(1) << 15) {
  return work_per_item >= target ? 1 : target / (work_per_item > 0 ? work_per_item : 1);
}

// Row-major C (M×N) = alpha·op(A)·op(B) + beta·C through cblas, split into column blocks (or row
// blocks when M > N) of a size set by M, N, K only, run with parallel_for. OpenBLAS itself runs
// single-threaded. Sizes must fit cblas's int.
void parallel_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void parallel_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                   const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

}  // namespace sakuga::kernels::cpu
