// Harness cases for the optimizer family: parity only (CUDA fused multi-tensor kernels against
// the CPU reference loops); optimizers are not differentiable, so no grad mode. Each case runs
// three steps on several parameters — one longer than a 64K-element chunk, so chunking across
// blocks is covered — and returns every updated parameter, flattened and concatenated.
#include <cmath>
#include <functional>
#include <memory>

#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

const std::vector<Shape> kShapes = {{70001}, {3, 5}, {1}, {2, 3, 4, 4}};

// Inputs: the parameters, then one base gradient per parameter (all non-differentiable).
std::vector<InputSpec> optim_inputs() {
  std::vector<InputSpec> ins;
  for (const Shape& s : kShapes) ins.push_back(constant(in(s)));
  for (const Shape& s : kShapes) ins.push_back(constant(in(s, 0.5)));
  return ins;
}

Tensor flat_concat(const std::vector<Tensor>& ts) {
  std::vector<Tensor> flat;
  for (const Tensor& t : ts) flat.push_back(ops::reshape(t.detach(), {-1}));
  return ops::concat(flat, 0);
}

using MakeOpt = std::function<std::unique_ptr<optim::Optimizer>(const optim::NamedParams&)>;

void optim_case(const std::string& op, const std::string& name, MakeOpt make) {
  OpCase c{op, name, optim_inputs(), [make](const Inputs& v) {
             const size_t n = kShapes.size();
             optim::NamedParams ps;
             for (size_t i = 0; i < n; ++i) ps.emplace_back("p" + std::to_string(i), v[i].detach().clone());
             auto opt = make(ps);
             for (int k = 0; k < 3; ++k) {
               // g = base·(1 + k) + 0.1·p: changes with the step and the parameter.
               for (size_t i = 0; i < n; ++i) {
                 const Tensor& p = ps[i].second;
                 p.set_grad(ops::add(ops::mul(v[n + i], 1.0 + k), ops::mul(p.detach(), 0.1)));
               }
               if (k == 1) ps[2].second.set_grad(Tensor());  // a parameter skipped on one step
               opt->step();
             }
             std::vector<Tensor> out;
             for (auto& np : ps) out.push_back(np.second);
             return flat_concat(out);
           }};
  c.grad = false;
  add_case(c);
}

}  // namespace

SAKUGA_OP_CASES(optim) {
  using namespace sakuga::optim;
  optim_case("optim.sgd", "sgd momentum wd", [](const NamedParams& ps) {
    SgdOptions o;
    o.lr = 0.05;
    o.momentum = 0.9;
    o.weight_decay = 1e-2;
    return std::unique_ptr<Optimizer>(new SGD(ps, o));
  });
  optim_case("optim.sgd", "sgd nesterov", [](const NamedParams& ps) {
    SgdOptions o;
    o.lr = 0.05;
    o.momentum = 0.8;
    o.nesterov = true;
    return std::unique_ptr<Optimizer>(new SGD(ps, o));
  });
  optim_case("optim.sgd", "sgd plain", [](const NamedParams& ps) {
    SgdOptions o;
    o.lr = 0.1;
    return std::unique_ptr<Optimizer>(new SGD(ps, o));
  });
  optim_case("optim.adam", "adam", [](const NamedParams& ps) {
    AdamOptions o;
    o.lr = 1e-2;
    o.weight_decay = 1e-2;
    return std::unique_ptr<Optimizer>(new Adam(ps, o));
  });
  optim_case("optim.adam", "adam amsgrad betas 0.5", [](const NamedParams& ps) {
    AdamOptions o;
    o.lr = 2e-4;
    o.beta1 = 0.5;
    o.amsgrad = true;
    return std::unique_ptr<Optimizer>(new Adam(ps, o));
  });
  optim_case("optim.adamw", "adamw", [](const NamedParams& ps) {
    return std::unique_ptr<Optimizer>(new AdamW(ps, adamw_options(1e-2, 0.1)));
  });
  optim_case("optim.rmsprop", "rmsprop", [](const NamedParams& ps) {
    RmspropOptions o;
    o.lr = 1e-2;
    return std::unique_ptr<Optimizer>(new RMSprop(ps, o));
  });
  optim_case("optim.rmsprop", "rmsprop centered momentum wd", [](const NamedParams& ps) {
    RmspropOptions o;
    o.lr = 1e-2;
    o.momentum = 0.9;
    o.centered = true;
    o.weight_decay = 1e-3;
    return std::unique_ptr<Optimizer>(new RMSprop(ps, o));
  });

  // Clipping: the total norm (first element) and the clipped gradients.
  auto clip_case = [](const std::string& name, double max_norm, double norm_type, bool by_value) {
    std::vector<InputSpec> ins;
    for (const Shape& s : kShapes) ins.push_back(constant(in(s, 0.5)));
    OpCase c{by_value ? "optim.clip_grad_value" : "optim.clip_grad_norm", name, ins,
             [=](const Inputs& v) {
               std::vector<Tensor> ps, out;
               for (const Tensor& g : v) {
                 Tensor p = Tensor::zeros(g.shape(), g.dtype(), g.device());
                 p.set_grad(g.detach().clone());
                 ps.push_back(p);
               }
               if (by_value) {
                 optim::clip_grad_value(ps, max_norm);
               } else {
                 out.push_back(ops::reshape(optim::clip_grad_norm(ps, max_norm, norm_type), {1}));
               }
               for (const Tensor& p : ps) out.push_back(p.grad());
               return flat_concat(out);
             }};
    c.grad = false;
    add_case(c);
  };
  clip_case("clip_grad_norm 2 (clips)", 1.0, 2.0, false);
  clip_case("clip_grad_norm 2 (below the bound)", 1e6, 2.0, false);
  clip_case("clip_grad_norm inf", 0.3, INFINITY, false);
  clip_case("clip_grad_value", 0.4, 0, true);
}
