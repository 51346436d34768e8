#pragma once
// Tape autograd. Every recorded op gets a Node with a global sequence number (its place on
// the tape). backward() collects the nodes reachable from the loss and runs their backward
// closures in reverse tape order, so several independent forward/backward passes per
// iteration (GAN steps) just work: each loss walks its own part of the tape. A node's
// closure, and with it every activation it saved, is released as soon as it has run.
//
// Writing an op (see tensor/ops/elementwise.cpp):
//   Tensor y = ...compute...;
//   return record("relu", y, {x}, [x, y](const Tensor& gy, const Needs& need) -> Grads {
//     return {relu_backward(gy, y)};
//   });
// The closure returns one gradient per input (an undefined Tensor where `need[i]` is false
// or the input is not differentiable). It runs with grad mode off.
#include <atomic>
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;
using BackwardFn = std::function<Grads(const Tensor& grad_out, const Needs& need)>;

// Where a gradient goes: into another node (non-leaf input) or into a leaf's .grad.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  bool active() const { return fn || leaf; }
};

struct Node {
  uint64_t seq = 0;
  const char* name = "";
  std::vector<Edge> next;  // one per op input
  Shape out_shape;         // for checks
  DType out_dtype = DType::f32;
  BackwardFn backward;
};

// Grad mode: recording is on by default; NoGradGuard turns it off for a scope.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when an op over these inputs must be recorded.
bool any_requires_grad(std::initializer_list<Tensor> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attach a backward to `out` (returned). No-op when grad mode is off or no input requires grad.
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);

// Run backward from `root` with dL/d(root) = grad_root (ones for a scalar when undefined).
void run_backward(const Tensor& root, const Tensor& grad_root);

// While a GradReadyScope is alive on this thread, each backward calls `hook(leaf)` as soon as a
// leaf's .grad is complete (no op still to run in this backward adds to it): data-parallel
// gradient buckets start their all-reduce then, while the rest of the backward runs.
using GradReadyHook = std::function<void(const Tensor& leaf)>;
class GradReadyScope {
 public:
  explicit GradReadyScope(GradReadyHook hook);
  ~GradReadyScope();
  GradReadyScope(const GradReadyScope&) = delete;
  GradReadyScope& operator=(const GradReadyScope&) = delete;

 private:
  GradReadyHook prev_;
};

}  // namespace sakuga
