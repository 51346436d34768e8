// Oracle: the redraw detector's CenterNet targets and losses against CenterNet's own numpy /
// PyTorch code (reference values from tests/oracle/test_redraw_detect.py).
#include "nets/redraw/detect_core.h"
#include "tensor/ops.h"
#include "tests/oracle_common.h"

using namespace sakuga;
using namespace sakuga::redraw;

TEST_SUITE("oracle") {
TEST_CASE("oracle_redraw_detect") {
  auto f = test::oracle_file();
  if (!f) return;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    const int64_t n = m.at("n"), H = m.at("H"), W = m.at("W");
    const Tensor rows = test::oracle_tensor(*f, name + ".boxes");
    std::vector<std::vector<KindBox>> boxes(static_cast<size_t>(n));
    const std::vector<float> r = rows.to_vector();
    for (size_t i = 0; i + 6 <= r.size(); i += 6)
      if (r[i] >= 0)  // −1: the placeholder row of a case without boxes
        boxes[size_t(r[i])].push_back({int(r[i + 1]), {r[i + 2], r[i + 3], r[i + 4], r[i + 5]}});
    std::vector<Tensor> heat, pos, size, offset, mask;
    for (const auto& b : boxes) {
      DetectTargets t = make_targets(b, H, W);
      heat.push_back(t.heat);
      pos.push_back(t.pos);
      size.push_back(t.size);
      offset.push_back(t.offset);
      mask.push_back(t.mask);
    }
    const Tensor th = ops::stack(heat, 0), ts = ops::stack(size, 0), to = ops::stack(offset, 0),
                 tm = ops::stack(mask, 0), tp = ops::stack(pos, 0);
    auto max_diff = [](const Tensor& a, const Tensor& b) {
      REQUIRE(a.shape() == b.shape());
      return ops::max(ops::flatten(ops::abs(a - b)), 0).item();
    };
    CHECK(max_diff(th, test::oracle_tensor(*f, name + ".t_heat")) <= 1e-6);
    CHECK(max_diff(ts, test::oracle_tensor(*f, name + ".t_size")) <= 1e-6);
    CHECK(max_diff(to, test::oracle_tensor(*f, name + ".t_offset")) <= 1e-6);
    CHECK(max_diff(tm, test::oracle_tensor(*f, name + ".t_mask")) == 0);

    DetectorOutput out{test::oracle_tensor(*f, name + ".x_heat").clone().detach(),
                       test::oracle_tensor(*f, name + ".x_size").clone().detach(),
                       test::oracle_tensor(*f, name + ".x_offset").clone().detach()};
    for (Tensor* t : {&out.heat, &out.size, &out.offset}) t->set_requires_grad(true);
    const auto w = m.at("weights").get<std::vector<double>>();
    DetectLoss l = detect_loss(out, th, tp, ts, to, tm, {w[0], w[1], w[2]});
    const std::vector<float> want = test::oracle_tensor(*f, name + ".losses").to_vector();
    test::check_close(ops::stack({l.total, l.heat, l.size, l.offset}, 0), Tensor::from_vector(want, {4}), 1e-4,
                      what + " losses");
    l.total.backward();
    test::check_close(out.heat.grad(), test::oracle_tensor(*f, name + ".g_heat"), 1e-4, what + " heat grad");
    test::check_close(out.size.grad(), test::oracle_tensor(*f, name + ".g_size"), 1e-4, what + " size grad");
    test::check_close(out.offset.grad(), test::oracle_tensor(*f, name + ".g_offset"), 1e-4, what + " offset grad");
  }
}
}  // TEST_SUITE
