#include "nets/harness/config.h"

#include <fstream>
#include <sstream>

#include "kernels/common.h"

namespace sakuga {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string p;
  while (std::getline(ss, p, '.')) parts.push_back(p);
  return parts;
}

std::string known_keys(const Json& obj) {
  std::string s;
  for (auto it = obj.begin(); it != obj.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
  return s;
}

bool compatible(const Json& def, const Json& v) {
  if (def.is_null()) return true;  // null default = optional value of any type
  if (def.is_number() && v.is_number()) return !(def.is_number_integer() && v.is_number_float());
  if (def.is_array() && v.is_array()) return true;
  return def.type() == v.type();
}

void merge_into(Json& dst, const Json& src, const std::string& prefix, const std::string& source) {
  for (auto it = src.begin(); it != src.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (!it.key().empty() && it.key()[0] == '_') continue;  // "_doc" and the like: comments in config files
    SAKUGA_CHECK(dst.contains(it.key()), source, ": unknown config key '", key, "' (known here: ", known_keys(dst), ")");
    Json& d = dst[it.key()];
    if (d.is_object()) {
      SAKUGA_CHECK(it.value().is_object(), source, ": config key '", key, "' must be an object");
      merge_into(d, it.value(), key, source);
    } else {
      SAKUGA_CHECK(compatible(d, it.value()), source, ": config key '", key, "' expects ", d.type_name(), " (like ",
                   d.dump(), "), got ", it.value().dump());
      d = it.value();
    }
  }
}

}  // namespace

Json read_json_file(const std::string& path) {
  std::ifstream f(path);
  SAKUGA_CHECK(f, path, ": cannot open");
  Json j;
  try {
    j = Json::parse(f, nullptr, true, /*ignore_comments=*/true);
  } catch (const std::exception& e) {
    SAKUGA_FAIL(path, ": not valid JSON (", e.what(), ")");
  }
  return j;
}

void Config::merge_file(const std::string& path) {
  Json j = read_json_file(path);
  SAKUGA_CHECK(j.is_object(), path, ": a config must be a JSON object");
  merge(j, path);
}

Config resolve_config(const Json& defaults, const ConfigSources& sources) {
  Config cfg(defaults);
  if (!sources.saved.is_null()) {
    SAKUGA_CHECK(sources.saved.is_object(), sources.saved_source, ": the saved config is not a JSON object");
    cfg.merge(sources.saved, sources.saved_source);
  }
  for (const auto& f : sources.files) cfg.merge_file(f);
  for (const auto& s : sources.sets) cfg.set(s);
  return cfg;
}

void Config::merge(const Json& overrides, const std::string& source) { merge_into(j_, overrides, "", source); }

void Config::set(const std::string& assignment) {
  auto eq = assignment.find('=');
  SAKUGA_CHECK(eq != std::string::npos && eq > 0, "--set '", assignment, "': expected KEY=VALUE (e.g. train.lr=0.001)");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const std::exception&) {
    value = text;  // not JSON: a plain string
  }
  Json nested = value;
  auto parts = split_path(key);
  for (size_t i = parts.size(); i-- > 0;) nested = Json{{parts[i], nested}};
  merge(nested, "--set " + key);
}

const Json& Config::at(const std::string& path) const {
  const Json* cur = &j_;
  for (const std::string& p : split_path(path)) {
    SAKUGA_CHECK(cur->is_object() && cur->contains(p), "config: no key '", path, "'");
    cur = &(*cur)[p];
  }
  return *cur;
}

bool Config::has(const std::string& path) const {
  const Json* cur = &j_;
  for (const std::string& p : split_path(path)) {
    if (!cur->is_object() || !cur->contains(p)) return false;
    cur = &(*cur)[p];
  }
  return true;
}

void Config::throw_type(const std::string& path, const Json& v) const {
  SAKUGA_FAIL("config key '", path, "' has the wrong type: ", v.dump());
}

}  // namespace sakuga
