// CUDA Poisson blend (kernels/blend.h): red-black successive over-relaxation in double over the
// mask's bounding box grown by one pixel (the box holds every neighbour of a mask pixel).
// - The plan (box, torsion bound, stopping target) is made on the host from one copy of the
//   mask, by the same function as the CPU's, so both devices stop on the same ‖r‖∞ bound and
//   each lies within the tolerance of the exact solution (so within twice of each other).
// - Pixels of the box outside the mask hold the frame: a sweep updates the mask pixels of one
//   colour ((y + x) even or odd, in image coordinates) from their neighbours, which all have the
//   other colour, so the order of threads does not matter and the result is deterministic.
// - ω is the optimum for the box (mirrored at the image border like the plan's strip):
//   ω = 2 / (1 + √(1 − ρ²)), ρ = 1 − λ_min / 4 the Jacobi spectral radius from the box's
//   smallest Dirichlet eigenvalue. The mask's own λ_min is larger, so ω errs high, the safe
//   side for SOR.
// - Every 32 sweeps a residual kernel and cub's Max (order-independent, so deterministic) give
//   ‖r‖∞, read back with one copy: one host synchronisation per 32 sweeps.
// - The start is the patch shifted by the mean frame − patch offset across the mask border
//   (cub Sum of per-pixel contributions), as on the CPU.
#include <cub/cub.cuh>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/blend.h"
#include "kernels/cuda/check.cuh"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;

