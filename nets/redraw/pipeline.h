#pragma once
// `sakuga redraw` (redraw.md "Pipeline", "Pinned interfaces"): the whole pipeline on frames —
// detect faces and eyes → embed every face with the style-aware encoder and cluster them with
// the guide → keep the faces in the guide's cluster (or all with --all) → redraw each face's eye
// region with G toward the guide → colour transfer → Poisson blend back into the frame. Writes
// OUT/NAME.png per frame (every frame, redrawn or not), OUT/contact.png (a row per redrawn face:
// before, the guide, after) and OUT/redraw.json (per frame: the faces found, their cluster,
// whether they were redrawn, and why not).
#include <string>
#include <vector>

namespace sakuga::redraw {

struct PipelineOptions {
  std::string detector, encoder, redrawer;  // checkpoints of the three stages
  std::string frames;                       // a folder of PNG frames (any size), or frames/ of a dataset
  std::string guide;                        // a square face crop of the target design
  std::string out;
  bool all = false;                 // redraw every face, not only the guide's design
  bool color_transfer = true;       // Reinhard transfer of the patch to the ring around the region
  double face_threshold = 0.3;      // detections below this score are ignored
  int eye_grow = 1;                 // the region: ellipses inscribed in the eye boxes, grown by this (crop px)
  std::string device = "cpu";
  bool quiet = false;
};

int run_pipeline(const PipelineOptions& o);

}  // namespace sakuga::redraw
