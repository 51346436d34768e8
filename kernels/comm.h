#pragma once
// Collectives between the ranks of a data-parallel job (docs/distributed.md), over raw float
// buffers: no Tensor here (tensor/dist.h has the tensor helpers).
//
//   one process per rank, launched by `mpirun -np N` (or srun); the launcher's environment names
//   the rank. MPI carries host buffers, NCCL device buffers (its id exchanged over MPI).
//
// Determinism: a world size gives the same sums on every run. The MPI sum is our own (each rank
// owns a chunk, adds the ranks' copies of it in rank order 0, 1, …, then all gather), so it does
// not depend on which algorithm MPI picks for a message size; NCCL's ring is fixed for a fixed
// world and topology (tools set NCCL_ALGO=Ring to pin it).
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/common.h"

namespace sakuga::dist {

// What the launcher's environment says (OMPI_COMM_WORLD_*, PMIX_RANK, PMI_*, SLURM_*).
struct Launch {
  int rank = 0, world = 1;
  int local_rank = 0, local_world = 1;  // ranks on this node (a GPU each)
  bool launched = false;                // started by mpirun / srun
};
Launch launch_from_env();

constexpr int kHost = -1;

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world() const = 0;
  virtual std::string backend() const = 0;  // "local", "mpi", "nccl"
  // buf[0, n) ← its sum over the ranks, in place. `device`: the CUDA device holding buf (its
  // work is queued on that device's stream), or kHost.
  virtual void all_reduce_sum(float* buf, int64_t n, int device) = 0;
  // The same, but the sum may still be running when the call returns: NCCL queues it on the
  // device's communication stream after the work queued so far on its compute stream, so the
  // backward goes on meanwhile. wait(device) makes the compute stream wait for every such sum.
  // Host communicators sum at once.
  virtual void all_reduce_sum_async(float* buf, int64_t n, int device) { all_reduce_sum(buf, n, device); }
  virtual void wait(int device) {}
  // bytes of root's buf → every rank's buf.
  virtual void broadcast(void* buf, int64_t bytes, int root, int device) = 0;
  virtual void barrier() = 0;
};

// Starts MPI when the process was launched by mpirun/srun with more than one rank (else a world
// of one without MPI). Idempotent; main() calls it first. Fails clearly when the launcher says
// N > 1 ranks but this build has no MPI.
void init();
void finalize();
bool mpi_built();
bool nccl_built();

// The job's host communicator: MPI when launched with several ranks, else a world of one.
Communicator& world();
// A NCCL communicator over the same ranks for CUDA device `device` (created on first use; its
// id goes from rank 0 to the others over world()). Fails clearly without NCCL.
Communicator& nccl(int device);

// Ends the whole job: prints "rank R of N: message" on stderr, then MPI_Abort (every rank stops
// within the launcher's kill time) or, in a world of one, exit(code).
[[noreturn]] void abort_job(const std::string& message, int code);

// A communicator of one rank (tests; the world when not launched).
std::unique_ptr<Communicator> make_local();

}  // namespace sakuga::dist
