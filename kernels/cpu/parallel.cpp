// The CPU thread pool and the split GEMM (kernels/cpu/parallel.h).
//
// One job at a time: a caller takes the pool (try-lock; a second concurrent caller runs its loop
// serially), publishes the job under the pool mutex, wakes sleeping workers, and then claims
// chunks itself from an atomic counter like any worker. When no chunk is left it waits only
// for the chunks workers have claimed and not yet finished. A worker that wakes up late finds
// no chunk and goes back to waiting. Before a job's slot is reused, the caller waits until no
// worker is inside the previous job (a few instructions after its last chunk).
#include "kernels/cpu/parallel.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/common.h"
#include "kernels/device.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SAKUGA_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define SAKUGA_CPU_RELAX() asm volatile("yield")
#else
#define SAKUGA_CPU_RELAX() ((void)0)
#endif

namespace sakuga::kernels::cpu {

namespace {

// How long an idle worker spins for the next job before it sleeps on the condition variable:
// the loops of a step follow each other within microseconds, and waking a sleeping thread
// costs tens of microseconds (more in a VM). Bounded so an idle pool costs nothing.
constexpr auto kWorkerSpin = std::chrono::microseconds(50);

thread_local bool t_in_parallel = false;  // inside a chunk: nested loops run serially

struct Job {
  detail::ChunkFn fn = nullptr;
  void* ctx = nullptr;
  int64_t n = 0, grain = 1, chunks = 0;
  std::atomic<int64_t> next{0};  // next chunk to claim
  std::atomic<int64_t> done{0};  // chunks finished
  std::mutex error_mu;
  std::exception_ptr error;      // the first exception a chunk threw
};

class Pool {
 public:
  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> submit(submit_mu_);
    if (n == threads()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_.store(false);
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { worker_loop(); });
    threads_.store(n, std::memory_order_relaxed);
  }

  // False when another thread's job holds the pool (the caller then runs serially).
  bool run(int64_t n, int64_t grain, detail::ChunkFn fn, void* ctx) {
    std::unique_lock<std::mutex> submit(submit_mu_, std::try_to_lock);
    if (!submit.owns_lock() || workers_.empty()) return false;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A worker still inside the previous job (after its last chunk) reads the job's fields;
      // workers enter only under mu_, so none can join until the new job is published.
      for (int spin = 0; active_.load(std::memory_order_acquire) != 0; ++spin) pause(spin);
      job_.fn = fn;
      job_.ctx = ctx;
      job_.n = n;
      job_.grain = grain;
      job_.chunks = (n + grain - 1) / grain;
      job_.next.store(0, std::memory_order_relaxed);
      job_.done.store(0, std::memory_order_relaxed);
      job_.error = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) cv_.notify_all();
    work_on_job();
    for (int spin = 0; job_.done.load(std::memory_order_acquire) != job_.chunks; ++spin) pause(spin);
    if (job_.error) std::rethrow_exception(job_.error);
    return true;
  }

 private:
  // Spin a little, then give the CPU away: the chunk we wait for belongs to a thread that may
  // not be running (a busy machine), and yielding lets it run.
  static void pause(int spin) {
    if (spin < 2000)
      SAKUGA_CPU_RELAX();
    else
      std::this_thread::yield();
  }

  void work_on_job() {
    const bool nested = t_in_parallel;
    t_in_parallel = true;
    for (;;) {
      const int64_t c = job_.next.fetch_add(1, std::memory_order_relaxed);
      if (c >= job_.chunks) break;
      const int64_t b = c * job_.grain, e = b + job_.grain < job_.n ? b + job_.grain : job_.n;
      try {
        job_.fn(job_.ctx, b, e);
      } catch (...) {  // the caller rethrows the first one once every chunk is done
        std::lock_guard<std::mutex> lock(job_.error_mu);
        if (!job_.error) job_.error = std::current_exception();
      }
      job_.done.fetch_add(1, std::memory_order_acq_rel);
    }
    t_in_parallel = nested;
  }

  void worker_loop() {
    uint64_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // Spin for the next job, then sleep.
      const auto until = std::chrono::steady_clock::now() + kWorkerSpin;
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
        SAKUGA_CPU_RELAX();
        if (++spins % 64 == 0 && std::chrono::steady_clock::now() > until) break;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (generation_.load(std::memory_order_relaxed) == seen && !stop_) {
        ++sleepers_;
        cv_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
        --sleepers_;
      }
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      // Enter the job while holding the mutex: the caller cannot republish the slot until
      // active_ is back to 0.
      active_.fetch_add(1, std::memory_order_acq_rel);
      lock.unlock();
      work_on_job();
      active_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex submit_mu_;  // one job at a time
  std::mutex mu_;         // job publication, sleeping, stopping
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};
  int sleepers_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> threads_{1};  // workers + the caller; read without locks by parallel_for
  Job job_;
  std::vector<std::thread> workers_;
};

