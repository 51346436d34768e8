// Oracle: Zhang–Suen thinning and 4-connected components against OpenCV (reference values from
// tests/oracle/test_postprocess.py): exact equality, on the CPU and, when a GPU answers, CUDA.
#include "data/gcn/postprocess.h"
#include "kernels/device.h"
#include "kernels/postprocess.h"
#include "tensor/dispatch.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

std::vector<int32_t> as_ints(const Tensor& t) {
  if (t.dtype() == DType::i32) return t.to_vector_i32();
  Tensor c = t.cpu().contiguous();
  const uint8_t* p = c.data<uint8_t>();
  return std::vector<int32_t>(p, p + c.numel());
}

// Index and values of the first differing element, for the failure message.
std::string first_diff(const std::vector<int32_t>& a, const std::vector<int32_t>& b, int64_t W) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i])
      return "first difference at (" + std::to_string(int64_t(i) / W) + ", " + std::to_string(int64_t(i) % W) +
             "): got " + std::to_string(a[i]) + ", want " + std::to_string(b[i]);
  return "sizes differ";
}

void check_equal(const Tensor& got, const Tensor& want, const std::string& what) {
  REQUIRE(got.shape() == want.shape());
  const auto a = as_ints(got), b = as_ints(want);
  const bool same = a == b;
  INFO(what, ": ", same ? std::string("equal") : first_diff(a, b, got.size(1)));
  CHECK(same);
}

Tensor labels_of(const Tensor& mask) {
  const int64_t H = mask.size(0), W = mask.size(1);
  Tensor m = mask.contiguous();
  Tensor out = Tensor::empty({H, W}, DType::i32, mask.device());
  if (mask.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::postprocess_label_components4(m.data<uint8_t>(), out.data<int32_t>(), H, W,
                                                                  stream_of(m)));
  } else {
    kernels::cpu::postprocess_label_components4(m.data<uint8_t>(), out.data<int32_t>(), H, W);
  }
  return out;
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_postprocess") {
  auto f = test::oracle_file();
  if (!f) return;
  const bool gpu = device::cuda_device_count() > 0;
  if (!gpu) MESSAGE("no CUDA device: oracle_postprocess checks the CPU only");
  for (const auto& [name, m] : test::oracle_cases(*f)) {
    const std::string what = name + " " + m.dump();
    INFO(what);
    Tensor img = test::oracle_tensor(*f, name + ".img");
    Tensor thin = test::oracle_tensor(*f, name + ".thin");
    Tensor comp = Tensor::empty(img.shape(), DType::u8);
    {
      const uint8_t* s = img.contiguous().data<uint8_t>();
      uint8_t* d = comp.data<uint8_t>();
      for (int64_t i = 0; i < img.numel(); ++i) d[i] = s[i] ? 0 : 1;
    }
    check_equal(data::zhang_suen_thin(img), thin, "thinning (CPU)");
    check_equal(labels_of(img), test::oracle_tensor(*f, name + ".labels_img"), "components of the image (CPU)");
    check_equal(labels_of(comp), test::oracle_tensor(*f, name + ".labels_comp"), "components of the complement (CPU)");
    if (gpu) {
      const Device d = Device::cuda(0);
      check_equal(data::zhang_suen_thin(img.to(d)), thin, "thinning (CUDA)");
      check_equal(labels_of(img.to(d)), test::oracle_tensor(*f, name + ".labels_img"), "components (CUDA)");
      check_equal(labels_of(comp.to(d)), test::oracle_tensor(*f, name + ".labels_comp"), "complement components (CUDA)");
    }
  }
}
}  // TEST_SUITE
