// `sakuga redraw` (nets/redraw/pipeline.*) end to end at test size: checkpoints of the three
// stages trained for two steps each, two synthetic frames; with the frames' own boxes and --all
// every face with eyes is redrawn and blended back (pixels far from the faces untouched), the
// contact sheet and redraw.json are written; the detector path runs; bad input names the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "data/png.h"
#include "data/redraw/synth.h"
#include "nets/harness/trainer.h"
#include "nets/redraw/family.h"
#include "nets/redraw/pipeline.h"
#include "tests/test_util.h"

using namespace sakuga;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return test::temp_dir("redraw-pipeline", name); }

// A two-step run of `stage` with the test-size overrides; returns its last checkpoint.
std::string train_stage(const std::string& dir, const std::string& stage, const char* overrides) {
  Config c(redraw::default_config());
  c.merge(Json::parse(overrides), "test");
  c.set("stage=\"" + stage + "\"");
  c.set("train.log_every=1");
  c.set("train.eval_every=0");
  c.set("train.checkpoint_every=0");
  harness::RunOptions o;
  o.out = dir + "/" + stage;
  o.family = "redraw";
  o.quiet = true;
  harness::train(*redraw::make_family(c, Device::cpu(), true), o);
  return o.out + "/checkpoints/last.safetensors";
}

}  // namespace

TEST_SUITE("e2e") {

TEST_CASE("redraw pipeline: boxes or detector → encoder → redrawer → blend, outputs and errors") {
  const std::string dir = temp_dir("run");
  const std::string det = train_stage(dir, "detect", R"({"detect": {"size": [64, 64], "batch": 2, "steps": 2,
      "val_frames": 2, "prior_frames": 4, "samples": 1, "model": {"neck": 8, "head": 8}}})");
  const std::string enc = train_stage(dir, "encoder", R"({"data": {"productions": 3, "designs": 4, "held_out": 1},
      "encoder": {"crop_size": 32, "frame_size": 128, "train_frames": 36, "val_frames": 18, "designs_per_batch": 4,
                  "samples_per_design": 2, "style_refs": 1, "variants": 2, "production_width": 8, "steps": 2}})");
  const std::string red = train_stage(dir, "redrawer", R"({"redrawer": {"batch": 1, "steps": 2,
      "net": {"channels": 4, "levels": 3, "d_channels": 4, "d_layers": 2},
      "crops": {"size": 32, "val_count": 1}, "loss": {"band": 2, "sigma": 1.0}}})");
  data::redraw::SynthOptions so;
  so.count = 2;
  so.seed = 5;
  so.height = 96;
  so.width = 128;
  data::redraw::write_redraw_dataset(dir + "/data", so);
  std::string guide;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/data/crops"))
    if (e.path().extension() == ".png" && e.path().string().find(".mask.") == std::string::npos) {
      guide = e.path().string();
      break;
    }
  REQUIRE(!guide.empty());

  redraw::PipelineOptions o;
  o.encoder = enc;
  o.redrawer = red;
  o.frames = dir + "/data/frames";
  o.guide = guide;
  o.out = dir + "/out";
  o.use_boxes = true;
  o.all = true;
  o.quiet = true;
  CHECK(redraw::run_pipeline(o) == 0);
  const Json report = read_json_file(o.out + "/redraw.json");
  int64_t faces = 0, redrawn = 0;
  for (const auto& [name, list] : report.items()) {
    CHECK(fs::exists(o.out + "/" + name));
    for (const auto& f : list) {
      ++faces;
      redrawn += f["redrawn"].get<bool>();
    }
  }
  CHECK(faces >= 2);
  CHECK(redrawn == faces);  // synthetic faces always have both eyes
  CHECK(fs::exists(o.out + "/contact.png"));
  // The blend touches the eye regions only: the top-left corner (background) is unchanged.
  const Tensor in = data::read_png_tensor(o.frames + "/redraw-000000.png", 3);
  const Tensor out = data::read_png_tensor(o.out + "/redraw-000000.png", 3);
  REQUIRE(in.shape() == out.shape());
  CHECK(in.data<float>()[0] == out.data<float>()[0]);
  CHECK(!test::same_bytes(in, out));

  // The detector path and the guide's-design selection run (an untrained detector may find
  // nothing: the frames are then written unchanged).
  o.use_boxes = false;
  o.all = false;
  o.detector = det;
  o.out = dir + "/out-det";
  CHECK(redraw::run_pipeline(o) == 0);
  CHECK(fs::exists(o.out + "/redraw.json"));
  CHECK(fs::exists(o.out + "/redraw-000001.png"));

  // Bad input.
  redraw::PipelineOptions bad = o;
  bad.redrawer = enc;
  CHECK_ERROR(redraw::run_pipeline(bad), "not the redrawer stage");
  bad = o;
  bad.guide = o.frames + "/redraw-000000.png";  // 96×128: not a face crop
  CHECK_ERROR(redraw::run_pipeline(bad), "redraw-000000.png: the guide must be a square face crop");
  bad = o;
  fs::create_directories(dir + "/empty");
  bad.frames = dir + "/empty";
  CHECK_ERROR(redraw::run_pipeline(bad), "holds no PNG frames");
  fs::remove_all(dir);
}

}  // TEST_SUITE
