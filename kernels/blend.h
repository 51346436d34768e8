#pragma once
// Redraw post-processing family (redraw.md "Post-processing", item 6) on planar images:
// Reinhard colour transfer in CIE Lab, and Poisson blending of a patch into a frame.
//
// Conventions
// - Images are planar (C, H, W) f32, sRGB values nominally in [0, 1]; masks are (H, W) u8,
//   any nonzero value counts as inside. Results are not clamped (the PNG writer clamps).
// - Colour: sRGB (IEC 61966-2-1, D65) → linear RGB → CIE XYZ → CIE L*a*b* (D65 white) and back,
//   in double. The sRGB transfer curve is extended to values outside [0, 1] as an odd function,
//   so colours that leave the gamut after a transfer still round-trip exactly.
// - Poisson blending solves, per channel, the 4-neighbour discrete Poisson equation with
//   OpenCV seamlessClone's "normal clone" guidance field (the patch's own Laplacian):
//       |N(p)| f_p − Σ_{q∈N(p)} f_q = Σ_{q∈N(p)} (patch_p − patch_q)      for every p in the mask,
//   f_q = frame_q for q outside the mask (Dirichlet). N(p) are the 4-neighbours of p that lie
//   inside the image: a neighbour beyond the image border is absent (a zero-flux, Neumann
//   border; the same as mirroring the image there). Pixels outside the mask keep the frame.
//   A mask that covers the whole image has no Dirichlet pixel (the system is singular) and is
//   rejected; every other mask gives a symmetric positive definite system.
// - Both devices stop on the same max-norm residual bound (poisson_plan): the error to the exact
//   discrete solution is at most ‖r‖∞ · ‖A⁻¹‖∞, and ‖A⁻¹‖∞ is bounded by the torsion function of
//   a strip containing the mask (see poisson_plan), so stopping at ‖r‖∞ ≤ tolerance / bound
//   guarantees |f − f_exact| ≤ tolerance everywhere.
#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace sakuga::kernels {

// ---- sRGB ↔ CIE Lab (D65), per pixel ------------------------------------------------------
SAKUGA_HD double blend_srgb_to_linear(double c) {
  const double a = c < 0 ? -c : c;
  const double v = a <= 0.04045 ? a / 12.92 : pow((a + 0.055) / 1.055, 2.4);
  return c < 0 ? -v : v;
}
SAKUGA_HD double blend_linear_to_srgb(double c) {
  const double a = c < 0 ? -c : c;
  const double v = a <= 0.0031308 ? 12.92 * a : 1.055 * pow(a, 1.0 / 2.4) - 0.055;
  return c < 0 ? -v : v;
}

// D65 reference white (X, Y, Z) of the sRGB matrix below (its rows' sums), so that white maps
// to exactly (100, 0, 0).
constexpr double kBlendWhiteX = 0.4124564 + 0.3575761 + 0.1804375;
constexpr double kBlendWhiteY = 0.2126729 + 0.7151522 + 0.0721750;
constexpr double kBlendWhiteZ = 0.0193339 + 0.1191920 + 0.9503041;

// CIE f(t) = t^(1/3) above (6/29)³, its tangent line below; and its inverse.
SAKUGA_HD double blend_lab_f(double t) {
  constexpr double d = 6.0 / 29.0;
  return t > d * d * d ? cbrt(t) : t / (3 * d * d) + 4.0 / 29.0;
}
SAKUGA_HD double blend_lab_finv(double t) {
  constexpr double d = 6.0 / 29.0;
  return t > d ? t * t * t : 3 * d * d * (t - 4.0 / 29.0);
}

// rgb: sRGB in [0, 1] (any value accepted) → lab: L* in [0, 100], a*, b*.
SAKUGA_HD void blend_srgb_to_lab(const double rgb[3], double lab[3]) {
  const double r = blend_srgb_to_linear(rgb[0]), g = blend_srgb_to_linear(rgb[1]), b = blend_srgb_to_linear(rgb[2]);
  const double X = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const double Y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double Z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  const double fx = blend_lab_f(X / kBlendWhiteX), fy = blend_lab_f(Y / kBlendWhiteY), fz = blend_lab_f(Z / kBlendWhiteZ);
  lab[0] = 116 * fy - 16;
  lab[1] = 500 * (fx - fy);
  lab[2] = 200 * (fy - fz);
}

// The inverse of blend_srgb_to_lab. The XYZ → linear RGB matrix is the exact inverse of the
// forward matrix (numpy.linalg.inv of it, in double), so the round trip is exact up to rounding.
SAKUGA_HD void blend_lab_to_srgb(const double lab[3], double rgb[3]) {
  const double fy = (lab[0] + 16) / 116, fx = fy + lab[1] / 500, fz = fy - lab[2] / 200;
  const double X = kBlendWhiteX * blend_lab_finv(fx), Y = kBlendWhiteY * blend_lab_finv(fy),
               Z = kBlendWhiteZ * blend_lab_finv(fz);
  const double r = 3.2404548360214087 * X - 1.5371388501025751 * Y - 0.498531546868481 * Z;
  const double g = -0.9692663898756538 * X + 1.876010928842491 * Y + 0.041556082346673545 * Z;
  const double b = 0.05564341960421367 * X - 0.20402585426769818 * Y + 1.057225162457929 * Z;
  rgb[0] = blend_linear_to_srgb(r);
  rgb[1] = blend_linear_to_srgb(g);
  rgb[2] = blend_linear_to_srgb(b);
}

