// CPU reference of the redraw post-processing family (kernels/blend.h): Reinhard colour
// transfer in Lab and the Poisson blend by conjugate gradient, straight loops in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/blend.h"
#include "kernels/cpu/parallel.h"

namespace sakuga::kernels::cpu {

namespace {

// out[i] = 1 when some in[j] with |i − j| ≤ r along a line of n samples (stride apart) is set.
// Prefix counts make it O(n) whatever r is.
void dilate_line(const uint8_t* in, uint8_t* out, int64_t n, int64_t stride, int64_t r, std::vector<int64_t>& prefix) {
  prefix.assign(size_t(n + 1), 0);
  for (int64_t i = 0; i < n; ++i) prefix[size_t(i + 1)] = prefix[size_t(i)] + (in[i * stride] ? 1 : 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t lo = std::max<int64_t>(0, i - r), hi = std::min<int64_t>(n, i + r + 1);
    out[i * stride] = prefix[size_t(hi)] - prefix[size_t(lo)] > 0 ? 1 : 0;
  }
}

// Lab mean and population standard deviation of the listed pixels of a (3, H, W) sRGB image.
struct LabStats {
  double mean[3] = {0, 0, 0}, stddev[3] = {0, 0, 0};
};

LabStats lab_stats(const std::vector<double>& lab) {  // lab: (n, 3) interleaved
  LabStats s;
  const size_t n = lab.size() / 3;
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) s.mean[k] += lab[3 * i + size_t(k)];
  for (int k = 0; k < 3; ++k) s.mean[k] /= double(n);
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      const double d = lab[3 * i + size_t(k)] - s.mean[k];
      s.stddev[k] += d * d;
    }
  for (int k = 0; k < 3; ++k) s.stddev[k] = std::sqrt(s.stddev[k] / double(n));
  return s;
}

// lab' = (lab − from) · scale + to, per Lab channel.
struct LabMap {
  double from[3], scale[3], to[3];
};

// (n, 3) Lab of the pixels i of a (3, H, W) image where sel[i] is set, in raster order.
std::vector<double> lab_of(const float* img, const uint8_t* sel, int64_t n) {
  std::vector<double> lab;
  for (int64_t i = 0; i < n; ++i) {
    if (!sel[i]) continue;
    const double rgb[3] = {img[i], img[n + i], img[2 * n + i]};
    double v[3];
    blend_srgb_to_lab(rgb, v);
    lab.insert(lab.end(), v, v + 3);
  }
  return lab;
}

// The linear system of one mask, shared by the channels: unknown k is pixel pixel[k]; its
// neighbours in the mask are unknowns nb[4k .. 4k+3] (−1: not an unknown); degree[k] = |N(p)|.
struct PoissonSystem {
  std::vector<int64_t> pixel;
  std::vector<int32_t> nb;
  std::vector<uint8_t> degree;
};

constexpr int kDy[4] = {-1, 0, 0, 1};
constexpr int kDx[4] = {0, -1, 1, 0};

PoissonSystem build_system(const uint8_t* mask, int64_t H, int64_t W, int64_t unknowns) {
  PoissonSystem sys;
  std::vector<int32_t> id(size_t(H * W), -1);
  sys.pixel.reserve(size_t(unknowns));
  for (int64_t i = 0; i < H * W; ++i)
    if (mask[i]) {
      id[size_t(i)] = int32_t(sys.pixel.size());
      sys.pixel.push_back(i);
    }
  sys.nb.assign(size_t(4 * unknowns), -1);
  sys.degree.assign(size_t(unknowns), 0);
  for (int64_t k = 0; k < unknowns; ++k) {
    const int64_t y = sys.pixel[size_t(k)] / W, x = sys.pixel[size_t(k)] % W;
    for (int d = 0; d < 4; ++d) {
      const int64_t qy = y + kDy[d], qx = x + kDx[d];
      if (qy < 0 || qy >= H || qx < 0 || qx >= W) continue;  // beyond the border: absent
      ++sys.degree[size_t(k)];
      sys.nb[size_t(4 * k + d)] = id[size_t(qy * W + qx)];
    }
  }
  return sys;
}

struct ChannelResult {
  int64_t iterations = 0;
  double residual = 0;
};

// y = A·v over the unknowns, and returns v·y.
double apply_laplacian(const PoissonSystem& sys, const std::vector<double>& v, std::vector<double>& y) {
  const size_t n = sys.pixel.size();
  const int32_t* nb = sys.nb.data();
  double dot = 0;
  for (size_t k = 0; k < n; ++k) {
    double s = double(sys.degree[k]) * v[k];
    for (int d = 0; d < 4; ++d) {
      const int32_t j = nb[4 * k + size_t(d)];
      if (j >= 0) s -= v[size_t(j)];
    }
    y[k] = s;
    dot += v[k] * s;
  }
  return dot;
}

