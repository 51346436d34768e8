// The harness's training loop (trainer.h), the declared parts (family.h) and checkpoints.
//
//   for step in [start, end):                      batches prefetched in step order
//     batch → device → family.step(batch, ctx)     ctx.update(opt, loss) per optimiser
//     every log_every: read logged scalars back, NaN/Inf stop, metrics.jsonl
//     every eval_every / at the end: evaluate → metrics, sample sheet, plots, early stop
//     every checkpoint_every / new best / at the end: checkpoint (+ retention)
#include "nets/harness/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "data/png.h"
#include "kernels/cpu_alloc.h"
#include "kernels/device.h"
#include "kernels/log.h"
#include "nets/harness/checkpoint.h"
#include "nets/harness/plot.h"
#include "nets/harness/prefetch.h"
#include "optim/clip.h"
#include "tensor/autograd.h"
#include "tensor/dist.h"
#include "tensor/ops/view.h"
#include "tensor/safetensors.h"

namespace sakuga::harness {

namespace fs = std::filesystem;

// ---- parts ------------------------------------------------------------------------------------

void Parts::check_new_name(const std::string& kind, const std::string& name) const {
  SAKUGA_CHECK(!name.empty() && name.find_first_of(" ./") == std::string::npos, kind, " name '", name,
               "': expected a non-empty name without spaces, dots or slashes");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.name == name; });
  };
  if (kind == "network") SAKUGA_CHECK(!taken(networks_), "network '", name, "' is declared twice");
  if (kind == "optimizer") SAKUGA_CHECK(!taken(optimizers_), "optimizer '", name, "' is declared twice");
  if (kind == "rng") SAKUGA_CHECK(!taken(rngs_), "random stream '", name, "' is declared twice");
  if (kind == "stage") SAKUGA_CHECK(!taken(stages_), "stage '", name, "' is declared twice");
}

void Parts::add_network(const std::string& name, std::shared_ptr<nn::Module> module, const std::string& prefix) {
  check_new_name("network", name);
  SAKUGA_CHECK(module, "network '", name, "': no module");
  for (const auto& n : networks_)
    SAKUGA_CHECK(n.prefix != prefix, "networks '", n.name, "' and '", name, "' share the checkpoint prefix '", prefix,
                 "'");
  networks_.push_back({name, prefix, std::move(module)});
}

const NetworkPart& Parts::network(const std::string& name) const {
  for (const auto& n : networks_)
    if (n.name == name) return n;
  std::string known;
  for (const auto& n : networks_) known += (known.empty() ? "" : ", ") + n.name;
  SAKUGA_FAIL("no network '", name, "' (declared: ", known, ")");
}

optim::Optimizer& Parts::optimizer(const std::string& name, const OptimSpec& spec,
                                   const std::vector<std::string>& networks, std::optional<std::string> prefix,
                                   const std::string& where) {
  optim::NamedParams params;
  for (const auto& n : networks)
    for (auto& p : network(n).module->named_parameters()) params.push_back(p);
  return optimizer(name, spec, std::vector<optim::ParamGroup>{{params}}, networks, std::move(prefix), where);
}

optim::Optimizer& Parts::optimizer(const std::string& name, const OptimSpec& spec,
                                   std::vector<optim::ParamGroup> groups, const std::vector<std::string>& networks,
                                   std::optional<std::string> prefix, const std::string& where) {
  check_new_name("optimizer", name);
  for (const auto& n : networks) network(n);  // each must exist
  OptimizerPart o;
  o.name = name;
  o.prefix = prefix ? *prefix : "optim." + name + ".";
  for (const auto& other : optimizers_)
    SAKUGA_CHECK(other.prefix != o.prefix, "optimizers '", other.name, "' and '", name,
                 "' share the checkpoint prefix '", o.prefix, "'");
  o.networks = networks;
  o.optimizer = make_optimizer(spec, std::move(groups), where.empty() ? "optim." + name : where);
  o.spec = spec;
  o.where = where.empty() ? "optim." + name : where;
  o.clip_grad_norm = spec.clip_grad_norm;
  optimizers_.push_back(std::move(o));
  return *optimizers_.back().optimizer;
}

