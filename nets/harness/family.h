#pragma once
// The shared training harness (ARCHITECTURE.md "Training loop"): what a family declares and the
// three functions it writes. Everything else — run folder, progress, metrics, prefetch,
// cadences, checkpoints and bit-identical resume of every declared part, early stop, NaN/Inf
// stop, first-step dumps, plots — is the harness's (nets/harness/trainer.h).
//
// A family, in outline (nets/toygan/ is a complete small example with two networks):
//
//   class MyGan : public harness::Family {
//    public:
//     MyGan(const Config& cfg, Device dev) : Family(cfg, dev) {
//       g_ = parts().network("G", std::make_shared<Generator>(...));
//       d_ = parts().network("D", std::make_shared<Critic>(...));
//       parts().optimizer("G", cfg.get<harness::OptimSpec>("optim.G"), {"G"});
//       parts().optimizer("D", cfg.get<harness::OptimSpec>("optim.D"), {"D"});
//       parts().rng("noise", noise_);
//       parts().stage("warmup", 100, {"D"});
//       parts().stage("adversarial", 900, {"G", "D"});
//     }
//     Batch make_batch(int64_t step) const override;      // pure in (seed, step)
//     void step(const Batch& b, StepContext& ctx) override {
//       Tensor d_loss = ...;  ctx.update("D", d_loss);  ctx.log("d_loss", d_loss);
//       if (ctx.active("G")) { harness::FreezeGuard f(*d_); ...; ctx.update("G", g_loss); }
//     }
//     EvalReport evaluate(EvalContext& ctx) override;
//   };
//
// Checkpoint names: network N's tensors under its prefix (default "N."), optimiser O's state
// under "optim.O." (prefixes may be set, e.g. "" and "optim." for gcn's pinned names). A key
// belongs to the part with the longest matching prefix.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/module.h"
#include "nets/harness/config.h"
#include "nets/harness/optim_spec.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "kernels/comm.h"
#include "tensor/dist.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace sakuga::harness {

// A batch: named tensors, built on the CPU by make_batch and moved to the run's device by the
// harness before step() sees it — except those whose key starts with kHostKeyPrefix ("host."),
// which stay on the CPU: what a step needs on the host (labels that pick triplets, say) without
// reading it back from the device, which would wait for the GPU every step.
using Batch = std::map<std::string, Tensor>;
inline constexpr const char* kHostKeyPrefix = "host.";
inline bool is_host_key(const std::string& key) { return key.rfind(kHostKeyPrefix, 0) == 0; }
// The batch on `dev` (its host keys left on the CPU); non-blocking uploads.
Batch batch_to_device(const Batch& b, Device dev);

struct NetworkPart {
  std::string name, prefix;
  std::shared_ptr<nn::Module> module;
};

struct OptimizerPart {
  std::string name, prefix;
  std::vector<std::string> networks;  // the networks whose parameters it steps
  std::unique_ptr<optim::Optimizer> optimizer;
  std::optional<OptimSpec> spec;      // when built from a spec: the schedule is made from it
  std::string where;                  // its config section, for errors ("optim.G")
  optim::Schedule schedule;           // lr(optimizer's own update count)
  double clip_grad_norm = 0;          // 0 = off
};

struct RngPart {
  std::string name;
  Generator* generator;
};

struct Stage {
  std::string name;
  int64_t steps = 0;
  std::vector<std::string> optimizers;  // active in this stage
  int64_t first_step = 0;               // set by Parts: global index of its first step
};

