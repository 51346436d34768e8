#include "optim/optimizer.h"

#include <set>
#include <sstream>

#include "tensor/autograd.h"

namespace sakuga::optim {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

Tensor scalar_i32(int64_t v) {
  SAKUGA_CHECK(v >= 0 && v <= INT32_MAX, "optimizer: step count ", v, " does not fit in i32");
  int32_t x = int32_t(v);
  return Tensor::from_bytes(&x, {}, DType::i32);
}

int64_t read_step(const Tensor& t, const std::string& key) {
  SAKUGA_CHECK(t.numel() == 1, "optimizer state '", key, "': expected a scalar, got shape ", shape_str(t.shape()));
  double v = t.item();
  SAKUGA_CHECK(v >= 0 && v == double(int64_t(v)), "optimizer state '", key, "': bad step count ", v);
  return int64_t(v);
}

}  // namespace

Optimizer::Optimizer(std::vector<ParamGroup> groups, double lr, double weight_decay, std::vector<std::string> buffers)
    : buffers_(std::move(buffers)), default_lr_(lr), default_wd_(weight_decay) {
  SAKUGA_CHECK(lr >= 0, "optimizer: invalid learning rate ", lr);
  SAKUGA_CHECK(weight_decay >= 0, "optimizer: invalid weight_decay ", weight_decay);
  SAKUGA_CHECK(buffers_.size() <= 3, "optimizer: at most 3 state buffers per parameter");
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup g) {
  if (g.lr < 0) g.lr = default_lr_;
  if (g.weight_decay < 0) g.weight_decay = default_wd_;
  g.initial_lr = g.lr;
  groups_.push_back(std::move(g));
  index_group(groups_.size() - 1);
}

void Optimizer::index_group(size_t gi) {
  for (const auto& [name, p] : groups_[gi].params) {
    SAKUGA_CHECK(p.defined(), "optimizer: parameter '", name, "' is undefined");
    SAKUGA_CHECK(dtype_is_float(p.dtype()), "optimizer: parameter '", name, "' has dtype ", dtype_name(p.dtype()),
                 " (expected a float tensor)");
    SAKUGA_CHECK(p.is_contiguous(), "optimizer: parameter '", name, "' is not contiguous");
    for (const Entry& e : entries_) {
      SAKUGA_CHECK(e.name != name, "optimizer: two parameters named '", name, "'");
      SAKUGA_CHECK(!e.param.same(p), "optimizer: parameter '", name, "' is the same tensor as '", e.name,
                   "' (a parameter may appear only once)");
    }
    entries_.push_back({name, p, gi});
  }
}

const Optimizer::Entry& Optimizer::find(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.name == name) return e;
  SAKUGA_FAIL("optimizer: no parameter named '", name, "'");
}

const ParamGroup& Optimizer::group(size_t i) const {
  SAKUGA_CHECK(i < groups_.size(), "optimizer: group ", i, " out of range (", groups_.size(), " groups)");
  return groups_[i];
}
double Optimizer::lr(size_t g) const { return group(g).lr; }
void Optimizer::set_lr(double lr) {
  for (ParamGroup& g : groups_) g.lr = lr;
}
void Optimizer::set_lr(size_t g, double lr) {
  group(g);
  groups_[g].lr = lr;
}
void Optimizer::set_lr_factor(double f) {
  for (ParamGroup& g : groups_) g.lr = g.initial_lr * f;
}

NamedParams Optimizer::params() const {
  NamedParams out;
  for (const Entry& e : entries_) out.emplace_back(e.name, e.param);
  return out;
}

void Optimizer::zero_grad() {
  for (const Entry& e : entries_) e.param.zero_grad();
}

void Optimizer::step() {
  ++steps_;
  // Gather the parameters with a gradient, grouped by (device, dtype); usually one list.
  struct Batch {
    Device dev;
    DType dtype;
    std::vector<kernels::OptimTensor> ts;
  };
  std::vector<Batch> batches;
  for (const Entry& e : entries_) {
    const Tensor& p = e.param;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    SAKUGA_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(), name(),
                 ": gradient of '", e.name, "' is ", g.str(), " but the parameter is ", p.str());
    SAKUGA_CHECK(p.is_contiguous(), name(), ": parameter '", e.name, "' is not contiguous");
    if (!g.is_contiguous()) {
      g = g.contiguous().detach();
      p.set_grad(g);
    }
    ParamState& st = state_[e.name];
    st.bufs.resize(buffers_.size());
    for (size_t i = 0; i < buffers_.size(); ++i) {
      if (buffers_[i].empty()) continue;
      Tensor& b = st.bufs[i];
      if (!b.defined()) {
        b = Tensor::zeros(p.shape(), p.dtype(), p.device());
      } else if (b.device() != p.device() || b.dtype() != p.dtype()) {
        // The parameter moved (Module::to): the state follows it.
        Tensor moved = Tensor::empty(p.shape(), p.dtype(), p.device());
        moved.copy_(b);
        b = moved;
      }
    }
    ++st.step;
    kernels::OptimTensor t;
    t.param = p.raw();
    t.grad = g.raw();
    void** slots[3] = {&t.s0, &t.s1, &t.s2};
    for (size_t i = 0; i < buffers_.size(); ++i)
      if (!buffers_[i].empty()) *slots[i] = st.bufs[i].raw();
    t.n = p.numel();
    t.lr = groups_[e.group].lr;
    t.weight_decay = groups_[e.group].weight_decay;
    t.step = st.step;
    Batch* b = nullptr;
    for (Batch& x : batches)
      if (x.dev == p.device() && x.dtype == p.dtype()) b = &x;
    if (!b) {
      batches.push_back({p.device(), p.dtype(), {}});
      b = &batches.back();
    }
    b->ts.push_back(t);
  }
  for (const Batch& b : batches) update(b.ts, b.dtype, b.dev);
}