// OpenBLAS's OpenMP build threads a product with as many threads as the calling thread's
// OpenMP setting, which for a thread OpenMP did not start is the machine's CPU count: every
// thread that calls cblas sets its own to 1 first, so products never nest threads in the pool.
void single_threaded_blas() {
  thread_local bool done = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)done;
}

Pool& pool() {
  static Pool* p = [] {
    openblas_set_num_threads(1);
    single_threaded_blas();
    auto* made = new Pool();  // never destroyed: tensors freed during exit may still run loops
    made->resize(device::default_cpu_threads());
    return made;
  }();
  return *p;
}

// GEMM split: products of fewer than kSerialWork multiply-adds run in one cblas call; larger
// ones are cut along their longer side (N or M) into an even number of equal blocks, whole
// multiples of 16 rows/columns, of about kBlockWork multiply-adds but never fewer than
// kMinBlockLines lines (at most kMaxBlocks). All of it depends on the shape only, so results do
// not depend on the thread count. Why these: every block is a cblas call that packs its panels
// again, and a thin block runs OpenBLAS's kernels far below their peak. Cutting by work alone
// (the old rule) cut a 256 × 256 × 2304 conv GEMM into 16 blocks of 16 columns, each repacking
// the whole 256 × 2304 weight; 128-line blocks made the small-map convs of bench/cases.json
// (gadn_*) 15–35 % faster on a 2-core x86-64 (with images_per_gemm in conv.cpp). An even
// count keeps 2, 4, … threads balanced.
constexpr double kBlockWork = double(1 << 22);
constexpr double kSerialWork = kBlockWork;
constexpr int64_t kMaxBlocks = 64, kBlockAlign = 16, kMinBlockLines = 128;

// Lines per block for a GEMM of `work` multiply-adds cut along a side of `dim` lines: blocks of
// about kBlockWork, at least kMinBlockLines long while that still leaves two blocks, at least
// kBlockAlign long always; an even count.
inline int64_t block_lines(double work, int64_t dim) {
  int64_t blocks = std::min<int64_t>(kMaxBlocks, int64_t(work / kBlockWork) + 1);
  blocks = std::min<int64_t>({blocks, std::max<int64_t>(2, dim / kMinBlockLines), dim / kBlockAlign});
  if (blocks > 1) blocks -= blocks % 2;
  if (blocks <= 1) return dim;
  const int64_t len = (dim + blocks - 1) / blocks;
  return (len + kBlockAlign - 1) / kBlockAlign * kBlockAlign;
}

inline void cblas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                       const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
inline void cblas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                       const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  single_threaded_blas();
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

template <class T>
void split_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc) {
  const double work = double(M) * double(N) * double(K);
  if (work < kSerialWork || (M < 2 * kBlockAlign && N < 2 * kBlockAlign)) {
    cblas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool by_columns = N >= M;
  const int64_t len = block_lines(work, by_columns ? N : M);
  if (by_columns) {
    // C[:, b:e] = op(A) · op(B)[:, b:e]; op(B)'s columns b.. start at B + b (B is K×N) or B + b·ldb (Bᵀ).
    parallel_for(N, len, [&](int64_t b, int64_t e) {
      cblas_gemm(ta, tb, M, e - b, K, alpha, A, lda, tb ? B + b * ldb : B + b, ldb, beta, C + b, ldc);
    });
  } else {
    // C[b:e, :] = op(A)[b:e, :] · op(B); op(A)'s rows b.. start at A + b·lda (A is M×K) or A + b (Aᵀ).
    parallel_for(M, len, [&](int64_t b, int64_t e) {
      cblas_gemm(ta, tb, e - b, N, K, alpha, ta ? A + b : A + b * lda, lda, B, ldb, beta, C + b * ldc, ldc);
    });
  }
}

}  // namespace

int pool_threads() { return pool().threads(); }

void set_pool_threads(int n) {
  SAKUGA_CHECK(n >= 1, "CPU threads: expected >= 1, got ", n);
  pool().resize(n);
}

namespace detail {
void parallel_for_impl(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
  if (t_in_parallel || !pool().run(n, grain, fn, ctx))
    for (int64_t b = 0; b < n; b += grain) fn(ctx, b, n - b > grain ? b + grain : n);
}
}  // namespace detail

void parallel_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  split_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void parallel_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                   const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  split_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace sakuga::kernels::cpu