OptimizerPart& Parts::optimizer(const std::string& name) {
  for (auto& o : optimizers_)
    if (o.name == name) return o;
  std::string known;
  for (const auto& o : optimizers_) known += (known.empty() ? "" : ", ") + o.name;
  SAKUGA_FAIL("no optimizer '", name, "' (declared: ", known, ")");
}

const OptimizerPart& Parts::optimizer(const std::string& name) const {
  return const_cast<Parts*>(this)->optimizer(name);
}

void Parts::rng(const std::string& name, Generator& gen) {
  check_new_name("rng", name);
  rngs_.push_back({name, &gen});
}

void Parts::stage(const std::string& name, int64_t steps, const std::vector<std::string>& optimizers) {
  check_new_name("stage", name);
  SAKUGA_CHECK(steps >= 1, "stage '", name, "': expected at least one step, got ", steps);
  for (const auto& o : optimizers) optimizer(o);  // each must exist
  Stage s;
  s.name = name;
  s.steps = steps;
  s.optimizers = optimizers;
  s.first_step = total_steps();
  stages_.push_back(s);
}

int64_t Parts::total_steps() const {
  int64_t n = 0;
  for (const auto& s : stages_) n += s.steps;
  return n;
}

size_t Parts::stage_index(int64_t step) const {
  SAKUGA_CHECK(!stages_.empty(), "the family declares no stage");
  for (size_t i = 0; i < stages_.size(); ++i)
    if (step < stages_[i].first_step + stages_[i].steps) return i;
  return stages_.size() - 1;
}

namespace {

// Schedules from the specs, over the steps of the stages in which each optimiser is active.
void finalize(Parts& parts) {
  SAKUGA_CHECK(!parts.stages().empty() && parts.total_steps() >= 1, "the family declares no stage to train");
  for (auto& o : parts.optimizers()) {
    int64_t active = 0;
    for (const auto& s : parts.stages())
      if (std::count(s.optimizers.begin(), s.optimizers.end(), o.name)) active += s.steps;
    if (o.spec) o.schedule = make_schedule(*o.spec, active, o.where);
  }
}

}  // namespace

// ---- data-parallel pieces of the family and evaluation ------------------------------------------

Batch Family::make_batch_slice(int64_t step, int64_t begin, int64_t end) const {
  Batch whole = make_batch(step);
  const int64_t n = stage_batch_size(parts().stages()[parts().stage_index(step)]);
  if (begin == 0 && end == n) return whole;
  Batch out;
  for (const auto& [k, t] : whole) {
    if (!t.defined()) {
      out[k] = t;
      continue;
    }
    SAKUGA_CHECK(t.dim() >= 1 && t.size(0) == n, "data-parallel: batch tensor '", k, "' has shape ",
                 shape_str(t.shape()), "; expected the batch (", n,
                 ") as its first dimension, to split it between the ranks");
    out[k] = ops::slice(t, 0, begin, end).contiguous();
  }
  return out;
}

void EvalContext::reduce_sum(std::vector<double>& values) const {
  if (comm && comm->world() > 1) dist::all_reduce_sum(*comm, values);
}

// ---- step context -----------------------------------------------------------------------------

double StepContext::progress() const { return total_ > 0 ? double(step_) / double(total_) : 0.0; }
double StepContext::stage_progress() const { return double(stage_step()) / double(stage_->steps); }

bool StepContext::active(const std::string& optimizer) const {
  return std::count(stage_->optimizers.begin(), stage_->optimizers.end(), optimizer) > 0;
}

void StepContext::zero_grad(const std::string& optimizer) { parts_->optimizer(optimizer).optimizer->zero_grad(); }

