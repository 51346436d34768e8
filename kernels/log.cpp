#include "kernels/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

namespace sakuga::log {

namespace {

// Two loggers on stderr: info lines read "sakuga: text", the others carry their level
// ("sakuga: warning: text"). Each has its own sink (a pattern belongs to the sink); the console
// sinks share one mutex, so lines never interleave.
spdlog::logger& logger(bool with_level) {
  auto make = [](const char* name, const char* pattern) {
    auto l = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern(pattern);
    l->set_level(spdlog::level::debug);
    return l;
  };
  static std::shared_ptr<spdlog::logger> plain = make("sakuga", "sakuga: %v");
  static std::shared_ptr<spdlog::logger> levelled = make("sakuga-levelled", "sakuga: %l: %v");
  return with_level ? *levelled : *plain;
}

Level initial_level() {
  const char* e = std::getenv("SAKUGA_LOG");
  if (!e || !*e) return Level::info;
  try {
    return parse_level(e);
  } catch (const Error&) {
    return Level::info;
  }
}

std::atomic<Level>& current_level() {
  static std::atomic<Level> l{initial_level()};
  return l;
}

std::atomic<bool>& fatal_flag() {
  static std::atomic<bool> on{[] {
    const char* e = std::getenv("SAKUGA_FATAL_WARNINGS");
    return e != nullptr && std::string(e) == "1";
  }()};
  return on;
}

std::mutex capture_mutex;
CaptureWarnings* innermost_capture = nullptr;

void emit(spdlog::level::level_enum lvl, const std::string& msg) {
  logger(lvl != spdlog::level::info).log(lvl, msg);
}

}  // namespace

Level parse_level(const std::string& s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  if (s == "off") return Level::off;
  SAKUGA_FAIL("log level: expected debug, info, warn, error or off, got '", s, "'");
}

void set_level(Level l) { current_level() = l; }
Level level() { return current_level(); }

void debug(const std::string& msg) {
  if (level() <= Level::debug) emit(spdlog::level::debug, msg);
}
void info(const std::string& msg) {
  if (level() <= Level::info) emit(spdlog::level::info, msg);
}
void error(const std::string& msg) {
  if (level() <= Level::error) emit(spdlog::level::err, msg);
}

void warn(const std::string& msg) {
  {
    std::lock_guard<std::mutex> l(capture_mutex);
    if (innermost_capture) {
      innermost_capture->messages_.push_back(msg);
      return;
    }
  }
  if (fatal_warnings()) throw Error("warning treated as an error: " + msg);
  if (level() <= Level::warn) emit(spdlog::level::warn, msg);
}

void set_fatal_warnings(bool on) { fatal_flag() = on; }
bool fatal_warnings() { return fatal_flag(); }

CaptureWarnings::CaptureWarnings() {
  std::lock_guard<std::mutex> l(capture_mutex);
  outer_ = innermost_capture;
  innermost_capture = this;
}

CaptureWarnings::~CaptureWarnings() {
  std::lock_guard<std::mutex> l(capture_mutex);
  innermost_capture = outer_;
}

bool CaptureWarnings::contains(const std::string& text) const {
  for (const auto& m : messages_)
    if (m.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace sakuga::log
