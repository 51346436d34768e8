#pragma once
// redraw (Re:Draw, redraw.md): one registered family with three training stages, chosen by the
// top-level config key `stage` (`sakuga train redraw --stage detect|encoder|redrawer`):
//
//   detect    nets/redraw/detect.cpp     CenterNet-style face / eye detector on ResNet-18, stride 4
//   encoder   nets/redraw/encoder.cpp    style-aware clustering encoder E(x, p) = A(p)·c(x) + b(p)
//   redrawer  nets/redraw/redrawer.cpp   G(l, h, m) against D_q (interior) and D_c (context)
//
// Each stage is its own harness::Family with its own config section ("detect", "encoder",
// "redrawer": sizes, steps, optimisers); the "data" section is shared (synthetic world or a
// dataset folder as `sakuga synth redraw` writes it). A run trains one stage; its checkpoint
// names the stage in its metadata config, so a checkpoint of another stage is refused by name.
#include <cstdint>
#include <memory>
#include <string>

#include "data/redraw/synth.h"
#include "tensor/safetensors.h"
#include "nets/harness/family.h"

namespace sakuga::redraw {

enum class Stage { detect, encoder, redrawer };
const char* stage_name(Stage s);
// "detect" | "encoder" | "redrawer"; errors name `where` and list the three.
Stage parse_stage(const std::string& name, const std::string& where);

// The shared "data" section.
struct DataSettings {
  bool synthetic = true;  // the built-in synthetic world (data/redraw/synth.h); false: `dir`
  std::string dir;        // a dataset folder: frames/, crops/, optional redraw.json (docs/redraw.md)
  // The synthetic world: P productions (the last `held_out` unseen in training), D designs.
  int productions = data::redraw::kDefaultProductions;
  int designs = data::redraw::kDefaultDesigns;
  int held_out = data::redraw::kDefaultHeldOut;
  uint64_t world_seed = data::redraw::kDefaultWorldSeed;
  uint64_t val_seed = 7919;  // frame stream of the synthetic validation set (training uses train.seed)
};

// data.* of a config, checked (errors name the key).
DataSettings data_settings(const Config& cfg);
// The synthetic world of `d` (d.synthetic must be true).
data::redraw::World synthetic_world(const DataSettings& d);

// Every key of every stage with its default (stage "detect").
Json default_config();
// The family of cfg's stage.
std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet);

// The stage a redraw checkpoint was trained for (its metadata config's `stage`); errors name
// `path` when the file is not a redraw checkpoint or was trained for another stage than `expected`.
void require_stage(const io::SafetensorsFile& f, const std::string& path, Stage expected);

// Per stage (each in its own file): the stage's section defaults and its family.
Json detect_defaults();
Json encoder_defaults();
Json redrawer_defaults();
std::unique_ptr<harness::Family> make_detect_family(const Config& cfg, Device device, bool quiet);
std::unique_ptr<harness::Family> make_encoder_family(const Config& cfg, Device device, bool quiet);
std::unique_ptr<harness::Family> make_redrawer_family(const Config& cfg, Device device, bool quiet);

}  // namespace sakuga::redraw
