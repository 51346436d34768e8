#pragma once
// Redraw's data on disk (redraw.md "Data", docs/redraw.md "Data"): the readers of
//   frames/NAME.png + frames/NAME.json   whole frames with their boxes,
//                                        {"boxes": [{"kind": "face" | "eye", "box": [x0, y0, x1, y1],
//                                                    "production": P, "design": D}, …]}
//                                        pixels, x1 / y1 exclusive; other top-level keys are ignored
//   crops/<production>/<design>/X.png + X.mask.png   crops of one design (mask: white = the
//                                                     eye region to redraw)
// as `sakuga synth redraw` (data/redraw/synth.h) writes them and user datasets provide them.
// Every failure throws sakuga::Error naming the file and what was expected.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/draw.h"
#include "tensor/tensor.h"

namespace sakuga::data::redraw {

enum class BoxKind { face, eye };
const char* box_kind_name(BoxKind k);  // "face" | "eye"

struct LabeledBox {
  BoxKind kind = BoxKind::face;
  draw::Box box{0, 0, 0, 0};  // frame pixels, x1 / y1 exclusive
  int production = -1;        // −1: not given (optional in user data: a detector needs none)
  int design = -1;            // −1: not given
  int character = -1;         // which figure of the frame (crop NAME_k): set by the generator in
                              // memory, read from an optional "character" key, never written
  bool operator==(const LabeledBox& o) const {
    return kind == o.kind && box.x0 == o.box.x0 && box.y0 == o.box.y0 && box.x1 == o.box.x1 && box.y1 == o.box.y1 &&
           production == o.production && design == o.design && character == o.character;
  }
};

// One box as JSON: exactly the pinned {"kind", "box", "production", "design"} (ids −1 are left
// out; `character` is not written: in a frame's list the k-th face box is character k).
nlohmann::json to_json(const LabeledBox& b);
// The "boxes" of a frame's JSON for a frame of height × width. Each box needs "kind" ("face" or
// "eye") and "box" (four whole numbers with 0 ≤ x0 < x1 ≤ width, 0 ≤ y0 < y1 ≤ height);
// "production", "design" and "character" are optional non-negative integers; any other key of
// a box is an error (a typo would silently drop a label). `where` names the file in errors.
std::vector<LabeledBox> parse_boxes(const nlohmann::json& frame_json, int64_t height, int64_t width,
                                    const std::string& where);

struct FrameEntry {
  std::string name;         // NAME
  std::string image, json;  // DIR/NAME.png, DIR/NAME.json
  int64_t height = 0, width = 0;
  std::vector<LabeledBox> boxes;
};
// Every NAME.png of `dir` (the frames/ folder), sorted by name, with its NAME.json parsed and
// checked against the PNG's size (read from its header). Errors: a missing folder, no frames, a
// PNG without its JSON or a JSON without its PNG, unreadable JSON, any bad box.
std::vector<FrameEntry> read_frames(const std::string& dir);

struct CropEntry {
  std::string image, mask;  // DIR/<production>/<design>/X.png and X.mask.png
  std::string name;         // X
  std::string production_name, design_name;  // the folder names
  int production = 0, design = 0;            // ids (see list_crops)
};
// The crops of `dir` (the crops/ folder): DIR/<production>/<design>/X.png each with its
// X.mask.png, sorted by (production, design, name). Ids: when every production folder name is
// a decimal integer, the id is that integer, else the index of the name in sorted order; the
// same for the design folder names over all productions (a design of one name is one design
// in every production). Errors: a missing folder, no production folders, a production folder
// with no design folders, a design folder with no crops, a crop without its mask, a mask
// without its crop. Pixels are not read (read_crop does).
std::vector<CropEntry> list_crops(const std::string& dir);

struct Crop {
  Tensor image;  // (3, S, S') f32 in [0, 1] (grey replicated, alpha dropped)
  Tensor mask;   // (S, S') u8 {0, 1}: grey above half range = the region
};
// Reads a crop and its mask. Errors: unreadable PNGs, a mask of another size than its crop, an
// empty mask (no pixel above 127).
Crop read_crop(const CropEntry& entry);

// The productions listed as held out ("unseen") in DIR/redraw.json (written by `sakuga synth
// redraw`), or none when DIR holds no redraw.json (a user dataset: every production is seen).
std::vector<int> held_out_productions(const std::string& dataset_dir);

}  // namespace sakuga::data::redraw
