#include "nets/runner.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "kernels/common.h"

namespace sakuga {

namespace fs = std::filesystem;

RunDir::RunDir(std::string dir) : root(std::move(dir)) {
  SAKUGA_CHECK(!root.empty(), "--out: a run folder is required");
  std::error_code ec;
  fs::create_directories(checkpoints(), ec);
  SAKUGA_CHECK(!ec, root, ": cannot create run folder (", ec.message(), ")");
  fs::create_directories(samples(), ec);
  SAKUGA_CHECK(!ec, samples(), ": cannot create (", ec.message(), ")");
}

std::string RunDir::checkpoint_for(int64_t step) const {
  char name[64];
  std::snprintf(name, sizeof name, "/step-%07lld.safetensors", static_cast<long long>(step));
  return checkpoints() + name;
}

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    SAKUGA_CHECK(f, tmp, ": cannot open for writing");
    f << text;
    f.flush();
    SAKUGA_CHECK(f, tmp, ": write failed");
  }
  SAKUGA_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp, " to ", path);
}

MetricsLog::MetricsLog(const std::string& path, int64_t resume_step) : path_(path) {
  if (resume_step < 0) {
    write_file_atomic(path_, "");
    return;
  }
  // Keep the history up to the resumed step.
  std::ifstream in(path_);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      Json j = Json::parse(line);
      if (j.contains("step") && j["step"].get<int64_t>() > resume_step) continue;
    } catch (const std::exception&) {
      continue;  // a torn last line from an interrupted run
    }
    kept += line + "\n";
  }
  write_file_atomic(path_, kept);
}

void MetricsLog::write(const Json& record) {
  std::ofstream f(path_, std::ios::app);
  SAKUGA_CHECK(f, path_, ": cannot append");
  f << record.dump() << "\n";
}

Progress::Progress(std::string label, int64_t first_step, int64_t total_steps)
    : label_(std::move(label)), first_(first_step), total_(total_steps), tty_(isatty(2)) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

static std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  int t = int(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}

void Progress::update(int64_t step, const std::map<std::string, double>& values) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  int64_t done = step - first_;
  double rate = elapsed > 0 ? double(done) / elapsed : 0;
  double eta = rate > 0 ? double(total_ - step) / rate : NAN;
  std::ostringstream vals;
  vals.precision(4);
  for (const auto& [k, v] : values) vals << " " << k << " " << v;
  char head[160];
  std::snprintf(head, sizeof head, "%s %lld/%lld", label_.c_str(), static_cast<long long>(step),
                static_cast<long long>(total_));
  double frac = total_ > 0 ? double(step) / double(total_) : 1.0;
  if (tty_) {
    if (std::chrono::duration<double>(now - last_print_).count() < 0.1 && step < total_) return;
    const int width = 24;
    int fill = int(frac * width + 0.5);
    std::string bar = std::string(size_t(fill), '#') + std::string(size_t(width - fill), '.');
    std::fprintf(stderr, "\r%s [%s] %.2f step/s ETA %s%s\033[K", head, bar.c_str(), rate, format_duration(eta).c_str(),
                 vals.str().c_str());
  } else {
    int64_t every = std::max<int64_t>(1, total_ / 20);
    bool due = step - last_line_step_ >= every || std::chrono::duration<double>(now - last_print_).count() > 15 ||
               step == total_;
    if (!due) return;
    last_line_step_ = step;
    std::fprintf(stderr, "%s (%3.0f%%) %.2f step/s ETA %s%s\n", head, frac * 100, rate, format_duration(eta).c_str(),
                 vals.str().c_str());
  }
  last_print_ = now;
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace sakuga

namespace sakuga {

std::string save_checkpoint(const RunDir& run, int64_t step, const CheckpointParts& parts) {
  std::map<std::string, Tensor> all = parts.model->state_dict();
  for (const auto& [opt, prefix] : parts.optimizers)
    for (auto& [k, v] : opt->state_dict(prefix)) all[k] = v;
  for (const auto& [m, prefix] : parts.extra_modules)
    for (auto& [k, v] : m->state_dict()) all[prefix + k] = v;
  auto meta = parts.metadata;
  meta["step"] = std::to_string(step);
  const std::string path = run.checkpoint_for(step);
  io::save_safetensors(path, all, meta);
  io::save_safetensors(run.last_checkpoint(), all, meta);
  return path;
}

void dump_first_step(const std::string& path, const nn::Module& model, const std::map<std::string, Tensor>& tensors) {
  std::map<std::string, Tensor> all;
  for (const auto& [k, v] : tensors) all[k] = v.detach().to(DType::f32);
  for (const auto& [name, p] : model.named_parameters())
    if (p.grad().defined()) all["grad." + name] = p.grad().to(DType::f32);
  io::save_safetensors(path, all);
}

}  // namespace sakuga
