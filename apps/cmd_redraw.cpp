// `sakuga redraw`: the whole redraw pipeline on frames (nets/redraw/pipeline.h).
#include "apps/commands.h"
#include "kernels/common.h"
#include "nets/redraw/pipeline.h"

namespace sakuga::app {

void add_redraw(CLI::App& app, Action& action) {
  static redraw::PipelineOptions a;
  static ComputeOptions compute;
  auto* cmd = app.add_subcommand(
      "redraw", "redraw the eyes of the characters in frames to a guide's design: detect, cluster, redraw, blend");
  auto* det = cmd->add_option("--detector", a.detector, "checkpoint of sakuga train redraw --stage detect")
                  ->check(CLI::ExistingFile);
  auto* boxes = cmd->add_flag("--use-boxes", a.use_boxes,
                              "take the faces and eyes from each frame's NAME.json (the dataset layout) instead of a "
                              "detector");
  det->excludes(boxes);
  cmd->add_option("--encoder", a.encoder, "checkpoint of sakuga train redraw --stage encoder")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--redrawer", a.redrawer, "checkpoint of sakuga train redraw --stage redrawer")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--frames", a.frames, "folder of PNG frames (any size)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--guide", a.guide, "a square face crop of the target design (PNG)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", a.out, "output folder: NAME.png per frame, contact.png, redraw.json")->required();
  cmd->add_flag("--all", a.all, "redraw every detected face, not only those of the guide's design");
  cmd->add_flag("--color-transfer", a.color_transfer,
                "Reinhard colour transfer of the redrawn eyes to the ring around them before the blend (off: the "
                "ring around eyes is skin)");
  cmd->add_option("--face-threshold", a.face_threshold, "ignore detections scored below this")->capture_default_str();
  cmd->add_option("--match-distance", a.match_distance,
                  "a face is of the guide's design when its embedding is within this cosine distance of the guide's")
      ->capture_default_str();
  cmd->add_flag("--quiet", a.quiet, "no summary line");
  compute.add_to(cmd);
  cmd->callback([&action] {
    action = [] {
      SAKUGA_CHECK(a.use_boxes || !a.detector.empty(), "redraw: --detector F is needed (or --use-boxes)");
      a.device = compute.apply();
      return redraw::run_pipeline(a);
    };
  });
}

}  // namespace sakuga::app
