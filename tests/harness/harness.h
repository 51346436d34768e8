#pragma once
// The op harness (after ggml's test-backend-ops): one table of op cases, checked in two modes.
//   grad   — central finite differences on CPU in f64 against the op's recorded backward;
//   parity — the same case on CUDA (f32, and bf16 where the case allows) against the CPU
//            reference, outputs and input gradients; skipped when no GPU answers.
// Environment (tools/gpu-run sets these; unset = everything, tf32 as on the GPU by default):
//   SAKUGA_HARNESS_PRECISION=fp32|tf32  GPU math for f32 cases. fp32: every case at its f32 bound
//            and no bf16 runs; tf32: `tf32` cases at kTf32ParityTol, plus the bf16 runs.
//   SAKUGA_HARNESS_MODES=grad,parity    which modes run (grad is CPU-only work).
//   SAKUGA_HARNESS_OPS=sum,softmax      only these ops (exact names); "-matmul,-bmm": all but these.
// Each op family adds its cases in tests/harness/cases_<family>.cpp:
//
//   SAKUGA_OP_CASES(elementwise) {
//     add_case({"relu", "relu 3x5", {in(Shape{3, 5})},
//               [](const Inputs& x) { return ops::relu(x[0]); }});
//   }
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sakuga::test {

using Inputs = std::vector<Tensor>;

// How to fill one input.
struct InputSpec {
  enum Kind { Normal, Uniform, Labels, Fixed };
  Shape shape;
  Kind kind = Normal;
  double lo = -1, hi = 1;          // Uniform: U(lo, hi); Normal: N(0, hi²)
  int classes = 0;                 // Labels: i32 values in [0, classes); -1 allowed when ignore
  bool differentiable = true;      // grad-checked (float kinds only)
  std::vector<float> values;       // Fixed: exact values (stored as the case's float dtype)
};

// N(0, scale²) values.
InputSpec in(Shape shape, double scale = 1.0);
// U(lo, hi) values (e.g. strictly positive inputs for log/sqrt).
InputSpec uniform(Shape shape, double lo, double hi);
// Integer class labels in [0, classes) as i32 (never differentiable).
InputSpec labels(Shape shape, int classes);
// Exact values; not differentiable unless `diff`.
InputSpec fixed(Shape shape, std::vector<float> values, bool diff = false);
// A float input that is not grad-checked (e.g. a mask or target).
InputSpec constant(InputSpec s);

struct OpCase {
  std::string op;    // the op's name; the harness counts distinct names
  std::string name;  // this case's label
  std::vector<InputSpec> inputs;
  std::function<Tensor(const Inputs&)> fn;
  bool grad = true;            // run the finite-difference check
  bool parity = true;          // run CUDA vs CPU when a GPU answers
  bool bf16 = false;           // also compare a bf16 CUDA run (tolerance 1e-2)
  // The op's f32 math follows device::precision() (cuDNN / cuBLASLt): under tf32 its operands
  // are rounded to a 10-bit mantissa, so the tf32 pass bounds it by kTf32ParityTol instead.
  bool tf32 = false;
  double grad_rtol = 1e-5;     // |num − ana| ≤ atol + rtol·|num| (f64)
  double grad_atol = 1e-7;
  double grad_eps = 1e-6;      // finite-difference step
  double parity_tol = 1e-5;    // relative (max-norm) error bound for f32 (fp32 precision)
  int max_probe = 48;          // elements probed per input in grad mode
};

// The architecture's parity bounds per compute mode (specs: f32 ≲1e-5, tf32 ≲1e-3, bf16 ≲1e-2).
constexpr double kTf32ParityTol = 1e-3;
constexpr double kBf16ParityTol = 1e-2;

void add_case(OpCase c);
const std::vector<OpCase>& all_cases();

struct Registrar {
  explicit Registrar(void (*f)()) { f(); }
};

}  // namespace sakuga::test

#define SAKUGA_OP_CASES(family)                                                    \
  static void sakuga_cases_##family();                                             \
  static ::sakuga::test::Registrar sakuga_registrar_##family(&sakuga_cases_##family); \
  static void sakuga_cases_##family()