// One channel: right-hand side, starting point, then CG restarted from the true residual until
// ‖r‖∞ meets the plan's target (CG's recurrence residual drifts from b − A·x in long runs).
ChannelResult solve_channel(const PoissonSystem& sys, const float* frame, const float* patch, const uint8_t* mask,
                            float* out, int64_t H, int64_t W, const PoissonPlan& plan) {
  const size_t n = sys.pixel.size();
  std::vector<double> b(n), x(n), r(n), p(n), ap(n);
  // b = guidance (Σ patch_p − patch_q) + the frame at Dirichlet neighbours; the offset is the
  // mean frame − patch difference across the mask border (an exact start for a patch that
  // differs from the frame by a constant).
  double offset = 0;
  int64_t border_pairs = 0;
  for (size_t k = 0; k < n; ++k) {
    const int64_t i = sys.pixel[k], y = i / W, x0 = i % W;
    double bk = 0;
    for (int d = 0; d < 4; ++d) {
      const int64_t qy = y + kDy[d], qx = x0 + kDx[d];
      if (qy < 0 || qy >= H || qx < 0 || qx >= W) continue;
      const int64_t q = qy * W + qx;
      bk += double(patch[i]) - double(patch[q]);
      if (!mask[q]) {
        bk += double(frame[q]);
        offset += double(frame[q]) - double(patch[q]);
        ++border_pairs;
      }
    }
    b[k] = bk;
  }
  offset /= double(border_pairs);  // ≥ 1 pair: the plan rejected a mask covering the image
  for (size_t k = 0; k < n; ++k) x[k] = double(patch[sys.pixel[k]]) + offset;

  ChannelResult res;
  auto max_abs = [](const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m = std::max(m, std::fabs(e));
    return m;
  };
  for (;;) {
    apply_laplacian(sys, x, ap);
    for (size_t k = 0; k < n; ++k) r[k] = b[k] - ap[k];
    res.residual = max_abs(r);
    if (res.residual <= plan.residual_target || res.iterations >= plan.max_iterations) break;
    p = r;
    double rr = 0;
    for (double e : r) rr += e * e;
    while (res.iterations < plan.max_iterations) {
      const double pap = apply_laplacian(sys, p, ap);
      const double alpha = rr / pap;
      double rr_next = 0, rmax = 0;
      for (size_t k = 0; k < n; ++k) {
        x[k] += alpha * p[k];
        r[k] -= alpha * ap[k];
        rr_next += r[k] * r[k];
        rmax = std::max(rmax, std::fabs(r[k]));
      }
      ++res.iterations;
      if (rmax <= plan.residual_target) break;
      const double beta = rr_next / rr;
      for (size_t k = 0; k < n; ++k) p[k] = r[k] + beta * p[k];
      rr = rr_next;
    }
  }
  for (int64_t i = 0; i < H * W; ++i) out[i] = frame[i];
  for (size_t k = 0; k < n; ++k) out[sys.pixel[k]] = float(x[k]);
  return res;
}

}  // namespace

void blend_ring(const uint8_t* mask, uint8_t* ring, int64_t H, int64_t W, int64_t width) {
  std::vector<uint8_t> rows(size_t(H * W));
  std::vector<int64_t> prefix;
  for (int64_t y = 0; y < H; ++y) dilate_line(mask + y * W, rows.data() + y * W, W, 1, width, prefix);
  for (int64_t x = 0; x < W; ++x) dilate_line(rows.data() + x, ring + x, H, W, width, prefix);
  for (int64_t i = 0; i < H * W; ++i) ring[i] = ring[i] && !mask[i] ? 1 : 0;
}

