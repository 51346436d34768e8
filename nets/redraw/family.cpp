// The redraw family: the shared data section, the stage switch and the checkpoint's stage check.
#include "nets/redraw/family.h"

#include "kernels/common.h"
#include "nets/harness/trainer.h"

namespace sakuga::redraw {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataSettings, synthetic, dir, productions, designs, held_out,
                                                world_seed, val_seed)

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::detect: return "detect";
    case Stage::encoder: return "encoder";
    case Stage::redrawer: return "redrawer";
  }
  return "?";
}

Stage parse_stage(const std::string& name, const std::string& where) {
  for (Stage s : {Stage::detect, Stage::encoder, Stage::redrawer})
    if (name == stage_name(s)) return s;
  SAKUGA_FAIL(where, ": expected detect, encoder or redrawer, got '", name, "'");
}

DataSettings data_settings(const Config& cfg) {
  const auto d = cfg.get<DataSettings>("data");
  SAKUGA_CHECK(d.synthetic || !d.dir.empty(), "config data.dir: a dataset folder is needed when data.synthetic is false");
  SAKUGA_CHECK(d.productions >= 1 && d.productions <= 64, "config data.productions: expected 1 … 64, got ",
               d.productions);
  SAKUGA_CHECK(d.designs >= 2 && d.designs <= 64, "config data.designs: expected 2 … 64, got ", d.designs);
  SAKUGA_CHECK(d.held_out >= 0 && d.held_out < d.productions, "config data.held_out: expected 0 … ",
               d.productions - 1, " (fewer than data.productions), got ", d.held_out);
  return d;
}

data::redraw::World synthetic_world(const DataSettings& d) {
  SAKUGA_CHECK(d.synthetic, "redraw: the synthetic world of a run on a dataset folder");
  return data::redraw::make_world(d.productions, d.designs, d.held_out, d.world_seed);
}

Json default_config() {
  Json j{{"stage", "detect"},
         {"data", DataSettings{}},
         {"detect", detect_defaults()},
         {"encoder", encoder_defaults()},
         {"redrawer", redrawer_defaults()},
         {"train", {{"log_every", 25}, {"eval_every", 250}, {"checkpoint_every", 250}, {"monitor", "val_loss"}}}};
  return harness::with_harness_defaults(j);
}

std::unique_ptr<harness::Family> make_family(const Config& cfg, Device device, bool quiet) {
  switch (parse_stage(cfg.get<std::string>("stage"), "config stage")) {
    case Stage::detect: return make_detect_family(cfg, device, quiet);
    case Stage::encoder: return make_encoder_family(cfg, device, quiet);
    case Stage::redrawer: return make_redrawer_family(cfg, device, quiet);
  }
  SAKUGA_FAIL("config stage: unknown");
}

void require_stage(const io::SafetensorsFile& f, const std::string& path, Stage expected) {
  if (auto it = f.metadata.find("family"); it != f.metadata.end())
    SAKUGA_CHECK(it->second == "redraw", path, ": a checkpoint of family '", it->second, "', not redraw");
  auto cfg = f.metadata.find("config");
  SAKUGA_CHECK(cfg != f.metadata.end(), path, ": not a redraw training checkpoint (no config in its metadata)");
  Json saved;
  try {
    saved = Json::parse(cfg->second);
  } catch (const std::exception& e) {
    SAKUGA_FAIL(path, ": unreadable config in its metadata: ", e.what());
  }
  SAKUGA_CHECK(saved.is_object() && saved.contains("stage") && saved["stage"].is_string(), path,
               ": its metadata config has no redraw stage");
  const std::string got = saved["stage"].get<std::string>();
  SAKUGA_CHECK(got == stage_name(expected), path, ": a checkpoint of the redraw ", got, " stage, not the ",
               stage_name(expected), " stage (pass the ", stage_name(expected), " run's checkpoint)");
}

}  // namespace sakuga::redraw
