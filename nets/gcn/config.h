#pragma once
// Every config key of the gcn tasks with its default, in one place: default_settings() — the
// structs below with the task's changes (the structs they embed: GcnConfig in nets/gcn/model.h,
// AugmentConfig in data/gcn/augment.h, SegLossConfig in losses/segmentation.h) — holds the
// defaults of the small douga demo that learns on a 2-core CPU in about ten minutes, and the
// bindings here turn it into the config JSON. configs/*-thesis.json
// override them with the thesis settings. The harness keys (train.seed, train.log_every, ...)
// come from nets/harness/trainer.h.
#include <string>
#include <vector>

#include "data/gcn/augment.h"
#include "data/gcn/seg_dataset.h"
#include "losses/segmentation.h"
#include "nets/gcn/model.h"
#include "nets/harness/config.h"

namespace sakuga::data {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AugmentConfig, brightness, brightness_std, contrast, contrast_std, hue,
                                                hue_std_deg, scale, scale_min, scale_max, rotate, rotate_deg, flip,
                                                flip_p, background, texture, erase, erase_max)
}  // namespace sakuga::data

namespace sakuga::gcn {

// model.*: the network (gcn.md "Pinned interfaces").
struct ModelSettings {
  std::string task = "douga";  // fixed by the command: cel | douga
  GcnConfig net;               // backbone ("resnet18" ...), k, classes, in_channels, dropout
  std::string pretrained;      // torchvision weights for the backbone (safetensors)
};
void to_json(Json& j, const ModelSettings& m);
void from_json(const Json& j, ModelSettings& m);

// loss.adversarial.*: the thesis §5.5.2 experiment (a ResNet discriminator on the douga).
struct AdversarialSettings {
  bool enabled = false;
  double weight = 0.01;
  std::string encoding = "softmax";  // color | onehot | softmax | argmax
  double lr = 1e-4;
  std::string optimizer = "adam";    // adam | rmsprop
  int depth = 34;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AdversarialSettings, enabled, weight, encoding, lr, optimizer, depth)

// loss.*: kind, gamma, alpha, class_weights (losses::SegLossConfig) and adversarial.
struct LossSettings {
  losses::SegLossConfig seg;
  AdversarialSettings adversarial;
};
void to_json(Json& j, const LossSettings& l);
void from_json(const Json& j, LossSettings& l);

// variant.*: how a cel mask enters the douga model.
struct VariantSettings {
  std::string kind = "color";  // color | synthetic-cel | concatenated | manual-cel
  std::string cel_ckpt;        // the cel checkpoint for synthetic-cel / concatenated
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VariantSettings, kind, cel_ckpt)

// data.* (data.workers / data.prefetch are the harness's).
struct DataSettings {
  std::string dir;                      // --data DIR
  bool synthetic = true;                // --synthetic
  std::vector<int64_t> size{96, 96};    // training crop [H, W] (>= 64)
  int64_t batch = 4;
  double val_fraction = 0.1;            // folder data: hash split
  int64_t val_count = 24;               // synthetic data: validation frames (another seed)
  bool skip_bad = false;                // --skip-bad
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSettings, dir, synthetic, size, batch, val_fraction, val_count,
                                                skip_bad)

// train.* besides the harness's: Adam (β 0.9 / 0.999, ε 1e-8, thesis §4.6) with lr decaying
// linearly from lr to lr_end over the run.
struct TrainSettings {
  int64_t steps = 2000;
  double lr = 1e-3, lr_end = 1e-4;
  double clip_grad_norm = 0;  // 0 = off
  int samples = 4;            // validation frames in each sample sheet
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainSettings, steps, lr, lr_end, clip_grad_norm, samples)

struct Settings {
  ModelSettings model;
  LossSettings loss;
  VariantSettings variant;
  DataSettings data;
  data::AugmentConfig augment;
  TrainSettings train;
};

// The defaults of a task (cel: 1 class and no class weights; douga: 1/sqrt(frequency) weights)
// as a Settings and as the config JSON (with the harness keys).
Settings default_settings(data::SegTask task);
Json default_config(data::SegTask task);
// All sections of a resolved config.
Settings settings_of(const Config& cfg);

// The network of a resolved config (model.* keys), checked against the task and the variant.
GcnConfig model_config(data::SegTask task, const Config& cfg);

// "resnet50" → 50; anything else is an error naming model.backbone.
int parse_backbone(const std::string& s);

}  // namespace sakuga::gcn
