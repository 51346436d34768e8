// Unit tests of the GCN head (nets/gcn/head.h): parameter names/count/shapes as pinned by
// shared/specs/gcn.md, output sizes for odd inputs, dropout behaviour, error messages.
// Numerical agreement with PyTorch: tests/oracle/test_gcn_head.py.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "nets/gcn/head.h"
#include "tensor/autograd.h"
#include "tensor/random.h"

using namespace sakuga;
using sakuga::gcn::GcnHead;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor ha = a.contiguous().cpu(), hb = b.contiguous().cpu();
  return std::memcmp(ha.raw(), hb.raw(), ha.nbytes()) == 0;
}

// Features as a ResNet produces them for an H×W input: sizes ceil-divided by 4, 8, 16, 32.
std::array<Tensor, 4> features(const std::array<int64_t, 4>& ch, int64_t n, int64_t H, int64_t W, uint64_t seed) {
  Generator gen(seed);
  std::array<Tensor, 4> f;
  int64_t h = H, w = W;
  for (int i = 0; i < 4; ++i) {
    const int64_t s = i == 0 ? 4 : 2;
    h = (h + s - 1) / s;
    w = (w + s - 1) / s;
    f[i] = randn({n, ch[i], h, w}, gen);
  }
  return f;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("gcn head: parameter names, shapes and count (resnet50/101 douga config)") {
  const std::array<int64_t, 4> ch = {256, 512, 1024, 2048};
  const int64_t C = 10;
  const int k = 49;
  GcnHead head(ch, C, k, 0.5);

  // Expected names and shapes, in PyTorch order (gcn1..gcn4 then br1..br9).
  std::vector<std::pair<std::string, Shape>> want;
  for (int i = 0; i < 4; ++i) {
    const std::string g = "gcn" + std::to_string(i + 1) + ".";
    want.push_back({g + "l1.weight", {C, ch[i], k, 1}});
    want.push_back({g + "l1.bias", {C}});
    want.push_back({g + "l2.weight", {C, C, 1, k}});
    want.push_back({g + "l2.bias", {C}});
    want.push_back({g + "r1.weight", {C, ch[i], 1, k}});
    want.push_back({g + "r1.bias", {C}});
    want.push_back({g + "r2.weight", {C, C, k, 1}});
    want.push_back({g + "r2.bias", {C}});
  }
  for (int j = 1; j <= 9; ++j) {
    const std::string b = "br" + std::to_string(j) + ".";
    want.push_back({b + "conv1.weight", {C, C, 3, 3}});
    want.push_back({b + "conv1.bias", {C}});
    want.push_back({b + "conv2.weight", {C, C, 3, 3}});
    want.push_back({b + "conv2.bias", {C}});
  }
  auto got = head.named_parameters();
  REQUIRE(got.size() == want.size());
  CHECK(got.size() == 68);  // 4 GlobalConv × 4 convs × 2 + 9 BoundaryRefine × 2 convs × 2
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].first == want[i].first);
    CHECK(shape_str(got[i].second.shape()) == shape_str(want[i].second));
    CHECK(got[i].second.requires_grad());
  }
  // Dropout contributes nothing to the state_dict; no buffers at all.
  auto sd = head.state_dict();
  CHECK(sd.size() == 68);
  CHECK(head.named_buffers().empty());
  for (const auto& [name, t] : sd) CHECK(!contains(name, "drop"));
  CHECK(sd.count("gcn1.l1.weight") == 1);
  CHECK(sd.count("br9.conv2.bias") == 1);

  // Count by formula: GlobalConv(cin → C, k) = 2·k·C·(cin + C) + 4·C; BoundaryRefine(C) = 2·(9·C² + C).
  int64_t expect = 0;
  for (int64_t c : ch) expect += 2 * k * C * (c + C) + 4 * C;
  expect += 9 * 2 * (9 * C * C + C);
  CHECK(head.num_parameters() == expect);
  CHECK(expect == 3818940);  // 2·49·10·(3840 + 4·10) + 4·4·10 + 9·2·(900 + 10)
}

TEST_CASE("gcn head: PyTorch Conv2d default init bounds") {
  GcnHead head({16, 32, 64, 128}, 10, 7);
  for (const auto& [name, t] : head.named_parameters()) {
    CAPTURE(name);
    // fan_in of the conv that owns the tensor: weight (out, in, kh, kw); bias uses the same bound.
    const std::string wname = name.substr(0, name.rfind('.')) + ".weight";
    const Tensor w = head.state_dict().at(wname);
    const double fan_in = double(w.size(1) * w.size(2) * w.size(3));
    const double bound = 1.0 / std::sqrt(fan_in);
    double mx = 0;
    for (double v : t.to_vector_f64()) mx = std::max(mx, std::fabs(v));
    CHECK(mx <= bound * (1 + 1e-6));
    CHECK(mx > 0);
  }
}