void StepContext::update(const std::string& optimizer, const Tensor& loss) {
  zero_grad(optimizer);
  if (comm_ && buckets_) {  // data-parallel: the gradients are summed while the backward runs
    auto& b = (*buckets_)[optimizer];
    if (!b) {
      std::vector<Tensor> params;
      for (const auto& [name, p] : parts_->optimizer(optimizer).optimizer->params()) params.push_back(p);
      b = std::make_unique<dist::GradBuckets>(*comm_, std::move(params));
    }
    b->run([&] { loss.backward(); });
    reduced_.push_back(optimizer);
  } else {
    loss.backward();
  }
  step_optimizer(optimizer);
}

void StepContext::step_optimizer(const std::string& name) {
  SAKUGA_CHECK(active(name), "optimizer '", name, "' is not active in stage '", stage_->name, "' (active: ",
               fmt::format("{}", fmt::join(stage_->optimizers, ", ")), ")");
  OptimizerPart& o = parts_->optimizer(name);
  optim::Optimizer& opt = *o.optimizer;
  const bool reduced = std::count(reduced_.begin(), reduced_.end(), name) > 0;
  reduced_.erase(std::remove(reduced_.begin(), reduced_.end(), name), reduced_.end());
  if (comm_ && !reduced) {  // data-parallel: every rank steps with the gradient of the global batch
    std::vector<Tensor> grads;
    for (const auto& [pname, p] : opt.params())
      if (p.grad().defined()) grads.push_back(p.grad());
    dist::all_reduce_mean(*comm_, grads);
  }
  if (o.clip_grad_norm > 0) optim::clip_grad_norm(opt.params(), o.clip_grad_norm);
  if (dumping_)
    for (const auto& net : o.networks) {
      const NetworkPart& n = parts_->network(net);
      for (const auto& [pname, p] : n.module->named_parameters())
        if (p.grad().defined()) dumped_["grad." + n.prefix + pname] = p.grad();
    }
  // One group: the schedule's value itself; several: each group's own lr scaled alike.
  const int64_t t = opt.steps();
  if (opt.num_groups() == 1)
    opt.set_lr(o.schedule(t));
  else
    opt.set_lr_factor(o.schedule.factor(t));
  opt.step();
}

void StepContext::log(const std::string& name, const Tensor& scalar) {
  SAKUGA_CHECK(scalar.defined() && scalar.numel() == 1, "log '", name, "': expected a scalar tensor");
  logged_[name] = scalar.detach();
}

void StepContext::dump(const std::string& name, const Tensor& t) {
  if (dumping_) dumped_[name] = t.detach();
}

// ---- settings -----------------------------------------------------------------------------------

Json with_harness_defaults(Json family) {
  SAKUGA_CHECK(family.is_object(), "family defaults: expected a JSON object");
  const Json harness{{"train", Json(TrainSettings{})}, {"data", Json(DataSettings{})}};
  for (const auto& [section, keys] : harness.items()) {
    Json& dst = family[section];
    if (dst.is_null()) dst = Json::object();
    for (const auto& [k, v] : keys.items())
      if (!dst.contains(k)) dst[k] = v;
  }
  return family;
}

std::string dump_path(const std::string& file, const Family& family, size_t stage_index) {
  if (stage_index == 0) return file;
  const std::string tag = "." + family.parts().stages().at(stage_index).name;
  const std::string ext = ".safetensors";
  if (file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0)
    return file.substr(0, file.size() - ext.size()) + tag + ext;
  return file + tag;
}

// ---- the loop -----------------------------------------------------------------------------------

namespace {

bool improves(double value, double best, const std::string& mode) {
  return mode == "max" ? value > best : value < best;
}

// Runs f with every network's training flag restored afterwards (also on an exception).
template <class F>
auto keeping_modes(Parts& parts, F&& f) {
  struct Restore {
    std::vector<std::pair<nn::Module*, bool>> modes;
    ~Restore() {
      for (auto& [m, on] : modes) m->train(on);
    }
  } restore;
  for (const auto& n : parts.networks()) restore.modes.emplace_back(n.module.get(), n.module->is_training());
  NoGradGuard ng;
  return f();
}

// On a GPU run the prefetch workers pin each batch (page-locked host memory), so the upload
// below runs on the device's copy stream and overlaps compute instead of stalling the host.
Batch pinned(Batch b, Device dev) {
  if (dev.is_cuda())
    for (auto& [k, t] : b)
      if (t.defined() && !t.is_cuda() && !is_host_key(k)) t = t.pin_memory();
  return b;
}

}  // namespace

