#include "nets/harness/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <vector>

#include "data/canvas.h"
#include "data/png.h"
#include "nets/harness/config.h"

namespace sakuga::harness {

namespace {

using Series = std::vector<std::pair<double, double>>;  // (step, value)

constexpr int64_t kPanelW = 360, kPanelH = 200, kPad = 8;
constexpr data::Color kCurve{0.1f, 0.35f, 0.75f};

// Training-log records carry an "lr"; evaluation records do not.
bool is_train_record(const Json& j) { return j.contains("lr"); }

bool skipped_key(const std::string& k) { return k == "step" || k == "stage" || k == "lr" || k.rfind("lr_", 0) == 0; }

std::string short_number(double v) { return fmt::format("{:.4g}", v); }

void draw_panel(data::Canvas& c, int64_t x0, int64_t y0, const std::string& name, const Series& s) {
  c.rect(x0, y0, kPanelW, kPanelH, data::kWhite, true);
  c.rect(x0, y0, kPanelW, kPanelH, data::kGray);
  c.text(x0 + kPad, y0 + kPad, fmt::format("{} (last {})", name, short_number(s.back().second)), data::kBlack);
  // Plot area, leaving room for the axis numbers on the left and the steps below.
  const int64_t left = x0 + kPad + 8 * 6, right = x0 + kPanelW - kPad;
  const int64_t top = y0 + kPad + 14, bottom = y0 + kPanelH - kPad - 10;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& [x, v] : s)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) return;
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) lo -= 0.5, hi += 0.5;
  const double x_lo = s.front().first, x_hi = std::max(s.back().first, x_lo + 1);
  auto px = [&](double x) { return left + int64_t(std::lround((x - x_lo) / (x_hi - x_lo) * double(right - left))); };
  auto py = [&](double v) { return bottom - int64_t(std::lround((v - lo) / (hi - lo) * double(bottom - top))); };
  c.line(left, top, left, bottom, data::kGray);
  c.line(left, bottom, right, bottom, data::kGray);
  c.text(x0 + kPad, top, short_number(hi), data::kGray);
  c.text(x0 + kPad, bottom - 7, short_number(lo), data::kGray);
  c.text(left, bottom + 3, short_number(x_lo), data::kGray);
  const std::string last_step = short_number(x_hi);
  c.text(right - data::Canvas::text_width(last_step), bottom + 3, last_step, data::kGray);
  for (size_t i = 0; i < s.size(); ++i) {
    if (!std::isfinite(s[i].second)) continue;
    if (i > 0 && std::isfinite(s[i - 1].second))
      c.line(px(s[i - 1].first), py(s[i - 1].second), px(s[i].first), py(s[i].second), kCurve);
    else
      c.pixel(px(s[i].first), py(s[i].second), kCurve);
  }
}

void write_panels(const std::map<std::string, Series>& series, const std::string& path) {
  if (series.empty()) return;
  const int64_t cols = std::min<int64_t>(3, int64_t(series.size()));
  const int64_t rows = (int64_t(series.size()) + cols - 1) / cols;
  data::Canvas c(rows * (kPanelH + kPad) + kPad, cols * (kPanelW + kPad) + kPad, data::kLightGray);
  int64_t i = 0;
  for (const auto& [name, s] : series) {
    draw_panel(c, kPad + (i % cols) * (kPanelW + kPad), kPad + (i / cols) * (kPanelH + kPad), name, s);
    ++i;
  }
  data::write_png_tensor(path, c.tensor());
}

}  // namespace

void write_plots(const std::string& metrics_jsonl, const std::string& dir) {
  std::ifstream in(metrics_jsonl);
  std::map<std::string, Series> train, eval;
  std::string line;
  while (std::getline(in, line)) {
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception&) {
      continue;
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number()) continue;
    const double step = j["step"].get<double>();
    auto& dst = is_train_record(j) ? train : eval;
    for (const auto& [k, v] : j.items())
      if (!skipped_key(k) && v.is_number()) dst[k].emplace_back(step, v.get<double>());
  }
  write_panels(train, dir + "/train.png");
  write_panels(eval, dir + "/eval.png");
}

}  // namespace sakuga::harness
