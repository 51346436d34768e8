// The redraw pipeline (nets/redraw/pipeline.h).
#include "nets/redraw/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/canvas.h"
#include "data/png.h"
#include "data/redraw/blend.h"
#include "data/redraw/dataset.h"
#include "data/redraw/pairs.h"
#include "data/resize.h"
#include "kernels/log.h"
#include "nets/harness/run_files.h"
#include "nets/redraw/detect.h"
#include "nets/redraw/encoder.h"
#include "nets/redraw/redrawer.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

namespace fs = std::filesystem;

namespace {

struct Face {
  size_t frame = 0;
  BoxF box;
  double score = 0;
  std::vector<BoxF> eyes;  // eye detections whose centre lies in the face box
  data::redraw::CropWindow window;
  double distance = -1;  // cosine distance of its embedding to the guide's (-1: not embedded, --all)
  bool redrawn = false;
  std::string note;  // why not redrawn
};

std::vector<std::string> frame_files(const std::string& dir) {
  SAKUGA_CHECK(fs::is_directory(dir), "redraw: --frames ", dir, " is not a folder");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && e.path().extension() == ".png" && n.find(".mask.") == std::string::npos)
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  SAKUGA_CHECK(!files.empty(), "redraw: --frames ", dir, " holds no PNG frames");
  return files;
}

data::draw::Box integer_box(const BoxF& b, int64_t h, int64_t w) {
  auto cl = [](double v, int64_t hi) { return int(std::clamp<int64_t>(int64_t(std::llround(v)), 0, hi)); };
  return {cl(b.x0, w), cl(b.y0, h), cl(b.x1, w), cl(b.y1, h)};
}

// The region in the window's crop pixels: the ellipses inscribed in the eye boxes, grown.
Tensor eye_region(const std::vector<BoxF>& eyes, const data::redraw::CropWindow& win, int64_t S, int grow) {
  Tensor m = Tensor::zeros({S, S}, DType::u8);
  uint8_t* p = m.data<uint8_t>();
  const double k = double(S) / double(win.side);
  for (const BoxF& e : eyes) {
    const double cx = ((e.x0 + e.x1) / 2 - double(win.x0)) * k, cy = ((e.y0 + e.y1) / 2 - double(win.y0)) * k;
    const double rx = std::max(1.0, e.width() / 2 * k), ry = std::max(1.0, e.height() / 2 * k);
    for (int64_t y = 0; y < S; ++y)
      for (int64_t x = 0; x < S; ++x) {
        const double dx = (double(x) + 0.5 - cx) / rx, dy = (double(y) + 0.5 - cy) / ry;
        if (dx * dx + dy * dy <= 1) p[y * S + x] = 1;
      }
  }
  return data::redraw::dilate_mask(m, grow);
}

// The (side, side) u8 mask nearest-resampled from (S, S), placed in an (H, W) frame mask.
void place_mask(const Tensor& crop_mask, const data::redraw::CropWindow& win, Tensor& frame_mask) {
  const int64_t S = crop_mask.size(0), W = frame_mask.size(1);
  const uint8_t* c = crop_mask.data<uint8_t>();
  uint8_t* f = frame_mask.data<uint8_t>();
  for (int64_t y = 0; y < win.side; ++y)
    for (int64_t x = 0; x < win.side; ++x)
      if (c[(y * S / win.side) * S + x * S / win.side]) f[(win.y0 + y) * W + win.x0 + x] = 1;
}

}  // namespace