Batch batch_to_device(const Batch& b, Device dev) {
  Batch out;
  for (const auto& [k, t] : b) out[k] = t.defined() && !is_host_key(k) ? t.to(dev, /*non_blocking=*/true) : t;
  return out;
}

class Trainer {
 public:
  Trainer(Family& family, const RunOptions& opt)
      : family_(family), parts_(family.parts()), opt_(opt), run_(opt.out, dist::world().rank() == 0),
        train_(family.config().get<TrainSettings>("train")), data_(family.config().get<DataSettings>("data")) {
    SAKUGA_CHECK(train_.monitor_mode == "min" || train_.monitor_mode == "max",
                 "config train.monitor_mode: expected min or max, got '", train_.monitor_mode, "'");
    SAKUGA_CHECK(train_.keep_checkpoints >= 0, "config train.keep_checkpoints: expected >= 0 (0 = keep all)");
    finalize(parts_);
    total_ = parts_.total_steps();
    setup_ranks();
    best_ = train_.monitor_mode == "max" ? -INFINITY : INFINITY;
    if (opt.resume) resume();
  }

  RunSummary run();

 private:
  void setup_ranks();
  EvalContext eval_context(int64_t step, const Stage& stage) const {
    EvalContext c{step, &stage, family_.device()};
    c.rank = rank_;
    c.world = world_;
    c.comm = world_ > 1 ? host_ : nullptr;
    return c;
  }
  Batch rank_batch(int64_t step) const;
  void share_buffers();
  struct Pending {
    int64_t step;
    std::map<std::string, Tensor> scalars;
  };

  void resume();
  Json harness_state() const;
  void flush(int64_t step);
  void checkpoint(int64_t step, bool is_best);
  void retain();
  bool evaluate(int64_t step);  // true: stop early
  void write_dump(const std::string& path, const Batch& batch, StepContext& ctx);
  std::string last_good() const {
    return fs::exists(run_.last_checkpoint()) ? run_.last_checkpoint() : "none (no checkpoint was written yet)";
  }

  Family& family_;
  Parts& parts_;
  RunOptions opt_;
  RunDir run_;
  TrainSettings train_;
  DataSettings data_;
  int64_t total_ = 0, step_ = 0;
  // early stop / best checkpoint
  double best_ = INFINITY;
  int64_t bad_evals_ = 0, best_step_ = -1;
  std::vector<Pending> pending_;
  std::map<std::string, double> shown_;
  std::unique_ptr<MetricsLog> metrics_;  // rank 0 only
  RunSummary summary_;
  // data-parallel
  dist::Communicator* comm_ = nullptr;  // gradients, BatchNorm (NCCL on GPUs)
  dist::Communicator* host_ = nullptr;  // logged scalars, evaluation counts
  int rank_ = 0, world_ = 1;
  bool distributed_ = false;  // collectives run (several ranks, or a forced NCCL world of one)
  bool lead_ = true;          // rank 0: writes the run folder and prints
  bool quiet_ = false;
  std::map<std::string, std::unique_ptr<dist::GradBuckets>> buckets_;  // per optimiser
};

