// Harness cases: redraw's dual-discriminator ops (kernels/redraw.h).
//   redraw_d_inputs: t, q and c together (one packed backward), each alone; soft masks (every
//     term of the backward non-zero) and binary masks with a band; in g and l; from one pixel to
//     more than one CUDA block.
//   patch_ce_pair: both losses together and each alone (the other's gradient must be 0); K from 2
//     to 9 classes, patch maps from 1×1 to 14×14, logits spread enough to saturate the softmax;
//     more than one 2048-patch chunk (several partial sums).
#include "tensor/ops.h"
#include "tensor/ops/redraw.h"
#include "tests/harness/harness.h"

using namespace sakuga;
using namespace sakuga::test;

namespace {

std::string shape_name(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + ")";
}

Tensor packed(const ops::RedrawDInputs& r) {
  return ops::concat({ops::flatten(r.t), ops::flatten(r.q), ops::flatten(r.c)}, 0);
}

// A binary mask: a centred rectangle per image (its size differs per image), as fixed values.
std::vector<float> rect_masks(const Shape& s, int grow) {
  const int64_t B = s[0], H = s[2], W = s[3];
  std::vector<float> v(size_t(B * H * W), 0.f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t r = 1 + (b % 2) + grow;
        const bool in = std::abs(2 * y - (H - 1)) <= 2 * r && std::abs(2 * x - (W - 1)) <= 2 * r + 1;
        v[size_t((b * H + y) * W + x)] = in ? 1.f : 0.f;
      }
  return v;
}

void add_d_input_cases() {
  for (const Shape& s : std::vector<Shape>{{1, 1, 1, 1}, {2, 3, 5, 7}, {3, 3, 8, 8}, {2, 3, 24, 24}}) {
    const Shape ms{s[0], 1, s[2], s[3]};
    const std::string tag = " " + shape_name(s);
    const auto soft = constant(uniform(ms, 0.0, 1.0)), soft_band = constant(uniform(ms, 0.0, 1.0));
    add_case({"redraw_d_inputs", "redraw_d_inputs t,q,c soft masks" + tag, {in(s), in(s), soft, soft_band},
              [](const Inputs& v) { return packed(ops::redraw_d_inputs(v[0], v[1], v[2], v[3])); }});
    add_case({"redraw_d_inputs", "redraw_d_inputs q alone" + tag, {in(s), in(s), soft, soft_band},
              [](const Inputs& v) { return ops::redraw_d_inputs(v[0], v[1], v[2], v[3]).q; }});
    add_case({"redraw_d_inputs", "redraw_d_inputs c alone" + tag, {in(s), in(s), soft, soft_band},
              [](const Inputs& v) { return ops::redraw_d_inputs(v[0], v[1], v[2], v[3]).c; }});
    if (s[2] >= 5) {
      // The region, and a band: the region grown by one pixel minus the region shrunk (here: the
      // grown rectangle, which contains the region; only max(1 − m, band) matters).
      add_case({"redraw_d_inputs", "redraw_d_inputs binary masks with band" + tag,
                {in(s), in(s), fixed(ms, rect_masks(s, 0)), fixed(ms, rect_masks(s, 1))},
                [](const Inputs& v) { return packed(ops::redraw_d_inputs(v[0], v[1], v[2], v[3])); }});
    }
  }
}

void add_patch_ce_cases() {
  struct Pair {
    Shape q, c;
  };
  const std::vector<Pair> pairs = {{{1, 2, 1, 1}, {1, 3, 1, 1}},
                                   {{2, 9, 3, 3}, {2, 5, 4, 4}},
                                   {{4, 5, 6, 6}, {4, 4, 14, 14}},
                                   {{12, 9, 14, 14}, {12, 5, 14, 14}}};  // 2352 + 2352 patches: 3 chunks
  for (const Pair& p : pairs) {
    const int kq = int(p.q[1]), kc = int(p.c[1]);
    const std::string tag = " q" + shape_name(p.q) + " c" + shape_name(p.c);
    const std::vector<InputSpec> ins = {in(p.q, 2.0), labels({p.q[0]}, kq), in(p.c, 2.0), labels({p.c[0]}, kc)};
    add_case({"patch_ce_pair", "patch_ce_pair both" + tag, ins,
              [](const Inputs& v) { return ops::patch_ce_pair(v[0], v[1], v[2], v[3]); }});
    add_case({"patch_ce_pair", "patch_ce_pair loss_q alone" + tag, ins,
              [](const Inputs& v) { return ops::select(ops::patch_ce_pair(v[0], v[1], v[2], v[3]), 0, 0); }});
    add_case({"patch_ce_pair", "patch_ce_pair loss_c alone" + tag, ins,
              [](const Inputs& v) { return ops::select(ops::patch_ce_pair(v[0], v[1], v[2], v[3]), 0, 1); }});
  }
  // Saturated softmax: logits of scale 12 (probabilities near 0 and 1).
  const Shape q{3, 4, 5, 5}, c{3, 6, 3, 3};
  add_case({"patch_ce_pair", "patch_ce_pair saturated",
            {in(q, 12.0), labels({3}, 4), in(c, 12.0), labels({3}, 6)},
            [](const Inputs& v) { return ops::patch_ce_pair(v[0], v[1], v[2], v[3]); }});
}

}  // namespace

SAKUGA_OP_CASES(redraw) {
  add_d_input_cases();
  add_patch_ce_cases();
}
