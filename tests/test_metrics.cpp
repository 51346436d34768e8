// Segmentation metrics (data/metrics.h) on hand-computed confusion matrices.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "data/metrics.h"
#include "tests/test_util.h"

using namespace sakuga;

namespace {

Tensor labels(const std::vector<int32_t>& v) { return Tensor::from_vector_i32(v, {int64_t(v.size())}); }

const std::vector<std::string> kDouga = {"flat_area",      "visible_line", "shading_line", "color_edge",
                                         "highlight_line", "book_line",    "shading_fill", "color_fill",
                                         "highlight_fill", "book_fill"};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// 3 classes, 10 pixels: rows (truth) [3 1 0], [0 1 1], [1 0 3].
data::ConfusionMatrix example() {
  data::ConfusionMatrix cm(3);
  cm.add(labels({0, 0, 1, 1, 2, 2, 2, 0, 2, 0}), labels({0, 0, 0, 1, 1, 2, 2, 2, 2, 0}));
  return cm;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("ConfusionMatrix: hand-computed metrics") {
  auto cm = example();
  CHECK(cm.classes() == 3);
  CHECK(cm.total() == 10);
  const int64_t want[3][3] = {{3, 1, 0}, {0, 1, 1}, {1, 0, 3}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) CHECK(cm.count(t, p) == want[t][p]);
  CHECK(cm.pixel_accuracy() == doctest::Approx(0.7));
  CHECK(cm.precision(0) == doctest::Approx(0.75));
  CHECK(cm.precision(1) == doctest::Approx(0.5));
  CHECK(cm.precision(2) == doctest::Approx(0.75));
  CHECK(cm.recall(0) == doctest::Approx(0.75));
  CHECK(cm.recall(1) == doctest::Approx(0.5));
  CHECK(cm.recall(2) == doctest::Approx(0.75));
  CHECK(cm.iou(0) == doctest::Approx(0.6));
  CHECK(cm.iou(1) == doctest::Approx(1.0 / 3.0));
  CHECK(cm.iou(2) == doctest::Approx(0.6));
  CHECK(cm.mean_iou() == doctest::Approx((0.6 + 1.0 / 3.0 + 0.6) / 3.0));
  // 2-D tensors of the same shape work the same way.
  data::ConfusionMatrix cm2(3);
  cm2.add(Tensor::from_vector_i32({0, 0, 1, 1, 2, 2, 2, 0, 2, 0}, {2, 5}),
          Tensor::from_vector_i32({0, 0, 0, 1, 1, 2, 2, 2, 2, 0}, {2, 5}));
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) CHECK(cm2.count(t, p) == want[t][p]);
}

TEST_CASE("ConfusionMatrix: NaN cases and mean IoU over defined classes") {
  data::ConfusionMatrix empty(4);
  CHECK(empty.total() == 0);
  CHECK(std::isnan(empty.pixel_accuracy()));
  CHECK(std::isnan(empty.mean_iou()));
  CHECK(std::isnan(empty.precision(0)));
  CHECK(std::isnan(empty.recall(0)));
  CHECK(std::isnan(empty.iou(0)));

  // Class 3 never occurs; class 2 is predicted but absent from the target.
  data::ConfusionMatrix cm(4);
  cm.add(labels({0, 0, 1, 2}), labels({0, 0, 1, 1}));
  CHECK(std::isnan(cm.precision(3)));
  CHECK(std::isnan(cm.recall(3)));
  CHECK(std::isnan(cm.iou(3)));
  CHECK(std::isnan(cm.recall(2)));    // absent from the target
  CHECK(cm.precision(2) == 0.0);      // predicted once, wrongly
  CHECK(cm.iou(2) == 0.0);            // defined: in the prediction
  CHECK(cm.recall(1) == doctest::Approx(0.5));
  CHECK(cm.precision(1) == doctest::Approx(1.0));
  CHECK(cm.iou(1) == doctest::Approx(0.5));
  CHECK(cm.iou(0) == doctest::Approx(1.0));
  CHECK(cm.mean_iou() == doctest::Approx((1.0 + 0.5 + 0.0) / 3.0));  // class 3 left out
  CHECK(cm.pixel_accuracy() == doctest::Approx(0.75));
}

TEST_CASE("ConfusionMatrix: merge adds counts") {
  auto a = example();
  data::ConfusionMatrix b(3);
  b.add(labels({2, 2}), labels({1, 2}));
  a.merge(b);
  CHECK(a.total() == 12);
  CHECK(a.count(1, 2) == 2);
  CHECK(a.count(2, 2) == 4);
  CHECK(a.count(0, 0) == 3);
  CHECK(a.pixel_accuracy() == doctest::Approx(8.0 / 12.0));
  // Merging is the same as adding both batches to one matrix.
  data::ConfusionMatrix c(3);
  c.add(labels({0, 0, 1, 1, 2, 2, 2, 0, 2, 0, 2, 2}), labels({0, 0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2}));
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) CHECK(a.count(t, p) == c.count(t, p));
}