// The ranks of the job (a world of one outside mpirun): their communicators and the check that
// every stage's global batch splits evenly.
void Trainer::setup_ranks() {
  host_ = &dist::world();
  comm_ = &dist::for_device(family_.device(), train_.dist_backend);
  rank_ = comm_->rank();
  world_ = comm_->world();
  distributed_ = world_ > 1 || comm_->backend() == "nccl";
  lead_ = rank_ == 0;
  quiet_ = opt_.quiet || !lead_;
  if (world_ == 1) return;
  // Every rank must train the same thing (an MPMD launch or a stale config would not).
  const std::string cfg = family_.config().dump();
  std::vector<double> mine{double(std::hash<std::string>{}(cfg) >> 12)}, lead = mine;  // 52 bits: exact in a double
  host_->broadcast(lead.data(), sizeof(double), 0, dist::kHost);
  SAKUGA_CHECK(mine == lead, "data-parallel: rank ", rank_, "'s resolved config differs from rank 0's; every rank "
               "must be launched with the same command line and config files");
  for (const Stage& s : parts_.stages()) {
    const int64_t b = family_.stage_batch_size(s);
    SAKUGA_CHECK(b % world_ == 0, "data-parallel over ", world_, " ranks: stage '", s.name, "' has a global batch of ",
                 b, " (data.batch), which does not split evenly; use a multiple of ", world_);
  }
  family_.check_data_parallel(world_);
}

// This rank's slice of the step's global batch.
Batch Trainer::rank_batch(int64_t step) const {
  if (world_ == 1) return family_.make_batch(step);
  const int64_t per = family_.stage_batch_size(parts_.stages()[parts_.stage_index(step)]) / world_;
  return family_.make_batch_slice(step, rank_ * per, (rank_ + 1) * per);
}

// Without train.sync_bn each rank's BatchNorm running statistics follow its own slice; rank 0's
// are given to all after every step (as DDP does), so the ranks evaluate and checkpoint alike.
void Trainer::share_buffers() {
  std::vector<Tensor> bufs;
  for (const auto& n : parts_.networks())
    for (const auto& [k, b] : n.module->named_buffers())
      if (b.defined() && dtype_is_float(b.dtype()) && b.is_contiguous()) bufs.push_back(b);
  dist::broadcast(*comm_, bufs, 0);
}

// The random streams draw this rank's slice of the batch during a step (tensor/random.h), and
// BatchNorm syncs over the ranks with train.sync_bn; both are undone afterwards (evaluation and
// sampling draw as one process).
struct RankScope {
  const Parts& parts;
  RankScope(const Parts& p, int rank, int world, dist::Communicator* sync_bn) : parts(p) {
    for (const auto& r : parts.rngs()) {
      r.generator->shard = uint64_t(rank);
      r.generator->shards = uint64_t(world);
    }
    dist::set_sync_batch_norm(sync_bn);
  }
  ~RankScope() {
    for (const auto& r : parts.rngs()) {
      r.generator->shard = 0;
      r.generator->shards = 1;
    }
    dist::set_sync_batch_norm(nullptr);
  }
};

void Trainer::resume() {
  const std::string path = run_.last_checkpoint();
  SAKUGA_CHECK(fs::exists(path), "--resume: no checkpoint at ", path);
  LoadedState st = load_checkpoint(family_, path, opt_.family);
  step_ = st.step;
  SAKUGA_CHECK(step_ >= 0 && step_ <= total_, path, ": checkpoint step ", step_, " is outside the run's ", total_,
               " steps");
  if (st.best) best_ = *st.best;
  bad_evals_ = st.bad_evals;
  best_step_ = st.best_step;
}

Json Trainer::harness_state() const {
  Json rng = Json::object();
  for (const auto& r : parts_.rngs()) rng[r.name] = {{"seed", r.generator->seed}, {"offset", r.generator->offset}};
  Json j{{"version", 1},
         {"step", step_},
         {"stage", parts_.stages()[parts_.stage_index(step_)].name},
         {"rng", rng},
         {"early_stop", {{"best", std::isfinite(best_) ? Json(best_) : Json(nullptr)},
                         {"bad_evals", bad_evals_},
                         {"best_step", best_step_}}}};
  Json fam = family_.state();
  if (!fam.is_null()) j["family"] = fam;
  return j;
}

