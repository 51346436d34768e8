// Oracle: safetensors interop with Python (tests/oracle/test_safetensors.py). Python writes
// tensors of every dtype with its own writer and the expected values as JSON text; this case
// checks sakuga's reader against them, then (when SAKUGA_ORACLE_OUT is set) writes everything
// back with sakuga's writer, plus tensors made here, for the script's independent reader.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "tensor/safetensors.h"
#include "tests/oracle_common.h"

using namespace sakuga;

namespace {

DType dtype_from(const std::string& s) {
  if (s == "F32") return DType::f32;
  if (s == "F64") return DType::f64;
  if (s == "BF16") return DType::bf16;
  if (s == "I32") return DType::i32;
  if (s == "U8") return DType::u8;
  SAKUGA_FAIL("oracle_safetensors: unknown dtype ", s);
}

double json_double(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    SAKUGA_FAIL("oracle_safetensors: bad special value ", s);
  }
  return v.get<double>();
}

// Exact comparison of one loaded tensor against the JSON expectation.
void check_expected(const std::string& name, const Tensor& got, const nlohmann::json& e) {
  INFO("tensor ", name);
  const DType dt = dtype_from(e.at("dtype").get<std::string>());
  CHECK(got.dtype() == dt);
  CHECK(got.shape() == e.at("shape").get<Shape>());
  const auto& vals = e.at("values");
  REQUIRE(int64_t(vals.size()) == got.numel());
  if (got.dtype() != dt) return;
  int64_t bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const auto& v = vals[size_t(i)];
    bool ok = true;
    switch (dt) {
      case DType::f32: {
        const float want = float(json_double(v)), have = got.data<float>()[i];
        ok = std::isnan(want) ? std::isnan(have) : std::memcmp(&want, &have, 4) == 0;  // -0 ≠ +0
        break;
      }
      case DType::f64: {
        const double want = json_double(v), have = got.data<double>()[i];
        ok = std::isnan(want) ? std::isnan(have) : std::memcmp(&want, &have, 8) == 0;
        break;
      }
      case DType::bf16: ok = got.data<bf16>()[i].bits == v.get<uint16_t>(); break;
      case DType::i32: ok = got.data<int32_t>()[i] == v.get<int32_t>(); break;
      case DType::u8: ok = got.data<uint8_t>()[i] == v.get<uint8_t>(); break;
    }
    if (!ok && bad++ < 5) FAIL_CHECK("element ", i, " differs from ", v.dump());
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_SUITE("oracle") {
TEST_CASE("oracle_safetensors") {
  auto f = test::oracle_file();
  if (!f) return;
  auto names = test::oracle_meta(*f, "names");
  REQUIRE(names.size() > 0);
  for (const auto& jn : names) {
    const std::string name = jn.get<std::string>();
    check_expected(name, test::oracle_tensor(*f, name), test::oracle_meta(*f, "expect." + name));
  }
  REQUIRE(f->metadata.count("note") == 1);
  CHECK(f->metadata.at("note") == "λ → ∞, ünïcode and \"quotes\"");

  const char* out = std::getenv("SAKUGA_ORACLE_OUT");
  if (!out || !*out) return;
  std::map<std::string, Tensor> all = f->tensors;
  all["cpp.f32"] = Tensor::from_vector({0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 65504.0f}, {2, 3});
  all["cpp.bf16"] = Tensor::from_vector({1.0f, -2.0f, 0.1f, 300.0f}, {4}, DType::bf16);
  const double d[2] = {1.0 / 3.0, -2.5e-300};
  all["cpp.f64"] = Tensor::from_bytes(d, {2}, DType::f64);
  all["cpp.i32"] = Tensor::from_vector_i32({7, -8, std::numeric_limits<int32_t>::max()}, {3});
  const uint8_t u[4] = {0, 1, 254, 255};
  all["cpp.u8"] = Tensor::from_bytes(u, {2, 2}, DType::u8);
  all["cpp.scalar"] = Tensor::scalar(42.0);
  all["cpp.empty"] = Tensor::empty({0, 4}, DType::bf16);
  std::map<std::string, std::string> meta = f->metadata;
  meta["writer"] = "sakuga";
  io::save_safetensors(out, all, meta);
}
}
