#include "nets/harness/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>

#include "kernels/common.h"
#include "tensor/safetensors.h"

namespace sakuga::harness {

namespace fs = std::filesystem;

void save_checkpoint(const Family& family, const std::string& path, int64_t step, const Json& harness_state,
                     const std::string& family_name) {
  std::map<std::string, Tensor> all;
  const Parts& parts = family.parts();
  for (const auto& n : parts.networks())
    for (const auto& [k, v] : n.module->state_dict()) all[n.prefix + k] = v;
  for (const auto& o : parts.optimizers())
    for (auto& [k, v] : o.optimizer->state_dict(o.prefix)) all[k] = v;
  std::map<std::string, std::string> meta{{"config", family.config().json().dump()},
                                          {"step", std::to_string(step)},
                                          {"harness", harness_state.dump()}};
  if (!family_name.empty()) meta["family"] = family_name;
  io::save_safetensors(path, all, meta);
}

namespace {

std::string meta_of(const io::SafetensorsFile& f, const std::string& path, const std::string& key) {
  auto it = f.metadata.find(key);
  SAKUGA_CHECK(it != f.metadata.end(), path, ": metadata '", key, "' missing");
  return it->second;
}

template <class T>
T parse_number(const std::string& text, const std::string& path, const std::string& key) {
  try {
    size_t used = 0;
    T v;
    if constexpr (std::is_same_v<T, double>)
      v = std::stod(text, &used);
    else if constexpr (std::is_same_v<T, uint64_t>)
      v = std::stoull(text, &used);
    else
      v = T(std::stoll(text, &used));
    if (used == text.size()) return v;
  } catch (const std::logic_error&) {
  }
  SAKUGA_FAIL(path, ": metadata '", key, "' is not a number ('", text, "')");
}

// The part that owns each tensor of the file: the longest matching prefix wins.
struct Split {
  std::vector<nn::StateDict> networks;
  std::vector<std::map<std::string, Tensor>> optimizers;
  std::vector<std::string> orphans;
};

Split split_by_owner(const io::SafetensorsFile& f, const Parts& parts) {
  Split s;
  s.networks.resize(parts.networks().size());
  s.optimizers.resize(parts.optimizers().size());
  for (const auto& [key, t] : f.tensors) {
    int kind = -1;  // 0 network, 1 optimizer
    size_t index = 0, best_len = 0;
    auto consider = [&](const std::string& prefix, int k, size_t i) {
      if (key.compare(0, prefix.size(), prefix) == 0 && (kind < 0 || prefix.size() > best_len)) {
        kind = k;
        index = i;
        best_len = prefix.size();
      }
    };
    for (size_t i = 0; i < parts.networks().size(); ++i) consider(parts.networks()[i].prefix, 0, i);
    for (size_t i = 0; i < parts.optimizers().size(); ++i) consider(parts.optimizers()[i].prefix, 1, i);
    if (kind == 0)
      s.networks[index][key.substr(best_len)] = t;
    else if (kind == 1)
      s.optimizers[index][key] = t;
    else
      s.orphans.push_back(key);
  }
  return s;
}

}  // namespace

LoadedState load_checkpoint(Family& family, const std::string& path, const std::string& family_name) {
  const io::SafetensorsFile f = io::load_safetensors(path);
  if (auto it = f.metadata.find("family"); it != f.metadata.end() && !family_name.empty())
    SAKUGA_CHECK(it->second == family_name, path, ": a checkpoint of family '", it->second, "', but this run is '",
                 family_name, "'");
  Parts& parts = family.parts();
  Split split = split_by_owner(f, parts);
  if (!split.orphans.empty()) {
    split.orphans.resize(std::min<size_t>(split.orphans.size(), 5));
    SAKUGA_FAIL(path, ": tensors that belong to no part of this run (", fmt::format("{}", fmt::join(split.orphans, ", ")),
                "): a checkpoint of another model or config?");
  }
  for (size_t i = 0; i < parts.networks().size(); ++i) {
    const NetworkPart& n = parts.networks()[i];
    SAKUGA_CHECK(!split.networks[i].empty(), path, ": network '", n.name, "' (tensors '", n.prefix,
                 "...') is not in the checkpoint");
    try {
      n.module->load_state_dict(split.networks[i], true);
    } catch (const Error& e) {
      SAKUGA_FAIL(path, ": network '", n.name, "': ", e.what());
    }
  }
  for (size_t i = 0; i < parts.optimizers().size(); ++i) {
    const OptimizerPart& o = parts.optimizers()[i];
    try {
      o.optimizer->load_state_dict(split.optimizers[i], o.prefix, true);
    } catch (const Error& e) {
      SAKUGA_FAIL(path, ": optimizer '", o.name, "': ", e.what());
    }
  }

  LoadedState st;
  st.step = parse_number<int64_t>(meta_of(f, path, "step"), path, "step");
  auto h = f.metadata.find("harness");
  if (h == f.metadata.end()) {
    // Written before the shared harness: one dropout stream and val_loss early stop.
    for (const auto& r : parts.rngs()) {
      SAKUGA_CHECK(r.name == "dropout", path, ": no saved state for the random stream '", r.name, "'");
      r.generator->offset = parse_number<uint64_t>(meta_of(f, path, "dropout_rng_offset"), path, "dropout_rng_offset");
    }
    if (auto b = f.metadata.find("best_val_loss"); b != f.metadata.end()) {
      const double best = parse_number<double>(b->second, path, "best_val_loss");
      if (std::isfinite(best)) st.best = best;
      st.bad_evals = parse_number<int64_t>(meta_of(f, path, "bad_evals"), path, "bad_evals");
    }
    return st;
  }
  Json j;
  try {
    j = Json::parse(h->second);
    for (const auto& r : parts.rngs()) {
      SAKUGA_CHECK(j.at("rng").contains(r.name), path, ": no saved state for the random stream '", r.name, "'");
      r.generator->seed = j["rng"][r.name].at("seed").get<uint64_t>();
      r.generator->offset = j["rng"][r.name].at("offset").get<uint64_t>();
    }
    const Json& es = j.at("early_stop");
    if (!es.at("best").is_null()) st.best = es["best"].get<double>();
    st.bad_evals = es.at("bad_evals").get<int64_t>();
    st.best_step = es.at("best_step").get<int64_t>();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    SAKUGA_FAIL(path, ": metadata 'harness' is malformed (", e.what(), ")");
  }
  family.load_state(j.contains("family") ? j["family"] : Json(nullptr));
  return st;
}

void link_or_copy(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(from, tmp, ec);
  if (ec) {
    std::error_code copy_ec;
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, copy_ec);
    SAKUGA_CHECK(!copy_ec, "cannot copy ", from, " to ", tmp, " (", copy_ec.message(), ")");
  }
  fs::rename(tmp, to, ec);
  SAKUGA_CHECK(!ec, "cannot rename ", tmp, " to ", to, " (", ec.message(), ")");
}

}  // namespace sakuga::harness
