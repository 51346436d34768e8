// Segmentation metrics from a confusion matrix of pixel counts (gcn.md "Metrics").
#include "data/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace sakuga::data {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t num, int64_t den) { return den == 0 ? kNaN : double(num) / double(den); }

nlohmann::json num_or_null(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

// Column header: names up to 10 characters as they are; longer ones shorten every word but the
// last to 4 characters ("visible_line" → "visi_line", "highlight_fill" → "high_fill").
std::string abbreviate(const std::string& name) {
  if (name.size() <= 10) return name;
  std::vector<std::string> words;
  std::string cur;
  std::vector<char> seps;
  for (char ch : name) {
    if (ch == '_' || ch == ' ') {
      words.push_back(cur);
      seps.push_back(ch);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  words.push_back(cur);
  if (words.size() == 1) return name.substr(0, 10);
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    out += i + 1 < words.size() ? words[i].substr(0, 4) : words[i];
    if (i < seps.size()) out += seps[i];
  }
  return out;
}

// Percent of all pixels as in thesis Table 5.1: one decimal, "<0.1" for small nonzero values.
std::string pct_cell(int64_t count, int64_t total) {
  if (total == 0) return "-";
  const double v = 100.0 * double(count) / double(total);
  if (count > 0 && v < 0.05) return "<0.1";
  return fmt::format("{:.1f}", v);
}

std::string pct(double fraction, int decimals, const char* suffix = "") {
  if (std::isnan(fraction)) return "-";
  return fmt::format("{:.{}f}{}", 100.0 * fraction, decimals, suffix);
}

std::string pad_left(const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string pad_right(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

void check_names(const char* op, const std::vector<std::string>& names, int classes) {
  SAKUGA_CHECK(int64_t(names.size()) == classes, op, ": ", names.size(), " class names for a ", classes,
               "-class confusion matrix");
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int classes) : classes_(classes) {
  SAKUGA_CHECK(classes >= 1, "ConfusionMatrix: classes must be >= 1, got ", classes);
  counts_.assign(size_t(classes) * size_t(classes), 0);
}

void ConfusionMatrix::add(const Tensor& pred, const Tensor& target) {
  const char* op = "ConfusionMatrix::add";
  SAKUGA_CHECK(pred.defined() && target.defined(), op, ": pred and target must be defined");
  SAKUGA_CHECK(pred.dtype() == DType::i32, op, ": pred must be i32 class ids, got ", dtype_name(pred.dtype()));
  SAKUGA_CHECK(target.dtype() == DType::i32, op, ": target must be i32 class ids, got ",
               dtype_name(target.dtype()));
  SAKUGA_CHECK(pred.shape() == target.shape(), op, ": pred ", shape_str(pred.shape()), " and target ",
               shape_str(target.shape()), " must have the same shape");
  const std::vector<int32_t> p = pred.to_vector_i32(), t = target.to_vector_i32();
  // Validate everything first so that a bad tensor leaves the counts untouched.
  for (size_t i = 0; i < t.size(); ++i) {
    SAKUGA_CHECK(t[i] >= 0 && t[i] < classes_, op, ": target value ", t[i], " at element ", i,
                 " is outside [0, ", classes_, ")");
    SAKUGA_CHECK(p[i] >= 0 && p[i] < classes_, op, ": pred value ", p[i], " at element ", i, " is outside [0, ",
                 classes_, ")");
  }
  for (size_t i = 0; i < t.size(); ++i) ++counts_[size_t(t[i]) * size_t(classes_) + size_t(p[i])];
}

void ConfusionMatrix::set_counts(std::vector<int64_t> counts) {
  SAKUGA_CHECK(counts.size() == counts_.size(), "ConfusionMatrix::set_counts: expected ", counts_.size(),
               " counts, got ", counts.size());
  counts_ = std::move(counts);
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  SAKUGA_CHECK(other.classes_ == classes_, "ConfusionMatrix::merge: ", other.classes_, " classes into ", classes_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

int64_t ConfusionMatrix::total() const {
  int64_t s = 0;
  for (int64_t c : counts_) s += c;
  return s;
}

double ConfusionMatrix::pixel_accuracy() const {
  int64_t tp = 0;
  for (int c = 0; c < classes_; ++c) tp += count(c, c);
  return ratio(tp, total());
}

double ConfusionMatrix::precision(int c) const {
  SAKUGA_CHECK(c >= 0 && c < classes_, "ConfusionMatrix::precision: class ", c, " outside [0, ", classes_, ")");
  int64_t predicted = 0;
  for (int t = 0; t < classes_; ++t) predicted += count(t, c);
  return ratio(count(c, c), predicted);
}

double ConfusionMatrix::recall(int c) const {
  SAKUGA_CHECK(c >= 0 && c < classes_, "ConfusionMatrix::recall: class ", c, " outside [0, ", classes_, ")");
  int64_t truth = 0;
  for (int p = 0; p < classes_; ++p) truth += count(c, p);
  return ratio(count(c, c), truth);
}

double ConfusionMatrix::iou(int c) const {
  SAKUGA_CHECK(c >= 0 && c < classes_, "ConfusionMatrix::iou: class ", c, " outside [0, ", classes_, ")");
  int64_t truth = 0, predicted = 0;
  for (int k = 0; k < classes_; ++k) {
    truth += count(c, k);
    predicted += count(k, c);
  }
  return ratio(count(c, c), truth + predicted - count(c, c));
}

double ConfusionMatrix::mean_iou() const {
  double sum = 0;
  int n = 0;
  for (int c = 0; c < classes_; ++c) {
    const double v = iou(c);
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  }
  return n == 0 ? kNaN : sum / n;
}

nlohmann::json ConfusionMatrix::to_json(const std::vector<std::string>& names) const {
  check_names("ConfusionMatrix::to_json", names, classes_);
  nlohmann::json j;
  j["pixel_accuracy"] = num_or_null(pixel_accuracy());
  j["mean_iou"] = num_or_null(mean_iou());
  nlohmann::json per = nlohmann::json::array();
  for (int c = 0; c < classes_; ++c)
    per.push_back({{"name", names[size_t(c)]},
                   {"precision", num_or_null(precision(c))},
                   {"recall", num_or_null(recall(c))},
                   {"iou", num_or_null(iou(c))}});
  j["per_class"] = per;
  const int64_t tot = total();
  nlohmann::json conf = nlohmann::json::array();
  for (int t = 0; t < classes_; ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < classes_; ++p) row.push_back(num_or_null(ratio(count(t, p), tot)));
    conf.push_back(row);
  }
  j["confusion"] = conf;
  return j;
}

std::string ConfusionMatrix::table(const std::vector<std::string>& names) const {
  check_names("ConfusionMatrix::table", names, classes_);
  const int64_t tot = total();
  const std::string corner = "True \\ Predicted";
  size_t w0 = std::max(corner.size(), std::string("Precision").size());
  for (const auto& n : names) w0 = std::max(w0, n.size());
  std::vector<std::string> heads;
  size_t wc = 6;
  for (const auto& n : names) {
    heads.push_back(abbreviate(n));
    wc = std::max(wc, heads.back().size());
  }
  wc += 2;
  std::ostringstream os;
  os << "Confusion matrix (% of all " << tot << " pixels; rows: true class, columns: prediction)\n";
  os << pad_right(corner, w0);
  for (const auto& h : heads) os << pad_left(h, wc);
  os << pad_left("Recall", wc) << "\n";
  for (int t = 0; t < classes_; ++t) {
    os << pad_right(names[size_t(t)], w0);
    for (int p = 0; p < classes_; ++p) os << pad_left(pct_cell(count(t, p), tot), wc);
    os << pad_left(pct(recall(t), 1), wc) << "\n";
  }
  os << pad_right("Precision", w0);
  for (int p = 0; p < classes_; ++p) os << pad_left(pct(precision(p), 1), wc);
  os << "\n\n";
  const size_t wn = std::max<size_t>(w0, 5);
  os << pad_right("class", wn) << pad_left("precision", 11) << pad_left("recall", 11) << pad_left("IoU", 11)
     << "\n";
  for (int c = 0; c < classes_; ++c)
    os << pad_right(names[size_t(c)], wn) << pad_left(pct(precision(c), 1, "%"), 11)
       << pad_left(pct(recall(c), 1, "%"), 11) << pad_left(pct(iou(c), 1, "%"), 11) << "\n";
  int defined = 0;
  for (int c = 0; c < classes_; ++c) defined += std::isnan(iou(c)) ? 0 : 1;
  os << "pixel accuracy " << pct(pixel_accuracy(), 1, "%") << ", mean IoU " << pct(mean_iou(), 1, "%") << " (over "
     << defined << " classes present)\n";
  return os.str();
}

std::array<std::array<double, 2>, 2> ConfusionMatrix::lines_vs_areas() const {
  SAKUGA_CHECK(classes_ == 10, "ConfusionMatrix::lines_vs_areas: needs the 10 douga classes, got ", classes_);
  std::array<std::array<int64_t, 2>, 2> c{};
  for (int t = 0; t < classes_; ++t)
    for (int p = 0; p < classes_; ++p) {
      const int ti = (t >= 1 && t <= 5) ? 0 : 1, pi = (p >= 1 && p <= 5) ? 0 : 1;
      c[size_t(ti)][size_t(pi)] += count(t, p);
    }
  const int64_t tot = total();
  std::array<std::array<double, 2>, 2> out{};
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 2; ++j) out[i][j] = tot == 0 ? kNaN : 100.0 * double(c[i][j]) / double(tot);
  return out;
}

std::string ConfusionMatrix::lines_vs_areas_table() const {
  const auto m = lines_vs_areas();
  auto cell = [](double v) { return std::isnan(v) ? std::string("-") : pct(v / 100.0, 2, "%"); };
  auto frac = [](double num, double den) { return den > 0 ? num / den : kNaN; };
  const size_t w0 = 17, wc = 10;
  std::ostringstream os;
  os << "Lines vs areas (% of all pixels; lines = classes 1-5)\n";
  os << pad_right("True \\ Predicted", w0) << pad_left("Lines", wc) << pad_left("Areas", wc)
     << pad_left("Recall", wc) << "\n";
  const char* rows[2] = {"Lines", "Areas"};
  for (size_t i = 0; i < 2; ++i)
    os << pad_right(rows[i], w0) << pad_left(cell(m[i][0]), wc) << pad_left(cell(m[i][1]), wc)
       << pad_left(pct(frac(m[i][i], m[i][0] + m[i][1]), 2, "%"), wc) << "\n";
  os << pad_right("Precision", w0);
  for (size_t j = 0; j < 2; ++j) os << pad_left(pct(frac(m[j][j], m[0][j] + m[1][j]), 2, "%"), wc);
  os << "\n";
  return os.str();
}

}  // namespace sakuga::data
