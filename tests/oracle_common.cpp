#include "tests/oracle_common.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace sakuga::test {

std::optional<io::SafetensorsFile> oracle_file() {
  const char* path = std::getenv("SAKUGA_ORACLE_FILE");
  if (!path || !*path) return std::nullopt;
  return io::load_safetensors(path);
}

nlohmann::json oracle_meta(const io::SafetensorsFile& f, const std::string& name) {
  auto it = f.metadata.find(name);
  if (it == f.metadata.end()) SAKUGA_FAIL("oracle file: no metadata '", name, "'");
  return nlohmann::json::parse(it->second);
}

std::vector<std::pair<std::string, nlohmann::json>> oracle_cases(const io::SafetensorsFile& f) {
  std::vector<std::pair<std::string, nlohmann::json>> cases;
  for (const auto& n : oracle_meta(f, "cases")) {
    const std::string name = n.get<std::string>();
    cases.emplace_back(name, oracle_meta(f, name));
  }
  SAKUGA_CHECK(!cases.empty(), "oracle file: no cases");
  return cases;
}

Tensor oracle_tensor(const io::SafetensorsFile& f, const std::string& name) {
  auto it = f.tensors.find(name);
  if (it == f.tensors.end()) SAKUGA_FAIL("oracle file: no tensor '", name, "'");
  return it->second;
}

double relative_error(const Tensor& got, const Tensor& want) {
  SAKUGA_CHECK(got.shape() == want.shape(), "shape ", shape_str(got.shape()), " vs expected ", shape_str(want.shape()));
  std::vector<double> a = got.to_vector_f64(), b = want.to_vector_f64();
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return num / std::max(den, 1e-12);
}

void check_close(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  double err = relative_error(got, want);
  INFO(what, ": relative error ", err, " (bound ", rtol, ")");
  CHECK(err <= rtol);
}

}  // namespace sakuga::test
