// The job's communicators (kernels/comm.h): a world of one, and MPI with our own fixed-order sum.
// NCCL lives in kernels/cuda/nccl.cpp.
#include "kernels/comm.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/device.h"

#if defined(SAKUGA_WITH_MPI)
// The C API only (OpenMPI's and MPICH's mpi.h would pull in the deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sakuga::dist {

std::unique_ptr<Communicator> make_nccl_communicator(int device, Communicator& host);  // kernels/cuda/nccl.cpp

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return end && *end == '\0' ? int(x) : fallback;
}

// Host copies for device buffers (a world of one never needs them).
class LocalComm : public Communicator {
 public:
  int rank() const override { return 0; }
  int world() const override { return 1; }
  std::string backend() const override { return "local"; }
  void all_reduce_sum(float*, int64_t, int) override {}
  void broadcast(void*, int64_t, int, int) override {}
  void barrier() override {}
};

#if defined(SAKUGA_WITH_MPI)

// A collective that has waited longer than this ends the job (a rank stopped answering without
// exiting: the launcher would otherwise wait forever). SAKUGA_COMM_TIMEOUT_S, default 600 s.
class Watchdog {
 public:
  explicit Watchdog(int rank, int world) : rank_(rank), world_(world) {
    timeout_s_ = env_int("SAKUGA_COMM_TIMEOUT_S", 600);
    if (timeout_s_ > 0) thread_ = std::thread([this] { watch(); });
  }
  ~Watchdog() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  struct Scope {
    Watchdog& w;
    Scope(Watchdog& w_, const char* what) : w(w_) {
      w.what_ = what;
      w.since_ms_ = now_ms();
    }
    ~Scope() { w.since_ms_ = 0; }
  };

 private:
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void watch() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const int64_t since = since_ms_;
      if (since > 0 && now_ms() - since > int64_t(timeout_s_) * 1000) {
        std::fprintf(stderr,
                     "sakuga: rank %d of %d: error: %s has waited %d s for the other ranks (SAKUGA_COMM_TIMEOUT_S): "
                     "one of them has stopped answering; ending the job\n",
                     rank_, world_, what_.load(), timeout_s_);
        std::fflush(stderr);
        _exit(3);  // the launcher sees a rank end abnormally and stops the others
      }
    }
  }
  int rank_, world_, timeout_s_ = 600;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> since_ms_{0};
  std::atomic<const char*> what_{""};
  std::thread thread_;
};

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  SAKUGA_FAIL(call, " failed: ", std::string(msg, size_t(len)));
}

