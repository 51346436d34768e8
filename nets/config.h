#pragma once
// Training configs: JSON objects whose every field has a documented default. A user file or
// `--set a.b=value` may only override keys that exist (unknown keys are an error naming the
// key and the source), and must keep each value's type (ints may be given for floats). Keys starting
// with "_" (like "_doc") are comments and ignored.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sakuga {

using Json = nlohmann::json;

class Config {
 public:
  explicit Config(Json defaults) : j_(std::move(defaults)) {}

  // Merge a JSON file over the current values.
  void merge_file(const std::string& path);
  // Merge a JSON object; `source` names it in errors ("configs/x.json", "--set").
  void merge(const Json& overrides, const std::string& source);
  // "a.b=value": value parsed as JSON when it parses, else taken as a string.
  void set(const std::string& assignment);

  const Json& json() const { return j_; }
  // Value at a dotted path ("train.lr"), with a clear error when absent or of the wrong type.
  template <class T>
  T get(const std::string& path) const {
    const Json& v = at(path);
    try {
      return v.get<T>();
    } catch (const std::exception&) {
      throw_type(path, v);
    }
  }
  const Json& at(const std::string& path) const;
  std::string dump() const { return j_.dump(2); }

 private:
  [[noreturn]] void throw_type(const std::string& path, const Json& v) const;
  Json j_;
};

}  // namespace sakuga
