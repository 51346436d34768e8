// The op harness runner: grad mode (finite differences, CPU f64) and parity mode (CUDA vs
// CPU). One doctest case walks the whole table and prints the summary line.
#include "tests/harness/harness.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "kernels/device.h"
#include "kernels/philox.h"
#include "tensor/autograd.h"

namespace sakuga::test {

InputSpec in(Shape shape, double scale) {
  InputSpec s;
  s.shape = std::move(shape);
  s.kind = InputSpec::Normal;
  s.hi = scale;
  return s;
}
InputSpec uniform(Shape shape, double lo, double hi) {
  InputSpec s;
  s.shape = std::move(shape);
  s.kind = InputSpec::Uniform;
  s.lo = lo;
  s.hi = hi;
  return s;
}
InputSpec labels(Shape shape, int classes) {
  InputSpec s;
  s.shape = std::move(shape);
  s.kind = InputSpec::Labels;
  s.classes = classes;
  s.differentiable = false;
  return s;
}
InputSpec fixed(Shape shape, std::vector<float> values, bool diff) {
  InputSpec s;
  s.shape = std::move(shape);
  s.kind = InputSpec::Fixed;
  s.values = std::move(values);
  s.differentiable = diff;
  return s;
}
InputSpec constant(InputSpec s) {
  s.differentiable = false;
  return s;
}

static std::vector<OpCase>& registry() {
  static std::vector<OpCase> cases;
  return cases;
}
void add_case(OpCase c) { registry().push_back(std::move(c)); }
const std::vector<OpCase>& all_cases() { return registry(); }

namespace {

bool is_float_input(const InputSpec& s) { return s.kind != InputSpec::Labels; }

// Inputs of a case, reproducible from (case index, input index); float inputs in `dt`.
Inputs make_inputs(const OpCase& c, uint64_t case_seed, DType dt) {
  Inputs xs;
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    const InputSpec& s = c.inputs[k];
    int64_t n = shape_numel(s.shape);
    uint64_t seed = case_seed * 1000003ull + k;
    if (s.kind == InputSpec::Labels) {
      std::vector<int32_t> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = int32_t(philox::word(seed, uint64_t(i)) % uint32_t(s.classes));
      xs.push_back(Tensor::from_vector_i32(v, s.shape));
      continue;
    }
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      switch (s.kind) {
        case InputSpec::Normal: v[size_t(i)] = s.hi * philox::normal(seed, uint64_t(i)); break;
        case InputSpec::Uniform:
          v[size_t(i)] = s.lo + (s.hi - s.lo) * philox::uniform(seed, uint64_t(i));
          break;
        case InputSpec::Fixed: v[size_t(i)] = s.values.at(size_t(i)); break;
        default: break;
      }
    }
    Tensor t = Tensor::from_bytes(v.data(), s.shape, DType::f64);
    xs.push_back(dt == DType::f64 ? t : t.to(dt));
  }
  return xs;
}

// Fixed random output weights R: the scalar checked is L = Σ out·R.
Tensor output_weights(const Tensor& out, uint64_t case_seed) {
  std::vector<double> r(size_t(out.numel()));
  for (size_t i = 0; i < r.size(); ++i) r[i] = philox::normal(case_seed ^ 0xabcdefull, i);
  return Tensor::from_bytes(r.data(), out.shape(), DType::f64);
}

double weighted_sum(const Tensor& out, const std::vector<double>& r) {
  std::vector<double> o = out.to_vector_f64();
  double s = 0;
  for (size_t i = 0; i < o.size(); ++i) s += o[i] * r[i];
  return s;
}

// Max-norm relative error of a against the reference b.
double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return num / std::max(den, 1e-12);
}

struct Summary {
  std::set<std::string> ops;
  int grad_checked = 0, parity_cases = 0, parity_run = 0, bf16_run = 0;
};

// What this run of the harness does (harness.h lists the environment variables).
struct RunOptions {
  device::Precision precision = device::Precision::tf32;
  bool grad = true, parity = true;
  std::vector<std::string> ops, skip_ops;  // op names to run (empty = every op) and to leave out
  std::string modes = "grad,parity", ops_spec;

