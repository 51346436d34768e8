// The procedural cel-frame generator (data/gcn/synth.h): determinism, shapes, the label invariants
// the generator guarantees, class coverage, and the dataset folder it writes.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "data/gcn/douga.h"
#include "data/png.h"
#include "data/gcn/seg_dataset.h"
#include "data/gcn/synth.h"
#include "tests/test_util.h"

using namespace sakuga;
using namespace sakuga::data;

namespace sakuga::data::synth_detail {
// data/gcn/synth.cpp: the sample with or without the final blur / noise / blockiness.
SegSample synth_sample_clean(uint64_t seed, int64_t h, int64_t w, bool degrade_frame);
}  // namespace sakuga::data::synth_detail

namespace {

struct SynthTempDir {
  std::string path;
  SynthTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sakuga_synth_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(mkdtemp(buf.data()) != nullptr);
    path = buf.data();
  }
  ~SynthTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

float luma_at(const std::vector<float>& f, size_t n, size_t i) {
  return 0.299f * f[i] + 0.587f * f[n + i] + 0.114f * f[2 * n + i];
}

size_t count_png(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".png";
  return n;
}

// FNV-1a 64 over the bytes of a CPU tensor (its elements in order).
uint64_t fnv1a(const Tensor& t, uint64_t h = 0xCBF29CE484222325ull) {
  const auto* p = static_cast<const uint8_t*>(t.contiguous().raw());
  for (size_t i = 0; i < t.nbytes(); ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}
uint64_t fnv1a(const SegSample& s) { return fnv1a(s.douga, fnv1a(s.mask, fnv1a(s.frame))); }

}  // namespace

TEST_SUITE("data") {
  TEST_CASE("synth: shapes, dtypes, value ranges and name") {
    for (auto hw : std::vector<std::array<int64_t, 2>>{{16, 16}, {37, 23}, {24, 80}, {128, 128}}) {
      const int64_t h = hw[0], w = hw[1];
      CAPTURE(h);
      CAPTURE(w);
      SegSample s = synth_sample(7, h, w);
      CHECK(s.name == "synth-7");
      REQUIRE(s.frame.defined());
      REQUIRE(s.mask.defined());
      REQUIRE(s.douga.defined());
      CHECK(s.frame.shape() == Shape{3, h, w});
      CHECK(s.mask.shape() == Shape{1, h, w});
      CHECK(s.douga.shape() == Shape{h, w});
      CHECK(s.frame.dtype() == DType::f32);
      CHECK(s.mask.dtype() == DType::f32);
      CHECK(s.douga.dtype() == DType::i32);
      CHECK(!s.frame.is_cuda());
      for (float v : s.frame.to_vector()) REQUIRE((v >= 0.f && v <= 1.f));
      for (float v : s.mask.to_vector()) REQUIRE((v == 0.f || v == 1.f));
      for (int32_t c : s.douga.to_vector_i32()) REQUIRE((c >= 0 && c < kDougaClasses));
    }
    Tensor bg = synth_background(3, 20, 30);
    CHECK(bg.shape() == Shape{3, 20, 30});
    for (float v : bg.to_vector()) REQUIRE((v >= 0.f && v <= 1.f));
    Tensor tex = synth_texture(3, 40, 50);
    CHECK(tex.shape() == Shape{1, 40, 50});
    double sum = 0;
    for (float v : tex.to_vector()) {
      REQUIRE(v > 0.f);
      sum += v;
    }
    CHECK(sum / (40 * 50) == doctest::Approx(1.0).epsilon(1e-4));
  }

  TEST_CASE("synth: deterministic from the seed; seeds differ") {
    SegSample a = synth_sample(42, 64, 48), b = synth_sample(42, 64, 48), c = synth_sample(43, 64, 48);
    CHECK(a.frame.to_vector() == b.frame.to_vector());
    CHECK(a.mask.to_vector() == b.mask.to_vector());
    CHECK(a.douga.to_vector_i32() == b.douga.to_vector_i32());
    CHECK(a.frame.to_vector() != c.frame.to_vector());
    CHECK(a.douga.to_vector_i32() != c.douga.to_vector_i32());
    CHECK(synth_background(5, 32, 32).to_vector() == synth_background(5, 32, 32).to_vector());
    CHECK(synth_background(5, 32, 32).to_vector() != synth_background(6, 32, 32).to_vector());
    CHECK(synth_texture(5, 32, 32).to_vector() == synth_texture(5, 32, 32).to_vector());
    CHECK(synth_texture(5, 32, 32).to_vector() != synth_texture(6, 32, 32).to_vector());
    // Sample seeds: a fixed function, distinct over nearby seeds and indices.
    CHECK(synth_sample_seed(0, 0) == synth_sample_seed(0, 0));
    std::set<uint64_t> seen;
    for (uint64_t s = 0; s < 8; ++s)
      for (int64_t i = 0; i < 64; ++i) seen.insert(synth_sample_seed(s, i));
    CHECK(seen.size() == 8 * 64);
  }

  TEST_CASE("synth: frames, masks and douga are bit-identical to the recorded checksums") {
    // The demo's numbers depend on these exact bits: a refactoring of the drawing code must not
    // change one of them. The checksums were recorded from this build's output (x86-64, glibc
    // libm); a platform whose libm rounds sin/cos/exp differently would need new ones.
    struct Case {
      uint64_t seed;
      int64_t h, w;
      uint64_t sample, clean;
    };
    const Case cases[] = {
        {synth_sample_seed(0, 0), 96, 96, 7916762377237480413ull, 16562925580458386564ull},
        {synth_sample_seed(0, 1), 96, 96, 7449022130961963742ull, 13539327215116096103ull},
        {synth_sample_seed(0, 2), 96, 96, 15624405724140140011ull, 14138165366284994394ull},
        {synth_sample_seed(0x76616C6964ull, 3), 96, 96, 7670059215882084857ull, 4276581727857094273ull},
        {12345, 256, 256, 14641635025056969944ull, 2394931572935216629ull},
        {77, 70, 130, 12753651762576729585ull, 6046857870813423257ull},
        {2024, 400, 720, 9166000084791313688ull, 10158800776101968456ull},
    };
    for (const Case& c : cases) {
      INFO("seed ", c.seed, " at ", c.h, "x", c.w);
      const uint64_t got = fnv1a(synth_sample(c.seed, c.h, c.w));
      const uint64_t got_clean = fnv1a(synth_detail::synth_sample_clean(c.seed, c.h, c.w, false));
      CHECK(got == c.sample);
      CHECK(got_clean == c.clean);
    }
    CHECK(fnv1a(synth_background(5, 96, 128)) == 6151965665080424509ull);
    CHECK(fnv1a(synth_texture(6, 80, 64)) == 4145525623240318706ull);
  }

  TEST_CASE("synth: bad sizes are errors") {
    CHECK_ERROR(synth_sample(0, 15, 64), "at least 16x16");
    CHECK_ERROR(synth_sample(0, 64, 8), "at least 16x16");
    CHECK_ERROR(synth_background(0, 10, 10), "at least 16x16");
    CHECK_ERROR(synth_texture(0, 16, 0), "at least 16x16");
    SynthTempDir tmp;
    CHECK_ERROR(write_synth_dataset(tmp.path + "/d", SegTask::cel, 0, 0, 32, 32), "count must be at least 1");
  }

  TEST_CASE("synth: labels, cel mask and frame are consistent") {
    // Invariants (data/gcn/synth.cpp header comment), over 26 samples of mixed sizes:
    //  - book classes 5/9 only where mask = 0; classes 1–4 and 6–8 only where mask = 1;
    //  - every region is closed by lines: a fill-class pixel (0, 6–9) has, among its 4
    //    neighbours, only pixels of its own class or of a line class;
    //  - before degradation, visible_line pixels are the darkest of a character (luma ≤ 0.25,
    //    every other cel pixel ≥ 0.3); after it they stay clearly darker on average;
    //  - degradation changes the frame only.
    for (int k = 0; k < 26; ++k) {
      // Two large samples: douga lines 2 px wide, outlines 3–10 px.
      const int64_t h = k >= 24 ? 736 : 64 + 8 * (k % 3), w = k >= 24 ? 760 : 64 + 12 * (k % 4);
      const uint64_t seed = synth_sample_seed(1234, k);
      CAPTURE(seed);
      SegSample clean = synth_detail::synth_sample_clean(seed, h, w, false);
      SegSample s = synth_sample(seed, h, w);
      std::vector<int32_t> d = s.douga.to_vector_i32();
      std::vector<float> m = s.mask.to_vector();
      REQUIRE(d == clean.douga.to_vector_i32());
      REQUIRE(m == clean.mask.to_vector());
      std::vector<float> f0 = clean.frame.to_vector(), f1 = s.frame.to_vector();
      const size_t n = size_t(h * w);
      double line_sum = 0, other_sum = 0;
      size_t line_n = 0, other_n = 0;
      for (size_t i = 0; i < n; ++i) {
        const int c = d[i];
        if (c == 5 || c == 9) REQUIRE(m[i] == 0.f);
        if ((c >= 1 && c <= 4) || (c >= 6 && c <= 8)) REQUIRE(m[i] == 1.f);
        if (!is_line_class(c)) {
          const int64_t y = int64_t(i) / w, x = int64_t(i) % w;
          const int64_t ny[4] = {y - 1, y + 1, y, y}, nx[4] = {x, x, x - 1, x + 1};
          for (int q = 0; q < 4; ++q) {
            if (ny[q] < 0 || ny[q] >= h || nx[q] < 0 || nx[q] >= w) continue;
            const int cn = d[size_t(ny[q] * w + nx[q])];
            if (cn != c && !is_line_class(cn)) {
              INFO("pixel (", y, ", ", x, ") class ", c, " touches class ", cn);
              REQUIRE(false);
            }
          }
        }
        if (m[i] == 1.f) {
          const float l0 = luma_at(f0, n, i);
          if (c == 1) {
            REQUIRE(l0 <= 0.25f);
            line_sum += luma_at(f1, n, i);
            ++line_n;
          } else {
            REQUIRE(l0 >= 0.3f);
            other_sum += luma_at(f1, n, i);
            ++other_n;
          }
        }
      }
      if (line_n > 0 && other_n > 0) CHECK(line_sum / double(line_n) + 0.15 < other_sum / double(other_n));
    }
  }

  TEST_CASE("synth: every class appears over 20 samples at 128x128") {
    std::array<int64_t, kDougaClasses> hist{};
    int with_cel = 0;
    for (int k = 0; k < 20; ++k) {
      SegSample s = synth_sample(synth_sample_seed(0, k), 128, 128);
      for (int32_t c : s.douga.to_vector_i32()) ++hist[size_t(c)];
      double cel = 0;
      for (float v : s.mask.to_vector()) cel += v;
      with_cel += cel > 0;
    }
    for (int c = 0; c < kDougaClasses; ++c) {
      CAPTURE(c);
      CHECK(hist[size_t(c)] > 0);
    }
    CHECK(with_cel == 20);
  }

  TEST_CASE("synth: write_synth_dataset writes a folder SegDataset loads back") {
    SynthTempDir tmp;
    const std::string dir = tmp.path + "/douga";
    write_synth_dataset(dir, SegTask::douga, 3, 9, 32, 40);
    CHECK(count_png(dir + "/frames") == 3);
    CHECK(count_png(dir + "/masks") == 3);
    CHECK(count_png(dir + "/douga") == 3);
    CHECK(count_png(dir + "/backgrounds") == 4);
    CHECK(count_png(dir + "/textures") == 4);
    CHECK(std::filesystem::exists(dir + "/frames/synth-000000.png"));
    CHECK(std::filesystem::exists(dir + "/douga/synth-000002.png"));
    // Masks are 8-bit gray 0/255, frames 8-bit RGB.
    Image mimg = read_png(dir + "/masks/synth-000001.png");
    CHECK(mimg.channels == 1);
    CHECK(mimg.bit_depth == 8);
    for (uint16_t v : mimg.pixels) REQUIRE((v == 0 || v == 255));
    PngInfo fi = read_png_info(dir + "/frames/synth-000001.png");
    CHECK(fi.channels == 3);
    CHECK(fi.bit_depth == 8);

    SegDataset ds(dir, SegTask::douga);
    REQUIRE(ds.size() == 3);
    CHECK(ds.has_masks());
    CHECK(ds.background_files().size() == 4);
    CHECK(ds.texture_files().size() == 4);
    for (size_t i = 0; i < 3; ++i) {
      SegSample want = synth_sample(synth_sample_seed(9, int64_t(i)), 32, 40);
      SegSample got = ds.load(i);
      CHECK(got.douga.to_vector_i32() == want.douga.to_vector_i32());
      REQUIRE(got.mask.defined());
      CHECK(got.mask.to_vector() == want.mask.to_vector());
      std::vector<float> a = got.frame.to_vector(), b = want.frame.to_vector();
      REQUIRE(a.size() == b.size());
      float worst = 0;
      for (size_t j = 0; j < a.size(); ++j) worst = std::max(worst, std::fabs(a[j] - b[j]));
      CHECK(worst <= 0.5f / 255.f + 1e-6f);
    }

    const std::string cdir = tmp.path + "/cel";
    write_synth_dataset(cdir, SegTask::cel, 2, 9, 24, 24);
    CHECK(!std::filesystem::exists(cdir + "/douga"));
    SegDataset cds(cdir, SegTask::cel);
    REQUIRE(cds.size() == 2);
    SegSample c0 = cds.load(0);
    CHECK(c0.mask.to_vector() == synth_sample(synth_sample_seed(9, 0), 24, 24).mask.to_vector());
  }
}
