#pragma once
// The harness's loop: train a family (nets/harness/family.h) into a run folder, and time its
// steps (`sakuga bench train`).
//
// Config keys the harness reads (defaults in HarnessSettings, merged into every family's
// defaults by with_harness_defaults(); a family may override a default in its own JSON):
//   train.seed, train.log_every, train.eval_every, train.sample_every, train.checkpoint_every,
//   train.keep_checkpoints, train.early_stop, train.monitor, train.monitor_mode,
//   train.sync_bn, train.dist_backend, data.workers, data.prefetch
//
// Data-parallel (launched by mpirun/srun with N ranks): each rank trains on its slice of every
// global batch (Family::make_batch_slice), gradients are averaged before each optimiser step,
// logged scalars are the global batch's, rank 0 alone writes the run folder.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nets/harness/family.h"
#include "nets/harness/run_files.h"

namespace sakuga::harness {

struct TrainSettings {
  uint64_t seed = 0;             // init, data order, augmentation and dropout all derive from it
  int64_t log_every = 50;        // metrics.jsonl line + loss read-back (and NaN check) every N steps
  int64_t eval_every = 0;        // 0 = only at the end
  int64_t sample_every = 0;      // Family::samples(); 0 = never (families that sample in evaluate)
  int64_t checkpoint_every = 500;  // 0 = only at the end
  int64_t keep_checkpoints = 3;  // step files kept besides the best one; 0 = keep all
  int64_t early_stop = 0;        // stop after this many evaluations without a better monitor value (0 = off)
  std::string monitor = "val_loss";  // the evaluation metric for early stop and best.safetensors
  std::string monitor_mode = "min";  // min | max
  // Data-parallel runs (mpirun -np N; docs/distributed.md):
  bool sync_bn = false;              // BatchNorm statistics over the global batch (default: per rank)
  std::string dist_backend = "auto";  // auto (NCCL on GPUs, MPI on CPUs) | nccl | mpi
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainSettings, seed, log_every, eval_every, sample_every,
                                                checkpoint_every, keep_checkpoints, early_stop, monitor, monitor_mode,
                                                sync_bn, dist_backend)

struct DataSettings {
  int workers = 0;   // prefetch threads, each building whole batches; 0 = the machine's cores (at most 8)
  int prefetch = 2;  // batches built ahead (at least `workers`)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSettings, workers, prefetch)

// The family's defaults with every harness key it does not set itself added under "train" and
// "data" (so configs list them and unknown keys stay errors).
Json with_harness_defaults(Json family_defaults);

// What every training run takes besides its config (`sakuga train FAMILY` flags).
struct RunOptions {
  std::string out;                // run folder (required)
  std::string family;             // registered name, kept in checkpoint metadata ("douga")
  std::string device = "cpu";     // for the families' train() wrappers: where the family is built
  bool resume = false;            // continue from OUT/checkpoints/last.safetensors
  std::string dump_first_step;    // FILE: the first step of each stage (see dump_path)
  int64_t stop_after = -1;        // stop (as if interrupted) after this step; -1 = run to the end
  bool quiet = false;             // no progress output (tests)
};

struct RunSummary {
  int64_t first_step = 0, last_step = 0;                 // steps run in this call: (first, last]
  std::map<std::string, std::vector<double>> scalars;    // each logged scalar, per step run
  std::map<std::string, double> last_eval;               // the last evaluation's metrics
  bool early_stopped = false;
};

RunSummary train(Family& family, const RunOptions& opt);

// The dump file of stage `index` for --dump-first-step FILE: FILE itself for the first stage,
// FILE with ".<stage>" before ".safetensors" for the others. Its weights (before the step) go to
// <dump file>.weights.safetensors.
std::string dump_path(const std::string& file, const Family& family, size_t stage_index);

// --- speed ------------------------------------------------------------------------------------

// Times each stage's step on one fixed batch (make_batch of the stage's first step): `warmup`
// untimed steps, then `steps` timed ones, synchronising only at the ends.
struct StageTiming {
  std::string stage;
  double ms_per_step = 0, batches_per_s = 0;
  int64_t batch = 1;       // images (samples) per step of this stage
  int64_t peak_bytes = 0;  // tensor memory at its peak during the timed steps (GPU: the caching allocator; CPU: sakuga's allocator)
};
std::vector<StageTiming> bench(Family& family, int64_t steps, int64_t warmup);

}  // namespace sakuga::harness
