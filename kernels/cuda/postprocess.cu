// CUDA douga post-processing, bit-identical to the CPU reference (kernels/cpu/postprocess.cpp):
// - thinning: one kernel per Zhang–Suen sub-iteration reading the previous buffer (the
//   snapshot) and writing the next. Iterations are queued in batches (4, 8, 16, … up to 64)
//   with one "changed" flag each, read back with one copy per batch: a few host
//   synchronisations per image instead of one per iteration. An iteration whose predecessor
//   deleted nothing returns at once (the image is final: both buffers hold it), so the extra
//   iterations of the last batch cost only their launches, and the count of iterations run
//   is exact;
// - dilation: one thread per pixel;
// - 4-connected components: union-find (Playne & Hawick 2018): parents start as the pixel
//   itself, a merge kernel unites every pixel with its left and upper neighbours through
//   atomicMin on the roots (a parent is never larger than its child, so each root is the
//   smallest index of its component: the canonical label of the CPU reference), then a
//   compression kernel points every pixel at its root. Finds use path halving (each visited
//   node is re-pointed at its grandparent with a compare-and-swap, so a concurrent link is
//   never overwritten), which keeps the chains short on large components;
// - per-component fill-class sums: exact integer fixed-point sums (see kernels/postprocess.h),
//   accumulated with 64-bit integer atomics (warp-aggregated when a warp lies in one component).
//   Integer addition is associative, so the sums — and the chosen classes — do not depend on
//   the order of the atomics: the result is deterministic.
#include <algorithm>

#include "kernels/cuda/check.cuh"
#include "kernels/postprocess.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;

namespace {

constexpr unsigned kFull = 0xffffffffu;

__global__ void binarize_kernel(const uint8_t* in, uint8_t* out, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) out[i] = in[i] != 0 ? 1 : 0;
}

// Grid-stride loop in 32-bit indices (images have fewer than 2^31 pixels, see check_size).
#define SAKUGA_PIXEL_LOOP(i, n) \
  for (int i = int(blockIdx.x * blockDim.x + threadIdx.x); i < (n); i += int(gridDim.x * blockDim.x))

// One Zhang–Suen sub-iteration: decide on src (the snapshot), write the survivors to dst.
// `previous` is the flag of the iteration before (null for the first of a batch): when it
// deleted nothing, src and dst already hold the final image and there is nothing to do.
__global__ void zs_sub_kernel(const uint8_t* src, uint8_t* dst, int H, int W, int sub, int* changed,
                              const int* previous) {
  if (previous && *previous == 0) return;
  SAKUGA_PIXEL_LOOP(i, H * W) {
    uint8_t v = src[i];
    if (v) {
      int p[8];
      postprocess_neighbours(src, H, W, i / W, i % W, p);
      if (postprocess_zs_delete(p, sub)) {
        v = 0;
        *changed = 1;  // every writer stores the same value
      }
    }
    dst[i] = v;
  }
}

__global__ void dilate_kernel(const uint8_t* in, uint8_t* out, int64_t H, int64_t W) {
  SAKUGA_GRID_LOOP(i, H * W) {
    const int64_t h = i / W, w = i % W;
    uint8_t v = 0;
    for (int64_t y = h - 1; y <= h + 1; ++y)
      for (int64_t x = w - 1; x <= w + 1; ++x)
        if (y >= 0 && y < H && x >= 0 && x < W && in[y * W + x]) v = 1;
    out[i] = v;
  }
}

// ---- union-find ---------------------------------------------------------------------------
// The root of x, halving the path on the way: each visited node is re-pointed at its
// grandparent, but only if its parent is still the one read (compare-and-swap), so a link made
// meanwhile by another thread (unite's atomicMin on what it saw as a root) is never lost. The
// grandparent is an ancestor in the same set, and parents only decrease, so roots — the
// smallest index of each component — are unchanged.
__device__ __forceinline__ int find_root(int32_t* p, int x) {
  const volatile int32_t* vp = p;
  int parent = vp[x];
  while (parent != x) {
    const int grand = vp[parent];
    if (grand == parent) return parent;
    atomicCAS(p + x, parent, grand);
    x = grand;
    parent = vp[x];
  }
  return x;
}

// Playne & Hawick's union: link the larger root under the smaller one with atomicMin; when the
// larger one stopped being a root meanwhile, retry with the parent it had (it is in the same
// set, and if the atomicMin did re-point it, that parent's part of the set still needs the
// link). Retrying with the other operand instead would drop the union whenever the old parent
// was the smaller of the two.
__device__ void unite(int32_t* p, int a, int b) {
  bool done;
  do {
    a = find_root(p, a);
    b = find_root(p, b);
    if (b < a) {
      const int old = atomicMin(p + a, b);
      done = (old == a);
      a = old;
    } else if (a < b) {
      const int old = atomicMin(p + b, a);
      done = (old == b);
      b = old;
    } else {
      done = true;
    }
  } while (!done);
}

