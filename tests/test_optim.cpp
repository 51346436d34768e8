// Optimizers, LR schedules and gradient clipping: exact first steps on a tiny quadratic, state
// round trips, schedules at key steps, clipping values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tensor/safetensors.h"

using namespace sakuga;
using namespace sakuga::optim;

namespace {

// L = ½·|p|², so dL/dp = p: the gradient is set to a copy of the parameter before each step.
void quad_step(Optimizer& opt) {
  for (auto& [name, p] : opt.params()) p.set_grad(p.detach().clone());
  opt.step();
}

Tensor param_f64(std::vector<float> v) { return Tensor::from_vector(v, {int64_t(v.size())}, DType::f64); }

void check_values(const Tensor& t, std::vector<double> want, double tol = 1e-12) {
  std::vector<double> got = t.to_vector_f64();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", want ", want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i])));
  }
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor ha = a.contiguous().cpu(), hb = b.contiguous().cpu();
  return std::memcmp(ha.raw(), hb.raw(), ha.nbytes()) == 0;
}

// Two parameters with fixed, non-trivial values (f32).
NamedParams make_params(uint64_t salt = 0) {
  std::vector<float> w(12), b(3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(std::sin(1.3 * double(i + salt) + 0.2));
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(std::cos(0.7 * double(i + salt)));
  return {{"layer.weight", Tensor::from_vector(w, {3, 4})}, {"layer.bias", Tensor::from_vector(b, {3})}};
}

// A fixed gradient for step k that is not proportional to the parameter.
void fixed_grads(const NamedParams& ps, int k) {
  for (size_t j = 0; j < ps.size(); ++j) {
    const Tensor& p = ps[j].second;
    std::vector<float> g(size_t(p.numel()));
    for (size_t i = 0; i < g.size(); ++i) g[i] = float(std::sin(0.37 * double(i) + 1.1 * k + 0.5 * double(j)));
    p.set_grad(Tensor::from_vector(g, p.shape()));
  }
}

NamedParams clone_params(const NamedParams& ps) {
  NamedParams out;
  for (auto& [n, p] : ps) out.emplace_back(n, p.detach().clone());
  return out;
}

}  // namespace