TEST_CASE("ConfusionMatrix: to_json") {
  data::ConfusionMatrix cm(4);
  cm.add(labels({0, 0, 1, 2}), labels({0, 0, 1, 1}));
  auto j = cm.to_json({"a", "b", "c", "d"});
  CHECK(j["pixel_accuracy"].get<double>() == doctest::Approx(0.75));
  CHECK(j["mean_iou"].get<double>() == doctest::Approx(0.5));
  REQUIRE(j["per_class"].size() == 4);
  CHECK(j["per_class"][1]["name"] == "b");
  CHECK(j["per_class"][1]["precision"].get<double>() == doctest::Approx(1.0));
  CHECK(j["per_class"][1]["recall"].get<double>() == doctest::Approx(0.5));
  CHECK(j["per_class"][1]["iou"].get<double>() == doctest::Approx(0.5));
  CHECK(j["per_class"][2]["recall"].is_null());
  CHECK(j["per_class"][3]["precision"].is_null());
  CHECK(j["per_class"][3]["iou"].is_null());
  REQUIRE(j["confusion"].size() == 4);
  REQUIRE(j["confusion"][0].size() == 4);
  CHECK(j["confusion"][0][0].get<double>() == doctest::Approx(0.5));
  CHECK(j["confusion"][1][2].get<double>() == doctest::Approx(0.25));
  CHECK(j["confusion"][3][3].get<double>() == 0.0);
  // Serialisable (no NaN in the text).
  CHECK(!contains(j.dump(), "nan"));
  // Empty: accuracy and mean IoU are null.
  auto e = data::ConfusionMatrix(2).to_json({"x", "y"});
  CHECK(e["pixel_accuracy"].is_null());
  CHECK(e["mean_iou"].is_null());
  CHECK_ERROR(cm.to_json({"a", "b"}), "2 class names");
}

TEST_CASE("ConfusionMatrix: table text") {
  auto cm = example();
  const std::string t = cm.table({"flat", "line", "shade"});
  INFO(t);
  for (const char* s : {"flat", "line", "shade", "Recall", "Precision", "IoU", "30.0", "10.0", "75.0%", "33.3%",
                        "pixel accuracy 70.0%"})
    CHECK(contains(t, s));
  // 10 douga classes: long names abbreviated in the header, full in the rows; tiny shares "<0.1".
  data::ConfusionMatrix d(10);
  std::vector<int32_t> pred(5000, 0), target(5000, 0);
  pred[0] = 1;  // one visible_line pixel predicted where the truth is flat_area: 0.02 %
  target[1] = pred[1] = 8;
  d.add(labels(pred), labels(target));
  const std::string td = d.table(kDouga);
  INFO(td);
  for (const auto& n : kDouga) CHECK(contains(td, n));
  for (const char* s : {"visi_line", "high_fill", "flat_area", "<0.1", "100.0"}) CHECK(contains(td, s));
  CHECK_ERROR(cm.table({"a"}), "class names");
}

TEST_CASE("ConfusionMatrix: lines vs areas (thesis Table 5.5)") {
  data::ConfusionMatrix cm(10);
  // truth lines: (1,1)×2, (2,0); truth areas: (0,3), (0,0)×4, (6,7)×2.
  cm.add(labels({1, 1, 0, 3, 0, 0, 0, 0, 7, 7}), labels({1, 1, 2, 0, 0, 0, 0, 0, 6, 6}));
  auto m = cm.lines_vs_areas();
  CHECK(m[0][0] == doctest::Approx(20.0));
  CHECK(m[0][1] == doctest::Approx(10.0));
  CHECK(m[1][0] == doctest::Approx(10.0));
  CHECK(m[1][1] == doctest::Approx(60.0));
  const std::string t = cm.lines_vs_areas_table();
  INFO(t);
  for (const char* s : {"Lines", "Areas", "Recall", "Precision", "20.00%", "10.00%", "60.00%", "66.67%", "85.71%"})
    CHECK(contains(t, s));
  auto e = data::ConfusionMatrix(10).lines_vs_areas();
  CHECK(std::isnan(e[0][0]));
  CHECK_ERROR(data::ConfusionMatrix(3).lines_vs_areas(), "10 douga classes");
}

TEST_CASE("ConfusionMatrix: errors") {
  data::ConfusionMatrix cm(10);
  CHECK_ERROR(cm.add(labels({0, 1}), labels({0, 12})), "target value 12");
  CHECK_ERROR(cm.add(labels({0, -1}), labels({0, 1})), "pred value -1");
  CHECK_ERROR(cm.add(labels({0, 10}), labels({0, 1})), "pred value 10");
  CHECK(cm.total() == 0);  // nothing counted from a bad batch
  CHECK_ERROR(cm.add(labels({0, 1, 2}), labels({0, 1})), "same shape");
  CHECK_ERROR(cm.add(Tensor::from_vector_i32({0, 1}, {1, 2}), labels({0, 1})), "same shape");
  CHECK_ERROR(cm.add(Tensor::zeros({2}), labels({0, 1})), "i32");
  CHECK_ERROR(cm.add(labels({0, 1}), Tensor::zeros({2})), "i32");
  CHECK_ERROR(cm.merge(data::ConfusionMatrix(3)), "3 classes");
  CHECK_ERROR(data::ConfusionMatrix(0), "classes");
  CHECK_ERROR(cm.iou(10), "class 10");
}

}  // TEST_SUITE