// The declared parts of a family, in declaration order.
class Parts {
 public:
  // A network; `prefix` defaults to name + "." ("" keeps the module's names at the root).
  template <class M>
  std::shared_ptr<M> network(const std::string& name, std::shared_ptr<M> module,
                             std::optional<std::string> prefix = std::nullopt) {
    add_network(name, module, prefix ? *prefix : name + ".");
    return module;
  }
  // An optimiser over the parameters of `networks` (in that order), built from a spec: its
  // schedule covers the steps of the stages in which it is active. `where` names the config
  // section in errors (default "optim.<name>").
  optim::Optimizer& optimizer(const std::string& name, const OptimSpec& spec, const std::vector<std::string>& networks,
                              std::optional<std::string> prefix = std::nullopt, const std::string& where = "");
  // The same with parameter groups of their own (e.g. one network at another lr): group lrs
  // < 0 take spec.lr; the schedule scales every group by the same factor.
  optim::Optimizer& optimizer(const std::string& name, const OptimSpec& spec, std::vector<optim::ParamGroup> groups,
                              const std::vector<std::string>& networks, std::optional<std::string> prefix = std::nullopt,
                              const std::string& where = "");
  // A named random stream (its offset is checkpointed).
  void rng(const std::string& name, Generator& gen);
  // Stages run in declaration order; each lists the optimisers active in it.
  void stage(const std::string& name, int64_t steps, const std::vector<std::string>& optimizers);

  const std::vector<NetworkPart>& networks() const { return networks_; }
  std::vector<OptimizerPart>& optimizers() { return optimizers_; }
  const std::vector<OptimizerPart>& optimizers() const { return optimizers_; }
  const std::vector<RngPart>& rngs() const { return rngs_; }
  const std::vector<Stage>& stages() const { return stages_; }
  int64_t total_steps() const;
  const NetworkPart& network(const std::string& name) const;
  OptimizerPart& optimizer(const std::string& name);
  const OptimizerPart& optimizer(const std::string& name) const;
  // The stage that step (0-based) falls in (the last one for step == total_steps()).
  size_t stage_index(int64_t step) const;

 private:
  void add_network(const std::string& name, std::shared_ptr<nn::Module> module, const std::string& prefix);
  void check_new_name(const std::string& kind, const std::string& name) const;
  std::vector<NetworkPart> networks_;
  std::vector<OptimizerPart> optimizers_;
  std::vector<RngPart> rngs_;
  std::vector<Stage> stages_;
};

class StepContext;
struct EvalContext;

// What an evaluation reports: metrics (written to metrics.jsonl, shown on the progress line,
// plotted, and monitored for early stop), and an optional sample sheet (3, H, W) in [0, 1]
// written to samples/step-NNNNNNN.png.
struct EvalReport {
  std::map<std::string, double> metrics;
  Tensor sheet;
};

