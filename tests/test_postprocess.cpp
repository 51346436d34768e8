// Douga post-processing (data/gcn/postprocess.h, kernels/postprocess.h): Zhang–Suen thinning on
// hand-made shapes, dilation and 4-connected components, the full douga chain on a small
// probability map with a known answer, CPU vs CUDA identity (when a GPU answers), bad input.
// Expected skeletons were cross-checked against OpenCV ximgproc thinning on the image padded
// with a 1-pixel empty border (tests/oracle/test_postprocess.py checks random shapes).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "data/gcn/postprocess.h"
#include "kernels/device.h"
#include "kernels/postprocess.h"
#include "tensor/dispatch.h"
#include "tensor/ops/view.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

// "#." art → (H, W) u8 {0, 1}.
Tensor art(const std::vector<std::string>& rows) {
  const int64_t H = int64_t(rows.size()), W = int64_t(rows[0].size());
  std::vector<uint8_t> v;
  for (const auto& r : rows) {
    REQUIRE(int64_t(r.size()) == W);
    for (char c : r) v.push_back(c == '#' ? 1 : 0);
  }
  return Tensor::from_bytes(v.data(), {H, W}, DType::u8);
}

std::vector<std::string> to_art(const Tensor& t) {
  Tensor c = t.cpu();
  const int64_t H = c.size(0), W = c.size(1);
  const uint8_t* p = c.data<uint8_t>();
  std::vector<std::string> rows;
  for (int64_t h = 0; h < H; ++h) {
    std::string r;
    for (int64_t w = 0; w < W; ++w) r += p[h * W + w] ? '#' : '.';
    rows.push_back(r);
  }
  return rows;
}

std::string joined(const std::vector<std::string>& rows) {
  std::string s;
  for (const auto& r : rows) s += r + "\n";
  return s;
}

void check_thin(const std::vector<std::string>& in, const std::vector<std::string>& want) {
  const std::string got = joined(to_art(data::zhang_suen_thin(art(in))));
  INFO("input:\n", joined(in), "got:\n", got);
  CHECK(got == joined(want));
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  Tensor c = t.cpu();
  const uint8_t* p = c.data<uint8_t>();
  return std::vector<uint8_t>(p, p + c.numel());
}

// Random blob mask: box-blurred uniform noise thresholded at `level`.
std::vector<uint8_t> blobs(int64_t H, int64_t W, uint32_t seed, float level, int radius = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> noise(size_t(H * W));
  for (auto& x : noise) x = u(rng);
  std::vector<uint8_t> out(size_t(H * W));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w) {
      float s = 0;
      int n = 0;
      for (int64_t y = h - radius; y <= h + radius; ++y)
        for (int64_t x = w - radius; x <= w + radius; ++x)
          if (y >= 0 && y < H && x >= 0 && x < W) {
            s += noise[size_t(y * W + x)];
            ++n;
          }
      out[size_t(h * W + w)] = s / n > level ? 1 : 0;
    }
  return out;
}