__global__ void cc_init_kernel(const uint8_t* mask, int32_t* p, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) p[i] = mask[i] ? int32_t(i) : -1;
}

__global__ void cc_merge_kernel(const uint8_t* mask, int32_t* p, int64_t H, int64_t W) {
  SAKUGA_GRID_LOOP(i, H * W) {
    if (!mask[i]) continue;
    const int64_t h = i / W, w = i % W;
    if (w > 0 && mask[i - 1]) unite(p, int(i), int(i - 1));
    if (h > 0 && mask[i - W]) unite(p, int(i), int(i - W));
  }
}

// The forest no longer changes: every pointer replaced by the root is still an ancestor.
__global__ void cc_compress_kernel(const uint8_t* mask, int32_t* p, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    if (mask[i]) p[i] = find_root(p, int(i));
  }
}

// ---- douga chain --------------------------------------------------------------------------
__global__ void line_mask_kernel(const float* probs, uint8_t* lines, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) lines[i] = postprocess_is_line(postprocess_argmax(probs, n, i, 0, kPostprocessClasses - 1)) ? 1 : 0;
}

__global__ void not_kernel(const uint8_t* in, uint8_t* out, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) out[i] = in[i] ? 0 : 1;
}

// sums[k·n + root] += fixed(prob of fill class k) for every labelled pixel. One thread per
// pixel (not grid-stride: the whole warp takes part in the aggregation).
__global__ void fill_sums_kernel(const float* probs, const int32_t* labels, unsigned long long* sums, int64_t n) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int r = i < n ? labels[i] : -1;
  unsigned long long q[5];
#pragma unroll
  for (int k = 0; k < 5; ++k) q[k] = r >= 0 ? postprocess_fixed(probs[int64_t(postprocess_fill_class(k)) * n + i]) : 0ull;
  const unsigned same = __match_any_sync(kFull, r);
  if (same == kFull) {  // the whole warp in one component (or all unlabelled)
#pragma unroll
    for (int k = 0; k < 5; ++k)
      for (int off = 16; off > 0; off >>= 1) q[k] += __shfl_down_sync(kFull, q[k], off);
    if ((threadIdx.x & 31) == 0 && r >= 0)
      for (int k = 0; k < 5; ++k) atomicAdd(sums + int64_t(k) * n + r, q[k]);
  } else if (r >= 0) {
    for (int k = 0; k < 5; ++k) atomicAdd(sums + int64_t(k) * n + r, q[k]);
  }
}

__global__ void douga_decide_kernel(const float* probs, const uint8_t* dil, const int32_t* labels,
                                    const unsigned long long* sums, int32_t* out, int64_t n) {
  SAKUGA_GRID_LOOP(i, n) {
    if (dil[i]) {
      out[i] = postprocess_argmax(probs, n, i, 1, 5);
    } else {
      const int r = labels[i];
      int best = 0;
      unsigned long long bv = sums[r];
      for (int k = 1; k < 5; ++k) {
        const unsigned long long v = sums[int64_t(k) * n + r];
        if (v > bv) {
          bv = v;
          best = k;
        }
      }
      out[i] = postprocess_fill_class(best);
    }
  }
}

size_t align256(size_t b) { return (b + 255) / 256 * 256; }

void check_size(const char* op, int64_t H, int64_t W) {
  SAKUGA_CHECK(H >= 0 && W >= 0 && H * W < (int64_t(1) << 31), op, ": image of ", H, "x", W,
               " pixels is beyond the i32 labels");
}

}  // namespace