class Family {
 public:
  Family(const Config& cfg, Device device) : cfg_(cfg), device_(device) {}
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The batch of `step`: a pure function of the seed and the step (so a resumed run sees the
  // same batches). Called from the prefetch workers, concurrently for different steps.
  virtual Batch make_batch(int64_t step) const = 0;
  // Samples [begin, end) of make_batch(step): one rank's slice in a data-parallel run (the
  // union of the ranks' slices is the one-process batch). The default builds the whole batch
  // and slices every tensor along dim 0, which must be the batch; a family whose samples are
  // independent may build just its own.
  virtual Batch make_batch_slice(int64_t step, int64_t begin, int64_t end) const;
  // One training step: forward passes, losses and ctx.update(...) for the active optimisers.
  virtual void step(const Batch& batch, StepContext& ctx) = 0;
  // Called at the first step of each stage, before that step's batch and dump (so a dump's
  // weights are the stage's starting weights): e.g. a network initialised from another's. A run
  // resumed mid-stage does not call it again (its checkpoint holds the result).
  virtual void begin_stage(const Stage& stage) {}
  // Validation, under NoGradGuard, at train.eval_every and at the end. Switching networks to eval
  // mode is the family's business; the harness restores every network's mode afterwards.
  virtual EvalReport evaluate(EvalContext& ctx) { return {}; }
  // A sample sheet (3, H, W) at train.sample_every (undefined: none).
  virtual Tensor samples(EvalContext& ctx) { return Tensor(); }
  // One line for the start of a run ("douga: GCN resnet18 k=7, 12M parameters, ...").
  virtual std::string describe() const { return ""; }
  // One line for the end of a run (the final metrics against the family's baseline).
  virtual std::string summary(const std::map<std::string, double>& last_eval) const { return ""; }
  // Images (or samples) per batch, for `sakuga bench train`'s images/s.
  virtual int64_t batch_size() const { return 1; }
  // The same for one stage, where stages differ (gadn's C2 pre-training).
  virtual int64_t stage_batch_size(const Stage& stage) const { return batch_size(); }
  // Called once at the start of a data-parallel run of `world` > 1 ranks, after the check that
  // every stage's batch splits evenly: a family whose step needs more of each rank's slice
  // (whole groups of samples, say) throws sakuga::Error naming the config keys.
  virtual void check_data_parallel(int world) const {}
  // Extra state of the family kept in checkpoints (restored before the first resumed step).
  virtual Json state() const { return nullptr; }
  virtual void load_state(const Json& state) {}

  Parts& parts() { return parts_; }
  const Parts& parts() const { return parts_; }
  const Config& config() const { return cfg_; }
  Device device() const { return device_; }

 private:
  Config cfg_;
  Device device_;
  Parts parts_;
};

// What step() can see and do. Created by the harness for each step.
class StepContext {
 public:
  int64_t step() const { return step_; }                 // the global step being run, 0-based
  const Stage& stage() const { return *stage_; }
  int64_t stage_step() const { return step_ - stage_->first_step; }
  double progress() const;                               // step / total steps, in [0, 1)
  double stage_progress() const;                         // stage_step / stage steps
  Device device() const { return device_; }
  bool active(const std::string& optimizer) const;       // active in the current stage

  // Zero the optimiser's gradients, backward `loss`, then step() it.
  void update(const std::string& optimizer, const Tensor& loss);
  // Clip, set the scheduled lr and step the optimiser on the gradients already there.
  void step_optimizer(const std::string& optimizer);
  void zero_grad(const std::string& optimizer);

  // A scalar (0-dim or 1-element, any device) for metrics.jsonl and the progress line: kept as
  // is and read back at the log interval, so a step has no host synchronisation.
  void log(const std::string& name, const Tensor& scalar);

  // True during the first step of a stage when --dump-first-step is given: then dump() adds
  // tensors to the dump file (gradients of every network are added by the harness).
  bool dumping() const { return dumping_; }
  void dump(const std::string& name, const Tensor& t);

 private:
  friend class Trainer;
  friend class BenchRunner;
  int64_t step_ = 0, total_ = 0;
  const Stage* stage_ = nullptr;
  Device device_;
  Parts* parts_ = nullptr;
  bool dumping_ = false;
  std::map<std::string, Tensor> logged_;
  std::map<std::string, Tensor> dumped_;
  dist::Communicator* comm_ = nullptr;  // data-parallel: gradients are averaged over it
  // Per optimiser, the buckets that update() fills during its backward (owned by the trainer).
  std::map<std::string, std::unique_ptr<dist::GradBuckets>>* buckets_ = nullptr;
  std::vector<std::string> reduced_;  // optimisers whose gradients update() has averaged already
};

// Evaluation in a data-parallel run: every rank calls evaluate(); a family may shard its
// validation set (items i with i % world == rank) and sum its counts with reduce_sum, so every
// rank returns the same metrics. A family that does not shard evaluates the whole set on each
// rank (same weights, same result).
struct EvalContext {
  int64_t step = 0;         // steps completed
  const Stage* stage = nullptr;
  Device device;
  int rank = 0, world = 1;
  dist::Communicator* comm = nullptr;  // the job's host communicator (null: one process)
  // values ← their sums over the ranks (in place; a no-op in one process).
  void reduce_sum(std::vector<double>& values) const;
};

}  // namespace sakuga::harness
