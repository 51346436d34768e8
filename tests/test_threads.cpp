// The CPU thread pool (kernels/cpu/parallel.h): chunking, nesting, concurrent callers, the split
// GEMM, and that a training step gives the same bits with 1, 2 and 3 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/device.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "optim/adam.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/focal.h"
#include "tensor/ops/pool.h"
#include "tensor/random.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace cpu = sakuga::kernels::cpu;

namespace {

// Runs f with the pool at n threads, then restores the previous count.
template <class F>
void with_threads(int n, F f) {
  const int saved = device::cpu_threads();
  device::set_cpu_threads(n);
  f();
  device::set_cpu_threads(saved);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A small segmentation network with the layer types of the GCN (strided and factorised k×1 / 1×k
// convolutions, batch norm, max pooling, bilinear upsampling); big enough that its loops and
// GEMMs are split into several chunks.
struct TinySegNet : nn::Module {
  std::shared_ptr<nn::Conv2d> stem, down, kx1, onexk, head;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  TinySegNet() {
    stem = register_module("stem", std::make_shared<nn::Conv2d>(3, 32, 3, 1, 1, false));
    bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(32));
    down = register_module("down", std::make_shared<nn::Conv2d>(32, 64, 3, 2, 1, false));
    bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(64));
    kx1 = register_module("kx1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(64, 32, 7, 1).padding(3, 0)));
    onexk = register_module("onexk", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(32, 32, 1, 7).padding(0, 3)));
    head = register_module("head", std::make_shared<nn::Conv2d>(32, 10, 1));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = ops::relu((*bn1)((*stem)(x)));  // (B, 32, H, W)
    h = ops::relu((*bn2)((*down)(h)));         // (B, 64, H/2, W/2)
    h = ops::max_pool2d(h, ops::Pool2dParams{});  // (B, 64, H/4, W/4)
    h = (*onexk)((*kx1)(h));
    Tensor logits = (*head)(h);  // (B, 10, H/4, W/4)
    return ops::resize_bilinear(logits, x.size(2), x.size(3), false);
  }
};

struct StepResult {
  std::vector<float> losses, weights;
};

// Three training steps (forward, softmax focal loss, backward, Adam) from a fixed seed.
StepResult train_steps() {
  manual_seed(1234);
  TinySegNet net;
  net.train();
  optim::AdamOptions ao;
  ao.lr = 1e-3;
  optim::Adam adam(net.named_parameters(), ao);
  Generator gen(99);
  Tensor x = randn({4, 3, 64, 64}, gen);
  std::vector<int32_t> labels(4 * 64 * 64);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t((i * 7 + i / 64) % 10);
  Tensor y = Tensor::from_vector_i32(labels, {4, 64, 64});
  StepResult r;
  for (int step = 0; step < 3; ++step) {
    Tensor loss = ops::softmax_focal_loss(net(x), y, 2.0);
    adam.zero_grad();
    loss.backward();
    adam.step();
    r.losses.push_back(float(loss.item()));
  }
  for (const auto& [name, p] : net.named_parameters()) {
    std::vector<float> v = p.to_vector();
    r.weights.insert(r.weights.end(), v.begin(), v.end());
  }
  return r;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("parallel_for: fixed chunks cover every index once, for any thread count") {
  for (int threads : {1, 2, 3}) {
    with_threads(threads, [&] {
      for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000), int64_t(100003)}) {
        for (int64_t grain : {int64_t(1), int64_t(64), int64_t(4096), int64_t(1) << 20}) {
          INFO("threads ", threads, " n ", n, " grain ", grain);
          std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
          std::mutex mu;
          std::vector<std::pair<int64_t, int64_t>> chunks;
          cpu::parallel_for(n, grain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
            std::lock_guard<std::mutex> lock(mu);
            chunks.emplace_back(b, e);
          });
          bool once = true;
          for (auto& h : hits) once = once && h.load() == 1;
          CHECK(once);
          std::sort(chunks.begin(), chunks.end());
          bool fixed = chunks.size() == size_t((n + grain - 1) / grain);
          for (size_t c = 0; fixed && c < chunks.size(); ++c)
            fixed = chunks[c].first == int64_t(c) * grain && chunks[c].second == std::min(n, int64_t(c + 1) * grain);
          CHECK(fixed);
        }
      }
    });
  }
}

TEST_CASE("parallel_for: a loop inside a chunk runs serially; concurrent callers all finish") {
  with_threads(2, [] {
    CHECK(device::cpu_threads() == 2);
    std::vector<int> out(64 * 64, 0);
    cpu::parallel_for(64, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        cpu::parallel_for(64, 8, [&](int64_t c0, int64_t c1) {
          for (int64_t c = c0; c < c1; ++c) out[size_t(r * 64 + c)] += int(r + c);
        });
    });
    bool right = true;
    for (int r = 0; r < 64; ++r)
      for (int c = 0; c < 64; ++c) right = right && out[size_t(r * 64 + c)] == r + c;
    CHECK(right);

    // Several threads using the pool at once: one gets it, the others run serially.
    std::vector<std::thread> callers;
    std::vector<int64_t> sums(4, 0);
    for (int t = 0; t < 4; ++t)
      callers.emplace_back([t, &sums] {
        for (int rep = 0; rep < 200; ++rep) {
          std::vector<int64_t> v(5000, 0);
          cpu::parallel_for(5000, 100, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) v[size_t(i)] = i + t;
          });
          for (int64_t x : v) sums[size_t(t)] += x;
        }
      });
    for (auto& c : callers) c.join();
    for (int t = 0; t < 4; ++t) CHECK(sums[size_t(t)] == 200 * (4999 * 5000 / 2 + 5000 * int64_t(t)));
  });
}