Tensor Optimizer::state(const std::string& buffer, const std::string& param) const {
  find(param);
  auto it = state_.find(param);
  if (it == state_.end()) return Tensor();
  for (size_t i = 0; i < buffers_.size(); ++i)
    if (!buffers_[i].empty() && buffers_[i] == buffer && i < it->second.bufs.size()) return it->second.bufs[i];
  return Tensor();
}

std::map<std::string, Tensor> Optimizer::state_dict(const std::string& prefix) const {
  std::map<std::string, Tensor> out;
  out[prefix + "step"] = scalar_i32(steps_);
  for (const Entry& e : entries_) {
    auto it = state_.find(e.name);
    if (it == state_.end() || it->second.step == 0) continue;
    const ParamState& st = it->second;
    for (size_t i = 0; i < buffers_.size(); ++i)
      if (!buffers_[i].empty() && st.bufs[i].defined()) out[prefix + buffers_[i] + "." + e.name] = st.bufs[i];
    if (st.step != steps_) out[prefix + "param_step." + e.name] = scalar_i32(st.step);
  }
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& sd, const std::string& prefix, bool strict) {
  std::vector<std::string> missing, unexpected, mis_shaped;
  std::set<std::string> used;
  auto get = [&](const std::string& key) -> const Tensor* {
    auto it = sd.find(key);
    if (it == sd.end()) return nullptr;
    used.insert(key);
    return &it->second;
  };

  int64_t steps = 0;
  if (const Tensor* t = get(prefix + "step"))
    steps = read_step(*t, prefix + "step");
  else
    missing.push_back(prefix + "step");

  std::map<std::string, ParamState> fresh;
  for (const Entry& e : entries_) {
    ParamState st;
    st.bufs.resize(buffers_.size());
    std::vector<std::string> absent;
    size_t present = 0, wanted = 0;
    for (size_t i = 0; i < buffers_.size(); ++i) {
      if (buffers_[i].empty()) continue;
      ++wanted;
      std::string key = prefix + buffers_[i] + "." + e.name;
      const Tensor* t = get(key);
      if (!t) {
        absent.push_back(key);
        continue;
      }
      ++present;
      if (t->shape() != e.param.shape()) {
        mis_shaped.push_back(key + " (checkpoint " + shape_str(t->shape()) + ", parameter " +
                             shape_str(e.param.shape()) + ")");
        continue;
      }
      Tensor b = Tensor::empty(e.param.shape(), e.param.dtype(), e.param.device());
      b.copy_(*t);
      st.bufs[i] = b;
    }
    const std::string ps_key = prefix + "param_step." + e.name;
    const Tensor* ps = get(ps_key);
    if (present > 0 && present < wanted) missing.insert(missing.end(), absent.begin(), absent.end());
    if (present < wanted) {
      // No (or partial, when not strict) state: this parameter starts fresh.
      if (present == 0 && ps) unexpected.push_back(ps_key);
      continue;
    }
    // All buffers present (or none needed: SGD without momentum keeps only the counter).
    st.step = ps ? read_step(*ps, ps_key) : steps;
    fresh[e.name] = std::move(st);
  }
  for (const auto& [key, t] : sd)
    if (key.compare(0, prefix.size(), prefix) == 0 && !used.count(key)) unexpected.push_back(key);

  bool fail = !mis_shaped.empty() || (strict && (!missing.empty() || !unexpected.empty()));
  if (fail) {
    std::ostringstream os;
    os << name() << ": load_state_dict (prefix '" << prefix << "') failed:";
    if (!missing.empty()) os << "\n  missing (" << missing.size() << "): " << join(missing);
    if (!unexpected.empty()) os << "\n  unexpected (" << unexpected.size() << "): " << join(unexpected);
    if (!mis_shaped.empty()) os << "\n  mis-shaped (" << mis_shaped.size() << "): " << join(mis_shaped);
    throw Error(os.str());
  }
  steps_ = steps;
  state_ = std::move(fresh);
}

}  // namespace sakuga::optim
