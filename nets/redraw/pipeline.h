#pragma once
// `sakuga redraw` (redraw.md "Pipeline", "Pinned interfaces"): the whole pipeline on frames —
// detect faces and eyes → embed every face and the guide with the style-aware encoder (the faces
// of one frame are each other's style references: one frame, one production) → keep the faces
// within `match_distance` (cosine) of the guide (or all with --all) → redraw each face's eye
// region with G toward the guide (the region: ellipses inscribed in the detected eye boxes) →
// colour transfer (opt-in) → Poisson blend of G's crop back into the frame. Writes OUT/NAME.png
// per frame (every frame, redrawn or not), OUT/contact.png (a row per redrawn face: before, the
// guide, after) and OUT/redraw.json (per frame: the faces found, their distance to the guide,
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
  bool use_boxes = false;           // take the faces and eyes from the frames' NAME.json, not the detector
  // Reinhard transfer of the patch inside the region to the frame's ring around it (sakuga
  // blend's). Off by default here: around eyes the ring is skin, and matching the eyes' Lab
  // statistics to it recolours the irises toward the skin (seen on the synthetic frames).
  bool color_transfer = false;
  double face_threshold = 0.3;      // detections below this score are ignored
  double match_distance = 0.3;      // a face of the guide's design: cosine distance to it at most this (ours)
  int eye_grow = 1;                 // the region: ellipses inscribed in the eye boxes, grown by this (crop px)
  std::string device = "cpu";
  bool quiet = false;
};

int run_pipeline(const PipelineOptions& o);

}  // namespace sakuga::redraw