// MPI_COMM_WORLD. Sums in a fixed order: rank j owns chunk j of the buffer; an all-to-all gives
// it every rank's copy of that chunk, which it adds in rank order; an all-gather returns the
// chunks. The same bytes move as in a ring all-reduce (2·(W−1)/W of the buffer per rank).
class MpiComm : public Communicator {
 public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
    watchdog_ = std::make_unique<Watchdog>(rank_, world_);
  }
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce_sum(float* buf, int64_t n, int device) override {
    if (world_ == 1 || n == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    // Counts are ints in MPI: pieces of at most 2^28 values.
    constexpr int64_t kPiece = int64_t(1) << 28;
    for (int64_t start = 0; start < n; start += kPiece) {
      const int64_t len = std::min(kPiece, n - start);
      if (device != kHost) {  // staged through the host (NCCL is the fast path for device buffers)
        host_.resize(size_t(len));
        device::copy_d2h_sync(host_.data(), buf + start, size_t(len) * sizeof(float), device);
        sum_host(host_.data(), len);
        device::copy_h2d(buf + start, host_.data(), size_t(len) * sizeof(float), device);
      } else {
        sum_host(buf + start, len);
      }
    }
  }

  void broadcast(void* buf, int64_t bytes, int root, int device) override {
    if (world_ == 1 || bytes == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    Watchdog::Scope watch(*watchdog_, "broadcast");
    std::vector<char> staged;
    char* p = static_cast<char*>(buf);
    if (device != kHost) {
      staged.resize(size_t(bytes));
      if (rank_ == root) device::copy_d2h_sync(staged.data(), buf, size_t(bytes), device);
      p = staged.data();
    }
    constexpr int64_t kPiece = int64_t(1) << 30;
    for (int64_t s = 0; s < bytes; s += kPiece)
      check_mpi(MPI_Bcast(p + s, int(std::min(kPiece, bytes - s)), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    if (device != kHost && rank_ != root) device::copy_h2d(buf, staged.data(), size_t(bytes), device);
  }

  void barrier() override {
    Watchdog::Scope watch(*watchdog_, "barrier");
    check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }

 private:
  void sum_host(float* buf, int64_t n) {
    Watchdog::Scope watch(*watchdog_, "all_reduce_sum");
    const int W = world_;
    const size_t w = static_cast<size_t>(W);
    std::vector<int> send_counts(w), send_displs(w), recv_counts(w), recv_displs(w);
    auto chunk_start = [&](int j) { return int(int64_t(n) * j / W); };
    for (int j = 0; j < W; ++j) {
      send_displs[size_t(j)] = chunk_start(j);
      send_counts[size_t(j)] = chunk_start(j + 1) - chunk_start(j);
    }
    const int mine = send_counts[size_t(rank_)];
    for (int i = 0; i < W; ++i) {
      recv_counts[size_t(i)] = mine;
      recv_displs[size_t(i)] = i * mine;
    }
    copies_.resize(size_t(mine) * size_t(W));
    check_mpi(MPI_Alltoallv(buf, send_counts.data(), send_displs.data(), MPI_FLOAT, copies_.data(), recv_counts.data(),
                            recv_displs.data(), MPI_FLOAT, MPI_COMM_WORLD),
              "MPI_Alltoallv");
    float* out = buf + chunk_start(rank_);
    for (int k = 0; k < mine; ++k) {
      float s = copies_[size_t(k)];
      for (int i = 1; i < W; ++i) s += copies_[size_t(i) * size_t(mine) + size_t(k)];
      out[k] = s;
    }
    check_mpi(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, buf, send_counts.data(), send_displs.data(), MPI_FLOAT,
                             MPI_COMM_WORLD),
              "MPI_Allgatherv");
  }

  int rank_ = 0, world_ = 1;
  std::mutex mu_;
  std::vector<float> host_, copies_;
  std::unique_ptr<Watchdog> watchdog_;
};

#endif  // SAKUGA_WITH_MPI

struct State {
  std::mutex mu;
  bool initialised = false, mpi_started = false;
  std::unique_ptr<Communicator> world;
  std::vector<std::unique_ptr<Communicator>> nccl;  // per device index
};

State& state() {
  static State s;
  return s;
}

}  // namespace

Launch launch_from_env() {
  Launch l;
  if (std::getenv("OMPI_COMM_WORLD_SIZE")) {
    l.launched = true;
    l.world = env_int("OMPI_COMM_WORLD_SIZE", 1);
    l.rank = env_int("OMPI_COMM_WORLD_RANK", 0);
    l.local_world = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", 1);
    l.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", 0);
  } else if (std::getenv("PMIX_RANK") || std::getenv("PMI_SIZE")) {  // srun --mpi=pmix, MPICH's hydra
    l.launched = true;
    l.rank = env_int("PMIX_RANK", env_int("PMI_RANK", env_int("SLURM_PROCID", 0)));
    l.world = env_int("PMI_SIZE", env_int("SLURM_NTASKS", 1));
    l.local_rank = env_int("SLURM_LOCALID", env_int("MPI_LOCALRANKID", 0));
    l.local_world = env_int("SLURM_NTASKS_PER_NODE", env_int("MPI_LOCALNRANKS", 1));
  }
  return l;
}

bool mpi_built() {
#if defined(SAKUGA_WITH_MPI)
  return true;
#else
  return false;
#endif
}

bool nccl_built() {
#if defined(SAKUGA_WITH_NCCL)
  return true;
#else
  return false;
#endif
}

void init() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.initialised) return;
  s.initialised = true;
  s.world = make_local();  // stays the world when starting MPI fails below (the error is reported alone)
  const Launch l = launch_from_env();
#if defined(SAKUGA_WITH_MPI)
  if (l.launched) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    s.mpi_started = true;
    // Errors come back as codes (turned into sakuga::Error naming the call) instead of MPI
    // printing and aborting on its own.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    s.world = std::make_unique<MpiComm>();
    return;
  }
#else
  if (l.launched && l.world > 1)
    SAKUGA_FAIL("launched as rank ", l.rank, " of ", l.world,
                " (mpirun/srun), but this sakuga was built without MPI: install libopenmpi-dev (tools/setup) and "
                "rebuild, or run one process");
#endif
}

void finalize() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.nccl.clear();
  s.world.reset();
#if defined(SAKUGA_WITH_MPI)
  if (s.mpi_started) {
    MPI_Finalize();
    s.mpi_started = false;
  }
#endif
}

Communicator& world() {
  State& s = state();
  if (!s.world) init();
  if (!s.world) s.world = make_local();  // after finalize()
  return *s.world;
}

Communicator& nccl(int device) {
  Communicator& host = world();
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  SAKUGA_CHECK(device >= 0, "nccl: expected a CUDA device index, got ", device);
  if (s.nccl.size() <= size_t(device)) s.nccl.resize(size_t(device) + 1);
  if (!s.nccl[size_t(device)]) s.nccl[size_t(device)] = make_nccl_communicator(device, host);
  return *s.nccl[size_t(device)];
}

void abort_job(const std::string& message, int code) {
  const Launch l = launch_from_env();
  State& s = state();
  const int rank = s.world ? s.world->rank() : l.rank;
  const int size = s.world ? s.world->world() : l.world;
  if (size > 1)
    std::fprintf(stderr, "sakuga: rank %d of %d: %s\n", rank, size, message.c_str());
  else
    std::fprintf(stderr, "sakuga: %s\n", message.c_str());
  std::fflush(stderr);
#if defined(SAKUGA_WITH_MPI)
  if (s.mpi_started && size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

std::unique_ptr<Communicator> make_local() { return std::make_unique<LocalComm>(); }

#if !defined(SAKUGA_WITH_NCCL)
std::unique_ptr<Communicator> make_nccl_communicator(int, Communicator&) {
  SAKUGA_FAIL("train.dist_backend nccl: this sakuga was built without NCCL (needs the CUDA toolkit's libnccl and "
              "nccl.h at build time)");
}
#endif

}  // namespace sakuga::dist