// Smooth random (10, H, W) probabilities (softmax of box-blurred logits) with line classes
// boosted along a few random strokes, so all post-processing steps have work to do.
Tensor random_probs(int64_t H, int64_t W, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  const int64_t n = H * W;
  std::vector<float> logits(size_t(10 * n));
  for (auto& x : logits) x = g(rng);
  std::vector<float> sm(logits.size());
  for (int c = 0; c < 10; ++c)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        float s = 0;
        for (int64_t y = std::max<int64_t>(0, h - 3); y <= std::min(H - 1, h + 3); ++y)
          for (int64_t x = std::max<int64_t>(0, w - 3); x <= std::min(W - 1, w + 3); ++x) s += logits[size_t(c * n + y * W + x)];
        sm[size_t(c * n + h * W + w)] = 0.6f * s;
      }
  std::uniform_int_distribution<int64_t> ph(0, H - 1), pw(0, W - 1);
  std::uniform_int_distribution<int> cls(1, 5), thick(1, 4);
  for (int k = 0; k < 8; ++k) {  // strokes of line classes
    const int c = cls(rng), t = thick(rng);
    const int64_t h0 = ph(rng), w0 = pw(rng), h1 = ph(rng), w1 = pw(rng);
    for (int s = 0; s <= 200; ++s) {
      const int64_t hc = h0 + (h1 - h0) * s / 200, wc = w0 + (w1 - w0) * s / 200;
      for (int64_t y = hc; y < std::min(H, hc + t); ++y)
        for (int64_t x = wc; x < std::min(W, wc + t); ++x) sm[size_t(c * n + y * W + x)] += 6.f;
    }
  }
  std::vector<float> p(sm.size());
  for (int64_t i = 0; i < n; ++i) {
    float mx = -1e30f, z = 0;
    for (int c = 0; c < 10; ++c) mx = std::max(mx, sm[size_t(c * n + i)]);
    for (int c = 0; c < 10; ++c) z += std::exp(sm[size_t(c * n + i)] - mx);
    for (int c = 0; c < 10; ++c) p[size_t(c * n + i)] = std::exp(sm[size_t(c * n + i)] - mx) / z;
  }
  return Tensor::from_vector(p, {10, H, W});
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("zhang_suen_thin: hand-made shapes") {
  // A 3-px-thick horizontal bar thins to a 1-px line along its middle row.
  check_thin({"............",
              "............",
              "..########..",
              "..########..",
              "..########..",
              "............",
              "............"},
             {"............",
              "............",
              "............",
              "...#####....",
              "............",
              "............",
              "............"});
  // Filled squares shrink to one pixel.
  check_thin({".........", ".........", "..#####..", "..#####..", "..#####..", "..#####..", "..#####..", ".........",
              "........."},
             {".........", ".........", ".........", ".........", "....#....", ".........", ".........", ".........",
              "........."});
  check_thin({"........", "........", "..####..", "..####..", "..####..", "..####..", "........", "........"},
             {"........", "........", "........", "...#....", "........", "........", "........", "........"});
  // A 2×2 block disappears entirely (every pixel passes in sub-iteration 1).
  check_thin({"....", ".##.", ".##.", "...."}, {"....", "....", "....", "...."});
  // Single pixels (also on the border) and 1-px lines are already skeletons.
  check_thin({"......", ".#....", "......", "#.....", "....#.", "......"},
             {"......", ".#....", "......", "#.....", "....#.", "......"});
  check_thin({"#######", ".......", "..#....", "...#...", "....#..", "......#"},
             {"#######", ".......", "..#....", "...#...", "....#..", "......#"});
  // Shapes touching the border: pixels outside the image count as 0.
  check_thin({"##########", "##########", "##########", "..........", "..........", ".........."},
             {"..........", ".#######..", "..........", "..........", "..........", ".........."});
  check_thin({"###....", "###....", "###....", "###....", "#######", "#######", "#######"},
             {".......", ".#.....", ".#.....", ".#.....", ".#.....", ".####..", "......."});
  // Empty and full images.
  check_thin({"....", "...."}, {"....", "...."});
  check_thin({"###", "###", "###"}, {"...", ".#.", "..."});
}

TEST_CASE("zhang_suen_thin: nonzero counts as set, output is {0, 1}, input untouched") {
  std::vector<uint8_t> v = {0, 0, 0, 0, 0, 0, 255, 7, 9, 0, 0, 3, 1, 200, 0, 0, 2, 5, 4, 0, 0, 0, 0, 0, 0};
  Tensor t = Tensor::from_bytes(v.data(), {5, 5}, DType::u8);
  Tensor out = data::zhang_suen_thin(t);
  CHECK(out.dtype() == DType::u8);
  CHECK(out.shape() == Shape{5, 5});
  CHECK(joined(to_art(out)) == joined({".....", ".....", "..#..", ".....", "....."}));
  CHECK(bytes_of(t) == v);
  // Every value is 0 or 1.
  for (uint8_t b : bytes_of(data::zhang_suen_thin(art({"###", "#.#", "###"})))) CHECK(b <= 1);
}

TEST_CASE("postprocess: views and empty images") {
  // A non-contiguous view is thinned like its contiguous copy.
  auto m = blobs(20, 31, 5, 0.5f);
  Tensor base = Tensor::from_bytes(m.data(), {20, 31}, DType::u8);
  Tensor view = ops::transpose(base, 0, 1);
  REQUIRE(!view.is_contiguous());
  CHECK(bytes_of(data::zhang_suen_thin(view)) == bytes_of(data::zhang_suen_thin(view.contiguous())));
  // The douga chain on a channel-sliced view of a larger probability tensor.
  Tensor big = random_probs(9, 11, 1);
  Tensor sliced = ops::slice(ops::unsqueeze(big, 0), 3, 2, 9);  // (1, 10, 9, 7), not contiguous
  Tensor probs = ops::select(sliced, 0, 0);
  CHECK(data::douga_postprocess(probs).to_vector_i32() ==
        data::douga_postprocess(probs.contiguous()).to_vector_i32());
  // Empty images.
  CHECK(data::zhang_suen_thin(Tensor::zeros({0, 5}, DType::u8)).shape() == Shape{0, 5});
  CHECK(data::douga_postprocess(Tensor::zeros({10, 3, 0})).shape() == Shape{3, 0});
}