void Trainer::flush(int64_t step) {
  if (pending_.empty()) return;
  // Bad labels / indices that CUDA kernels only flag on the device surface here, naming the op.
  if (family_.device().is_cuda()) device::raise_deferred_errors(family_.device().index);
  // The global batch's values: each rank's, averaged over the ranks (one exchange per flush).
  std::vector<double> values;
  for (const Pending& p : pending_)
    for (const auto& [name, t] : p.scalars) values.push_back(t.item());
  if (world_ > 1) {
    dist::all_reduce_sum(*host_, values);
    for (double& v : values) v /= double(world_);
  }
  size_t vi = 0;
  std::map<std::string, std::pair<double, int>> sums;
  for (const Pending& p : pending_)
    for (const auto& [name, t] : p.scalars) {
      const double v = values[vi++];
      SAKUGA_CHECK(std::isfinite(v), "training scalar '", name, "' became ", v, " at step ", p.step + 1,
                   "; stopping. The last good checkpoint is ", last_good());
      summary_.scalars[name].push_back(v);
      sums[name].first += v;
      sums[name].second += 1;
    }
  Json rec{{"step", step}};
  if (parts_.stages().size() > 1) rec["stage"] = parts_.stages()[parts_.stage_index(step - 1)].name;
  for (const auto& [name, s] : sums) rec[name] = shown_[name] = s.first / s.second;
  // "lr" is the first optimiser's; the others are "lr_<name>".
  for (size_t i = 0; i < parts_.optimizers().size(); ++i) {
    const auto& o = parts_.optimizers()[i];
    rec[i == 0 ? std::string("lr") : "lr_" + o.name] = o.optimizer->lr();
  }
  if (metrics_) metrics_->write(rec);
  pending_.clear();
}

void Trainer::checkpoint(int64_t step, bool is_best) {
  flush(step);  // never checkpoint past an unchecked loss
  if (!lead_) return;  // every rank holds the same state; rank 0 writes it
  const std::string path = run_.checkpoint_for(step);
  save_checkpoint(family_, path, step, harness_state(), opt_.family);
  link_or_copy(path, run_.last_checkpoint());
  if (is_best) link_or_copy(path, run_.best_checkpoint());
  retain();
}

// Keeps the newest train.keep_checkpoints step files and the best one.
void Trainer::retain() {
  if (train_.keep_checkpoints <= 0) return;
  std::vector<std::pair<int64_t, fs::path>> files;
  for (const auto& e : fs::directory_iterator(run_.checkpoints())) {
    const std::string n = e.path().filename().string();
    int64_t s = 0;
    if (std::sscanf(n.c_str(), "step-%ld.safetensors", &s) == 1 && n == step_stem(s) + ".safetensors")
      files.emplace_back(s, e.path());
  }
  std::sort(files.begin(), files.end());
  const size_t keep = size_t(train_.keep_checkpoints);
  for (size_t i = 0; i + keep < files.size(); ++i) {
    if (files[i].first == best_step_) continue;
    std::error_code ec;
    fs::remove(files[i].second, ec);
    if (ec) log::warn("{}: cannot remove an old checkpoint ({})", files[i].second.string(), ec.message());
  }
}

bool Trainer::evaluate(int64_t step) {
  EvalContext ctx = eval_context(step, parts_.stages()[parts_.stage_index(step - 1)]);
  EvalReport r = keeping_modes(parts_, [&] { return family_.evaluate(ctx); });
  if (r.sheet.defined() && lead_) data::write_png_tensor(run_.sample_for(step), r.sheet);
  if (r.metrics.empty()) return false;
  summary_.last_eval = r.metrics;
  Json rec{{"step", step}};
  for (const auto& [k, v] : r.metrics) rec[k] = shown_[k] = v;
  if (metrics_) metrics_->write(rec);
  bool stop = false, best = false;
  if (auto it = r.metrics.find(train_.monitor); it != r.metrics.end()) {
    if (improves(it->second, best_, train_.monitor_mode)) {
      best_ = it->second;
      bad_evals_ = 0;
      best_step_ = step;
      best = true;
    } else if (++bad_evals_ >= train_.early_stop && train_.early_stop > 0) {
      stop = true;
    }
  }
  try {
    if (lead_) write_plots(run_.metrics(), run_.plots());
  } catch (const Error& e) {
    log::warn("plots: {}", e.what());
  }
  if (best) checkpoint(step, true);
  return stop;
}

