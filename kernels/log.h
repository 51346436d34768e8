#pragma once
// Logging for every layer: one spdlog logger on stderr ("sakuga: warning: ..."), with fmt-style
// formatting. The progress bar and result tables are not logging: they print directly.
//
//   log::info("wrote {} samples to {}", n, dir);
//   log::warn("{}: skipped ({})", path, why);
//
// Warnings can be made fatal (log::set_fatal_warnings(true), or SAKUGA_FATAL_WARNINGS=1): a
// warning then throws sakuga::Error with its text. The test binary turns this on, so a test that
// provokes a warning it did not ask for fails; tests that expect warnings collect them with a
// log::CaptureWarnings scope.
//
// The declarations below use plain strings so CUDA sources can include this header; the
// formatting overloads need fmt and are compiled for host C++ only.
#include <string>
#include <vector>

#include "kernels/common.h"

#if !defined(__CUDACC__)
#include <fmt/format.h>
#endif

namespace sakuga::log {

enum class Level { debug, info, warn, error, off };

// Messages below `level` are dropped (default info; SAKUGA_LOG=debug|info|warn|error|off).
void set_level(Level level);
Level level();
// Parses "debug", "info", "warn", "error", "off"; anything else is an error listing them.
Level parse_level(const std::string& s);

void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

void set_fatal_warnings(bool on);
bool fatal_warnings();

// While alive, warnings are collected here instead of printed or thrown (scopes nest).
class CaptureWarnings {
 public:
  CaptureWarnings();
  ~CaptureWarnings();
  CaptureWarnings(const CaptureWarnings&) = delete;
  CaptureWarnings& operator=(const CaptureWarnings&) = delete;
  const std::vector<std::string>& messages() const { return messages_; }
  // True when a captured warning contains `text`.
  bool contains(const std::string& text) const;

 private:
  friend void warn(const std::string& msg);
  std::vector<std::string> messages_;
  CaptureWarnings* outer_;
};

#if !defined(__CUDACC__)
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::debug) debug(fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::info) info(fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  warn(fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  error(fmt::format(f, std::forward<Args>(args)...));
}
#endif

}  // namespace sakuga::log
