#include "nets/harness/run_files.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "kernels/common.h"

namespace sakuga::harness {

namespace fs = std::filesystem;

RunDir::RunDir(std::string dir, bool create) : root(std::move(dir)) {
  SAKUGA_CHECK(!root.empty(), "--out: a run folder is required");
  if (!create) return;
  for (const std::string& d : {checkpoints(), samples(), plots()}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    SAKUGA_CHECK(!ec, d, ": cannot create the run folder (", ec.message(), ")");
  }
}

std::string step_stem(int64_t step) { return fmt::format("step-{:07d}", step); }

std::string RunDir::checkpoint_for(int64_t step) const {
  return checkpoints() + "/" + step_stem(step) + ".safetensors";
}

std::string RunDir::sample_for(int64_t step) const { return samples() + "/" + step_stem(step) + ".png"; }

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

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const int t = int(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60);
  return fmt::format("{}m{:02d}s", t / 60, t % 60);
}

Progress::Progress(std::string label, int64_t first, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), first_(first), total_(total), tty_(isatty(2)) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t done, const std::map<std::string, double>& values) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? double(done - first_) / elapsed : 0;
  const double eta = rate > 0 ? double(total_ - done) / rate : NAN;
  std::string vals;
  for (const auto& [k, v] : values) vals += fmt::format(" {} {:.4g}", k, v);
  const double frac = total_ > 0 ? double(done) / double(total_) : 1.0;
  const std::string head = fmt::format("{} {}/{}", label_, done, total_);
  if (tty_) {
    if (std::chrono::duration<double>(now - last_print_).count() < 0.1 && done < total_) return;
    const int width = 24, fill = int(frac * width + 0.5);
    fmt::print(stderr, "\r{} [{}{}] {:.2f} {}/s ETA {}{}\033[K", head, std::string(size_t(fill), '#'),
               std::string(size_t(width - fill), '.'), rate, unit_, format_duration(eta), vals);
    drew_ = true;
  } else {
    const int64_t every = std::max<int64_t>(1, total_ / 20);
    const bool due = done - last_line_ >= every || done == total_ ||
                     std::chrono::duration<double>(now - last_print_).count() > 15;
    if (!due) return;
    last_line_ = done;
    fmt::print(stderr, "{} ({:3.0f}%) {:.2f} {}/s ETA {}{}\n", head, frac * 100, rate, unit_, format_duration(eta),
               vals);
  }
  last_print_ = now;
}

void Progress::finish() {
  if (tty_ && drew_) fmt::print(stderr, "\n");
  drew_ = false;
}

}  // namespace sakuga::harness
