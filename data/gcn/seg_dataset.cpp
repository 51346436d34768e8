#include "data/gcn/seg_dataset.h"

#include "kernels/log.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <set>
#include <system_error>

#include "data/gcn/douga.h"
#include "data/png.h"
#include "tensor/autograd.h"

namespace sakuga::data {

namespace fs = std::filesystem;

SegTask parse_seg_task(const std::string& s) {
  if (s == "cel") return SegTask::cel;
  if (s == "douga") return SegTask::douga;
  SAKUGA_FAIL("unknown segmentation task '", s, "' (expected 'cel' or 'douga')");
}

const char* seg_task_name(SegTask t) { return t == SegTask::cel ? "cel" : "douga"; }

namespace {

std::string join(const std::string& dir, const std::string& sub) { return (fs::path(dir) / sub).string(); }

bool is_png_name(const std::string& name) {
  if (name.size() <= 4) return false;
  std::string ext = name.substr(name.size() - 4);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

bool is_dir(const std::string& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Sorted *.png file names (not paths) directly inside `dir` (regular files and links to them).
std::vector<std::string> list_pngs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  SAKUGA_CHECK(!ec, "cannot list folder ", dir, ": ", ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    SAKUGA_CHECK(!ec, "cannot list folder ", dir, ": ", ec.message());
    const std::string name = it->path().filename().string();
    if (!is_png_name(name)) continue;
    std::error_code ec2;
    if (it->is_directory(ec2)) continue;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string layout(SegTask task) {
  return task == SegTask::cel ? "a cel dataset holds DIR/frames/NAME.png + DIR/masks/NAME.png"
                              : "a douga dataset holds DIR/frames/NAME.png + DIR/douga/NAME.png [+ DIR/masks/NAME.png]";
}

std::string size_str(const PngInfo& i) { return std::to_string(i.width) + "x" + std::to_string(i.height); }

// Runs f; a sakuga::Error that does not already name `path` gets it prefixed.
template <class F>
auto naming(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(path) != std::string::npos) throw;
    throw Error(path + ": " + msg);
  }
}

// 8-bit-scaled gray value of every pixel > 127 → 1.
Tensor mask_from_image(const Image& img0) {
  Image img = img0.channels == 1 ? img0 : convert_channels(img0, 1);
  NoGradGuard ng;
  Tensor t = Tensor::empty({1, img.height, img.width}, DType::f32);
  float* p = t.data<float>();
  const bool sixteen = img.bit_depth == 16;
  const size_t n = size_t(img.height) * size_t(img.width);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t v = img.pixels[i];
    const uint32_t v8 = sixteen ? (v * 255u + 32767u) / 65535u : v;
    p[i] = v8 > 127 ? 1.0f : 0.0f;
  }
  return t;
}

}  // namespace

SegDataset::SegDataset(const std::string& dir, SegTask task, const SegDatasetOptions& opt)
    : dir_(dir), task_(task), opt_(opt) {
  const std::string what = std::string("SegDataset (") + seg_task_name(task) + ")";
  SAKUGA_CHECK(is_dir(dir), what, ": dataset folder ", dir, " does not exist or is not a folder (", layout(task),
               ")");
  const std::string frames_dir = join(dir, "frames");
  const std::string partner_sub = task == SegTask::cel ? "masks" : "douga";
  const std::string partner_dir = join(dir, partner_sub);
  const std::string masks_dir = join(dir, "masks");
  SAKUGA_CHECK(is_dir(frames_dir), what, ": missing folder ", frames_dir, " (", layout(task), ")");
  SAKUGA_CHECK(is_dir(partner_dir), what, ": missing folder ", partner_dir, " (", layout(task), ")");
  const bool douga_masks = task == SegTask::douga && is_dir(masks_dir);
  SAKUGA_CHECK(task == SegTask::cel || !opt.require_masks || douga_masks, what, ": missing folder ", masks_dir,
               " (the manual-cel variant needs DIR/masks/NAME.png for every frame; ", layout(task), ")");

  const std::vector<std::string> frames = list_pngs(frames_dir);
  SAKUGA_CHECK(!frames.empty(), what, ": no frames: folder ", frames_dir, " holds no *.png file (", layout(task),
               ")");

  auto bad = [&](const std::string& msg) {
    if (!opt.skip_bad) throw Error(what + " " + dir + ": " + msg);
    log::warn("{} {}: skipping: {}", what, dir, msg);
    ++skipped_;
  };

  // Partners without a frame.
  const std::set<std::string> frame_set(frames.begin(), frames.end());
  std::vector<std::string> partner_dirs = {partner_dir};
  if (douga_masks) partner_dirs.push_back(masks_dir);
  for (const std::string& pd : partner_dirs)
    for (const std::string& name : list_pngs(pd))
      if (!frame_set.count(name))
        bad(join(pd, name) + " has no frame " + join(frames_dir, name) + " (" + layout(task) + ")");

  bool all_masks = task == SegTask::cel || douga_masks;
  for (const std::string& name : frames) {
    const std::string frame = join(frames_dir, name);
    const std::string partner = join(partner_dir, name);
    try {
      if (!exists(partner))
        throw Error("frame " + frame + " has no partner " + partner + " (" + layout(task) + ")");
      const PngInfo fi = read_png_info(frame);
      const PngInfo pi = read_png_info(partner);
      if (fi.width != pi.width || fi.height != pi.height)
        throw Error("size mismatch: frame " + frame + " is " + size_str(fi) + " (WxH) but " + partner + " is " +
                    size_str(pi));
      bool mask_here = task == SegTask::cel;
      if (douga_masks) {
        const std::string mask = join(masks_dir, name);
        if (exists(mask)) {
          const PngInfo mi = read_png_info(mask);
          if (fi.width != mi.width || fi.height != mi.height)
            throw Error("size mismatch: frame " + frame + " is " + size_str(fi) + " (WxH) but " + mask + " is " +
                        size_str(mi));
          mask_here = true;
        } else if (opt.require_masks) {
          throw Error("frame " + frame + " has no cel mask " + mask +
                      " (the manual-cel variant needs DIR/masks/NAME.png for every frame)");
        }
      }
      if (!mask_here) all_masks = false;
      names_.push_back(name);
    } catch (const Error& e) {
      bad(e.what());
    }
  }
  SAKUGA_CHECK(!names_.empty(), what, " ", dir, ": no usable frame pairs (", skipped_, " skipped; ", layout(task),
               ")");
  has_masks_ = all_masks;

  for (auto [sub, out] : {std::pair<const char*, std::vector<std::string>*>{"backgrounds", &backgrounds_},
                          std::pair<const char*, std::vector<std::string>*>{"textures", &textures_}}) {
    const std::string d = join(dir, sub);
    if (!is_dir(d)) continue;
    for (const std::string& name : list_pngs(d)) out->push_back(join(d, name));
  }
}

std::vector<size_t> SegDataset::split(bool validation, double val_fraction) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < names_.size(); ++i)
    if (is_validation_name(names_[i], val_fraction) == validation) out.push_back(i);
  return out;
}