TEST_CASE("parallel_for: an exception in a chunk reaches the caller, and the pool keeps working") {
  for (int threads : {1, 2}) {
    with_threads(threads, [] {
      CHECK_ERROR(cpu::parallel_for(1000, 10, [](int64_t b, int64_t) {
                    SAKUGA_CHECK(b != 500, "chunk at ", b, " failed");
                  }),
                  "chunk at 500 failed");
      std::atomic<int64_t> sum{0};
      cpu::parallel_for(1000, 10, [&](int64_t b, int64_t e) { sum += e - b; });
      CHECK(sum.load() == 1000);
    });
  }
}

TEST_CASE("parallel_gemm: the same bits for 1, 2 and 3 threads, and the product within rounding") {
  const int64_t shapes[][3] = {{64, 2304, 147}, {512, 9, 4608}, {10, 9216, 64}, {3, 5, 7}, {200, 300, 50}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("M ", M, " N ", N, " K ", K, " ta ", ta, " tb ", tb);
        Generator gen(uint64_t(M * 31 + N * 7 + K));
        std::vector<float> A = randn({M * K}, gen).to_vector(), B = randn({K * N}, gen).to_vector();
        std::vector<float> C0 = randn({M * N}, gen).to_vector();  // beta = 0.5 reads C
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3})
          with_threads(threads, [&] {
            std::vector<float> C = C0;
            cpu::parallel_gemm(ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.5f, C.data(), N);
            results.push_back(C);
          });
        CHECK(same_bits(results[0], results[1]));
        CHECK(same_bits(results[0], results[2]));
        double worst = 0;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; n += 7) {
            double ref = 0.5 * C0[size_t(m * N + n)];
            for (int64_t k = 0; k < K; ++k)
              ref += double(A[size_t(ta ? k * lda + m : m * lda + k)]) * B[size_t(tb ? n * ldb + k : k * ldb + n)];
            worst = std::max(worst, std::fabs(ref - results[0][size_t(m * N + n)]) / (1.0 + std::fabs(ref)));
          }
        CHECK(worst < 1e-4);
      }
  }
}

TEST_CASE("threads: a training step gives bit-identical losses and weights with 1, 2 and 3 threads") {
  StepResult one, two, three;
  with_threads(1, [&] { one = train_steps(); });
  with_threads(2, [&] { two = train_steps(); });
  with_threads(3, [&] { three = train_steps(); });
  REQUIRE(one.losses.size() == 3);
  MESSAGE("losses ", one.losses[0], " ", one.losses[1], " ", one.losses[2]);
  CHECK(one.losses[2] < one.losses[0]);  // it trains
  CHECK(same_bits(one.losses, two.losses));
  CHECK(same_bits(one.losses, three.losses));
  CHECK(same_bits(one.weights, two.weights));
  CHECK(same_bits(one.weights, three.weights));
}

TEST_CASE("threads: the default follows SAKUGA_THREADS, then OMP_NUM_THREADS, then the cores") {
  // Saves and restores both variables around the checks.
  struct Saved {
    std::string name;
    bool had;
    std::string value;
    explicit Saved(const char* n) : name(n), had(std::getenv(n) != nullptr), value(had ? std::getenv(n) : "") {}
    ~Saved() {
      if (had) setenv(name.c_str(), value.c_str(), 1);
      else unsetenv(name.c_str());
    }
  } s1("SAKUGA_THREADS"), s2("OMP_NUM_THREADS");
  unsetenv("SAKUGA_THREADS");
  unsetenv("OMP_NUM_THREADS");
  const int cores = device::default_cpu_threads();
  CHECK(cores >= 1);
  CHECK(cores <= int(std::max(1u, std::thread::hardware_concurrency())));
  setenv("OMP_NUM_THREADS", "5", 1);
  CHECK(device::default_cpu_threads() == 5);
  setenv("SAKUGA_THREADS", "3", 1);
  CHECK(device::default_cpu_threads() == 3);
  setenv("SAKUGA_THREADS", "two", 1);
  CHECK_ERROR(device::default_cpu_threads(), "SAKUGA_THREADS: expected a thread count from 1 to 1024, got 'two'");
  setenv("SAKUGA_THREADS", "", 1);
  setenv("OMP_NUM_THREADS", "0", 1);
  CHECK_ERROR(device::default_cpu_threads(), "OMP_NUM_THREADS: expected a thread count");
  CHECK_ERROR(device::set_cpu_threads(0), "--threads: expected >= 1, got 0");
}

}  // TEST_SUITE
