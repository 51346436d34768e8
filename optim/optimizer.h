#pragma once
// Optimizer base: a list of parameter groups of named parameters, each group with its own lr
// and weight decay. step() updates every parameter that has a gradient (as PyTorch does:
// parameters whose .grad is undefined are skipped and their state does not advance), in one
// fused multi-tensor kernel per device on CUDA. zero_grad() sets gradients to none.
//
// State (step counters, moments) is a map of tensors under a prefix, by default "optim.":
//   optim.step                                  i32 scalar: number of step() calls
//   optim.<buffer>.<param name>                 e.g. optim.exp_avg.layer1.0.conv1.weight
//   optim.param_step.<param name>               i32 scalar, only for a parameter whose own
//                                               update count differs from optim.step
// so it can live in the checkpoint safetensors file next to the weights. Loading the state
// back gives bit-identical continuation. Use a different prefix per optimizer when several
// share a checkpoint (GAN: "optim.G.", "optim.D.").
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/optim.h"
#include "tensor/tensor.h"

namespace sakuga::optim {

using NamedParams = std::vector<std::pair<std::string, Tensor>>;

struct ParamGroup {
  NamedParams params;
  double lr = -1;            // < 0: the optimizer's lr
  double weight_decay = -1;  // < 0: the optimizer's weight_decay
  double initial_lr = 0;     // set by the optimizer: the group's lr at construction
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual const char* name() const = 0;  // "SGD", "Adam", "AdamW", "RMSprop"

  // Sets every parameter's gradient to none (undefined).
  void zero_grad();
  // One update of every parameter that has a gradient.
  void step();
  // Number of step() calls so far (restored by load_state_dict).
  int64_t steps() const { return steps_; }

  // --- parameter groups and learning rates ---------------------------------------------
  void add_param_group(ParamGroup g);
  size_t num_groups() const { return groups_.size(); }
  const ParamGroup& group(size_t i) const;
  double lr(size_t group = 0) const;
  void set_lr(double lr);                 // every group
  void set_lr(size_t group, double lr);   // one group
  // Every group's lr = its initial_lr × factor: an LR schedule with per-group base lrs
  // (opt.set_lr_factor(sched.factor(step))).
  void set_lr_factor(double factor);
  NamedParams params() const;  // all parameters, group by group

  // --- state ----------------------------------------------------------------------------
  std::map<std::string, Tensor> state_dict(const std::string& prefix = "optim.") const;
  // Reads the keys under `prefix` (others are ignored: the same map may hold the weights).
  // A parameter's buffers must be all present (restored) or all absent (fresh state). Errors
  // list every missing, unexpected and mis-shaped key at once; with strict = false only
  // mis-shaped keys are errors and unexpected ones are ignored. Tensors are copied onto the
  // parameter's device and dtype.
  void load_state_dict(const std::map<std::string, Tensor>& sd, const std::string& prefix = "optim.",
                       bool strict = true);
  // The state buffer `buffer` of parameter `param` (undefined before its first update).
  Tensor state(const std::string& buffer, const std::string& param) const;

 protected:
  // `buffers`: the state of each parameter, by slot (OptimTensor s0, s1, s2); "" = unused.
  Optimizer(std::vector<ParamGroup> groups, double lr, double weight_decay, std::vector<std::string> buffers);
  // Updates a list of parameters that share a device and dtype (state allocated, steps counted).
  virtual void update(const std::vector<kernels::OptimTensor>& ts, DType dtype, Device dev) = 0;

 private:
  struct ParamState {
    std::vector<Tensor> bufs;  // by slot
    int64_t step = 0;          // updates of this parameter
  };
  struct Entry {
    std::string name;
    Tensor param;
    size_t group;
  };
  void index_group(size_t g);
  const Entry& find(const std::string& name) const;

  std::vector<ParamGroup> groups_;
  std::vector<Entry> entries_;
  std::map<std::string, ParamState> state_;  // by parameter name
  std::vector<std::string> buffers_;
  double default_lr_, default_wd_;
  int64_t steps_ = 0;
};

}  // namespace sakuga::optim