SegSample SegDataset::load(size_t index) const {
  SAKUGA_CHECK(index < names_.size(), "SegDataset::load: index ", index, " out of range (", names_.size(),
               " samples in ", dir_, ")");
  SegSample s;
  s.name = names_[index];
  const std::string frame = join(join(dir_, "frames"), s.name);
  const Image fimg = read_png(frame);  // errors name the file
  s.frame = naming(frame, [&] { return image_to_tensor(convert_channels(fimg, 3)); });
  auto check_size = [&](const std::string& path, const Image& img) {
    if (img.height != fimg.height || img.width != fimg.width)
      SAKUGA_FAIL("size mismatch: frame ", frame, " is ", fimg.width, "x", fimg.height, " (WxH) but ", path, " is ",
                  img.width, "x", img.height);
  };
  if (has_masks_) {
    const std::string mask = join(join(dir_, "masks"), s.name);
    const Image mimg = read_png(mask);
    check_size(mask, mimg);
    s.mask = naming(mask, [&] { return mask_from_image(mimg); });
  }
  if (task_ == SegTask::douga) {
    const std::string douga = join(join(dir_, "douga"), s.name);
    const Image dimg = read_png(douga);
    check_size(douga, dimg);
    s.douga = naming(douga, [&] { return douga_from_image(dimg); });
  }
  return s;
}

}  // namespace sakuga::data