// ---- Poisson blending -----------------------------------------------------------------------
struct PoissonOptions {
  // Largest allowed difference to the exact discrete solution, in intensity units (1 = the full
  // range); the pinned requirement is 1/255, the default keeps a margin below it.
  double tolerance = 0.25 / 255;
  // Iteration cap per channel; 0 = automatic (CPU: 4·unknowns + 100 CG iterations; CUDA:
  // 400·(the larger side of the mask's box) + 1000 SOR sweeps).
  int64_t max_iterations = 0;
};

// What both devices derive from the mask before solving.
struct PoissonPlan {
  int64_t unknowns = 0;                 // mask pixels
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;  // bounding box of the mask, [y0, y1) × [x0, x1)
  // Upper bound of ‖A⁻¹‖∞. A⁻¹ ≥ 0 and grows with the domain (maximum principle), so ‖A⁻¹‖∞ =
  // max(A⁻¹·1) is at most the discrete torsion function of any Dirichlet region containing the
  // mask: a strip of width L has max (L + 1)² / 8. L is the bounding box's height or width
  // (the smaller usable one); a side of the box on the image border doubles it (the Neumann
  // border is a mirror), both sides on the border make that direction unusable. When neither
  // direction is usable (the mask touches all four borders) the bound falls back to the image's
  // doubled larger side — a heuristic there, not a proof.
  double inverse_norm_bound = 0;
  double strip_width = 0;      // the L above
  double residual_target = 0;  // stop when ‖r‖∞ ≤ this = options.tolerance / inverse_norm_bound
  int64_t max_iterations = 0;  // per channel
};

struct PoissonStats {
  int64_t unknowns = 0;        // mask pixels (per channel)
  int64_t iterations = 0;      // the most any channel needed (CG iterations / SOR sweeps)
  int64_t total_iterations = 0;  // summed over channels
  double residual = 0;         // the largest final ‖b − A·f‖∞ over the channels
  double residual_target = 0;  // the plan's stopping bound
  double error_bound = 0;      // residual · ‖A⁻¹‖∞ bound: |f − f_exact| is at most this
  bool converged = true;       // every channel reached the target before the cap
};

namespace cpu {

// Pixels within `width` steps of the mask in x and y (a square, Chebyshev-distance dilation)
// that are not in the mask themselves: the ring whose statistics the colour transfer matches.
// ring: (H, W) u8 {0, 1}.
void blend_ring(const uint8_t* mask, uint8_t* ring, int64_t H, int64_t W, int64_t width);

// frame, patch: (3, H, W) sRGB; mask: (H, W). out (3, H, W) = the patch with each Lab channel
// moved so that its statistics inside the mask become the ring's (Reinhard et al. 2001):
// lab' = (lab − μ_patch) · σ_ring / σ_patch + μ_ring, μ/σ the population mean and standard
// deviation of the patch inside the mask and of the frame in the ring (σ_patch = 0 keeps the
// scale at 1). The same map is applied to every pixel of the patch, so the patch stays
// continuous across the mask border (the Poisson guidance reads it there). Throws when the
// mask or its ring is empty. out may alias patch.
void blend_color_transfer(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t H,
                          int64_t W, int64_t ring_width);

// Bounding box, torsion bound and stopping target for a mask (see PoissonPlan). Throws when the
// mask covers the whole image.
PoissonPlan poisson_plan(const uint8_t* mask, int64_t H, int64_t W, const PoissonOptions& options);

// frame, patch, out: (C, H, W); mask: (H, W). out = the blended image: outside the mask the
// frame, inside the solution of the system above. Conjugate gradient in double per channel
// (channels on the CPU pool), started from the patch shifted by the mean frame − patch offset
// across the mask border, restarted from the true residual until it meets the plan's target.
// An empty mask copies the frame (0 iterations). out may not alias the inputs.
PoissonStats poisson_blend(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t C,
                           int64_t H, int64_t W, const PoissonOptions& options);

}  // namespace cpu

namespace cuda {

// Same contract on device pointers, work queued on stream s: red-black SOR in double over the
// mask's bounding box (ω optimal for the plan's strip), the max-norm residual read back every 32
// sweeps. The mask is copied to the host once to make the plan.
PoissonStats poisson_blend(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t C,
                           int64_t H, int64_t W, const PoissonOptions& options, Stream s);

}  // namespace cuda

}  // namespace sakuga::kernels
