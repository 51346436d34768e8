// Kernel and op benchmarks. Every case of bench/cases.json runs on each listed device that is
// available; names are "<case>/<device>" so bench/compare_torch.py can pair them with PyTorch.
// A CUDA iteration ends with a stream synchronisation, so times are wall-clock per call.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

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
  std::ifstream f(SAKUGA_BENCH_CASES);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", SAKUGA_BENCH_CASES);
    return;
  }
  Json cases = Json::parse(f)["cases"];
  const bool gpu = device::cuda_device_count() > 0;
  for (const Json& c : cases) {
    for (const std::string dev : c["devices"]) {
      if (dev == "cuda" && !gpu) continue;
      Device d = dev == "cuda" ? Device::cuda(0) : Device::cpu();
      const std::string op = c["op"], name = c["name"].get<std::string>() + "/" + dev;
      auto run = [c, d, op](benchmark::State& st) {
        device::set_precision(d.is_cuda() ? device::Precision::tf32 : device::Precision::fp32);
        if (op == "conv2d_fwd_bwd") bench_conv(st, c, d);
        else if (op == "matmul") bench_matmul(st, c, d);
        else if (op == "add" || op == "relu") bench_elementwise(st, c, d);
        else if (op == "adam_step") bench_adam(st, c, d);
        else st.SkipWithError(("unknown op " + op).c_str());
      };
      benchmark::RegisterBenchmark(name.c_str(), run)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_cases();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