void blend_color_transfer(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t H,
                          int64_t W, int64_t ring_width) {
  const int64_t n = H * W;
  std::vector<uint8_t> ring(static_cast<size_t>(n));
  blend_ring(mask, ring.data(), H, W, ring_width);
  const std::vector<double> ring_lab = lab_of(frame, ring.data(), n);
  const std::vector<double> patch_lab = lab_of(patch, mask, n);
  SAKUGA_CHECK(!patch_lab.empty(), "blend_color_transfer: the mask is empty");
  SAKUGA_CHECK(!ring_lab.empty(), "blend_color_transfer: the ring of ", ring_width,
               " px around the mask is empty (the mask covers the frame)");
  const LabStats want = lab_stats(ring_lab), have = lab_stats(patch_lab);
  double scale[3];
  for (int k = 0; k < 3; ++k) scale[k] = have.stddev[k] > 0 ? want.stddev[k] / have.stddev[k] : 1.0;
  // The map is applied to every pixel, not only the masked ones: the Poisson blend's guidance
  // reads the patch across the mask border too, and a patch changed inside only would carry
  // the step between the two into the blend as a seam.
  // Per pixel, so the pool's threads share it with the same result for any thread count.
  const LabMap map{{have.mean[0], have.mean[1], have.mean[2]},
                   {scale[0], scale[1], scale[2]},
                   {want.mean[0], want.mean[1], want.mean[2]}};
  parallel_for(n, 4096, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double rgb[3] = {patch[i], patch[n + i], patch[2 * n + i]}, lab[3];
      blend_srgb_to_lab(rgb, lab);
      for (int k = 0; k < 3; ++k) lab[k] = (lab[k] - map.from[k]) * map.scale[k] + map.to[k];
      blend_lab_to_srgb(lab, rgb);
      for (int k = 0; k < 3; ++k) out[k * n + i] = float(rgb[k]);
    }
  });
}

PoissonPlan poisson_plan(const uint8_t* mask, int64_t H, int64_t W, const PoissonOptions& options) {
  SAKUGA_CHECK(options.tolerance > 0, "poisson_blend: tolerance must be > 0, got ", options.tolerance);
  PoissonPlan plan;
  plan.y0 = H, plan.x0 = W;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      if (mask[y * W + x]) {
        ++plan.unknowns;
        plan.y0 = std::min(plan.y0, y), plan.y1 = std::max(plan.y1, y + 1);
        plan.x0 = std::min(plan.x0, x), plan.x1 = std::max(plan.x1, x + 1);
      }
  if (plan.unknowns == 0) {
    plan.y0 = plan.x0 = 0;
    return plan;
  }
  SAKUGA_CHECK(plan.unknowns < H * W, "poisson_blend: the mask covers the whole ", H, "x", W,
               " image: no frame pixel is left as the boundary");
  // The usable strip widths (PoissonPlan::inverse_norm_bound): a box side on the image border
  // is mirrored, both sides make the direction unbounded.
  auto strip = [](int64_t lo, int64_t hi, int64_t size) {
    const int sides = (lo == 0 ? 1 : 0) + (hi == size ? 1 : 0);
    return sides == 2 ? -1.0 : double(hi - lo) * double(1 + sides);
  };
  const double lh = strip(plan.y0, plan.y1, H), lw = strip(plan.x0, plan.x1, W);
  double L = lh < 0 ? lw : (lw < 0 ? lh : std::min(lh, lw));
  if (L < 0) L = 2.0 * double(std::max(H, W));  // heuristic: the mask touches all four borders
  plan.strip_width = L;
  plan.inverse_norm_bound = (L + 1) * (L + 1) / 8;
  plan.residual_target = options.tolerance / plan.inverse_norm_bound;
  plan.max_iterations = options.max_iterations;
  return plan;
}

PoissonStats poisson_blend(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t C,
                           int64_t H, int64_t W, const PoissonOptions& options) {
  PoissonPlan plan = poisson_plan(mask, H, W, options);
  PoissonStats stats;
  stats.unknowns = plan.unknowns;
  stats.residual_target = plan.residual_target;
  if (plan.unknowns == 0) {
    for (int64_t i = 0; i < C * H * W; ++i) out[i] = frame[i];
    return stats;
  }
  // CG needs at most `unknowns` iterations in exact arithmetic; the cap leaves room for rounding.
  if (plan.max_iterations <= 0) plan.max_iterations = 4 * plan.unknowns + 100;
  const PoissonSystem sys = build_system(mask, H, W, plan.unknowns);
  std::vector<ChannelResult> results(static_cast<size_t>(C));
  const PoissonSystem* psys = &sys;
  const PoissonPlan* pplan = &plan;
  ChannelResult* pres = results.data();
  // Channels are independent: one per pool thread (each writes only its own plane and result).
  parallel_for(C, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      pres[c] = solve_channel(*psys, frame + c * H * W, patch + c * H * W, mask, out + c * H * W, H, W, *pplan);
  });
  for (const ChannelResult& r : results) {
    stats.iterations = std::max(stats.iterations, r.iterations);
    stats.total_iterations += r.iterations;
    stats.residual = std::max(stats.residual, r.residual);
  }
  stats.error_bound = stats.residual * plan.inverse_norm_bound;
  stats.converged = stats.residual <= plan.residual_target;
  return stats;
}

}  // namespace sakuga::kernels::cpu