TEST_SUITE("optim") {

TEST_CASE("SGD with momentum and weight decay: first steps by hand") {
  // d = g + 0.1·p = 1.1·p; step 1: buf = d, p = p − 0.1·1.1·p = 0.89·p.
  // step 2: d = 1.1·0.89·p0, buf = 0.9·1.1·p0 + 0.979·p0 = 1.969·p0, p = 0.89·p0 − 0.1969·p0.
  Tensor p = param_f64({1, -2});
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.1;
  SGD opt(NamedParams{{"p", p}}, o);
  quad_step(opt);
  check_values(p, {0.89, -1.78});
  check_values(opt.state("momentum_buffer", "p"), {1.1, -2.2});
  quad_step(opt);
  check_values(p, {0.6931, -1.3862});
  CHECK(opt.steps() == 2);
}

TEST_CASE("SGD: plain and nesterov") {
  Tensor p = param_f64({1, -2});
  SgdOptions o;
  o.lr = 0.1;
  SGD plain(NamedParams{{"p", p}}, o);
  quad_step(plain);
  check_values(p, {0.9, -1.8});
  quad_step(plain);
  check_values(p, {0.81, -1.62});
  CHECK(plain.state_dict().size() == 1);  // only optim.step: no momentum buffer

  // Nesterov: buf = p, d = p + 0.9·buf = 1.9·p, p = p − 0.19·p.
  Tensor q = param_f64({1, -2});
  o.momentum = 0.9;
  o.nesterov = true;
  SGD nest(NamedParams{{"q", q}}, o);
  quad_step(nest);
  check_values(q, {0.81, -1.62});
  quad_step(nest);
  check_values(q, {0.5751, -1.1502});

  o.dampening = 0.5;
  CHECK_THROWS_WITH_AS(SGD(NamedParams{{"q", q}}, o), doctest::Contains("nesterov"), Error);
}

TEST_CASE("Adam and AdamW: first steps by hand") {
  // Step 1: m = 0.1·g, v = 0.001·g², step_size = lr/0.1, denom = |g| + eps → p −= 0.1·sign(g).
  Tensor p = param_f64({1, -2});
  AdamOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.1;  // L2 into the gradient: g = 1.1·p
  Adam adam(NamedParams{{"p", p}}, o);
  CHECK(std::string(adam.name()) == "Adam");
  quad_step(adam);
  check_values(p, {0.9000000009090909, -1.9000000004545454});
  quad_step(adam);
  check_values(p, {0.8004122295267845, -1.8001664865292033});

  // AdamW: p *= 1 − lr·wd = 0.99 first, then the same Adam step on g = p.
  Tensor q = param_f64({1, -2});
  AdamW adamw(NamedParams{{"q", q}}, adamw_options(0.1, 0.1));
  CHECK(std::string(adamw.name()) == "AdamW");
  quad_step(adamw);
  check_values(q, {0.890000001, -1.8800000005});
  quad_step(adamw);
  check_values(q, {0.7815718569541611, -1.7614089510885826});
  CHECK(adamw.state_dict().count("optim.exp_avg.q") == 1);
  CHECK(adamw.state_dict().count("optim.exp_avg_sq.q") == 1);
  CHECK(adamw.state_dict().count("optim.max_exp_avg_sq.q") == 0);
}

TEST_CASE("Adam amsgrad keeps the running maximum") {
  Tensor p = param_f64({1});
  AdamOptions o;
  o.lr = 0.1;
  o.amsgrad = true;
  Adam adam(NamedParams{{"p", p}}, o);
  p.set_grad(param_f64({2}));
  adam.step();
  p.set_grad(param_f64({0.1f}));
  adam.step();
  // v after step 2 = 0.999·0.004 + 0.001·0.01 ≈ 0.004006 < max? v1 = 0.004, v2 = 0.00400601: max = v2.
  double v1 = 0.001 * 4, v2 = 0.999 * v1 + 0.001 * double(0.1f) * double(0.1f);
  check_values(adam.state("max_exp_avg_sq", "p"), {std::max(v1, v2)});
  p.set_grad(param_f64({0}));
  adam.step();
  double v3 = 0.999 * v2;
  check_values(adam.state("exp_avg_sq", "p"), {v3});
  check_values(adam.state("max_exp_avg_sq", "p"), {std::max(v2, v3)});
}

TEST_CASE("RMSprop: plain and centered with momentum, first steps by hand") {
  // sq = 0.01·g², avg = 0.1·|g| + eps → p −= 0.01·g/(0.1·|g| + 1e-8) ≈ 0.1·sign(g).
  Tensor p = param_f64({1, -2});
  RmspropOptions o;
  o.lr = 0.01;
  RMSprop rms(NamedParams{{"p", p}}, o);
  quad_step(rms);
  check_values(p, {0.9000000099999991, -1.9000000049999999});
  quad_step(rms);
  check_values(p, {0.8329179752650593, -1.8309433328172848});

  Tensor q = param_f64({1, -2});
  o.centered = true;
  o.momentum = 0.9;
  o.weight_decay = 0.1;
  RMSprop rc(NamedParams{{"q", q}}, o);
  quad_step(rc);
  check_values(q, {0.8994962276568145, -1.8994962230654469});
  quad_step(rc);
  check_values(q, {0.7413059906502579, -1.739298756431361});
  auto sd = rc.state_dict();
  CHECK(sd.count("optim.square_avg.q") == 1);
  CHECK(sd.count("optim.momentum_buffer.q") == 1);
  CHECK(sd.count("optim.grad_avg.q") == 1);
}

TEST_CASE("zero_grad sets gradients to none; parameters without a gradient are skipped") {
  NamedParams ps = make_params();
  Tensor w0 = ps[0].second.detach().clone(), b0 = ps[1].second.detach().clone();
  AdamOptions o;
  o.lr = 0.01;
  Adam opt(ps, o);
  fixed_grads(ps, 0);
  opt.zero_grad();
  CHECK_FALSE(ps[0].second.grad().defined());
  CHECK_FALSE(ps[1].second.grad().defined());
  opt.step();  // nothing has a gradient: nothing moves, no state
  CHECK(bit_equal(ps[0].second, w0));
  CHECK(opt.state_dict().size() == 1);

  // Only the weight gets gradients for two steps, then both for one.
  fixed_grads(ps, 1);
  ps[1].second.set_grad(Tensor());
  opt.step();
  fixed_grads(ps, 2);
  ps[1].second.set_grad(Tensor());
  opt.step();
  CHECK(bit_equal(ps[1].second, b0));
  fixed_grads(ps, 3);
  opt.step();
  CHECK_FALSE(bit_equal(ps[1].second, b0));
  auto sd = opt.state_dict();
  CHECK(sd.at("optim.step").item() == 4);
  CHECK(sd.at("optim.param_step.layer.weight").item() == 3);
  CHECK(sd.at("optim.param_step.layer.bias").item() == 1);
  // The bias had its first Adam step (bias correction with t = 1): |Δ| = lr (up to eps).
  std::vector<float> b = ps[1].second.to_vector(), bb = b0.to_vector();
  for (size_t i = 0; i < b.size(); ++i) CHECK(std::fabs(std::fabs(b[i] - bb[i]) - 0.01) < 1e-6);
}

TEST_CASE("parameter groups have their own lr; set_lr / set_lr_factor") {
  Tensor a = param_f64({1}), b = param_f64({1});
  SgdOptions o;
  o.lr = 0.1;
  std::vector<ParamGroup> groups(2);
  groups[0].params = {{"a", a}};
  groups[1].params = {{"b", b}};
  groups[1].lr = 0.5;
  SGD opt(groups, o);
  CHECK(opt.num_groups() == 2);
  CHECK(opt.lr(0) == 0.1);
  CHECK(opt.lr(1) == 0.5);
  a.set_grad(param_f64({1}));
  b.set_grad(param_f64({1}));
  opt.step();
  check_values(a, {0.9});
  check_values(b, {0.5});
  opt.set_lr_factor(0.5);
  CHECK(opt.lr(0) == 0.05);
  CHECK(opt.lr(1) == 0.25);
  opt.set_lr(1, 2.0);
  CHECK(opt.lr(1) == 2.0);
  opt.set_lr(0.3);
  CHECK(opt.lr(0) == 0.3);
  CHECK(opt.lr(1) == 0.3);
  CHECK(opt.group(1).initial_lr == 0.5);
  CHECK_THROWS_AS(opt.group(2), Error);
}

TEST_CASE("duplicate parameters are rejected") {
  Tensor a = param_f64({1});
  CHECK_THROWS_WITH_AS(SGD(NamedParams{{"a", a}, {"a", param_f64({2})}}, SgdOptions{}),
                       doctest::Contains("two parameters named 'a'"), Error);
  CHECK_THROWS_WITH_AS(SGD(NamedParams{{"a", a}, {"b", a}}, SgdOptions{}), doctest::Contains("same tensor"), Error);
}

TEST_CASE("state_dict round trip through safetensors continues bit-identically") {
  using Make = std::function<std::unique_ptr<Optimizer>(const NamedParams&)>;
  std::vector<std::pair<std::string, Make>> makers = {
      {"sgd", [](const NamedParams& ps) {
         SgdOptions o;
         o.lr = 0.05;
         o.momentum = 0.9;
         o.weight_decay = 1e-3;
         o.nesterov = true;
         return std::unique_ptr<Optimizer>(new SGD(ps, o));
       }},
      {"adam", [](const NamedParams& ps) {
         AdamOptions o;
         o.lr = 0.01;
         o.amsgrad = true;
         o.weight_decay = 1e-2;
         return std::unique_ptr<Optimizer>(new Adam(ps, o));
       }},
      {"adamw", [](const NamedParams& ps) { return std::unique_ptr<Optimizer>(new AdamW(ps, adamw_options(0.01))); }},
      {"rmsprop", [](const NamedParams& ps) {
         RmspropOptions o;
         o.lr = 0.01;
         o.momentum = 0.5;
         o.centered = true;
         return std::unique_ptr<Optimizer>(new RMSprop(ps, o));
       }},
  };
  for (auto& [label, make] : makers) {
    CAPTURE(label);
    NamedParams ps = make_params();
    auto a = make(ps);
    for (int k = 0; k < 3; ++k) {
      fixed_grads(ps, k);
      a->step();
    }
    // Checkpoint: weights and optimizer state in one file.
    std::map<std::string, Tensor> ckpt = a->state_dict();
    for (auto& [n, p] : ps) ckpt[n] = p;
    std::string path = "/tmp/sakuga_test_optim_" + label + ".safetensors";
    io::save_safetensors(path, ckpt);
    // Run A on.
    for (int k = 3; k < 6; ++k) {
      fixed_grads(ps, k);
      a->step();
    }
    // Resume B from the file.
    io::SafetensorsFile f = io::load_safetensors(path);
    std::remove(path.c_str());
    NamedParams qs = make_params(7);  // different values: all must come from the file
    for (auto& [n, q] : qs) q.copy_(f.tensors.at(n));
    auto b = make(qs);
    b->load_state_dict(f.tensors);
    CHECK(b->steps() == 3);
    for (int k = 3; k < 6; ++k) {
      fixed_grads(qs, k);
      b->step();
    }
    for (size_t i = 0; i < ps.size(); ++i) {
      CAPTURE(ps[i].first);
      CHECK(bit_equal(ps[i].second, qs[i].second));
    }
    auto sa = a->state_dict(), sb = b->state_dict();
    CHECK(sa.size() == sb.size());
    for (auto& [k, t] : sa) {
      CAPTURE(k);
      REQUIRE(sb.count(k));
      CHECK(bit_equal(t, sb.at(k)));
    }
  }
}

TEST_CASE("load_state_dict lists every missing, unexpected and mis-shaped key") {
  NamedParams ps = make_params();
  AdamOptions o;
  Adam a(ps, o);
  fixed_grads(ps, 0);
  a.step();
  auto sd = a.state_dict();
  sd.erase("optim.exp_avg_sq.layer.bias");                         // missing (partial state)
  sd["optim.exp_avg.layer.weight"] = Tensor::zeros({4, 3});        // mis-shaped
  sd["optim.exp_avg.nonexistent"] = Tensor::zeros({1});            // unexpected
  sd["optim.velocity.layer.bias"] = Tensor::zeros({3});            // unexpected
  sd["model.conv.weight"] = Tensor::zeros({1});                    // not under the prefix: ignored
  Adam b(clone_params(ps), o);
  try {
    b.load_state_dict(sd);
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    INFO(m);
    CHECK(m.find("optim.exp_avg_sq.layer.bias") != std::string::npos);
    CHECK(m.find("mis-shaped (1): optim.exp_avg.layer.weight (checkpoint (4, 3), parameter (3, 4))") !=
          std::string::npos);
    CHECK(m.find("optim.exp_avg.nonexistent") != std::string::npos);
    CHECK(m.find("optim.velocity.layer.bias") != std::string::npos);
    CHECK(m.find("model.conv.weight") == std::string::npos);
  }
  // Non-strict: unexpected and missing are tolerated, mis-shaped is not.
  CHECK_THROWS_WITH_AS(b.load_state_dict(sd, "optim.", false), doctest::Contains("mis-shaped"), Error);
  sd["optim.exp_avg.layer.weight"] = Tensor::zeros({3, 4});
  CHECK_NOTHROW(b.load_state_dict(sd, "optim.", false));
  CHECK(b.steps() == 1);
  CHECK(b.state("exp_avg", "layer.weight").defined());
  CHECK_FALSE(b.state("exp_avg", "layer.bias").defined());  // partial → fresh

  // A missing step counter is an error in strict mode; an empty map is a fresh state.
  Adam c(clone_params(ps), o);
  CHECK_THROWS_WITH_AS(c.load_state_dict({}), doctest::Contains("missing (1): optim.step"), Error);
  CHECK_NOTHROW(c.load_state_dict({}, "optim.", false));
  CHECK(c.steps() == 0);
}

TEST_CASE("two optimizers share a checkpoint under different prefixes") {
  NamedParams g = make_params(), d = make_params(3);
  AdamOptions o;
  Adam og(g, o), od(d, o);
  fixed_grads(g, 0);
  og.step();
  std::map<std::string, Tensor> ck = og.state_dict("optim.G.");
  for (auto& [k, t] : od.state_dict("optim.D.")) ck[k] = t;
  CHECK(ck.count("optim.G.exp_avg.layer.weight"));
  CHECK(ck.count("optim.D.step"));
  Adam og2(clone_params(g), o), od2(clone_params(d), o);
  CHECK_NOTHROW(og2.load_state_dict(ck, "optim.G."));
  CHECK_NOTHROW(od2.load_state_dict(ck, "optim.D."));
  CHECK(og2.steps() == 1);
  CHECK(od2.steps() == 0);
}

TEST_CASE("lr schedules at key steps") {
  auto close = [](double a, double b) { return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(b)); };
  Schedule c = Schedule::constant(0.1);
  CHECK(c(0) == 0.1);
  CHECK(c(1000000) == 0.1);

  // GCN: 1e-4 → 1e-5 linearly over 100 steps.
  Schedule l = Schedule::linear(1e-4, 1e-5, 100);
  CHECK(close(l(0), 1e-4));
  CHECK(close(l(50), 5.5e-5));
  CHECK(close(l(100), 1e-5));
  CHECK(close(l(1000), 1e-5));

  Schedule cs = Schedule::cosine(1.0, 0.0, 10);
  CHECK(close(cs(0), 1.0));
  CHECK(close(cs(5), 0.5));
  CHECK(close(cs(10), 0.0));
  CHECK(close(cs(20), 0.0));
  CHECK(close(Schedule::cosine(1.0, 0.2, 10)(5), 0.6));

  // Warm-up of 4 steps: 0.25, 0.5, 0.75, 1 × lr, then the decay starts from t = 0.
  Schedule w = Schedule::cosine(1.0, 0.0, 10).with_warmup(4);
  CHECK(close(w(0), 0.25));
  CHECK(close(w(1), 0.5));
  CHECK(close(w(3), 1.0));
  CHECK(close(w(4), 1.0));
  CHECK(close(w(9), 0.5));
  CHECK(close(w(14), 0.0));
  Schedule wc = Schedule::constant(0.2).with_warmup(2);
  CHECK(close(wc(0), 0.1));
  CHECK(close(wc(1), 0.2));
  CHECK(close(wc(100), 0.2));
  CHECK(close(wc.factor(0), 0.5));
  // Hold (CUT's policy): 3 steps at lr, then linear 1 → 0.25 over 3 steps; with a warm-up in front.
  Schedule hl = Schedule::linear(1.0, 0.25, 3).with_hold(3);
  CHECK(close(hl(0), 1.0));
  CHECK(close(hl(2), 1.0));
  CHECK(close(hl(3), 1.0));
  CHECK(close(hl(4), 0.75));
  CHECK(close(hl(6), 0.25));
  CHECK(close(hl(50), 0.25));
  Schedule whl = hl.with_warmup(2);
  CHECK(close(whl(0), 0.5));
  CHECK(close(whl(4), 1.0));
  CHECK(close(whl(6), 0.75));

  Schedule p = Schedule::poly(1.0, 0.0, 10, 2.0);
  CHECK(close(p(5), 0.25));
  CHECK(close(p(10), 0.0));
  CHECK(close(Schedule::poly(0.5, 0.1, 4, 1.0)(2), Schedule::linear(0.5, 0.1, 4)(2)));

  Schedule s = Schedule::step_decay(1.0, 3, 0.5);
  CHECK(close(s(2), 1.0));
  CHECK(close(s(3), 0.5));
  CHECK(close(s(7), 0.25));

  CHECK(parse_schedule_kind("cosine") == Schedule::Kind::cosine);
  CHECK_THROWS_WITH_AS(parse_schedule_kind("cosin"), doctest::Contains("expected constant, linear"), Error);
  CHECK(w.str() == "cosine(lr=1 → 0 over 10 steps, warm-up 4)");
  CHECK_THROWS_AS(l(-1), Error);
}