int64_t postprocess_zhang_suen(const uint8_t* in, uint8_t* out, int64_t H, int64_t W, Stream s) {
  check_size("postprocess_zhang_suen", H, W);
  const int64_t n = H * W;
  if (n == 0) return 1;
  constexpr int kMaxBatch = 64;
  const int dev = sakuga::cuda::current_device();
  // Workspace: the second thinning buffer and one "changed" flag per iteration of a batch.
  sakuga::cuda::Workspace ws(align256(size_t(n)) + kMaxBatch * sizeof(int), dev);
  uint8_t* tmp = static_cast<uint8_t*>(ws.get());
  int* flags = reinterpret_cast<int*>(static_cast<char*>(ws.get()) + align256(size_t(n)));
  binarize_kernel<<<grid_for(n), 256, 0, s>>>(in, out, n);
  SAKUGA_LAUNCH_CHECK();
  int64_t iterations = 0;
  int changed[kMaxBatch];
  for (int batch = 4;; batch = std::min(2 * batch, kMaxBatch)) {
    SAKUGA_CUDA_CHECK(cudaMemsetAsync(flags, 0, size_t(batch) * sizeof(int), s));
    for (int k = 0; k < batch; ++k) {
      const int* previous = k > 0 ? flags + k - 1 : nullptr;
      zs_sub_kernel<<<grid_for(n), 256, 0, s>>>(out, tmp, int(H), int(W), 0, flags + k, previous);
      SAKUGA_LAUNCH_CHECK();
      zs_sub_kernel<<<grid_for(n), 256, 0, s>>>(tmp, out, int(H), int(W), 1, flags + k, previous);
      SAKUGA_LAUNCH_CHECK();
    }
    SAKUGA_CUDA_CHECK(cudaMemcpyAsync(changed, flags, size_t(batch) * sizeof(int), cudaMemcpyDeviceToHost, s));
    SAKUGA_CUDA_CHECK(cudaStreamSynchronize(s));
    for (int k = 0; k < batch; ++k) {
      ++iterations;
      if (!changed[k]) return iterations;  // this iteration deleted nothing: the last one run
    }
  }
}

void postprocess_dilate3x3(const uint8_t* in, uint8_t* out, int64_t H, int64_t W, Stream s) {
  check_size("postprocess_dilate3x3", H, W);
  if (H * W == 0) return;
  dilate_kernel<<<grid_for(H * W), 256, 0, s>>>(in, out, H, W);
  SAKUGA_LAUNCH_CHECK();
}

void postprocess_label_components4(const uint8_t* mask, int32_t* labels, int64_t H, int64_t W, Stream s) {
  check_size("postprocess_label_components4", H, W);
  const int64_t n = H * W;
  if (n == 0) return;
  cc_init_kernel<<<grid_for(n), 256, 0, s>>>(mask, labels, n);
  SAKUGA_LAUNCH_CHECK();
  cc_merge_kernel<<<grid_for(n), 256, 0, s>>>(mask, labels, H, W);
  SAKUGA_LAUNCH_CHECK();
  cc_compress_kernel<<<grid_for(n), 256, 0, s>>>(mask, labels, n);
  SAKUGA_LAUNCH_CHECK();
}

void postprocess_douga(const float* probs, int32_t* out, int64_t H, int64_t W, Stream s) {
  check_size("postprocess_douga", H, W);
  const int64_t n = H * W;
  if (n == 0) return;
  const int dev = sakuga::cuda::current_device();
  // Workspace: lines, skeleton, dilated skeleton, fill mask (u8), labels (i32), sums (5 × u64).
  const size_t b8 = align256(size_t(n)), b32 = align256(size_t(n) * 4), b64 = align256(size_t(n) * 5 * 8);
  sakuga::cuda::Workspace ws(4 * b8 + b32 + b64, dev);
  char* base = static_cast<char*>(ws.get());
  uint8_t* lines = reinterpret_cast<uint8_t*>(base);
  uint8_t* skel = reinterpret_cast<uint8_t*>(base + b8);
  uint8_t* dil = reinterpret_cast<uint8_t*>(base + 2 * b8);
  uint8_t* fill = reinterpret_cast<uint8_t*>(base + 3 * b8);
  int32_t* labels = reinterpret_cast<int32_t*>(base + 4 * b8);
  unsigned long long* sums = reinterpret_cast<unsigned long long*>(base + 4 * b8 + b32);

  // 1. lines; 2. skeleton; 3. dilation.
  line_mask_kernel<<<grid_for(n), 256, 0, s>>>(probs, lines, n);
  SAKUGA_LAUNCH_CHECK();
  postprocess_zhang_suen(lines, skel, H, W, s);
  postprocess_dilate3x3(skel, dil, H, W, s);
  // 4. components of the rest and their fill-class sums.
  not_kernel<<<grid_for(n), 256, 0, s>>>(dil, fill, n);
  SAKUGA_LAUNCH_CHECK();
  postprocess_label_components4(fill, labels, H, W, s);
  SAKUGA_CUDA_CHECK(cudaMemsetAsync(sums, 0, size_t(n) * 5 * 8, s));
  const int64_t blocks = (n + 255) / 256;
  fill_sums_kernel<<<unsigned(blocks), 256, 0, s>>>(probs, labels, sums, n);
  SAKUGA_LAUNCH_CHECK();
  douga_decide_kernel<<<grid_for(n), 256, 0, s>>>(probs, dil, labels, sums, out, n);
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
