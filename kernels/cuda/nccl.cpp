// NCCL between the GPUs of a data-parallel job (kernels/comm.h): one communicator per device,
// its unique id sent from rank 0 over the host (MPI) communicator; collectives queued on its own
// communication stream, ordered after the compute stream's work by events (no host wait), so
// gradient buckets are summed while the backward goes on. A watchdog thread polls NCCL's asynchronous error state and the age of every
// collective still in flight: an error, or one older than SAKUGA_COMM_TIMEOUT_S (default 600 s),
// aborts the communicator and ends the process with a message, so the launcher stops the job
// instead of every rank hanging in a ring that lost a member.
#if defined(SAKUGA_WITH_NCCL)
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "kernels/comm.h"
#include "kernels/device.h"

namespace sakuga::dist {

namespace {

#define SAKUGA_NCCL_CHECK(call)                                                                          \
  do {                                                                                                   \
    ncclResult_t sakuga_nr_ = (call);                                                                    \
    if (sakuga_nr_ != ncclSuccess)                                                                       \
      ::sakuga::detail::fail(__FILE__, __LINE__,                                                         \
                             ::sakuga::detail::concat("NCCL call ", #call, " failed: ",                  \
                                                      ncclGetErrorString(sakuga_nr_), " (",              \
                                                      ncclGetLastError(nullptr) ? ncclGetLastError(nullptr) \
                                                                                : "", ")"));            \
  } while (0)

#define SAKUGA_CUDA_RT_CHECK(call)                                                                   \
  do {                                                                                               \
    cudaError_t sakuga_ce_ = (call);                                                                 \
    if (sakuga_ce_ != cudaSuccess)                                                                   \
      ::sakuga::detail::fail(__FILE__, __LINE__, ::sakuga::detail::concat("CUDA call ", #call,       \
                                                                           " failed: ",              \
                                                                           cudaGetErrorString(sakuga_ce_))); \
  } while (0)

int timeout_s() {
  const char* v = std::getenv("SAKUGA_COMM_TIMEOUT_S");
  return v && *v ? std::atoi(v) : 600;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class NcclComm : public Communicator {
 public:
  NcclComm(int device, Communicator& host) : device_(device), host_(host) {
    rank_ = host.rank();
    world_ = host.world();
    ncclUniqueId id{};
    if (rank_ == 0) SAKUGA_NCCL_CHECK(ncclGetUniqueId(&id));
    host.broadcast(&id, sizeof(id), 0, kHost);
    device::set_device(device);
    SAKUGA_NCCL_CHECK(ncclCommInitRank(&comm_, world_, id, rank_));
    SAKUGA_CUDA_RT_CHECK(cudaStreamCreateWithFlags(&comm_stream_, cudaStreamNonBlocking));
    timeout_s_ = timeout_s();
    watchdog_ = std::thread([this] { watch(); });
  }

  ~NcclComm() override {
    stop_ = true;
    if (watchdog_.joinable()) watchdog_.join();
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& f : in_flight_) cudaEventDestroy(f.event);
      in_flight_.clear();
    }
    if (comm_) ncclCommDestroy(comm_);
    if (comm_stream_) cudaStreamDestroy(comm_stream_);
  }

  int rank() const override { return rank_; }
  int world() const override { return world_; }
  std::string backend() const override { return "nccl"; }

  // Every collective of this communicator goes on its one communication stream, in the order
  // issued (the same on every rank): the stream-ordered forms wait for it at once.
  void all_reduce_sum(float* buf, int64_t n, int device) override {
    if (n == 0) return;
    all_reduce_sum_async(buf, n, device);
    wait(device);
  }

  // On the communication stream, after what the compute stream has queued (the gradients).
  void all_reduce_sum_async(float* buf, int64_t n, int device) override {
    if (n == 0) return;
    check_device(device, "all_reduce_sum_async");
    cudaStream_t compute = cudaStream_t(device::stream(device_));
    order(compute, comm_stream_);
    SAKUGA_NCCL_CHECK(ncclAllReduce(buf, buf, size_t(n), ncclFloat, ncclSum, comm_, comm_stream_));
    track(Stream(comm_stream_), "all_reduce_sum");
  }

