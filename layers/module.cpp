#include "layers/module.h"

#include <sstream>
#include <unordered_set>

#include "tensor/autograd.h"
#include "tensor/safetensors.h"

namespace sakuga::nn {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Moves t's storage to `device`, keeping the TensorImpl (so every handle follows).
void move_in_place(const Tensor& t, Device device) {
  if (!t.defined() || t.device() == device) return;
  NoGradGuard ng;
  TensorImpl& impl = t.impl();
  Tensor moved = t.detach().to(device);
  impl.storage = moved.impl().storage;
  impl.offset = moved.impl().offset;
  impl.shape = moved.impl().shape;
  impl.strides = moved.impl().strides;
  impl.device = device;
  if (impl.grad) {
    Tensor g(impl.grad);
    impl.grad = g.detach().to(device).impl_ptr();
  }
}

}  // namespace

Tensor Module::forward(const Tensor&) {
  SAKUGA_FAIL(type_name(), ": this module has no single-input forward(x)");
}

void Module::check_name(const std::string& name) const {
  SAKUGA_CHECK(!name.empty(), type_name(), ": empty name");
  SAKUGA_CHECK(name.find('.') == std::string::npos, type_name(), ": name '", name, "' must not contain '.'");
  for (const Entry& e : params_) SAKUGA_CHECK(e.name != name, type_name(), ": '", name, "' is already a parameter");
  for (const Entry& e : buffers_) SAKUGA_CHECK(e.name != name, type_name(), ": '", name, "' is already a buffer");
  for (const auto& c : children_) SAKUGA_CHECK(c.first != name, type_name(), ": '", name, "' is already a submodule");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(name);
  if (!t.defined()) return t;
  SAKUGA_CHECK(dtype_is_float(t.dtype()), type_name(), ": parameter '", name, "' must be a float tensor, got ",
               dtype_name(t.dtype()));
  SAKUGA_CHECK(t.is_leaf(), type_name(), ": parameter '", name, "' must be a leaf (use detach())");
  t.set_requires_grad(requires_grad);
  params_.push_back({name, t, true, false});
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent, bool optional) {
  check_name(name);
  if (!t.defined()) return t;
  buffers_.push_back({name, t, persistent, optional});
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name);
  SAKUGA_CHECK(m != nullptr, type_name(), ": submodule '", name, "' is null");
  SAKUGA_CHECK(m.get() != this, type_name(), ": a module cannot contain itself");
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, NamedTensors* params, NamedTensors* buffers, NamedTensors* state,
                     std::set<std::string>* optional) const {
  for (const Entry& e : params_) {
    if (params) params->emplace_back(prefix + e.name, e.tensor);
    if (state) state->emplace_back(prefix + e.name, e.tensor);
  }
  for (const Entry& e : buffers_) {
    if (buffers) buffers->emplace_back(prefix + e.name, e.tensor);
    if (state && e.persistent) state->emplace_back(prefix + e.name, e.tensor);
    if (optional && e.optional) optional->insert(prefix + e.name);
  }
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, state, optional);
}

// A tensor shared by several modules (weight tying) is listed once, under its first name.
static NamedTensors dedup(NamedTensors v) {
  std::unordered_set<const TensorImpl*> seen;
  NamedTensors out;
  for (auto& nt : v)
    if (seen.insert(nt.second.impl_ptr().get()).second) out.push_back(std::move(nt));
  return out;
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  if (recurse) {
    collect("", &out, nullptr, nullptr, nullptr);
  } else {
    for (const Entry& e : params_) out.emplace_back(e.name, e.tensor);
  }
  return dedup(std::move(out));
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& nt : named_parameters(recurse)) out.push_back(nt.second);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  if (recurse) {
    collect("", nullptr, &out, nullptr, nullptr);
  } else {
    for (const Entry& e : buffers_) out.emplace_back(e.name, e.tensor);
  }
  return dedup(std::move(out));
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [name, child] : children_)
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(sub.empty() ? name : name + "." + sub, m);
  return out;
}

Module& Module::submodule(const std::string& path) {
  Module* m = this;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Module* next = nullptr;
    std::vector<std::string> names;
    for (auto& [name, child] : m->children_) {
      names.push_back(name);
      if (name == part) next = child.get();
    }
    SAKUGA_CHECK(next, type_name(), ": no submodule '", path, "' ('", part, "' is not among: ", join(names), ")");
    m = next;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *m;
}

