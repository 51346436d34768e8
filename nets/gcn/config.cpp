#include "nets/gcn/config.h"

#include "data/gcn/douga.h"
#include "kernels/common.h"
#include "nets/harness/trainer.h"

namespace sakuga::gcn {

void to_json(Json& j, const ModelSettings& m) {
  j = Json{{"task", m.task},
           {"backbone", "resnet" + std::to_string(m.net.backbone)},
           {"k", m.net.k},
           {"classes", m.net.classes},
           {"in_channels", m.net.in_channels},
           {"dropout", m.net.dropout},
           {"pretrained", m.pretrained}};
}

void from_json(const Json& j, ModelSettings& m) {
  const ModelSettings d;
  m.task = j.value("task", d.task);
  m.net.backbone = parse_backbone(j.value("backbone", "resnet" + std::to_string(d.net.backbone)));
  m.net.k = j.value("k", d.net.k);
  m.net.classes = j.value("classes", d.net.classes);
  m.net.in_channels = j.value("in_channels", d.net.in_channels);
  m.net.dropout = j.value("dropout", d.net.dropout);
  m.pretrained = j.value("pretrained", d.pretrained);
}

void to_json(Json& j, const LossSettings& l) {
  j = Json{{"kind", l.seg.kind},
           {"gamma", l.seg.gamma},
           {"alpha", l.seg.alpha},
           {"class_weights", l.seg.class_weights},
           {"adversarial", l.adversarial}};
}

void from_json(const Json& j, LossSettings& l) {
  const LossSettings d;
  l.seg.kind = j.value("kind", d.seg.kind);
  l.seg.gamma = j.value("gamma", d.seg.gamma);
  l.seg.alpha = j.value("alpha", d.seg.alpha);
  l.seg.class_weights = j.value("class_weights", d.seg.class_weights);
  l.adversarial = j.value("adversarial", d.adversarial);
}

Settings default_settings(data::SegTask task) {
  Settings s;
  // The synthetic stream never repeats a frame, so the demo needs no augmentation to generalise
  // and learns faster without it (measured: mean IoU 0.27 vs 0.18 after 500 steps); flips only.
  s.augment.flip = true;
  if (task == data::SegTask::cel) {
    s.model.task = "cel";
    s.model.net.classes = 1;
  } else {
    // 1/sqrt(frequency of the class in synthetic 96×96 frames), mean 1: the 1-px line classes are
    // < 1 % of the pixels (measured: mean IoU 0.41 vs 0.37 unweighted after 1000 steps).
    s.loss.seg.class_weights = {0.12, 0.54, 1.40, 1.35, 1.92, 1.44, 0.54, 0.54, 1.68, 0.47};
    // Zoom-in (scale 1–2×, then the 96² crop): the k = 7 head at 96² otherwise never sees a fill
    // region as large as those of full-size frames, and a 256² frame's big book_fill areas fell to
    // flat_area (recall 15 %, mean IoU 0.38 at 256²). With it and 2800 steps instead of 2000:
    // see docs/gcn.md for the measured 96² and 256² numbers.
    s.augment.scale = true;
    s.augment.scale_min = 1.0;
    s.augment.scale_max = 2.0;
    s.train.steps = 2800;
  }
  return s;
}

Json default_config(data::SegTask task) {
  const Settings s = default_settings(task);
  Json j{{"model", s.model}, {"loss", s.loss}, {"variant", s.variant}, {"data", s.data},
         {"augment", s.augment}, {"train", s.train}};
  // Harness cadences of the demo: a line every 10 steps, validation and a checkpoint every 250.
  j["train"]["log_every"] = 10;
  j["train"]["eval_every"] = 250;
  j["train"]["checkpoint_every"] = 250;
  return harness::with_harness_defaults(j);
}

Settings settings_of(const Config& cfg) {
  Settings s;
  s.model = cfg.get<ModelSettings>("model");
  s.loss = cfg.get<LossSettings>("loss");
  s.variant = cfg.get<VariantSettings>("variant");
  s.data = cfg.get<DataSettings>("data");
  s.augment = cfg.get<data::AugmentConfig>("augment");
  s.train = cfg.get<TrainSettings>("train");
  return s;
}

int parse_backbone(const std::string& s) {
  for (int d : {18, 34, 50, 101})
    if (s == "resnet" + std::to_string(d)) return d;
  SAKUGA_FAIL("config model.backbone: expected resnet18, resnet34, resnet50 or resnet101, got '", s, "'");
}

GcnConfig model_config(data::SegTask task, const Config& cfg) {
  const std::string task_name = cfg.get<std::string>("model.task");
  SAKUGA_CHECK(task_name == data::seg_task_name(task), "config model.task is '", task_name,
               "' but the command is for '", data::seg_task_name(task), "'");
  const GcnConfig m = cfg.get<ModelSettings>("model").net;
  const int64_t want_classes = task == data::SegTask::cel ? 1 : data::kDougaClasses;
  SAKUGA_CHECK(m.classes == want_classes, "config model.classes: the ", data::seg_task_name(task), " task has ",
               want_classes, " output channel(s), got ", m.classes);
  SAKUGA_CHECK(m.k >= 1 && m.k % 2 == 1, "config model.k: expected an odd kernel size >= 1, got ", m.k);
  SAKUGA_CHECK(m.dropout >= 0 && m.dropout < 1, "config model.dropout: expected [0, 1), got ", m.dropout);
  const std::string variant = cfg.get<std::string>("variant.kind");
  const int want_cin = variant == "concatenated" ? 4 : 3;
  SAKUGA_CHECK(m.in_channels == want_cin, "config model.in_channels: variant '", variant, "' needs ", want_cin,
               " input channels, got ", m.in_channels);
  return m;
}

}  // namespace sakuga::gcn