TEST_CASE("zhang_suen_thin: skeleton properties on random blobs") {
  for (uint32_t seed = 0; seed < 4; ++seed) {
    const int64_t H = 40 + seed, W = 57 - seed;
    auto m = blobs(H, W, seed, 0.5f);
    Tensor in = Tensor::from_bytes(m.data(), {H, W}, DType::u8);
    auto s = bytes_of(data::zhang_suen_thin(in));
    // A subset of the input, idempotent, and (thinning preserves 8-connectivity) nonempty
    // wherever the input has a component of more than 2×2 pixels — checked loosely: nonempty.
    bool any_in = false, any_out = false;
    for (size_t i = 0; i < m.size(); ++i) {
      CHECK(s[i] <= m[i]);
      any_in |= m[i] != 0;
      any_out |= s[i] != 0;
    }
    if (any_in) CHECK(any_out);
    Tensor st = Tensor::from_bytes(s.data(), {H, W}, DType::u8);
    CHECK(bytes_of(data::zhang_suen_thin(st)) == s);
  }
}

TEST_CASE("postprocess kernels: dilation and canonical 4-connected labels") {
  Tensor in = art({"#.....", "......", "...#..", "......"});
  std::vector<uint8_t> out(24);
  kernels::cpu::postprocess_dilate3x3(in.data<uint8_t>(), out.data(), 4, 6);
  Tensor o = Tensor::from_bytes(out.data(), {4, 6}, DType::u8);
  CHECK(joined(to_art(o)) == joined({"##....", "#####.", "..###.", "..###."}));

  // Diagonal neighbours are not 4-connected; labels = smallest linear index of the component.
  Tensor m = art({"##..#", "#..##", "..#..", "##.#."});
  std::vector<int32_t> labels(20);
  CHECK(kernels::cpu::postprocess_label_components4(m.data<uint8_t>(), labels.data(), 4, 5) == 5);
  const std::vector<int32_t> want = {0, 0, -1, -1, 4, 0, -1, -1, 4, 4, -1, -1, 12, -1, -1, 15, 15, -1, 18, -1};
  CHECK(labels == want);
  // A U shape: the two arms meet only at the bottom; the label is the top-left pixel.
  Tensor u = art({"#.#", "#.#", "###"});
  std::vector<int32_t> lu(9);
  CHECK(kernels::cpu::postprocess_label_components4(u.data<uint8_t>(), lu.data(), 3, 3) == 1);
  CHECK(lu == std::vector<int32_t>{0, -1, 0, 0, -1, 0, 0, 0, 0});
}

TEST_CASE("douga_postprocess: small map with a known answer") {
  // 7×9 map. Column 4 (rows 1–5) is a 1-px visible line; a 2×2 block of color_edge at rows
  // 2–3, cols 0–1 vanishes under thinning and joins the left fill component; dilation makes
  // cols 3–5 lines (each pixel its most probable line class), which splits the rest into a
  // left component (mean favours shading_fill although pixel (0,0) prefers flat_area) and a
  // right one where color_fill and highlight_fill tie exactly (→ the lower id, 7).
  const int64_t H = 7, W = 9, n = H * W;
  std::vector<float> p(size_t(10 * n), 0.01f);
  auto P = [&](int c, int64_t h, int64_t w) -> float& { return p[size_t(c * n + h * W + w)]; };
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t w = 0; w < 3; ++w) P(6, h, w) = 0.3f;
    P(6, h, 3) = 0.3f;
    P(2, h, 3) = 0.2f;
    P(1, h, 3) = 0.1f;
    if (h >= 1 && h <= 5) P(1, h, 4) = 0.9f;
    P(7, h, 5) = P(8, h, 5) = 0.4f;
    P(4, h, 5) = 0.25f;
    for (int64_t w = 6; w < 9; ++w) {
      P(7, h, w) = P(8, h, w) = 0.4f;
      P(0, h, w) = 0.39f;
    }
  }
  P(0, 0, 0) = 0.5f;
  for (int64_t h = 2; h <= 3; ++h)
    for (int64_t w = 0; w <= 1; ++w) P(3, h, w) = 0.8f;
  Tensor probs = Tensor::from_vector(p, {10, H, W});
  Tensor out = data::douga_postprocess(probs);
  CHECK(out.dtype() == DType::i32);
  CHECK(out.shape() == Shape{H, W});
  const auto got = out.to_vector_i32();
  std::vector<int32_t> want;
  for (int64_t h = 0; h < H; ++h)
    for (int32_t c : {6, 6, 6, 2, 1, 4, 7, 7, 7}) want.push_back(c);
  CHECK(got == want);
}