void Trainer::write_dump(const std::string& path, const Batch& batch, StepContext& ctx) {
  std::map<std::string, Tensor> all;
  for (const auto& [k, v] : batch)
    if (v.defined()) all["batch." + k] = v.detach().to(dtype_is_float(v.dtype()) ? DType::f32 : v.dtype());
  for (const auto& [k, v] : ctx.dumped_) all[k] = v.to(dtype_is_float(v.dtype()) ? DType::f32 : v.dtype());
  io::save_safetensors(path, all);
}

RunSummary Trainer::run() {
  if (lead_) {
    write_file_atomic(run_.config(), family_.config().dump() + "\n");
    metrics_ = std::make_unique<MetricsLog>(run_.metrics(), opt_.resume ? step_ : -1);
  }
  if (!quiet_) {
    std::string line = family_.describe();
    if (line.empty()) line = opt_.family;
    if (parts_.stages().size() > 1) {
      std::vector<std::string> st;
      for (const auto& s : parts_.stages()) st.push_back(fmt::format("{} {}", s.name, s.steps));
      line += fmt::format("; stages {}", fmt::join(st, ", "));
    }
    if (opt_.resume) line += fmt::format(" (resuming at step {})", step_);
    if (world_ > 1)
      line += fmt::format("; data-parallel over {} ranks ({}{})", world_, comm_->backend(),
                          train_.sync_bn ? ", synchronised BatchNorm" : "");
    log::info("{}", line);
  }
  summary_.first_step = step_;
  const int64_t end = opt_.stop_after >= 0 ? std::min(total_, opt_.stop_after) : total_;
  const int64_t log_every = std::max<int64_t>(1, train_.log_every);
  int workers = data_.workers;
  if (workers <= 0)
    workers = int(std::clamp<unsigned>(std::thread::hardware_concurrency() / unsigned(dist::launch_from_env().local_world),
                                       1, 8));
  const Device dev = family_.device();
  OrderedPrefetch<Batch> batches([this, dev](int64_t s) { return pinned(rank_batch(s), dev); }, step_, end, workers,
                                 std::max(1, data_.prefetch));
  Progress progress(opt_.family, step_, total_);
  for (auto& n : parts_.networks()) n.module->train();

  while (step_ < end) {
    const size_t si = parts_.stage_index(step_);
    const Stage& stage = parts_.stages()[si];
    StepContext ctx;
    ctx.step_ = step_;
    ctx.total_ = total_;
    ctx.stage_ = &stage;
    ctx.device_ = dev;
    ctx.parts_ = &parts_;
    ctx.comm_ = distributed_ ? comm_ : nullptr;
    ctx.buckets_ = &buckets_;
    if (step_ == stage.first_step) family_.begin_stage(stage);
    ctx.dumping_ = lead_ && !opt_.dump_first_step.empty() && step_ == stage.first_step;
    const std::string dump_file = ctx.dumping_ ? dump_path(opt_.dump_first_step, family_, si) : "";
    if (ctx.dumping_) {
      std::map<std::string, Tensor> weights;
      for (const auto& n : parts_.networks())
        for (const auto& [k, v] : n.module->state_dict()) weights[n.prefix + k] = v;
      io::save_safetensors(dump_file + ".weights.safetensors", weights);
    }
    Batch batch = batch_to_device(batches.next(), dev);
    {
      RankScope scope(parts_, rank_, world_, train_.sync_bn && world_ > 1 ? comm_ : nullptr);
      family_.step(batch, ctx);
    }
    if (distributed_ && !train_.sync_bn) share_buffers();
    if (ctx.dumping_) write_dump(dump_file, batch, ctx);
    pending_.push_back({step_, std::move(ctx.logged_)});
    ++step_;
    const bool last = step_ == end;
    if (parts_.stages().size() > 1 && !quiet_)
      progress.set_label(fmt::format("{} [{}]", opt_.family, parts_.stages()[parts_.stage_index(step_ - 1)].name));
    if (step_ % log_every == 0 || last) flush(step_);
    bool stop_early = false;
    if ((train_.eval_every > 0 && step_ % train_.eval_every == 0) || step_ == total_) stop_early = evaluate(step_);
    if (train_.sample_every > 0 && step_ % train_.sample_every == 0) {
      EvalContext ectx = eval_context(step_, stage);
      Tensor sheet = keeping_modes(parts_, [&] { return family_.samples(ectx); });
      if (sheet.defined() && lead_) data::write_png_tensor(run_.sample_for(step_), sheet);
    }
    const bool already = best_step_ == step_;  // evaluate() wrote this step's checkpoint
    if (!already && ((train_.checkpoint_every > 0 && step_ % train_.checkpoint_every == 0) || last || stop_early))
      checkpoint(step_, false);
    if (!quiet_) progress.update(step_, shown_);
    if (stop_early) {
      summary_.early_stopped = true;
      if (!quiet_) {
        progress.finish();
        log::info("early stop: {} has not improved for {} evaluations (best {:.4g} at step {})", train_.monitor,
                  bad_evals_, best_, best_step_);
      }
      break;
    }
  }
  if (!quiet_) {
    progress.finish();
    const std::string line = family_.summary(summary_.last_eval);
    if (!line.empty()) log::info("{}; run folder {}", line, opt_.out);
  }
  summary_.last_step = step_;
  return summary_;
}