  bool selects(const OpCase& c) const {
    auto named = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), c.op) != v.end(); };
    return (ops.empty() || named(ops)) && !named(skip_ops);
  }
  // The f32 parity bound of a case in this precision.
  double f32_tol(const OpCase& c) const {
    return precision == device::Precision::tf32 && c.tf32 ? std::max(c.parity_tol, kTf32ParityTol) : c.parity_tol;
  }
  bool bf16_runs() const { return precision == device::Precision::tf32; }
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string env_or(const char* name, const char* dflt) {
  const char* v = std::getenv(name);
  return v && *v ? v : dflt;
}

RunOptions run_options() {
  RunOptions o;
  const std::string prec = env_or("SAKUGA_HARNESS_PRECISION", "tf32");
  SAKUGA_CHECK(prec == "fp32" || prec == "tf32", "SAKUGA_HARNESS_PRECISION: expected fp32 or tf32, got '", prec,
               "'");
  o.precision = device::parse_precision(prec);
  o.modes = env_or("SAKUGA_HARNESS_MODES", "grad,parity");
  o.grad = o.parity = false;
  for (const std::string& m : split_commas(o.modes)) {
    SAKUGA_CHECK(m == "grad" || m == "parity", "SAKUGA_HARNESS_MODES: expected a comma list of grad and parity, got '",
                 o.modes, "'");
    (m == "grad" ? o.grad : o.parity) = true;
  }
  SAKUGA_CHECK(o.grad || o.parity, "SAKUGA_HARNESS_MODES: names no mode ('", o.modes, "')");
  o.ops_spec = env_or("SAKUGA_HARNESS_OPS", "");
  for (const std::string& name : split_commas(o.ops_spec)) {
    if (name[0] == '-') o.skip_ops.push_back(name.substr(1));
    else o.ops.push_back(name);
  }
  std::set<std::string> known;
  for (const OpCase& c : all_cases()) known.insert(c.op);
  for (const auto* list : {&o.ops, &o.skip_ops})
    for (const std::string& name : *list)
      SAKUGA_CHECK(known.count(name), "SAKUGA_HARNESS_OPS: no op named '", name, "' in the harness table");
  return o;
}

// Sets the GPU compute precision for the life of the object, then restores it.
struct PrecisionScope {
  device::Precision was = device::precision();
  explicit PrecisionScope(device::Precision p) { device::set_precision(p); }
  ~PrecisionScope() { device::set_precision(was); }
};

void run_grad(const OpCase& c, uint64_t seed) {
  Inputs xs = make_inputs(c, seed, DType::f64);
  for (size_t k = 0; k < xs.size(); ++k)
    if (c.inputs[k].differentiable && is_float_input(c.inputs[k])) xs[k].set_requires_grad(true);
  Tensor out = c.fn(xs);
  REQUIRE_MESSAGE(out.defined(), c.name);
  Tensor r = output_weights(out, seed);
  std::vector<double> rv = r.to_vector_f64();
  out.backward(r);
  for (size_t k = 0; k < xs.size(); ++k) {
    if (!xs[k].requires_grad()) continue;
    Tensor g = xs[k].grad();
    std::vector<double> ana = g.defined() ? g.to_vector_f64() : std::vector<double>(size_t(xs[k].numel()), 0.0);
    double* p = xs[k].data<double>();
    int64_t n = xs[k].numel();
    int64_t probes = std::min<int64_t>(n, c.max_probe);
    for (int64_t j = 0; j < probes; ++j) {
      int64_t i = probes == n ? j : int64_t(philox::word(seed + 77, uint64_t(j)) % uint64_t(n));
      double orig = p[i];
      double lp, lm;
      {
        NoGradGuard ng;
        p[i] = orig + c.grad_eps;
        lp = weighted_sum(c.fn(xs), rv);
        p[i] = orig - c.grad_eps;
        lm = weighted_sum(c.fn(xs), rv);
        p[i] = orig;
      }
      double num = (lp - lm) / (2 * c.grad_eps);
      double err = std::fabs(num - ana[size_t(i)]);
      INFO(c.name, ": input ", k, " element ", i, " numeric ", num, " analytic ", ana[size_t(i)]);
      CHECK(err <= c.grad_atol + c.grad_rtol * std::fabs(num));
    }
  }
}