  void wait(int device) override {
    check_device(device, "wait");
    order(comm_stream_, cudaStream_t(device::stream(device_)));
  }

  void broadcast(void* buf, int64_t bytes, int root, int device) override {
    if (bytes == 0) return;
    if (device == kHost) return host_.broadcast(buf, bytes, root, kHost);
    check_device(device, "broadcast");
    cudaStream_t compute = cudaStream_t(device::stream(device_));
    order(compute, comm_stream_);
    SAKUGA_NCCL_CHECK(ncclBroadcast(buf, buf, size_t(bytes), ncclChar, root, comm_, comm_stream_));
    track(Stream(comm_stream_), "broadcast");
    order(comm_stream_, compute);
  }

  void barrier() override { host_.barrier(); }

 private:
  struct InFlight {
    cudaEvent_t event;
    int64_t since_ms;
    const char* what;
  };

  void check_device(int device, const char* op) const {
    SAKUGA_CHECK(device == device_, "nccl ", op, ": the buffer is on ", device == kHost ? "the host" : "cuda:",
                 device == kHost ? "" : std::to_string(device), ", but this communicator is cuda:", device_);
  }

  // `after` waits for the work queued so far on `before`.
  static void order(cudaStream_t before, cudaStream_t after) {
    cudaEvent_t e;
    SAKUGA_CUDA_RT_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    SAKUGA_CUDA_RT_CHECK(cudaEventRecord(e, before));
    SAKUGA_CUDA_RT_CHECK(cudaStreamWaitEvent(after, e, 0));
    SAKUGA_CUDA_RT_CHECK(cudaEventDestroy(e));  // released once the wait has happened
  }

  // An event after the collective, for the watchdog's age check.
  void track(Stream s, const char* what) {
    cudaEvent_t e;
    SAKUGA_CUDA_RT_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    SAKUGA_CUDA_RT_CHECK(cudaEventRecord(e, cudaStream_t(s)));
    std::lock_guard<std::mutex> l(mu_);
    in_flight_.push_back({e, now_ms(), what});
  }

  [[noreturn]] void fail_job(const std::string& why) {
    std::fprintf(stderr, "sakuga: rank %d of %d: error: NCCL on cuda:%d: %s; ending the job\n", rank_, world_,
                 device_, why.c_str());
    std::fflush(stderr);
    ncclCommAbort(comm_);
    _exit(3);  // the launcher sees a rank end abnormally and stops the others
  }

  void watch() {
    cudaSetDevice(device_);
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async != ncclSuccess && async != ncclInProgress)
        fail_job(std::string("asynchronous error: ") + ncclGetErrorString(async));
      std::lock_guard<std::mutex> l(mu_);
      while (!in_flight_.empty()) {
        InFlight& f = in_flight_.front();
        const cudaError_t q = cudaEventQuery(f.event);
        if (q == cudaSuccess) {
          cudaEventDestroy(f.event);
          in_flight_.pop_front();
          continue;
        }
        if (q != cudaErrorNotReady) fail_job(std::string("the device failed: ") + cudaGetErrorString(q));
        if (timeout_s_ > 0 && now_ms() - f.since_ms > int64_t(timeout_s_) * 1000)
          fail_job(std::string(f.what) + " has waited " + std::to_string(timeout_s_) +
                   " s for the other ranks (SAKUGA_COMM_TIMEOUT_S): one of them has stopped answering");
        break;
      }
    }
  }

  int device_ = 0, rank_ = 0, world_ = 1, timeout_s_ = 600;
  Communicator& host_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t comm_stream_ = nullptr;
  std::mutex mu_;
  std::deque<InFlight> in_flight_;
  std::atomic<bool> stop_{false};
  std::thread watchdog_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(int device, Communicator& host) {
  return std::make_unique<NcclComm>(device, host);
}

}  // namespace sakuga::dist

#endif  // SAKUGA_WITH_NCCL