RunSummary train(Family& family, const RunOptions& opt) {
  Trainer t(family, opt);
  return t.run();
}

// ---- speed ---------------------------------------------------------------------------------------

class BenchRunner {
 public:
  static std::vector<StageTiming> run(Family& family, int64_t steps, int64_t warmup) {
    SAKUGA_CHECK(steps >= 1 && warmup >= 0, "bench train: --steps must be >= 1 and --warmup >= 0");
    Parts& parts = family.parts();
    finalize(parts);
    const Device dev = family.device();
    for (auto& n : parts.networks()) n.module->train();
    std::vector<StageTiming> out;
    for (const Stage& stage : parts.stages()) {
      family.begin_stage(stage);
      const Batch batch = batch_to_device(family.make_batch(stage.first_step), dev);
      StepContext ctx;
      ctx.total_ = parts.total_steps();
      ctx.stage_ = &stage;
      ctx.device_ = dev;
      ctx.parts_ = &parts;
      auto one = [&] {
        ctx.step_ = stage.first_step;
        ctx.logged_.clear();
        family.step(batch, ctx);
      };
      for (int64_t i = 0; i < warmup; ++i) one();
      if (dev.is_cuda()) {
        device::synchronize(dev.index);
        device::reset_peak(dev.index);
      } else {
        device::cpu_reset_peak();
      }
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < steps; ++i) one();
      for (const auto& [name, t] : ctx.logged_) {  // reading a result back synchronises
        const double v = t.item();
        SAKUGA_CHECK(std::isfinite(v), "bench train: '", name, "' became ", v, " in stage '", stage.name, "'");
      }
      if (dev.is_cuda()) device::synchronize(dev.index);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      StageTiming r;
      r.stage = stage.name;
      r.ms_per_step = s * 1e3 / double(steps);
      r.batches_per_s = double(steps) / s;
      r.batch = family.stage_batch_size(stage);
      // Tensor memory at its peak during the timed steps (the device's, or the CPU allocator's).
      r.peak_bytes = int64_t(dev.is_cuda() ? device::mem_stats(dev.index).peak_bytes : device::cpu_mem_stats().peak_bytes);
      out.push_back(r);
    }
    return out;
  }
};

std::vector<StageTiming> bench(Family& family, int64_t steps, int64_t warmup) {
  return BenchRunner::run(family, steps, warmup);
}

}  // namespace sakuga::harness
