#include "nets/scenimefy/eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/frechet.h"
#include "data/image_quality.h"
#include "data/png.h"
#include "data/scenimefy/cut_folders.h"
#include "data/resize.h"
#include "kernels/log.h"
#include "nets/harness/config.h"
#include "nets/inception/inception.h"
#include "nets/harness/run_files.h"
#include "nets/scenimefy/train.h"
#include "tensor/ops.h"

namespace sakuga::scenimefy {

namespace fs = std::filesystem;

namespace {

// An RGB image in [0, 1] (grey and alpha are converted), naming the file on error.
Tensor read_rgb(const fs::path& f) { return data::read_png_tensor(f.string(), 3); }

}  // namespace

int run_eval(const EvalOptions& o) {
  const fs::path dir(o.data_dir), photos_dir = dir / "trainA", truth_dir = dir / "truth";
  SAKUGA_CHECK(fs::is_directory(photos_dir), "eval scenimefy: ", photos_dir.string(),
               " is missing (--data needs trainA/ and truth/, e.g. from sakuga synth scenimefy)");
  SAKUGA_CHECK(fs::is_directory(truth_dir), "eval scenimefy: ", truth_dir.string(),
               " is missing: the paired metrics need the true rendering of each trainA photo, same name");
  std::vector<std::string> photos = data::scenimefy::list_pngs(photos_dir.string(), false, "");
  SAKUGA_CHECK(!photos.empty(), "eval scenimefy: ", photos_dir.string(), " has no .png photos");
  if (o.limit > 0 && int64_t(photos.size()) > o.limit) photos.resize(size_t(o.limit));
  const Device dev = Device::parse(o.model.device);
  LoadedGenerator m = load_generator(o.model.ckpt, o.model.config_files, o.model.sets, dev);

  harness::Progress progress("eval scenimefy", 0, int64_t(photos.size()), "image");
  data::ImageQuality sum, id_sum;
  std::vector<Tensor> outputs, inputs;
  for (size_t i = 0; i < photos.size(); ++i) {
    const fs::path truth_file = truth_dir / fs::path(photos[i]).filename();
    SAKUGA_CHECK(fs::exists(truth_file), "eval scenimefy: ", photos[i], " has no true rendering ",
                 truth_file.string());
    const Tensor photo = read_rgb(photos[i]), truth = read_rgb(truth_file);
    SAKUGA_CHECK(photo.shape() == truth.shape(), "eval scenimefy: ", photos[i], " is ",
                 photo.size(2), "x", photo.size(1), " but ", truth_file.string(), " is ", truth.size(2), "x",
                 truth.size(1));
    const Tensor out = ops::clamp((translate_any_size(*m.g, photo * 2.0 - 1.0, dev) + 1.0) * 0.5, 0.0, 1.0);
    const data::ImageQuality q = data::image_quality(out, truth), id = data::image_quality(photo, truth);
    sum.l1 += q.l1, sum.psnr += q.psnr, sum.ssim += q.ssim;
    id_sum.l1 += id.l1, id_sum.psnr += id.psnr, id_sum.ssim += id.ssim;
    outputs.push_back(out);
    inputs.push_back(photo);
    if (!o.quiet) progress.update(int64_t(i + 1));
  }
  if (!o.quiet) progress.finish();
  const double n = double(photos.size());
  Json j{{"images", photos.size()},
         {"l1", sum.l1 / n},
         {"psnr", sum.psnr / n},
         {"ssim", sum.ssim / n},
         {"identity", {{"l1", id_sum.l1 / n}, {"psnr", id_sum.psnr / n}, {"ssim", id_sum.ssim / n}}},
         {"checkpoint", o.model.ckpt},
         {"generator", m.kind == "checkpoint" ? m.network : m.kind}};

  // FID / KID of the outputs against the anime domain.
  const fs::path ref_dir = fs::is_directory(dir / "trainB") ? dir / "trainB" : truth_dir;
  std::vector<Tensor> refs;
  for (const std::string& f : data::scenimefy::list_pngs(ref_dir.string(), false, "")) refs.push_back(read_rgb(f));
  if (outputs.size() >= 2 && refs.size() >= 2) {
    Tensor fa, fb, fi;
    if (!o.inception.empty()) {
      auto net = inception::load_inception(o.inception, dev);
      fa = net->pool_features(outputs, dev);
      fb = net->pool_features(refs, dev);
      fi = net->pool_features(inputs, dev);
      j["features"] = "Inception-v3 pool (2048 dims) from " + o.inception;
    } else {
      fa = data::proxy_features(outputs);
      fb = data::proxy_features(refs);
      fi = data::proxy_features(inputs);
      j["features"] = "proxy: 8x8 area-mean RGB (192 dims), not Inception — not comparable to published FID";
    }
    const data::FeatureStats ref_stats = data::feature_stats(fb);
    const data::KidResult kid = data::kernel_inception_distance(fa, fb, 50, 1000, 0);
    const data::KidResult id_kid = data::kernel_inception_distance(fi, fb, 50, 1000, 0);
    j["fid"] = data::frechet_distance(data::feature_stats(fa), ref_stats);
    j["kid"] = kid.mean;
    j["kid_std"] = kid.std;
    j["identity"]["fid"] = data::frechet_distance(data::feature_stats(fi), ref_stats);  // the photos themselves
    j["identity"]["kid"] = id_kid.mean;
    j["reference"] = ref_dir.string();
  }
  fmt::print("scenimefy eval on {} photos of {}:\n", photos.size(), o.data_dir);
  fmt::print("  G(photo) vs truth   L1 {:.4f}  PSNR {:.2f} dB  SSIM {:.4f}\n", sum.l1 / n, sum.psnr / n, sum.ssim / n);
  fmt::print("  identity baseline   L1 {:.4f}  PSNR {:.2f} dB  SSIM {:.4f}\n", id_sum.l1 / n, id_sum.psnr / n,
             id_sum.ssim / n);
  if (j.contains("fid")) {
    fmt::print("  G(photo)  FID {:.3f}  KID {:.5f} ± {:.5f} vs {} ({})\n", j["fid"].get<double>(),
               j["kid"].get<double>(), j["kid_std"].get<double>(), ref_dir.string(), j["features"].get<std::string>());
    fmt::print("  identity  FID {:.3f}  KID {:.5f}\n", j["identity"]["fid"].get<double>(),
               j["identity"]["kid"].get<double>());
  }
  if (!o.json_file.empty()) harness::write_file_atomic(o.json_file, j.dump(2) + "\n");
  return 0;
}

int run_infer(const InferOptions& o) {
  const Device dev = Device::parse(o.model.device);
  LoadedGenerator m = load_generator(o.model.ckpt, o.model.config_files, o.model.sets, dev);
  fs::create_directories(o.out);
  for (const std::string& in : o.inputs) {
    const Tensor photo = read_rgb(in);
    const Tensor out = ops::clamp((translate_any_size(*m.g, photo * 2.0 - 1.0, dev) + 1.0) * 0.5, 0.0, 1.0);
    const fs::path file = fs::path(o.out) / (fs::path(in).stem().string() + ".anime.png");
    data::write_png_tensor(file.string(), out);
    log::info("infer scenimefy: {} ({}x{}) → {}", in, photo.size(2), photo.size(1), file.string());
  }
  return 0;
}

}  // namespace sakuga::scenimefy