int run_pipeline(const PipelineOptions& o) {
  const Device dev = Device::parse(o.device);
  ModelSource ms;
  ms.device = o.device;
  ms.ckpt = o.detector;
  LoadedDetector det;
  if (!o.use_boxes) det = load_detector(ms);
  const LoadedEncoder enc = load_encoder(o.encoder, {}, {}, dev);
  ModelSource rs = ms;
  rs.ckpt = o.redrawer;
  const RedrawerModel red = load_redrawer(rs);
  const int64_t S = red.settings.crops.size, ES = enc.settings.crop_size;

  const Tensor guide_img = data::read_png_tensor(o.guide, 3);
  SAKUGA_CHECK(guide_img.size(1) == guide_img.size(2), o.guide, ": the guide must be a square face crop (as sakuga synth "
               "redraw writes them), got ", guide_img.size(1), "x", guide_img.size(2));
  SAKUGA_CHECK(guide_img.size(1) >= 16, o.guide, ": the guide is ", guide_img.size(1), " px: too small for a face crop");
  const Tensor guide_g = data::resize_area(guide_img, S, S), guide_e = data::resize_area(guide_img, ES, ES);

  const std::vector<std::string> files = frame_files(o.frames);
  fs::create_directories(o.out);
  std::vector<Tensor> frames;
  for (const std::string& f : files) frames.push_back(data::read_png_tensor(f, 3));
  std::vector<std::vector<data::redraw::LabeledBox>> boxes;
  if (o.use_boxes) {
    const std::vector<data::redraw::FrameEntry> entries = data::redraw::read_frames(o.frames);
    for (const std::string& f : files) {
      const auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return fs::path(e.image).filename() == fs::path(f).filename(); });
      SAKUGA_CHECK(it != entries.end(), f, ": no boxes for this frame (--use-boxes reads NAME.json beside NAME.png)");
      boxes.push_back(it->boxes);
    }
  }

  // 1. Detect.
  std::vector<Face> faces;
  for (size_t i = 0; i < frames.size(); ++i) {
    const int64_t H = frames[i].size(1), W = frames[i].size(2);
    FramesResult r;
    if (o.use_boxes) {  // the frame's own boxes (score 1)
      r.detections.emplace_back();
      for (const data::redraw::LabeledBox& b : boxes.at(i))
        r.detections[0].push_back({b.kind == data::redraw::BoxKind::face ? 0 : 1,
                                   BoxF{double(b.box.x0), double(b.box.y0), double(b.box.x1), double(b.box.y1)}, 1.0});
    } else {
      r = detect_frames(*det.net, {frames[i]}, det.settings, o.face_threshold, dev);
    }
    std::vector<BoxF> eyes;
    for (const Detection& d : r.detections[0])
      if (d.kind == 1) eyes.push_back(d.box);
    for (const Detection& d : r.detections[0]) {
      if (d.kind != 0) continue;
      const data::draw::Box ib = integer_box(d.box, H, W);
      if (ib.x1 <= ib.x0 || ib.y1 <= ib.y0) continue;
      Face f;
      f.frame = i;
      f.box = d.box;
      f.score = d.score;
      for (const BoxF& e : eyes) {
        const double cx = (e.x0 + e.x1) / 2, cy = (e.y0 + e.y1) / 2;
        if (cx >= d.box.x0 && cx < d.box.x1 && cy >= d.box.y0 && cy < d.box.y1) f.eyes.push_back(e);
      }
      f.window = data::redraw::face_crop_window(ib, H, W);
      faces.push_back(f);
    }
  }

  // 2. Cluster the faces with the guide (references: the faces of the same frame, one production).
  if (!faces.empty() && !o.all) {
    CropSet set;
    std::vector<Tensor> crops{guide_e};
    set.production.push_back(-1);
    set.design.push_back(0);
    set.names.push_back(o.guide);
    for (const Face& f : faces) {
      crops.push_back(data::redraw::crop_image(frames[f.frame], f.window, ES));
      set.production.push_back(int(f.frame));
      set.design.push_back(0);
      set.names.push_back(files[f.frame]);
    }
    set.images = ops::stack(crops, 0);
    const SetEmbeddings e = embed_set(*enc.net, set, enc.settings.style_refs, 0, dev);
    // Unit rows: the cosine distance of each face to the guide.
    const std::vector<float> emb = e.e.contiguous().to_vector();
    const int64_t D = e.e.size(1);
    for (size_t i = 0; i < faces.size(); ++i) {
      double dot = 0;
      for (int64_t k = 0; k < D; ++k) dot += double(emb[size_t(k)]) * double(emb[size_t((int64_t(i) + 1) * D + k)]);
      faces[i].distance = 1 - dot;
      if (faces[i].distance > o.match_distance)
        faces[i].note = fmt::format("another design than the guide's (cosine distance {:.3f} > {:.3f})",
                                    faces[i].distance, o.match_distance);
    }
  }

  // 3. Redraw, colour transfer, blend.
  std::vector<Tensor> out_frames = frames;
  std::vector<std::vector<Tensor>> sheet;
  NoGradGuard ng;
  for (Face& f : faces) {
    if (!f.note.empty()) continue;
    if (f.eyes.empty()) {
      f.note = "no eye detected in the face";
      continue;
    }
    const Tensor region = eye_region(f.eyes, f.window, S, o.eye_grow);
    const Tensor l = data::redraw::crop_image(out_frames[f.frame], f.window, S);
    const Tensor m4 = ops::reshape(region.to(DType::f32), {1, 1, S, S}).to(dev);
    const Tensor g = ops::select(red.g->redraw(ops::unsqueeze(l, 0).to(dev), ops::unsqueeze(guide_g, 0).to(dev), m4), 0, 0)
                         .to(Device::cpu())
                         .contiguous();
    // G's crop back at the window's size, over a copy of the frame; the region in frame pixels.
    Tensor& frame = out_frames[f.frame];
    const int64_t H = frame.size(1), W = frame.size(2);
    Tensor patch = frame.clone();
    {
      const Tensor up = data::resize_area(g, f.window.side, f.window.side);
      const float* u = up.data<float>();
      float* p = patch.data<float>();
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < f.window.side; ++y)
          for (int64_t x = 0; x < f.window.side; ++x)
            p[(c * H + f.window.y0 + y) * W + f.window.x0 + x] = u[(c * f.window.side + y) * f.window.side + x];
    }
    Tensor mask = Tensor::zeros({H, W}, DType::u8);
    place_mask(region, f.window, mask);
    patch = border_extended(patch, mask);  // the blend's guidance across the border: G's own
    if (o.color_transfer) patch = data::redraw::color_transfer(frame, patch, mask);
    const Tensor before = l;
    frame = data::redraw::poisson_blend(frame.to(dev), patch.to(dev), mask.to(dev)).image.to(Device::cpu());
    f.redrawn = true;
    sheet.push_back({before, guide_g, data::redraw::crop_image(frame, f.window, S)});
  }

  // 4. Write.
  Json report = Json::object();
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = fs::path(files[i]).filename().string();
    data::write_png_tensor((fs::path(o.out) / name).string(), ops::clamp(out_frames[i], 0.0, 1.0));
    Json list = Json::array();
    for (const Face& f : faces)
      if (f.frame == i)
        list.push_back({{"box", {f.box.x0, f.box.y0, f.box.x1, f.box.y1}},
                        {"score", f.score},
                        {"eyes", int(f.eyes.size())},
                        {"distance", f.distance},
                        {"redrawn", f.redrawn},
                        {"note", f.note}});
    report[name] = list;
  }
  harness::write_file_atomic((fs::path(o.out) / "redraw.json").string(), report.dump(2) + "\n");
  int64_t redrawn = 0;
  for (const Face& f : faces) redrawn += f.redrawn;
  if (!sheet.empty()) {
    std::vector<std::vector<Tensor>> rows;
    for (auto& r : sheet) {
      std::vector<Tensor> row;
      for (const Tensor& t : r) row.push_back(ops::clamp(t, 0.0, 1.0).contiguous());
      rows.push_back(row);
    }
    data::write_png_tensor((fs::path(o.out) / "contact.png").string(),
                           data::image_grid(rows, data::GridLabels{{"before", "guide", "after"}, {}}));
  }
  if (!o.quiet)
    log::info("redraw: {} frames, {} faces detected, {} redrawn{}; wrote {}", files.size(), faces.size(), redrawn,
              o.all ? " (--all)" : " (the guide's design)", o.out);
  return 0;
}

}  // namespace sakuga::redraw
