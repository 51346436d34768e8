// Oracle: the Poisson blend against scipy.sparse.linalg.spsolve of the same system (within
// 1/255 everywhere, the pinned requirement) and, as a sanity bound on the mean only, against
// OpenCV's seamlessClone (reference values from tests/oracle/test_blend.py). CPU always, CUDA
// too when a GPU answers.
#include <cmath>

#include "data/redraw/blend.h"
#include "kernels/device.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

struct Diff {
  double max_all = 0;                        // over every pixel
  double mean_inside = 0, max_inside = 0;    // over the mask's pixels, all channels
};

Diff diff_of(const Tensor& got, const Tensor& want, const Tensor& mask) {
  const std::vector<double> a = got.to_vector_f64(), b = want.to_vector_f64();
  const uint8_t* m = mask.contiguous().data<uint8_t>();
  const size_t plane = size_t(mask.numel());
  Diff d;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(a[i] - b[i]);
    d.max_all = std::max(d.max_all, e);
    if (m[i % plane]) d.mean_inside += e, d.max_inside = std::max(d.max_inside, e), ++n;
  }
  d.mean_inside /= double(n > 0 ? n : 1);
  return d;
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_blend") {
  auto f = test::oracle_file();
  if (!f) return;
  std::vector<Device> devices{Device::cpu()};
  if (device::cuda_device_count() > 0)
    devices.push_back(Device::cuda(0));
  else
    MESSAGE("no CUDA device: oracle_blend checks the CPU only");
  double worst_exact = 0;
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const Tensor frame = test::oracle_tensor(*f, name + ".frame"), patch = test::oracle_tensor(*f, name + ".patch");
    const Tensor mask = test::oracle_tensor(*f, name + ".mask"), want = test::oracle_tensor(*f, name + ".want");
    for (const Device& dev : devices) {
      const std::string what = name + " on " + dev.str() + " " + m.dump();
      INFO(what);
      const auto res = data::redraw::poisson_blend(frame.to(dev), patch.to(dev), mask.to(dev));
      CHECK(res.stats.converged);
      if (m["kind"] == "spsolve") {
        const Diff d = diff_of(res.image.cpu(), want, mask);
        worst_exact = std::max(worst_exact, d.max_all);
        INFO("max |sakuga - spsolve| = ", d.max_all * 255, "/255 after ", res.stats.iterations, " iterations");
        CHECK(d.max_all <= 1.0 / 255);
      } else {
        // OpenCV writes 8 bits: compare sakuga's result as the PNG writer would round it.
        std::vector<float> v = res.image.cpu().to_vector();
        for (float& x : v) x = std::nearbyint(std::min(1.f, std::max(0.f, x)) * 255.f) / 255.f;
        const Diff d = diff_of(Tensor::from_vector(v, frame.shape()), want, mask);
        MESSAGE(dev.str(), ": sakuga vs OpenCV seamlessClone inside the mask: mean ", d.mean_inside * 255, ", max ",
                d.max_inside * 255, " grey levels (OpenCV vs the exact solution: mean ",
                m["opencv_vs_exact_mean"].get<double>(), ", max ", m["opencv_vs_exact_max"].get<double>(), ")");
        CHECK(d.mean_inside * 255 <= m["mean_bound"].get<double>());
      }
    }
  }
  MESSAGE("Poisson blend vs scipy spsolve, all exact cases and devices: max difference ", worst_exact * 255, "/255");
}
}  // TEST_SUITE