TEST_CASE("gcn head: output size for an odd input (97x130)") {
  const int64_t H = 97, W = 130;
  NoGradGuard ng;
  {
    const std::array<int64_t, 4> ch = {256, 512, 1024, 2048};
    GcnHead head(ch, 10, 49);
    auto f = features(ch, 1, H, W, 1);
    CHECK(shape_str(f[0].shape()) == "(1, 256, 25, 33)");
    CHECK(shape_str(f[1].shape()) == "(1, 512, 13, 17)");
    CHECK(shape_str(f[2].shape()) == "(1, 1024, 7, 9)");
    CHECK(shape_str(f[3].shape()) == "(1, 2048, 4, 5)");
    Tensor out = head(f, H, W);
    CHECK(shape_str(out.shape()) == "(1, 10, 97, 130)");
    bool finite = true;
    for (double v : out.to_vector_f64()) finite = finite && std::isfinite(v);
    CHECK(finite);
  }
  {
    const std::array<int64_t, 4> ch = {8, 8, 16, 16};
    GcnHead head(ch, 1, 25);
    Tensor out = head(features(ch, 2, H, W, 2), H, W);
    CHECK(shape_str(out.shape()) == "(2, 1, 97, 130)");
    // Output size is taken from (H, W), not from the features: 97×129 also works.
    Tensor out2 = head(features(ch, 2, H, W, 2), H, W - 1);
    CHECK(shape_str(out2.shape()) == "(2, 1, 97, 129)");
  }
}

TEST_CASE("gcn head: dropout only in training mode, reproducible from the generator") {
  const std::array<int64_t, 4> ch = {4, 4, 8, 8};
  const int64_t H = 65, W = 70;
  NoGradGuard ng;
  GcnHead head(ch, 3, 5, 0.5);
  GcnHead plain(ch, 3, 5, 0.0);
  plain.load_state_dict(head.state_dict());
  auto f = features(ch, 2, H, W, 3);

  head.eval();
  Tensor e = head(f, H, W);
  plain.train();  // p = 0: identity even in training mode
  CHECK(bit_equal(e, plain(f, H, W)));

  head.train();
  Generator g1(7), g2(7);
  head.set_generator(&g1);
  Tensor t1 = head(f, H, W);
  CHECK(g1.offset > 0);
  head.set_generator(&g2);
  Tensor t2 = head(f, H, W);
  CHECK(bit_equal(t1, t2));
  CHECK(!bit_equal(t1, e));
  head.set_generator(nullptr);
}

TEST_CASE("gcn head: clear errors on bad features and configs") {
  const std::array<int64_t, 4> ch = {4, 8, 16, 32};
  GcnHead head(ch, 2, 3);
  auto f = features(ch, 1, 64, 64, 4);
  NoGradGuard ng;

  auto bad = f;
  bad[2] = randn({1, 15, 4, 4});
  std::string msg = error_of([&] { head(bad, 64, 64); });
  CHECK(contains(msg, "GcnHead: feature f3 has 15 channels, expected 16"));
  bad = f;
  bad[0] = randn({1, 8, 16, 16});
  CHECK(contains(error_of([&] { head(bad, 64, 64); }), "feature f1 has 8 channels, expected 4"));
  bad = f;
  bad[3] = randn({32, 2, 2});
  CHECK(contains(error_of([&] { head(bad, 64, 64); }), "feature f4 must be (N, C, H, W), got (32, 2, 2)"));
  bad = f;
  bad[1] = randn({2, 8, 8, 8});
  CHECK(contains(error_of([&] { head(bad, 64, 64); }), "feature f2 has batch 2, f1 has 1"));
  bad = f;
  bad[1] = Tensor();
  CHECK(contains(error_of([&] { head(bad, 64, 64); }), "feature f2 is undefined"));
  CHECK(contains(error_of([&] { head(f, 0, 64); }), "output size must be positive"));
  CHECK(contains(error_of([&] { head.forward(f[0]); }), "no single-input forward"));

  CHECK(contains(error_of([&] { GcnHead(ch, 2, 4); }), "k must be odd"));
  CHECK(contains(error_of([&] { GcnHead(ch, 0, 3); }), "output channels must be positive"));
  CHECK(contains(error_of([&] { GcnHead(ch, 2, 3, 1.0); }), "dropout must be in [0, 1)"));
  CHECK(contains(error_of([&] { GcnHead({4, 0, 16, 32}, 2, 3); }), "got 0 for f2"));
  CHECK(contains(error_of([&] { (*head.gcn[0])(randn({1, 5, 8, 8})); }),
                 "GlobalConv: expected input (N, 4, H, W), got (1, 5, 8, 8)"));
  CHECK(contains(error_of([&] { (*head.br[0])(randn({1, 3, 8, 8})); }),
                 "BoundaryRefine: expected input (N, 2, H, W), got (1, 3, 8, 8)"));
}

}  // TEST_SUITE