namespace {

// The box [y0, y0 + bh) × [x0, x0 + bw) of an H × W image; box index j = by·bw + bx.
struct Box {
  int y0, x0, bh, bw, H, W;
  __device__ int64_t image_index(int j) const { return int64_t(y0 + j / bw) * W + (x0 + j % bw); }
};

__constant__ int kNy[4] = {-1, 0, 0, 1};
__constant__ int kNx[4] = {0, -1, 1, 0};

// Guidance g = Σ_{q∈N(p)} (patch_p − patch_q), the border contributions Σ (frame_q − patch_q)
// over neighbours outside the mask (and their count, channel 0), and the start: the frame
// outside the mask, the patch inside (the offset is added later).
__global__ void setup_kernel(const float* frame, const float* patch, const uint8_t* mask, Box b, int C,
                             double* x, double* g, double* border, double* border_count) {
  const int n = b.bh * b.bw;
  SAKUGA_GRID_LOOP(t, int64_t(C) * n) {
    const int c = int(t / n), j = int(t % n);
    const int y = b.y0 + j / b.bw, xx = b.x0 + j % b.bw;
    const int64_t plane = int64_t(c) * b.H * b.W, i = int64_t(y) * b.W + xx;
    double gi = 0, bi = 0, cnt = 0;
    if (mask[i]) {
      for (int d = 0; d < 4; ++d) {
        const int qy = y + kNy[d], qx = xx + kNx[d];
        if (qy < 0 || qy >= b.H || qx < 0 || qx >= b.W) continue;
        const int64_t q = int64_t(qy) * b.W + qx;
        gi += double(patch[plane + i]) - double(patch[plane + q]);
        if (!mask[q]) {
          bi += double(frame[plane + q]) - double(patch[plane + q]);
          cnt += 1;
        }
      }
      x[t] = double(patch[plane + i]);
    } else {
      x[t] = double(frame[plane + i]);
    }
    g[t] = gi;
    border[t] = bi;
    if (c == 0) border_count[j] = cnt;
  }
}

__global__ void add_offset_kernel(const uint8_t* mask, Box b, int C, const double* sums, double* x) {
  const int n = b.bh * b.bw;
  SAKUGA_GRID_LOOP(t, int64_t(C) * n) {
    const int c = int(t / n), j = int(t % n);
    if (mask[b.image_index(j)]) x[t] += sums[c] / sums[C];  // sums[C]: the number of border pairs
  }
}

// Σ_{q∈N(p)} x_q over in-image neighbours of box pixel j (all inside the box) and their count.
__device__ __forceinline__ double neighbour_sum(const double* xc, const Box& b, int j, int& degree) {
  const int by = j / b.bw, bx = j % b.bw, y = b.y0 + by, x = b.x0 + bx;
  double s = 0;
  degree = 0;
  if (y > 0) s += xc[j - b.bw], ++degree;
  if (y + 1 < b.H) s += xc[j + b.bw], ++degree;
  if (x > 0) s += xc[j - 1], ++degree;
  if (x + 1 < b.W) s += xc[j + 1], ++degree;
  return s;
}

__global__ void sor_kernel(const uint8_t* mask, Box b, int C, const double* g, double* x, int colour, double omega) {
  const int n = b.bh * b.bw;
  SAKUGA_GRID_LOOP(t, int64_t(C) * n) {
    const int c = int(t / n), j = int(t % n);
    const int y = b.y0 + j / b.bw, xx = b.x0 + j % b.bw;
    if (((y + xx) & 1) != colour || !mask[int64_t(y) * b.W + xx]) continue;
    double* xc = x + int64_t(c) * n;
    int degree;
    const double s = neighbour_sum(xc, b, j, degree);
    xc[j] += omega * ((g[t] + s) / double(degree) - xc[j]);
  }
}

__global__ void residual_kernel(const uint8_t* mask, Box b, int C, const double* g, const double* x, double* r) {
  const int n = b.bh * b.bw;
  SAKUGA_GRID_LOOP(t, int64_t(C) * n) {
    const int c = int(t / n), j = int(t % n);
    double v = 0;
    if (mask[b.image_index(j)]) {
      const double* xc = x + int64_t(c) * n;
      int degree;
      const double s = neighbour_sum(xc, b, j, degree);
      v = fabs(g[t] + s - double(degree) * xc[j]);
    }
    r[t] = v;
  }
}

__global__ void write_kernel(const uint8_t* mask, Box b, int C, const double* x, float* out) {
  const int n = b.bh * b.bw;
  SAKUGA_GRID_LOOP(t, int64_t(C) * n) {
    const int c = int(t / n), j = int(t % n);
    const int64_t i = b.image_index(j);
    if (mask[i]) out[int64_t(c) * b.H * b.W + i] = float(x[t]);
  }
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Smallest Dirichlet eigenvalue of the 4-neighbour Laplacian on the box, mirrored at the image
// border (a direction with both sides on the border contributes nothing).
double box_lambda_min(const PoissonPlan& p, int64_t H, int64_t W) {
  auto term = [](int64_t lo, int64_t hi, int64_t size) {
    const int sides = (lo == 0 ? 1 : 0) + (hi == size ? 1 : 0);
    if (sides == 2) return 0.0;
    const double L = double(hi - lo) * (1 + sides), s = std::sin(M_PI / (2 * (L + 1)));
    return 4 * s * s;
  };
  double lambda = term(p.y0, p.y1, H) + term(p.x0, p.x1, W);
  if (lambda <= 0) {  // the mask touches all four borders: the plan's heuristic strip
    const double s = std::sin(M_PI / (2 * (p.strip_width + 1)));
    lambda = 4 * s * s;
  }
  return lambda;
}

}  // namespace

PoissonStats poisson_blend(const float* frame, const float* patch, const uint8_t* mask, float* out, int64_t C,
                           int64_t H, int64_t W, const PoissonOptions& options, Stream s) {
  SAKUGA_CHECK(C >= 1 && H >= 0 && W >= 0 && C * H * W < (int64_t(1) << 31), "poisson_blend: ", C, "x", H, "x", W,
               " is beyond the i32 indices of the CUDA kernels");
  const size_t plane_bytes = size_t(H * W) * sizeof(float);
  std::vector<uint8_t> host_mask(size_t(H * W));
  if (H * W > 0) {
    SAKUGA_CUDA_CHECK(cudaMemcpyAsync(host_mask.data(), mask, size_t(H * W), cudaMemcpyDeviceToHost, s));
    SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
  }
  PoissonPlan plan = cpu::poisson_plan(host_mask.data(), H, W, options);
  PoissonStats stats;
  stats.unknowns = plan.unknowns;
  stats.residual_target = plan.residual_target;
  if (H * W > 0) SAKUGA_CUDA_CHECK(cudaMemcpyAsync(out, frame, size_t(C) * plane_bytes, cudaMemcpyDeviceToDevice, s));
  if (plan.unknowns == 0) return stats;

  Box b;
  b.y0 = int(std::max<int64_t>(0, plan.y0 - 1));
  b.x0 = int(std::max<int64_t>(0, plan.x0 - 1));
  b.bh = int(std::min<int64_t>(H, plan.y1 + 1)) - b.y0;
  b.bw = int(std::min<int64_t>(W, plan.x1 + 1)) - b.x0;
  b.H = int(H);
  b.W = int(W);
  const int64_t n = int64_t(b.bh) * b.bw, cn = C * n;
  if (plan.max_iterations <= 0) plan.max_iterations = 400 * int64_t(std::max(b.bh, b.bw)) + 1000;
  const double rho = 1 - box_lambda_min(plan, H, W) / 4;
  const double omega = 2 / (1 + std::sqrt(std::max(0.0, 1 - rho * rho)));

  // Workspace: x, g, r (C·n doubles each; r first holds the border contributions), the border
  // counts (n), C + 1 sums and the max, cub's temporary storage.
  size_t sum_bytes = 0, max_bytes = 0;
  SAKUGA_CUDA_CHECK(cub::DeviceReduce::Sum(nullptr, sum_bytes, static_cast<const double*>(nullptr),
                                           static_cast<double*>(nullptr), int(n), s));
  SAKUGA_CUDA_CHECK(cub::DeviceReduce::Max(nullptr, max_bytes, static_cast<const double*>(nullptr),
                                           static_cast<double*>(nullptr), int(cn), s));
  const size_t vec = align256(size_t(cn) * sizeof(double)), counts = align256(size_t(n) * sizeof(double));
  const size_t small = align256(size_t(C + 2) * sizeof(double)), temp_bytes = std::max(sum_bytes, max_bytes);
  const int dev = sakuga::cuda::current_device();
  sakuga::cuda::Workspace ws(3 * vec + counts + small + align256(temp_bytes), dev);
  char* base = static_cast<char*>(ws.get());
  double* x = reinterpret_cast<double*>(base);
  double* g = reinterpret_cast<double*>(base + vec);
  double* r = reinterpret_cast<double*>(base + 2 * vec);
  double* border_count = reinterpret_cast<double*>(base + 3 * vec);
  double* sums = reinterpret_cast<double*>(base + 3 * vec + counts);  // C border sums, the count, the max
  void* temp = base + 3 * vec + counts + small;

  const unsigned grid = grid_for(cn);
  setup_kernel<<<grid, 256, 0, s>>>(frame, patch, mask, b, int(C), x, g, r, border_count);
  SAKUGA_LAUNCH_CHECK();
  for (int64_t c = 0; c < C; ++c) {
    size_t bytes = temp_bytes;
    SAKUGA_CUDA_CHECK(cub::DeviceReduce::Sum(temp, bytes, r + c * n, sums + c, int(n), s));
  }
  size_t bytes = temp_bytes;
  SAKUGA_CUDA_CHECK(cub::DeviceReduce::Sum(temp, bytes, border_count, sums + C, int(n), s));
  add_offset_kernel<<<grid, 256, 0, s>>>(mask, b, int(C), sums, x);
  SAKUGA_LAUNCH_CHECK();

  constexpr int64_t kCheckEvery = 32;
  auto residual = [&] {
    residual_kernel<<<grid, 256, 0, s>>>(mask, b, int(C), g, x, r);
    SAKUGA_LAUNCH_CHECK();
    size_t max_temp = temp_bytes;
    SAKUGA_CUDA_CHECK(cub::DeviceReduce::Max(temp, max_temp, r, sums + C + 1, int(cn), s));
    double value = 0;
    SAKUGA_CUDA_CHECK(cudaMemcpyAsync(&value, sums + C + 1, sizeof(double), cudaMemcpyDeviceToHost, s));
    SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
    return value;
  };
  int64_t sweeps = 0;
  stats.residual = residual();
  while (stats.residual > plan.residual_target && sweeps < plan.max_iterations) {
    const int64_t batch = std::min(kCheckEvery, plan.max_iterations - sweeps);
    for (int64_t k = 0; k < batch; ++k) {
      sor_kernel<<<grid, 256, 0, s>>>(mask, b, int(C), g, x, 0, omega);
      SAKUGA_LAUNCH_CHECK();
      sor_kernel<<<grid, 256, 0, s>>>(mask, b, int(C), g, x, 1, omega);
      SAKUGA_LAUNCH_CHECK();
    }
    sweeps += batch;
    stats.residual = residual();
  }
  write_kernel<<<grid, 256, 0, s>>>(mask, b, int(C), x, out);
  SAKUGA_LAUNCH_CHECK();
  stats.iterations = sweeps;
  stats.total_iterations = sweeps * C;
  stats.error_bound = stats.residual * plan.inverse_norm_bound;
  stats.converged = stats.residual <= plan.residual_target;
  return stats;
}

}  // namespace sakuga::kernels::cuda
