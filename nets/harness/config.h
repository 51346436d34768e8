#pragma once
// Training configs: JSON objects whose every field has a documented default. A user file or
// `--set a.b=value` may only override keys that exist (unknown keys are an error naming the
// key and the source), and must keep each value's type (ints may be given for floats). Keys starting
// with "_" (like "_doc") are comments and ignored.
//
// A family keeps its defaults in one place: C++ structs with their default member values, bound
// to JSON with nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT, so `Json(Settings{})`
// is the default config and `cfg.get<Section>("section")` reads a whole section back. Every
// command (train, eval, infer, bench) resolves its config with resolve_config().
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
  bool has(const std::string& path) const;

 private:
  [[noreturn]] void throw_type(const std::string& path, const Json& v) const;
  Json j_;
};

// Where the layers of a resolved config come from, in the order they apply:
//   defaults ← saved (the run's config.json on --resume, or a checkpoint's "config" metadata)
//            ← each --config file ← each --set KEY=VALUE.
struct ConfigSources {
  Json saved;                          // null: none
  std::string saved_source;            // names the saved layer in errors ("RUN/config.json")
  std::vector<std::string> files;      // --config
  std::vector<std::string> sets;       // --set
};
Config resolve_config(const Json& defaults, const ConfigSources& sources);

// Reads a JSON file (comments allowed) with errors naming the file.
Json read_json_file(const std::string& path);

}  // namespace sakuga