TEST_CASE("clip_grad_norm: total 2-norm and inf-norm, torch semantics") {
  Tensor a = Tensor::zeros({2}), b = Tensor::zeros({1}), c = Tensor::zeros({3});
  a.set_grad(Tensor::from_vector({3, 4}, {2}));
  b.set_grad(Tensor::from_vector({12}, {1}));
  // c has no gradient: skipped.
  Tensor n = clip_grad_norm(std::vector<Tensor>{a, b, c}, 6.5);
  CHECK(n.dim() == 0);
  CHECK(n.item() == doctest::Approx(13.0).epsilon(1e-7));
  float coef = 6.5f / (13.0f + 1e-6f);
  std::vector<float> ga = a.grad().to_vector(), gb = b.grad().to_vector();
  CHECK(ga[0] == 3 * coef);
  CHECK(ga[1] == 4 * coef);
  CHECK(gb[0] == 12 * coef);
  CHECK_FALSE(c.grad().defined());

  // Below the bound nothing changes (coefficient clamped to 1).
  a.set_grad(Tensor::from_vector({3, 4}, {2}));
  Tensor n2 = clip_grad_norm(NamedParams{{"a", a}}, 100.0);
  CHECK(n2.item() == doctest::Approx(5.0));
  CHECK(a.grad().to_vector() == std::vector<float>{3, 4});

  // inf-norm: max |g|.
  a.set_grad(Tensor::from_vector({3, -8}, {2}));
  Tensor ni = clip_grad_norm(std::vector<Tensor>{a}, 4.0, INFINITY);
  CHECK(ni.item() == 8.0);
  std::vector<float> gi = a.grad().to_vector();
  CHECK(gi[1] == doctest::Approx(-4.0).epsilon(1e-6));

  // grad_norm only measures.
  a.set_grad(Tensor::from_vector({3, 4}, {2}));
  CHECK(grad_norm({a}).item() == doctest::Approx(5.0));
  CHECK(a.grad().to_vector() == std::vector<float>{3, 4});
  CHECK(clip_grad_norm(std::vector<Tensor>{c}, 1.0).item() == 0.0);
  CHECK_THROWS_WITH_AS(clip_grad_norm(std::vector<Tensor>{a}, 1.0, 1.0), doctest::Contains("norm_type"), Error);

  // NaN gradients give a NaN norm (the runner's NaN detection sees it).
  a.set_grad(Tensor::from_vector({NAN, 1}, {2}));
  CHECK(std::isnan(clip_grad_norm(std::vector<Tensor>{a}, 1.0).item()));
}

TEST_CASE("clip_grad_value clamps in place") {
  Tensor a = Tensor::zeros({4});
  a.set_grad(Tensor::from_vector({-3, -0.5f, 0.25f, 2}, {4}));
  clip_grad_value(std::vector<Tensor>{a}, 1.0);
  CHECK(a.grad().to_vector() == std::vector<float>{-1, -0.5f, 0.25f, 1});
  CHECK_THROWS_AS(clip_grad_value(std::vector<Tensor>{a}, -1.0), Error);
}

TEST_CASE("a gradient that does not match its parameter is named") {
  Tensor p = Tensor::zeros({2});
  SGD opt(NamedParams{{"p", p}}, SgdOptions{});
  p.set_grad(Tensor::zeros({2}, DType::f64));
  // set_grad accepted an f64 gradient for an f32 parameter: step() names the mismatch.
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("gradient of 'p'"), Error);
}

}  // TEST_SUITE
