#pragma once
// Module: a named tree of parameters, buffers and child modules, with PyTorch's naming
// (`layer1.0.conv1.weight`, `bn1.running_mean`), so torchvision weights converted to
// safetensors load by name and PyTorch can read ours.
//
//   struct Block : nn::Module {
//     std::shared_ptr<nn::Conv2d> conv;
//     std::shared_ptr<nn::BatchNorm2d> bn;
//     Block() {
//       conv = register_module("conv", std::make_shared<nn::Conv2d>(3, 8, 3, 1, 1));
//       bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(8));
//     }
//     Tensor forward(const Tensor& x) override { return ops::relu((*bn)((*conv)(x))); }
//   };
//
// Parameters and buffers are Tensor handles shared between the module's fields and its
// registry: load_state_dict() copies values into them and to(Device) moves them, both in
// place, so every handle taken before (fields, optimizer parameter lists) stays valid.
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::io {
struct SafetensorsFile;
}

namespace sakuga::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // "Conv2d", "BatchNorm2d", ... (for summaries and errors).
  virtual std::string type_name() const { return "Module"; }
  // One-line description of the layer's configuration, e.g. "3, 8, kernel=(3, 3), stride=(1, 1)".
  virtual std::string extra_repr() const { return ""; }
  // The single-input forward. Modules with another signature define their own call and leave
  // this one throwing.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // --- registration -----------------------------------------------------------------------
  // Registers `t` under `name` and returns it (the same handle). Parameters are float leaves
  // that require grad unless told otherwise. An undefined tensor registers nothing (like
  // PyTorch's `bias=None`). Names must be unique in the module and contain no '.'.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // Buffers: state that is not trained (running statistics). Non-persistent buffers are moved
  // by to() but are not in the state_dict. Optional buffers may be absent from a state_dict
  // without counting as missing (BatchNorm's num_batches_tracked, as PyTorch allows).
  Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true, bool optional = false);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // --- introspection (PyTorch order: a module's own entries first, then each child's) ---
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }
  // Every module of the tree in pre-order, this one first under the name "".
  std::vector<std::pair<std::string, Module*>> named_modules();
  // The child `name` (may be dotted: "layer1.0"), or an error naming what exists.
  Module& submodule(const std::string& name);
  int64_t num_parameters(bool only_trainable = false) const;

  // --- state ----------------------------------------------------------------------------
  // Parameters and persistent buffers by dotted name (the live tensors, not copies).
  StateDict state_dict() const;
  // The same in PyTorch's order (per module: parameters, buffers, then children).
  NamedTensors ordered_state_dict() const;
  struct LoadResult {
    std::vector<std::string> missing, unexpected;
  };
  // Copies every tensor of `sd` into the module's tensor of that name (converting dtype and
  // device; the handles stay the same). Keys starting with `skip_prefix` (when not empty) are
  // ignored — a checkpoint keeps the optimizer state under "optim.". Shape mismatches are
  // always an error; with strict, missing and unexpected keys are too. The error lists all of
  // them at once. Nothing is copied when it throws. Returns what was missing/unexpected.
  LoadResult load_state_dict(const StateDict& sd, bool strict = true, const std::string& skip_prefix = "");

  // safetensors: the state_dict plus string metadata (e.g. the config as JSON).
  void save(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;
  // Loads the weights of `path` (keys under "optim." skipped) and returns the whole file, so
  // the caller can hand the same tensors to Optimizer::load_state_dict and read the metadata.
  io::SafetensorsFile load(const std::string& path, bool strict = true);

  // --- modes ----------------------------------------------------------------------------
  // Recursively; BatchNorm uses batch statistics and Dropout drops only in training mode.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Every parameter's requires_grad (freezing a network for the other GAN step): a frozen
  // parameter is not recorded by autograd, so no gradient accumulates into it.
  void set_requires_grad(bool on);
  // Sets every parameter's gradient to none.
  void zero_grad();
  // Moves every parameter and buffer (and existing gradient) to `device` in place.
  void to(Device device);
  // The device of the first parameter or buffer (CPU for an empty module).
  Device device() const;
  // Calls fn on every module of the tree, children before parents (torch's Module.apply).
  void apply(const std::function<void(Module&)>& fn);
  // A PyTorch-like printout of the tree with parameter counts.
  std::string summary() const;

 protected:
  // Called after load_state_dict has copied new values (e.g. to refresh host-side mirrors).
  virtual void on_state_loaded() {}
  bool training_ = true;

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    bool persistent = true, optional = false;
  };
  void check_name(const std::string& name) const;
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void collect(const std::string& prefix, NamedTensors* params, NamedTensors* buffers, NamedTensors* state,
               std::set<std::string>* optional) const;
  void summary_into(std::string& out, const std::string& name, int indent) const;

  std::vector<Entry> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace sakuga::nn
