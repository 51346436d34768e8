#pragma once
// C++ side of the PyTorch oracle tests (see tests/oracle/oracle.py). A case named
// "oracle_<family>" reads the file in SAKUGA_ORACLE_FILE; run directly (without the
// variable) it does nothing, since only the Python script knows the reference values.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/safetensors.h"

namespace sakuga::test {

std::optional<io::SafetensorsFile> oracle_file();
// Parameters stored by Oracle.meta(name, value).
nlohmann::json oracle_meta(const io::SafetensorsFile& f, const std::string& name);
// The cases listed by the Python side (meta "cases": [names]) with each case's parameters.
std::vector<std::pair<std::string, nlohmann::json>> oracle_cases(const io::SafetensorsFile& f);
// The tensor `name`, with a clear failure when missing.
Tensor oracle_tensor(const io::SafetensorsFile& f, const std::string& name);
// Max-norm relative error of got against want (same shape required).
double relative_error(const Tensor& got, const Tensor& want);
// CHECKs relative_error ≤ rtol, reporting `what` and the error.
void check_close(const Tensor& got, const Tensor& want, double rtol, const std::string& what);

}  // namespace sakuga::test