TEST_CASE("douga_postprocess: no lines, and lines everywhere") {
  // No line anywhere: one component, the highest-mean fill class (9 beats 0 on average).
  const int64_t H = 3, W = 4, n = H * W;
  std::vector<float> p(size_t(10 * n), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    p[size_t(0 * n + i)] = i == 0 ? 0.9f : 0.2f;
    p[size_t(9 * n + i)] = 0.27f;
  }
  auto got = data::douga_postprocess(Tensor::from_vector(p, {10, H, W})).to_vector_i32();
  for (int64_t i = 0; i < n; ++i) CHECK(got[size_t(i)] == 9);
  // All pixels of a 3×3 image prefer shading_line: the skeleton (the centre) dilates over the
  // whole image.
  std::vector<float> q(size_t(10 * 9), 0.05f);
  for (int64_t i = 0; i < 9; ++i) q[size_t(2 * 9 + i)] = 0.6f;
  got = data::douga_postprocess(Tensor::from_vector(q, {10, 3, 3})).to_vector_i32();
  CHECK(got == std::vector<int32_t>(9, 2));
}

TEST_CASE("douga_postprocess: random maps are valid class maps") {
  Tensor probs = random_probs(37, 53, 3);
  auto got = data::douga_postprocess(probs).to_vector_i32();
  int lines = 0;
  for (int32_t c : got) {
    CHECK(c >= 0);
    CHECK(c < 10);
    lines += (c >= 1 && c <= 5) ? 1 : 0;
  }
  CHECK(lines > 0);
  CHECK(lines < int(got.size()));
}

TEST_CASE("postprocess: bad input") {
  CHECK_ERROR(data::zhang_suen_thin(Tensor()), "undefined");
  CHECK_ERROR(data::zhang_suen_thin(Tensor::zeros({4, 4})), "u8");
  CHECK_ERROR(data::zhang_suen_thin(Tensor::zeros({1, 4, 4}, DType::u8)), "(H, W)");
  CHECK_ERROR(data::douga_postprocess(Tensor()), "undefined");
  CHECK_ERROR(data::douga_postprocess(Tensor::zeros({10, 4, 4}, DType::f64)), "f32");
  CHECK_ERROR(data::douga_postprocess(Tensor::zeros({10, 4, 4}, DType::u8)), "f32");
  CHECK_ERROR(data::douga_postprocess(Tensor::zeros({9, 4, 4})), "(10, H, W)");
  CHECK_ERROR(data::douga_postprocess(Tensor::zeros({1, 10, 4, 4})), "(10, H, W)");
  CHECK_ERROR(data::douga_postprocess(Tensor::zeros({10, 16})), "(10, H, W)");
}

TEST_CASE("postprocess: CUDA matches the CPU reference exactly") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("no CUDA device: postprocess CPU/CUDA identity skipped");
    return;
  }
