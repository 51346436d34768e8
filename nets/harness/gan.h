#pragma once
// Helpers for steps that train several networks against each other (GANs).
//
// The contract for an adversarial pair G, D in one step:
//   1. D's update: fake = G(z) computed under NoGradGuard (or G(z).detach()); d_loss from D(real)
//      and D(fake); ctx.update("D", d_loss).
//   2. G's update: a *second* forward of D on a fresh G(z) (the tape frees every saved tensor
//      after one backward, so the graph of step 1 cannot be walked again), with D frozen by a
//      FreezeGuard so no gradient accumulates into D; ctx.update("G", g_loss).
// Reusing a graph after its backward is an error (tensor/autograd.h), not a silent zero gradient;
// tests/test_harness.cpp shows both.
#include <initializer_list>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace sakuga::harness {

// Sets requires_grad = false on every parameter of the given networks for the guard's lifetime,
// then restores each parameter's own previous flag — also when the scope is left by an
// exception, and without unfreezing parameters that were frozen before (a fixed encoder).
class FreezeGuard {
 public:
  explicit FreezeGuard(nn::Module& m) : FreezeGuard({&m}) {}
  explicit FreezeGuard(std::initializer_list<nn::Module*> modules) {
    for (nn::Module* m : modules)
      for (auto& [name, p] : m->named_parameters()) {
        saved_.emplace_back(p, p.requires_grad());
        p.set_requires_grad(false);
      }
  }
  ~FreezeGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) it->first.set_requires_grad(it->second);
  }
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;

 private:
  std::vector<std::pair<Tensor, bool>> saved_;
};

}  // namespace sakuga::harness
