#include "tensor/autograd.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "tensor/ops/elementwise.h"

namespace sakuga {

namespace {
thread_local bool t_grad_enabled = true;
thread_local GradReadyHook t_grad_ready;
std::atomic<uint64_t> g_next_seq{1};
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }
GradReadyScope::GradReadyScope(GradReadyHook hook) : prev_(std::move(t_grad_ready)) { t_grad_ready = std::move(hook); }
GradReadyScope::~GradReadyScope() { t_grad_ready = std::move(prev_); }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}
bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!t_grad_enabled || !any_requires_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->seq = g_next_seq++;
  node->name = name;
  node->out_shape = out.shape();
  node->out_dtype = out.dtype();
  node->backward = std::move(backward);
  node->next.reserve(inputs.size());
  for (const Tensor& in : inputs) {
    Edge e;
    if (in.defined() && in.requires_grad()) {
      if (in.impl().grad_fn)
        e.fn = in.impl().grad_fn;
      else
        e.leaf = in.impl_ptr();
    }
    node->next.push_back(e);
  }
  // The output is a fresh handle that owns the node (views share storage, not the handle).
  out.impl().grad_fn = node;
  return out;
}

namespace {

Tensor accumulate(const Tensor& acc, const Tensor& g) { return acc.defined() ? ops::add(acc, g) : g; }

void check_grad(const Node& node, size_t i, const Tensor& g, const Shape& expect) {
  SAKUGA_CHECK(g.shape() == expect, "autograd: backward of '", node.name, "' returned a gradient of shape ",
               shape_str(g.shape()), " for input ", i, ", expected ", shape_str(expect));
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_root) {
  SAKUGA_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad");
  Tensor g0 = grad_root;
  if (!g0.defined()) {
    SAKUGA_CHECK(root.numel() == 1, "backward() without a gradient needs a scalar, got shape ",
                 shape_str(root.shape()));
    g0 = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  SAKUGA_CHECK(g0.shape() == root.shape(), "backward(): gradient shape ", shape_str(g0.shape()),
               " does not match ", shape_str(root.shape()));
  NoGradGuard no_grad;

  auto accumulate_leaf = [](const std::shared_ptr<TensorImpl>& leaf, const Tensor& g) {
    // A leaf owns its gradient: a fresh copy the first time (the same gradient tensor can
    // reach several leaves, and optimizers/clipping modify .grad in place).
    Tensor g_own = g.dtype() == leaf->dtype ? g.contiguous() : g.to(leaf->dtype);
    if (leaf->grad) {
      Tensor sum = ops::add(Tensor(leaf->grad), g_own);
      leaf->grad = sum.impl_ptr();
    } else {
      leaf->grad = g_own.same(g) ? g_own.clone().detach().impl_ptr() : g_own.detach().impl_ptr();
    }
  };

  if (root.is_leaf()) {
    accumulate_leaf(root.impl_ptr(), g0);
    if (t_grad_ready) t_grad_ready(root);
    return;
  }

  // Collect the part of the tape reachable from the root.
  // `order` owns the nodes: clearing a node's edges below must not free the ones still to run.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::shared_ptr<Node>> stack{root.impl().grad_fn};
  seen.insert(stack.back().get());
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    for (const Edge& e : n->next)
      if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn);
    order.push_back(std::move(n));
  }
  // Reverse tape order: every consumer of a node ran before the node itself.
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a->seq > b->seq; });

  // With a grad-ready hook: how many nodes still to run feed each leaf.
  const GradReadyHook& hook = t_grad_ready;
  std::unordered_map<TensorImpl*, int> leaf_uses;
  if (hook)
    for (const auto& n : order)
      for (const Edge& e : n->next)
        if (e.leaf) ++leaf_uses[e.leaf.get()];
  auto leaves_done = [&](const Node& n) {
    if (!hook) return;
    for (const Edge& e : n.next)
      if (e.leaf && --leaf_uses[e.leaf.get()] == 0 && e.leaf->grad) hook(Tensor(e.leaf));
  };

  std::unordered_map<Node*, Tensor> pending;
  pending[root.impl().grad_fn.get()] = g0;
  for (const std::shared_ptr<Node>& node : order) {
    Node* n = node.get();
    auto it = pending.find(n);
    if (it == pending.end()) {  // nothing flowed here
      leaves_done(*n);
      continue;
    }
    Tensor g = it->second;
    pending.erase(it);
    SAKUGA_CHECK(n->backward, "autograd: backward through '", n->name,
                 "' a second time (its saved tensors were freed after the first backward)");
    Needs need(n->next.size());
    for (size_t i = 0; i < n->next.size(); ++i) need[i] = n->next[i].active();
    Grads grads = n->backward(g, need);
    SAKUGA_CHECK(grads.size() == n->next.size(), "autograd: backward of '", n->name, "' returned ",
                 grads.size(), " gradients for ", n->next.size(), " inputs");
    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& e = n->next[i];
      if (!e.active() || !grads[i].defined()) continue;
      if (e.fn) {
        check_grad(*n, i, grads[i], e.fn->out_shape);
        Tensor& slot = pending[e.fn.get()];
        slot = accumulate(slot, grads[i]);
      } else {
        check_grad(*n, i, grads[i], e.leaf->shape);
        accumulate_leaf(e.leaf, grads[i]);
      }
    }
    leaves_done(*n);
    // Free the saved activations now; the graph edges go with them.
    n->backward = nullptr;
    n->next.clear();
  }
}

}  // namespace sakuga
