// `sakuga redraw`: the whole redraw pipeline on frames (nets/redraw/pipeline.h).
#include "apps/commands.h"
#include "nets/redraw/pipeline.h"

namespace sakuga::app {

void add_redraw(CLI::App& app, Action& action) {
  static redraw::PipelineOptions a;
  static ComputeOptions compute;
  auto* cmd = app.add_subcommand(
      "redraw", "redraw the eyes of the characters in frames to a guide's design: detect, cluster, redraw, blend");
  cmd->add_option("--detector", a.detector, "checkpoint of sakuga train redraw --stage detect")
      ->required()
      ->check(CLI::ExistingFile);
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
  cmd->add_flag_callback("--no-color-transfer", [] { a.color_transfer = false; },
                         "skip the colour transfer before the Poisson blend");
  cmd->add_option("--face-threshold", a.face_threshold, "ignore detections scored below this")->capture_default_str();
  cmd->add_flag("--quiet", a.quiet, "no summary line");
  compute.add_to(cmd);
  cmd->callback([&action] {
    action = [] {
      a.device = compute.apply();
      return redraw::run_pipeline(a);
    };
  });
}

}  // namespace sakuga::app