#ifdef SAKUGA_WITH_CUDA
  const Device gpu = Device::cuda(0);
  struct Size {
    int64_t H, W;
  };
  for (Size sz : {Size{1, 1}, Size{1, 17}, Size{23, 1}, Size{64, 64}, Size{97, 130}, Size{257, 190}}) {
    for (uint32_t seed = 0; seed < 3; ++seed) {
      INFO("size ", sz.H, "x", sz.W, " seed ", seed);
      const float level = 0.45f + 0.05f * float(seed);
      auto m = blobs(sz.H, sz.W, 100 + seed, level, 1 + int(seed));
      Tensor mc = Tensor::from_bytes(m.data(), {sz.H, sz.W}, DType::u8);
      Tensor mg = mc.to(gpu);
      // thinning
      CHECK(bytes_of(data::zhang_suen_thin(mg)) == bytes_of(data::zhang_suen_thin(mc)));
      // dilation and components (kernels directly)
      const int64_t n = sz.H * sz.W;
      Tensor dc = Tensor::empty({sz.H, sz.W}, DType::u8), dg = Tensor::empty({sz.H, sz.W}, DType::u8, gpu);
      kernels::cpu::postprocess_dilate3x3(mc.data<uint8_t>(), dc.data<uint8_t>(), sz.H, sz.W);
      kernels::cuda::postprocess_dilate3x3(mg.data<uint8_t>(), dg.data<uint8_t>(), sz.H, sz.W, stream_of(mg));
      CHECK(bytes_of(dg) == bytes_of(dc));
      Tensor lc = Tensor::empty({sz.H, sz.W}, DType::i32), lg = Tensor::empty({sz.H, sz.W}, DType::i32, gpu);
      kernels::cpu::postprocess_label_components4(mc.data<uint8_t>(), lc.data<int32_t>(), sz.H, sz.W);
      kernels::cuda::postprocess_label_components4(mg.data<uint8_t>(), lg.data<int32_t>(), sz.H, sz.W, stream_of(mg));
      CHECK(lg.to_vector_i32() == lc.to_vector_i32());
      (void)n;
      // the whole chain
      Tensor probs = random_probs(sz.H, sz.W, 7 + seed);
      CHECK(data::douga_postprocess(probs.to(gpu)).to_vector_i32() == data::douga_postprocess(probs).to_vector_i32());
    }
  }
#endif
}

TEST_CASE("postprocess: CUDA thinning across iteration batches, components with long chains") {
  if (device::cuda_device_count() == 0) {
    MESSAGE("no CUDA device: postprocess CPU/CUDA identity skipped");
    return;
  }
#ifdef SAKUGA_WITH_CUDA
  const Device gpu = Device::cuda(0);
  // Thick shapes need many iterations: the CUDA side reads its "changed" flags in batches of
  // 4, 8, 16, … and must still report the CPU's exact count and image. 1 to ~150 iterations.
  for (int64_t side : {1, 6, 13, 40, 90, 300}) {
    const int64_t H = side + 4, W = 2 * side + 7;
    std::vector<uint8_t> m(size_t(H * W), 0);
    for (int64_t h = 2; h < 2 + side; ++h)
      for (int64_t w = 3; w < 3 + 2 * side; ++w) m[size_t(h * W + w)] = 1;
    Tensor mc = Tensor::from_bytes(m.data(), {H, W}, DType::u8), mg = mc.to(gpu);
    Tensor oc = Tensor::empty({H, W}, DType::u8), og = Tensor::empty({H, W}, DType::u8, gpu);
    const int64_t it_c = kernels::cpu::postprocess_zhang_suen(mc.data<uint8_t>(), oc.data<uint8_t>(), H, W);
    const int64_t it_g =
        kernels::cuda::postprocess_zhang_suen(mg.data<uint8_t>(), og.data<uint8_t>(), H, W, stream_of(mg));
    INFO("filled ", side, "x", 2 * side, " rectangle: ", it_c, " CPU iterations");
    CHECK(it_g == it_c);
    CHECK(bytes_of(og) == bytes_of(oc));
  }
  // Components: a 1080p blob map (many concurrent unions per component) and a serpentine, a
  // single component whose union-find chains are as long as the image allows.
  std::vector<std::vector<uint8_t>> masks;
  const int64_t H = 1080, W = 1920;
  masks.push_back(blobs(H, W, 77, 0.5f, 3));
  std::vector<uint8_t> snake(size_t(H * W), 0);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w)
      snake[size_t(h * W + w)] = (h % 4 != 3) || (h % 8 == 3 ? w == W - 1 : w == 0) ? 1 : 0;
  masks.push_back(snake);
  for (const auto& m : masks) {
    Tensor mc = Tensor::from_bytes(m.data(), {H, W}, DType::u8), mg = mc.to(gpu);
    Tensor lc = Tensor::empty({H, W}, DType::i32), lg = Tensor::empty({H, W}, DType::i32, gpu);
    const int64_t count = kernels::cpu::postprocess_label_components4(mc.data<uint8_t>(), lc.data<int32_t>(), H, W);
    kernels::cuda::postprocess_label_components4(mg.data<uint8_t>(), lg.data<int32_t>(), H, W, stream_of(mg));
    INFO(count, " components");
    CHECK(lg.to_vector_i32() == lc.to_vector_i32());
  }
#endif
}

}  // TEST_SUITE
