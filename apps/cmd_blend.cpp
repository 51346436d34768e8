// `sakuga blend`: the redraw post-processing alone (redraw.md "Pinned interfaces"): Reinhard
// colour transfer of the patch to the frame's ring around the mask (unless
// --no-color-transfer), then the Poisson blend of the patch into the frame.
#include <fmt/format.h>

#include <chrono>

#include "apps/commands.h"
#include "data/png.h"
#include "data/redraw/blend.h"

namespace sakuga::app {

namespace {

struct BlendArgs {
  std::string frame, patch, mask, out;
  bool no_color_transfer = false;
  int64_t ring = data::redraw::kDefaultRingWidth;
  ComputeOptions compute;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// An RGB image of the frame's size (gray is replicated, alpha dropped), as (3, H, W) in [0, 1].
Tensor read_rgb(const std::string& path, const char* what, const data::Image* frame, const std::string& frame_path) {
  const data::Image img = data::read_png(path);
  if (frame)
    SAKUGA_CHECK(img.height == frame->height && img.width == frame->width, path, ": ", what, " is ", img.height, "x",
                 img.width, ", expected the frame's size ", frame->height, "x", frame->width, " (", frame_path, ")");
  return data::image_to_tensor(data::convert_channels(img, 3));
}

// The mask as (H, W) u8: grey (luma of colour images, alpha dropped) above half range = inside.
Tensor read_mask(const std::string& path, const data::Image& frame, const std::string& frame_path) {
  const data::Image img = data::convert_channels(data::read_png(path), 1);
  SAKUGA_CHECK(img.height == frame.height && img.width == frame.width, path, ": mask is ", img.height, "x", img.width,
               ", expected the frame's size ", frame.height, "x", frame.width, " (", frame_path, ")");
  Tensor mask = Tensor::empty({img.height, img.width}, DType::u8);
  uint8_t* m = mask.data<uint8_t>();
  int64_t inside = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    m[i] = 2 * int(img.pixels[i]) > img.max_value() ? 1 : 0;  // 8-bit: > 127
    inside += m[i];
  }
  SAKUGA_CHECK(inside > 0, path, ": the mask is empty (no pixel above 127): expected white where the patch goes");
  SAKUGA_CHECK(inside < mask.numel(), path, ": the mask covers the whole frame: the Poisson blend needs frame pixels "
               "outside it as its boundary");
  return mask;
}

int run_blend(const BlendArgs& a) {
  const Device dev = Device::parse(a.compute.apply());
  const data::Image frame_img = data::read_png(a.frame);
  const Tensor frame = data::image_to_tensor(data::convert_channels(frame_img, 3));  // (3, H, W)
  Tensor patch = read_rgb(a.patch, "patch", &frame_img, a.frame);
  const Tensor mask = read_mask(a.mask, frame_img, a.frame);  // (H, W)

  if (!a.no_color_transfer) {
    const auto t0 = std::chrono::steady_clock::now();
    patch = data::redraw::color_transfer(frame, patch, mask, a.ring);
    fmt::print("blend: colour transfer in Lab to the frame's {} px ring: {:.1f} ms\n", a.ring, ms_since(t0));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const data::redraw::BlendResult res = data::redraw::poisson_blend(frame.to(dev), patch.to(dev), mask.to(dev));
  const Tensor image = res.image.cpu();
  const double ms = ms_since(t0);
  const kernels::PoissonStats& st = res.stats;
  fmt::print("blend: Poisson on {}: {} unknowns x 3 channels, {} {} (most of a channel), residual {:.3g} (target "
             "{:.3g}), error bound {:.3f}/255, {:.1f} ms\n",
             dev.str(), st.unknowns, st.iterations, dev.is_cuda() ? "SOR sweeps" : "CG iterations", st.residual,
             st.residual_target, st.error_bound * 255, ms);
  SAKUGA_CHECK(st.converged, a.mask, ": the Poisson solve stopped at its iteration cap (", st.iterations,
               ") with residual ", st.residual, " above the target ", st.residual_target);
  data::write_png_tensor(a.out, image);
  fmt::print("blend: wrote {}\n", a.out);
  return 0;
}

}  // namespace

void add_blend(CLI::App& app, Action& action) {
  static BlendArgs a;
  auto* cmd = app.add_subcommand("blend", "colour-transfer and Poisson-blend a redrawn patch into its frame");
  cmd->add_option("--frame", a.frame, "the frame (PNG)")->required();
  cmd->add_option("--patch", a.patch, "the redrawn image, the frame's size (PNG)")->required();
  cmd->add_option("--mask", a.mask, "the region, the frame's size: grey > 127 = inside (PNG)")->required();
  cmd->add_option("--out", a.out, "the blended frame (PNG)")->required();
  cmd->add_flag("--no-color-transfer", a.no_color_transfer, "blend the patch as it is");
  cmd->add_option("--ring", a.ring, "width in px of the frame ring the colour statistics come from")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  a.compute.add_to(cmd);
  cmd->callback([&action] { action = [] { return run_blend(a); }; });
}

}  // namespace sakuga::app