int64_t Module::num_parameters(bool only_trainable) const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters())
    if (!only_trainable || p.requires_grad()) n += p.numel();
  return n;
}

NamedTensors Module::ordered_state_dict() const {
  NamedTensors out;
  collect("", nullptr, nullptr, &out, nullptr);
  return out;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (auto& [name, t] : ordered_state_dict()) out[name] = t;
  return out;
}

Module::LoadResult Module::load_state_dict(const StateDict& sd, bool strict, const std::string& skip_prefix) {
  NamedTensors state;
  std::set<std::string> optional;
  collect("", nullptr, nullptr, &state, &optional);
  LoadResult res;
  std::vector<std::string> mis_shaped;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  std::set<std::string> known;
  for (auto& [name, dst] : state) {
    known.insert(name);
    auto it = sd.find(name);
    if (it == sd.end()) {
      if (!optional.count(name)) res.missing.push_back(name);
      continue;
    }
    const Tensor& src = it->second;
    if (!src.defined() || src.shape() != dst.shape()) {
      mis_shaped.push_back(name + " (checkpoint " + (src.defined() ? shape_str(src.shape()) : "undefined") +
                           ", module " + shape_str(dst.shape()) + ")");
      continue;
    }
    copies.emplace_back(dst, src);
  }
  for (const auto& [key, t] : sd) {
    if (!skip_prefix.empty() && key.compare(0, skip_prefix.size(), skip_prefix) == 0) continue;
    if (!known.count(key)) res.unexpected.push_back(key);
  }
  if (!mis_shaped.empty() || (strict && (!res.missing.empty() || !res.unexpected.empty()))) {
    std::ostringstream os;
    os << type_name() << ": load_state_dict failed:";
    if (!res.missing.empty()) os << "\n  missing (" << res.missing.size() << "): " << join(res.missing);
    if (!res.unexpected.empty()) os << "\n  unexpected (" << res.unexpected.size() << "): " << join(res.unexpected);
    if (!mis_shaped.empty()) os << "\n  mis-shaped (" << mis_shaped.size() << "): " << join(mis_shaped);
    throw Error(os.str());
  }
  {
    NoGradGuard ng;
    for (auto& [dst, src] : copies) dst.copy_(src);
  }
  for (auto& [name, m] : named_modules()) m->on_state_loaded();
  return res;
}

void Module::save(const std::string& path, const std::map<std::string, std::string>& metadata) const {
  io::save_safetensors(path, state_dict(), metadata);
}

io::SafetensorsFile Module::load(const std::string& path, bool strict) {
  io::SafetensorsFile f = io::load_safetensors(path);
  try {
    load_state_dict(f.tensors, strict, "optim.");
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return f;
}

void Module::train(bool on) {
  for (auto& [name, m] : named_modules()) m->training_ = on;
}

void Module::set_requires_grad(bool on) {
  for (auto& [name, p] : named_parameters()) p.set_requires_grad(on);
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

void Module::to(Device device) {
  NamedTensors all;
  collect("", &all, &all, nullptr, nullptr);
  for (auto& [name, t] : dedup(std::move(all))) move_in_place(t, device);
}

Device Module::device() const {
  NamedTensors all;
  collect("", &all, &all, nullptr, nullptr);
  return all.empty() ? Device::cpu() : all.front().second.device();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
}

void Module::summary_into(std::string& out, const std::string& name, int indent) const {
  std::string pad(size_t(indent) * 2, ' ');
  out += pad + (name.empty() ? "" : "(" + name + "): ") + type_name() + "(" + extra_repr();
  if (children_.empty()) {
    out += ")";
  } else {
    out += "\n";
    for (const auto& [cname, child] : children_) child->summary_into(out, cname, indent + 1);
    out += pad + ")";
  }
  int64_t n = 0;
  for (const Entry& e : params_) n += e.tensor.numel();
  if (n) out += "  # " + std::to_string(n) + " params";
  out += "\n";
}

std::string Module::summary() const {
  std::string out;
  summary_into(out, "", 0);
  int64_t n = num_parameters(), nt = num_parameters(true);
  out += "total: " + std::to_string(n) + " parameters (" + std::to_string(nt) + " trainable)\n";
  return out;
}

}  // namespace sakuga::nn
