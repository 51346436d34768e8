#pragma once
// Tensors across the ranks of a data-parallel job (docs/distributed.md): the communicator for a
// device, bucketed mean/sum of many tensors in one collective per bucket, broadcast, and the
// differentiable sum that synchronised BatchNorm is built from. The collectives themselves are
// in kernels/comm.h.
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/comm.h"
#include "tensor/tensor.h"

namespace sakuga::dist {

// The communicator for tensors on `device`: backend "auto" = NCCL for a CUDA device when built
// with NCCL, else the host (MPI) one; "nccl" or "mpi" forces one (errors name the key
// train.dist_backend).
Communicator& for_device(Device device, const std::string& backend = "auto");

// Each tensor (f32, contiguous, on one device) ← its sum / mean over the ranks, in place. The
// tensors are packed in the order given into buckets of at most `bucket_bytes`, one collective
// per bucket.
void all_reduce_sum(Communicator& comm, const std::vector<Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
void all_reduce_mean(Communicator& comm, const std::vector<Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
// Host values (counts, metrics, logged losses) ← their exact sums over the ranks, added in rank
// order (each rank's vector is broadcast in turn: for short vectors).
void all_reduce_sum(Communicator& comm, std::vector<double>& values);
// Root's values of each tensor (any dtype, contiguous) → every rank's.
void broadcast(Communicator& comm, const std::vector<Tensor>& tensors, int root = 0);

// An optimiser's gradients averaged over the ranks in buckets that start while the backward
// runs (GradReadyScope, tensor/autograd.h): the last layers' gradients are ready first, so the
// buckets hold the parameters in reverse order. A bucket is summed once every parameter in it
// that takes part in this backward has its gradient; finish() sums the rest, waits, and writes
// the mean back into each .grad (parameters without a gradient keep none). The bucket buffers
// are allocated once and reused every step.
class GradBuckets {
 public:
  GradBuckets(Communicator& comm, std::vector<Tensor> params, int64_t bucket_bytes = 25 << 20);
  // Runs `backward` with the buckets filling as gradients become ready, then finish().
  void run(const std::function<void()>& backward);
  size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    int64_t numel = 0;
    Tensor flat;
    size_t ready = 0;
    bool launched = false;
  };
  void ready(const Tensor& leaf);
  void launch(Bucket& b);

  Communicator& comm_;
  std::vector<Tensor> params_;
  std::vector<size_t> bucket_of_;          // per parameter
  std::vector<bool> has_grad_;             // this step
  std::unordered_map<const void*, size_t> index_;  // parameter impl → index
  std::vector<Bucket> buckets_;
};

// The group that BatchNorm2d synchronises its batch statistics over while training (null: each
// rank normalises its own slice, the default). Set by the harness for train.sync_bn.
void set_sync_batch_norm(Communicator* comm);
Communicator* sync_batch_norm();

}  // namespace sakuga::dist

namespace sakuga::ops {
// Σ over the ranks of x (f32), recorded on the tape: its backward is the same sum of the
// gradient (every rank's loss depends on every rank's x).
Tensor all_reduce_sum(const Tensor& x, dist::Communicator& comm);
}  // namespace sakuga::ops