// Output and input gradients of the case on `dev` with float inputs in `dt`, as f64 vectors.
std::vector<std::vector<double>> run_on(const OpCase& c, uint64_t seed, Device dev, DType dt) {
  Inputs host = make_inputs(c, seed, DType::f32);
  Inputs xs;
  for (size_t k = 0; k < host.size(); ++k) {
    Tensor t = host[k];
    if (is_float_input(c.inputs[k]) && dt != DType::f32) t = t.to(dt);
    t = t.to(dev).detach();
    if (c.inputs[k].differentiable && is_float_input(c.inputs[k])) t.set_requires_grad(true);
    xs.push_back(t);
  }
  Tensor out = c.fn(xs);
  std::vector<std::vector<double>> res{out.to_vector_f64()};
  if (!out.requires_grad()) return res;
  out.backward(output_weights(out, seed).to(out.dtype()).to(dev));
  for (const Tensor& x : xs)
    if (x.requires_grad()) res.push_back(x.grad().defined() ? x.grad().to_vector_f64() : std::vector<double>());
  return res;
}

void run_parity(const OpCase& c, uint64_t seed, DType dt, double tol) {
  auto ref = run_on(c, seed, Device::cpu(), DType::f32);
  auto gpu = run_on(c, seed, Device::cuda(0), dt);
  REQUIRE_MESSAGE(ref.size() == gpu.size(), c.name);
  for (size_t i = 0; i < ref.size(); ++i) {
    REQUIRE_MESSAGE(ref[i].size() == gpu[i].size(), c.name);
    double err = rel_error(gpu[i], ref[i]);
    INFO(c.name, " [", dtype_name(dt), "] ", i == 0 ? "output" : "gradient " + std::to_string(i - 1),
         ": relative error ", err, " > ", tol);
    CHECK(err <= tol);
  }
}

}  // namespace

TEST_SUITE("harness") {
TEST_CASE("op harness") {
  const RunOptions opt = run_options();
  PrecisionScope precision(opt.precision);
  Summary sum;
  const bool gpu = device::cuda_device_count() > 0;
  const auto& cases = all_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    const OpCase& c = cases[i];
    if (!opt.selects(c)) continue;
    sum.ops.insert(c.op);
    uint64_t seed = 1000 + i;  // from the index in the whole table: a filtered run draws the same inputs
    // One failing case must not hide the others: errors are reported per case.
    auto guarded = [&](const char* mode, auto&& body) {
      try {
        body();
      } catch (const std::exception& e) {
        FAIL_CHECK(mode, " ", c.name, " threw: ", e.what());
      }
    };
    if (c.grad && opt.grad) {
      guarded("grad", [&] { run_grad(c, seed); });
      ++sum.grad_checked;
    }
    if (c.parity && opt.parity) {
      ++sum.parity_cases;
      if (gpu) {
        guarded("parity", [&] { run_parity(c, seed, DType::f32, opt.f32_tol(c)); });
        if (c.bf16 && opt.bf16_runs()) {
          guarded("parity bf16", [&] { run_parity(c, seed, DType::bf16, kBf16ParityTol); });
          ++sum.bf16_run;
        }
        ++sum.parity_run;
      }
    }
  }
  std::string notes = gpu ? std::string("precision ") + device::precision_name(opt.precision) + ", " +
                                std::to_string(sum.bf16_run) + " bf16 runs"
                          : std::string("skipped: no GPU answered");
  if (!opt.ops_spec.empty() || !(opt.grad && opt.parity))
    notes += "; only modes " + opt.modes + (opt.ops_spec.empty() ? "" : ", ops " + opt.ops_spec);
  std::printf("op harness: %zu ops, %d grad-checked, %d parity cases (%d run on GPU; %s)\n", sum.ops.size(),
              sum.grad_checked, sum.parity_cases, sum.parity_run, notes.c_str());
}
}  // TEST_SUITE

}  // namespace sakuga::test
