// Kernel and op benchmarks. Every case of bench/cases.json runs on each listed device that is
// available; names are "<case>/<device>" so bench/compare_torch.py can pair them with PyTorch.
// A CUDA iteration ends with a stream synchronisation, so times are wall-clock per call.
// Axial convolutions (k×1 / 1×k, kernels/axial_conv.h): every conv2d_fwd_bwd case whose geometry
// the axial kernels take also runs as "<case>/<device>/generic" with the axial kernels switched
// off (cuDNN on CUDA, im2col on CPU); "axial_parts" cases time forward, backward data and
// backward filter separately, axial and generic, as "<case>/<device>/<axial|generic>/<pass>".
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kernels/axial_conv.h"
#include "kernels/cpu/blas_kernels.h"
#include "kernels/device.h"
#include "optim/adam.h"
#include "tensor/ops.h"

using namespace sakuga;
using Json = nlohmann::json;

namespace {

std::vector<int64_t> ints(const Json& c, const char* key, std::vector<int64_t> dflt) {
  return c.contains(key) ? c[key].get<std::vector<int64_t>>() : dflt;
}

void sync(Device d) {
  if (d.is_cuda()) device::synchronize(d.index);
}

void bench_conv(benchmark::State& st, const Json& c, Device d) {
  Tensor x = randn(c["x"].get<Shape>(), default_generator(), DType::f32, d).set_requires_grad(true);
  Tensor w = randn(c["w"].get<Shape>(), default_generator(), DType::f32, d, 0.0, 0.05).set_requires_grad(true);
  ops::Conv2dParams p;
  auto pad = ints(c, "pad", {0, 0}), stride = ints(c, "stride", {1, 1});
  p.pad_h = int(pad[0]);
  p.pad_w = int(pad[1]);
  p.stride_h = int(stride[0]);
  p.stride_w = int(stride[1]);
  Tensor y0 = ops::conv2d(x.detach(), w.detach(), Tensor(), p);
  Tensor gy = randn(y0.shape(), default_generator(), DType::f32, d);
  double flops = 0;
  {
    const auto& ws = w.shape();
    flops = 2.0 * double(y0.numel()) * double(ws[1] * ws[2] * ws[3]) * 3;  // fwd + 2 bwd GEMMs
  }
  for (auto _ : st) {
    Tensor y = ops::conv2d(x, w, Tensor(), p);
    y.backward(gy);
    sync(d);
    x.zero_grad();
    w.zero_grad();
  }
  st.counters["TFLOP/s"] = benchmark::Counter(flops * double(st.iterations()) / 1e12, benchmark::Counter::kIsRate);
}

// The conv2d geometry of a conv case (stride/pad from the JSON, dilation 1, groups 1).
kernels::ConvGeometry conv_geometry(const Json& c) {
  const Shape xs = c["x"].get<Shape>(), ws = c["w"].get<Shape>();
  auto pad = ints(c, "pad", {0, 0}), stride = ints(c, "stride", {1, 1});
  kernels::ConvGeometry g;
  g.n = xs[0];
  g.c_in = xs[1];
  g.h = xs[2];
  g.w = xs[3];
  g.c_out = ws[0];
  g.kh = ws[2];
  g.kw = ws[3];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = pad[0];
  g.pad_w = pad[1];
  g.ho = kernels::ConvGeometry::out_size(g.h, g.kh, g.stride_h, g.pad_h, 1);
  g.wo = kernels::ConvGeometry::out_size(g.w, g.kw, g.stride_w, g.pad_w, 1);
  return g;
}

// Sets the axial switch for the life of the object, then restores it.
struct AxialSwitch {
  bool was;
  explicit AxialSwitch(bool on) : was(kernels::axial_conv_enabled()) { kernels::set_axial_conv_enabled(on); }
  ~AxialSwitch() { kernels::set_axial_conv_enabled(was); }
};

// One pass of an axial-geometry conv, straight on the kernels (no autograd, no allocation in
// the loop): impl "axial" or "generic" (cuDNN / im2col), pass "fwd", "bwd_data", "bwd_filter".
void bench_axial_part(benchmark::State& st, const Json& c, Device d, const std::string& impl,
                      const std::string& pass) {
  const kernels::ConvGeometry g = conv_geometry(c);
  kernels::AxialGeometry ag;
  if (!kernels::axial_conv_applies(g, &ag)) {
    st.SkipWithError("not an axial geometry");
    return;
  }
  Tensor x = randn(c["x"].get<Shape>(), default_generator(), DType::f32, d);
  Tensor w = randn(c["w"].get<Shape>(), default_generator(), DType::f32, d, 0.0, 0.05);
  Tensor gy = randn({g.n, g.c_out, g.ho, g.wo}, default_generator(), DType::f32, d);
  Tensor y = Tensor::empty(gy.shape(), DType::f32, d), gx = Tensor::empty(x.shape(), DType::f32, d);
  Tensor gw = Tensor::empty(w.shape(), DType::f32, d);
  const bool axial = impl == "axial";
  auto run = [&] {
    if (d.is_cuda()) {
#ifdef SAKUGA_WITH_CUDA
      Stream s = device::stream(d.index);
      if (pass == "fwd") {
        if (axial) kernels::cuda::axial_conv_forward(ag, DType::f32, x.raw(), w.raw(), nullptr, y.raw(), s);
        else kernels::cuda::conv2d_forward(g, DType::f32, x.raw(), w.raw(), nullptr, y.raw(), s);
      } else if (pass == "bwd_data") {
        if (axial) kernels::cuda::axial_conv_backward_data(ag, DType::f32, gy.raw(), w.raw(), gx.raw(), s);
        else kernels::cuda::conv2d_backward_data(g, DType::f32, gy.raw(), w.raw(), gx.raw(), s);
      } else {
        if (axial) kernels::cuda::axial_conv_backward_filter(ag, DType::f32, x.raw(), gy.raw(), gw.raw(), s);
        else kernels::cuda::conv2d_backward_filter(g, DType::f32, x.raw(), gy.raw(), gw.raw(), s);
      }
      device::synchronize(d.index);
#endif
    } else {
      const float *xp = x.data<float>(), *wp = w.data<float>(), *gyp = gy.data<float>();
      if (pass == "fwd") {
        if (axial) kernels::cpu::axial_conv_forward<float>(ag, xp, wp, nullptr, y.data<float>());
        else kernels::cpu::conv2d_forward<float>(g, xp, wp, nullptr, y.data<float>());
      } else if (pass == "bwd_data") {
        if (axial) kernels::cpu::axial_conv_backward_data<float>(ag, gyp, wp, gx.data<float>());
        else kernels::cpu::conv2d_backward_data<float>(g, gyp, wp, gx.data<float>());
      } else {
        if (axial) kernels::cpu::axial_conv_backward_filter<float>(ag, xp, gyp, gw.data<float>());
        else kernels::cpu::conv2d_backward_filter<float>(g, xp, gyp, gw.data<float>());
      }
    }
  };
  for (auto _ : st) run();
  const double flops = 2.0 * double(gy.numel()) * double(g.c_in * g.kh * g.kw);
  st.counters["TFLOP/s"] = benchmark::Counter(flops * double(st.iterations()) / 1e12, benchmark::Counter::kIsRate);
}

void bench_matmul(benchmark::State& st, const Json& c, Device d) {
  int64_t m = c["m"], n = c["n"], k = c["k"];
  Tensor a = randn({m, k}, default_generator(), DType::f32, d), b = randn({k, n}, default_generator(), DType::f32, d);
  for (auto _ : st) {
    Tensor y = ops::matmul(a, b);
    sync(d);
    benchmark::DoNotOptimize(y.raw());
  }
  st.counters["TFLOP/s"] = benchmark::Counter(2.0 * double(m * n * k) * double(st.iterations()) / 1e12,
                                              benchmark::Counter::kIsRate);
}

void bench_elementwise(benchmark::State& st, const Json& c, Device d) {
  int64_t n = c["n"];
  const std::string op = c["op"];
  Tensor a = randn({n}, default_generator(), DType::f32, d), b = randn({n}, default_generator(), DType::f32, d);
  for (auto _ : st) {
    Tensor y = op == "add" ? ops::add(a, b) : ops::relu(a);
    sync(d);
    benchmark::DoNotOptimize(y.raw());
  }
  double bytes = double(n) * 4 * (op == "add" ? 3 : 2);
  st.counters["GB/s"] = benchmark::Counter(bytes * double(st.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void bench_adam(benchmark::State& st, const Json& c, Device d) {
  optim::NamedParams params;
  int repeat = c.value("repeat", 1), i = 0;
  for (int r = 0; r < repeat; ++r)
    for (int64_t n : c["params"].get<std::vector<int64_t>>()) {
      Tensor p = randn({n}, default_generator(), DType::f32, d).set_requires_grad(true);
      p.set_grad(randn({n}, default_generator(), DType::f32, d));
      params.push_back({"p" + std::to_string(i++), p});
    }
  optim::Adam adam(params, optim::AdamOptions{});
  for (auto _ : st) {
    adam.step();
    sync(d);
  }
}

void register_cases() {
  // The cases file of the source tree this was built from, unless SAKUGA_BENCH_CASES names
  // another (a bundled build runs from another folder: tools/gpu-run).
  const char* env = std::getenv("SAKUGA_BENCH_CASES");
  const std::string path = env && *env ? env : SAKUGA_BENCH_CASES;
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "sakuga_bench: cannot read the cases file %s\n", path.c_str());
    std::exit(1);
  }
  Json cases = Json::parse(f)["cases"];
  const bool gpu = device::cuda_device_count() > 0;
  for (const Json& c : cases) {
    for (const std::string dev : c["devices"]) {
      if (dev == "cuda" && !gpu) continue;
      Device d = dev == "cuda" ? Device::cuda(0) : Device::cpu();
      const std::string op = c["op"], name = c["name"].get<std::string>() + "/" + dev;
      auto precision = [d] {
        device::set_precision(d.is_cuda() ? device::Precision::tf32 : device::Precision::fp32);
      };
      if (op == "axial_parts") {
        for (const char* impl : {"axial", "generic"})
          for (const char* pass : {"fwd", "bwd_data", "bwd_filter"}) {
            const std::string part = name + "/" + impl + "/" + pass;
            benchmark::RegisterBenchmark(part.c_str(),
                                         [c, d, precision, impl = std::string(impl), pass = std::string(pass)](
                                             benchmark::State& st) {
                                           precision();
                                           bench_axial_part(st, c, d, impl, pass);
                                         })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond);
          }
        continue;
      }
      auto run = [c, d, op](benchmark::State& st) {
        device::set_precision(d.is_cuda() ? device::Precision::tf32 : device::Precision::fp32);
        if (op == "conv2d_fwd_bwd") bench_conv(st, c, d);
        else if (op == "matmul") bench_matmul(st, c, d);
        else if (op == "add" || op == "relu") bench_elementwise(st, c, d);
        else if (op == "adam_step") bench_adam(st, c, d);
        else st.SkipWithError(("unknown op " + op).c_str());
      };
      benchmark::RegisterBenchmark(name.c_str(), run)->UseRealTime()->Unit(benchmark::kMillisecond);
      // Axial geometries: the same case with the axial kernels off, side by side.
      if (op == "conv2d_fwd_bwd" && kernels::axial_conv_applies(conv_geometry(c))) {
        const std::string gname = name + "/generic";
        benchmark::RegisterBenchmark(gname.c_str(),
                                     [run](benchmark::State& st) {
                                       AxialSwitch off(false);
                                       run(st);
                                     })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  sakuga::kernels::cpu::use_fast_blas_kernels(argv);  // may restart the program (blas_kernels.h)
  register_cases();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
