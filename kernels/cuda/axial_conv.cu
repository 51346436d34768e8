// Axial convolution family, CUDA: hand-written direct kernels for the k×1 / 1×k "same"
// convolutions of the GCN head (no cuDNN, no cuBLAS). f32 or bf16 storage, f32 accumulation,
// deterministic (fixed partitions, fixed-order sums, no atomics).
//
// Coordinates: every plane (h, w) is seen as l × m, l along the convolution axis (rows for k×1,
// columns for 1×k) and m across it. A tile is TL × TM output pixels (512, two per thread):
//   k×1: TL = 16 rows × TM = 32 columns      1×k: TL = 64 columns × TM = 8 rows
// and the 32 threads of a warp always sit on 32 consecutive memory addresses of the output
// (consecutive columns), so global loads and stores are coalesced.
//
// Shared memory holds input tiles with the halo along l, stored as [channel][m][l'] with l'
// contiguous (pitch LP = TL + KT − 1, made odd so that threads at different m hit different
// banks). l' = 0 is the input position l0 + t0 − k/2, so output l with tap t0 + tt reads l + tt.
// Taps are processed in passes of at most KT = 64 (any k works with bounded shared memory; k
// larger than h or w just reads zeros), input channels in chunks of CC.
//
// forward (axial_apply_kernel): a block owns one tile of one image and OC output channels
//   (grid.z: output-channel chunks × c_in splits). Per (c_in chunk, tap pass): load the input
//   tile + halo and the weights w[o, c, t] (as s_w[c][t][o]) into shared memory, then every
//   thread accumulates its 2 pixels × OC outputs: per (c, t) it reads the OC weights once
//   (float4 broadcast reads) and the 2 inputs s_in[c][m][l + t], then does 2·OC FMAs.
//   OC ∈ {1, 2, 4, 8, 12, 16} (12 for the GCN's C = 10). When the output tiles alone are too few
//   to fill the GPU (large c_in, small planes) c_in is split into S contiguous ranges: each writes
//   an f32 partial plane into a workspace and axial_sum_splits adds the S partials in order
//   (+ bias).
// backward data = the same kernel with the roles swapped: input gy (c_out channels), output gx
//   (c_in channels), weight w[c, o, k − 1 − t] (transposed, flipped tap), since
//   gx[c, l] = Σ_o Σ_t w[o, c, t] gy[o, l − t + k/2] = Σ_o Σ_t' w[o, c, k−1−t'] gy[o, l + t' − k/2].
// backward filter, gw[o, c, t] = Σ_{n, l, m} gy[n, o, l, m] · x[n, c, l + t − k/2, m]:
//   stage 1 (axial_filter_partial_kernel): the tiles of all images are dealt to G groups in a
//   fixed way (tile T goes to group T mod G); block (g, chunk) loops over its tiles, with the gy
//   tile (OC channels, as [pixel][o]) and the x tile + halo (CC channels) in shared memory;
//   thread (c, t) owns the OC outputs gw[o0.., c, t] and sums gy[o, pix] · x[c, pix + t] over the
//   tile's pixels (gy: OC values per pixel, float4 broadcast reads; x: consecutive t →
//   consecutive banks). It writes its partial sums to workspace[g][o][c][t].
//   stage 2 (axial_sum_groups): gw[i] = Σ_{g = 0..G−1} workspace[g][i], in order.
#include <algorithm>

#include "kernels/axial_conv.h"
#include "kernels/cuda/check.cuh"

namespace sakuga::kernels::cuda {

using sakuga::cuda::cp;
using sakuga::cuda::dispatch_float_bf16;
using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::mp;
using sakuga::cuda::store;

namespace {

constexpr int kThreads = 256;
constexpr int kTilePix = 512;
constexpr int kPixPerThread = kTilePix / kThreads;
constexpr int kMaxTaps = 64;                    // KT
constexpr size_t kStaticSmem = 48 * 1024;       // forward: fits without opt-in
constexpr int64_t kTargetBlocks = 1024;         // forward: split c_in below this many blocks
constexpr int64_t kWorkspaceFloats = int64_t(1) << 24;  // 64 MiB of f32 partial sums at most
constexpr int64_t kMaxGroups = 1024;            // backward filter: G
constexpr int64_t kFilterSmemFloats = 24 * 1024;  // backward filter: 96 KiB of shared memory at most

// One pass's geometry ("in" has ci channels, "out" co channels; roles depend on the pass).
struct Params {
  int64_t n = 0, ci = 0, co = 0, h = 0, w = 0;
  int k = 0, p = 0;
  bool vertical = true;
  bool flip = false;  // weight (out o, in c, tap t) = w[c, o, k−1−t] instead of w[o, c, t]
  int tl = 0, tm = 0;  // tile (l, m)
  int kt = 0;          // taps per pass
  int cc = 0;          // input channels per chunk
  int lp = 0;          // shared pitch along l' (odd)
  int64_t tiles_l = 0, tiles_m = 0;
  int64_t c_chunks_per_split = 0, splits = 1;  // forward
  int64_t groups = 1;                           // backward filter
};

__host__ __device__ inline int64_t len_l(const Params& q) { return q.vertical ? q.h : q.w; }
__host__ __device__ inline int64_t len_m(const Params& q) { return q.vertical ? q.w : q.h; }

// Offset of (L, M) inside one (h, w) plane.
__device__ __forceinline__ int64_t plane_off(const Params& q, int64_t L, int64_t M) {
  return q.vertical ? L * q.w + M : M * q.w + L;
}

// The (l, m) of the r-th pixel of thread tid: consecutive threads on consecutive columns.
__device__ __forceinline__ void pixel_lm(const Params& q, int pix, int& l, int& m) {
  if (q.vertical) {
    m = pix % q.tm;
    l = pix / q.tm;
  } else {
    l = pix % q.tl;
    m = pix / q.tl;
  }
}

// s[(c·tm + m)·lp + l'] = src[img, c0 + c, l0 + l' + lofs, m0 + m] for l' < nl, c < cc_n (zero
// outside the plane). Enumeration order keeps consecutive threads on consecutive columns.
template <class T>
__device__ void load_tile(const Params& q, const T* src, int64_t channels, int64_t img, int64_t c0, int cc_n,
                          int64_t l0, int64_t lofs, int64_t m0, int nl, float* s) {
  const int per_c = nl * q.tm;
  const int64_t La = len_l(q), Lm = len_m(q);
  for (int e = threadIdx.x; e < cc_n * per_c; e += blockDim.x) {
    const int c = e / per_c, r = e % per_c;
    int lq, m;
    if (q.vertical) {
      lq = r / q.tm;
      m = r % q.tm;
    } else {
      m = r / nl;
      lq = r % nl;
    }
    const int64_t L = l0 + lq + lofs, M = m0 + m;
    float v = 0.f;
    if (L >= 0 && L < La && M < Lm) v = load(src, (img * channels + c0 + c) * q.h * q.w + plane_off(q, L, M));
    s[(c * q.tm + m) * q.lp + lq] = v;
  }
}

// v[0..OC) = p[0..OC): p is 16-byte aligned when OC % 4 == 0 (the shared-memory layouts below
// keep it so), read as float4 then; OC < 4 reads scalars. All threads of a warp read the same
// address: a broadcast.
template <int OC>
__device__ __forceinline__ void read_oc(const float* p, float (&v)[OC]) {
  if constexpr (OC % 4 == 0) {
    const float4* p4 = reinterpret_cast<const float4*>(p);
#pragma unroll
    for (int i = 0; i < OC / 4; ++i) {
      const float4 f = p4[i];
      v[4 * i] = f.x;
      v[4 * i + 1] = f.y;
      v[4 * i + 2] = f.z;
      v[4 * i + 3] = f.w;
    }
  } else {
#pragma unroll
    for (int i = 0; i < OC; ++i) v[i] = p[i];
  }
}

// Floats of the first shared array, rounded up so that the second one starts 16-byte aligned.
__host__ __device__ inline int aligned4(int floats) { return (floats + 3) & ~3; }

// ---- forward / backward data ------------------------------------------------------------

template <class T, int OC>
__global__ void __launch_bounds__(kThreads)
    axial_apply_kernel(Params q, const T* __restrict__ in, const T* __restrict__ w, const T* __restrict__ bias,
                       T* __restrict__ out, float* __restrict__ partial) {
  extern __shared__ float smem[];
  float* s_in = smem;                                   // cc × tm × lp
  float* s_w = smem + aligned4(q.cc * q.tm * q.lp);     // cc × kt × OC (16-byte aligned)
  const int tid = threadIdx.x;
  const int64_t l0 = int64_t(blockIdx.x / q.tiles_m) * q.tl, m0 = int64_t(blockIdx.x % q.tiles_m) * q.tm;
  const int64_t o_chunks = (q.co + OC - 1) / OC;
  const int64_t o0 = int64_t(blockIdx.z % o_chunks) * OC, split = blockIdx.z / o_chunks;
  const int oc = int(min(int64_t(OC), q.co - o0));
  const int64_t c_begin = split * q.c_chunks_per_split * q.cc;
  const int64_t c_end = min(q.ci, c_begin + q.c_chunks_per_split * q.cc);
  const int64_t La = len_l(q), Lm = len_m(q), hw = q.h * q.w;
  for (int64_t img = blockIdx.y; img < q.n; img += gridDim.y) {
    float acc[kPixPerThread][OC];
#pragma unroll
    for (int r = 0; r < kPixPerThread; ++r)
#pragma unroll
      for (int o = 0; o < OC; ++o) acc[r][o] = 0.f;
    for (int64_t c0 = c_begin; c0 < c_end; c0 += q.cc) {
      const int cc_n = int(min(int64_t(q.cc), c_end - c0));
      for (int t0 = 0; t0 < q.k; t0 += q.kt) {
        const int kt_n = min(q.kt, q.k - t0);
        __syncthreads();  // the previous pass is done with shared memory
        load_tile(q, in, q.ci, img, c0, cc_n, l0, int64_t(t0) - q.p, m0, q.tl + kt_n - 1, s_in);
        for (int e = tid; e < cc_n * q.kt * OC; e += kThreads) {
          const int c = e / (q.kt * OC), tt = (e / OC) % q.kt, oo = e % OC;
          float v = 0.f;
          if (tt < kt_n && oo < oc) {
            const int64_t o = o0 + oo, ch = c0 + c;
            const int t = t0 + tt;
            v = q.flip ? load(w, (ch * q.co + o) * q.k + (q.k - 1 - t)) : load(w, (o * q.ci + ch) * q.k + t);
          }
          s_w[e] = v;  // s_w[(c·kt + tt)·OC + oo]
        }
        __syncthreads();
        // Each (channel, tap): the OC weights once (broadcast), then both pixels.
        for (int c = 0; c < cc_n; ++c) {
          const float* xs[kPixPerThread];
#pragma unroll
          for (int r = 0; r < kPixPerThread; ++r) {
            int l, m;
            pixel_lm(q, tid + r * kThreads, l, m);
            xs[r] = s_in + (c * q.tm + m) * q.lp + l;
          }
          const float* ws = s_w + c * q.kt * OC;
          for (int tt = 0; tt < kt_n; ++tt) {
            float wv[OC];
            read_oc<OC>(ws + tt * OC, wv);
#pragma unroll
            for (int r = 0; r < kPixPerThread; ++r) {
              const float xv = xs[r][tt];
#pragma unroll
              for (int o = 0; o < OC; ++o) acc[r][o] = fmaf(wv[o], xv, acc[r][o]);
            }
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kPixPerThread; ++r) {
      int l, m;
      pixel_lm(q, tid + r * kThreads, l, m);
      const int64_t L = l0 + l, M = m0 + m;
      if (L >= La || M >= Lm) continue;
      const int64_t off = plane_off(q, L, M);
#pragma unroll
      for (int o = 0; o < OC; ++o) {
        if (o >= oc) break;
        const int64_t idx = (img * q.co + o0 + o) * hw + off;
        if (partial) {
          partial[split * q.n * q.co * hw + idx] = acc[r][o];
        } else {
          store(out, idx, acc[r][o] + (bias ? load(bias, o0 + o) : 0.f));
        }
      }
    }
  }
}

// out[i] = Σ_{s < splits} partial[s][i] (+ bias[channel of i]), in order.
template <class T>
__global__ void axial_sum_splits(const float* __restrict__ partial, int64_t splits, int64_t total, int64_t co,
                                 int64_t hw, const T* __restrict__ bias, T* __restrict__ out) {
  SAKUGA_GRID_LOOP(i, total) {
    float s = 0.f;
    for (int64_t k = 0; k < splits; ++k) s += partial[k * total + i];
    if (bias) s += load(bias, (i / hw) % co);
    store(out, i, s);
  }
}

// Output channels per block: the smallest of 1, 2, 4, 8, 12, 16 that holds c_out (12 for the
// GCN's C = 10), 16 with several chunks beyond.
int pick_oc(int64_t co) { return co <= 1 ? 1 : co <= 2 ? 2 : co <= 4 ? 4 : co <= 8 ? 8 : co <= 12 ? 12 : 16; }

// Tile, tap-pass and pitch of a geometry.
Params base_params(const AxialGeometry& g) {
  Params q;
  q.n = g.n;
  q.h = g.h;
  q.w = g.w;
  q.k = int(g.k);
  q.p = int(g.pad());
  q.vertical = g.vertical;
  q.tl = g.vertical ? 16 : 64;
  q.tm = kTilePix / q.tl;
  q.kt = std::min(q.k, kMaxTaps);
  q.lp = q.tl + q.kt - 1;
  if (q.lp % 2 == 0) ++q.lp;
  q.tiles_l = (len_l(q) + q.tl - 1) / q.tl;
  q.tiles_m = (len_m(q) + q.tm - 1) / q.tm;
  return q;
}

template <class T, int OC>
void launch_apply(Params q, const T* in, const T* w, const T* bias, T* out, Stream s) {
  // Input channels per chunk: as many as fit in 48 KiB with the weights (at most 16).
  const int64_t per_c = int64_t(q.tm) * q.lp + int64_t(q.kt) * OC;
  q.cc = int(std::max<int64_t>(
      1, std::min<int64_t>({q.ci, 16, (int64_t(kStaticSmem / sizeof(float)) - 4) / per_c})));  // −4: alignment
  const size_t smem = size_t(aligned4(q.cc * q.tm * q.lp) + q.cc * q.kt * OC) * sizeof(float);
  const int64_t tiles = q.tiles_l * q.tiles_m, o_chunks = (q.co + OC - 1) / OC;
  const int64_t c_chunks = (q.ci + q.cc - 1) / q.cc, hw = q.h * q.w, total = q.n * q.co * hw;
  const int64_t blocks = tiles * q.n * o_chunks;
  // Split c_in when the tiles alone are too few blocks (bounded by the workspace).
  int64_t splits = 1;
  if (blocks < kTargetBlocks && c_chunks > 1)
    splits = std::max<int64_t>(1, std::min<int64_t>({c_chunks, (kTargetBlocks + blocks - 1) / blocks,
                                                     kWorkspaceFloats / std::max<int64_t>(1, total)}));
  q.c_chunks_per_split = (c_chunks + splits - 1) / splits;
  q.splits = (c_chunks + q.c_chunks_per_split - 1) / q.c_chunks_per_split;  // no empty split
  SAKUGA_CHECK(tiles <= 0x7fffffff && o_chunks * q.splits <= 65535, "axial conv: geometry too large for the grid (",
               tiles, " tiles, ", o_chunks * q.splits, " channel chunks)");
  dim3 grid(unsigned(tiles), unsigned(std::min<int64_t>(q.n, 65535)), unsigned(o_chunks * q.splits));
  if (q.splits == 1) {
    axial_apply_kernel<T, OC><<<grid, kThreads, smem, s>>>(q, in, w, bias, out, nullptr);
    SAKUGA_LAUNCH_CHECK();
    return;
  }
  sakuga::cuda::Workspace ws(size_t(q.splits * total) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  axial_apply_kernel<T, OC><<<grid, kThreads, smem, s>>>(q, in, w, nullptr, out, partial);
  SAKUGA_LAUNCH_CHECK();
  axial_sum_splits<T><<<grid_for(total), 256, 0, s>>>(partial, q.splits, total, q.co, hw, bias, out);
  SAKUGA_LAUNCH_CHECK();
}

template <class T>
void apply(Params q, const T* in, const T* w, const T* bias, T* out, Stream s) {
  switch (pick_oc(q.co)) {
    case 1: launch_apply<T, 1>(q, in, w, bias, out, s); break;
    case 2: launch_apply<T, 2>(q, in, w, bias, out, s); break;
    case 4: launch_apply<T, 4>(q, in, w, bias, out, s); break;
    case 8: launch_apply<T, 8>(q, in, w, bias, out, s); break;
    case 12: launch_apply<T, 12>(q, in, w, bias, out, s); break;
    default: launch_apply<T, 16>(q, in, w, bias, out, s); break;
  }
}

// ---- backward filter -------------------------------------------------------------------

template <class T, int OC>
__global__ void __launch_bounds__(kThreads)
    axial_filter_partial_kernel(Params q, const T* __restrict__ x, const T* __restrict__ gy,
                                float* __restrict__ partial) {
  extern __shared__ float smem[];
  float* s_gy = smem;                     // tm × tl × OC   ([m][l][o], 16-byte aligned rows)
  float* s_x = smem + OC * kTilePix;      // cc × tm × lp   ([c][m][l'])
  const int tid = threadIdx.x;
  // blockIdx.y → (o chunk, c chunk, tap pass)
  const int64_t t_passes = (q.k + q.kt - 1) / q.kt, c_chunks = (q.ci + q.cc - 1) / q.cc;
  int64_t chunk = blockIdx.y;
  const int t0 = int(chunk % t_passes) * q.kt;
  chunk /= t_passes;
  const int64_t c0 = (chunk % c_chunks) * q.cc, o0 = (chunk / c_chunks) * OC;
  const int kt_n = min(q.kt, q.k - t0);
  const int cc_n = int(min(int64_t(q.cc), q.ci - c0));
  const int oc = int(min(int64_t(OC), q.co - o0));
  const int my_c = tid / q.kt, my_t = tid % q.kt;
  const bool active = my_c < cc_n && my_t < kt_n;
  const int64_t La = len_l(q), Lm = len_m(q), hw = q.h * q.w;
  const int64_t tiles = q.tiles_l * q.tiles_m, n_tiles = q.n * tiles;
  float acc[OC];
#pragma unroll
  for (int o = 0; o < OC; ++o) acc[o] = 0.f;
  for (int64_t T_ = blockIdx.x; T_ < n_tiles; T_ += q.groups) {
    const int64_t img = T_ / tiles, tile = T_ % tiles;
    const int64_t l0 = (tile / q.tiles_m) * q.tl, m0 = (tile % q.tiles_m) * q.tm;
    __syncthreads();  // the previous tile is done with shared memory
    // gy tile (no halo): s_gy[(m·tl + l)·OC + o], zero outside the plane and for o ≥ oc.
    for (int e = tid; e < OC * kTilePix; e += kThreads) {
      const int o = e / kTilePix, r = e % kTilePix;
      int l, m;
      pixel_lm(q, r, l, m);
      const int64_t L = l0 + l, M = m0 + m;
      float v = 0.f;
      if (o < oc && L < La && M < Lm) v = load(gy, (img * q.co + o0 + o) * hw + plane_off(q, L, M));
      s_gy[(m * q.tl + l) * OC + o] = v;
    }
    load_tile(q, x, q.ci, img, c0, cc_n, l0, int64_t(t0) - q.p, m0, q.tl + kt_n - 1, s_x);
    __syncthreads();
    if (active) {
      for (int m = 0; m < q.tm; ++m) {
        const float* xs = s_x + (my_c * q.tm + m) * q.lp + my_t;
        const float* gs = s_gy + m * q.tl * OC;
        for (int l = 0; l < q.tl; ++l) {
          const float xv = xs[l];
          float gv[OC];
          read_oc<OC>(gs + l * OC, gv);  // broadcast: every thread reads the same pixel
#pragma unroll
          for (int o = 0; o < OC; ++o) acc[o] = fmaf(gv[o], xv, acc[o]);
        }
      }
    }
  }
  if (active) {
    const int64_t total = q.co * q.ci * q.k;
#pragma unroll
    for (int o = 0; o < OC; ++o) {
      if (o >= oc) break;
      partial[int64_t(blockIdx.x) * total + ((o0 + o) * q.ci + c0 + my_c) * q.k + t0 + my_t] = acc[o];
    }
  }
}

// gw[i] = Σ_{g < groups} partial[g][i], in order.
template <class T>
__global__ void axial_sum_groups(const float* __restrict__ partial, int64_t groups, int64_t total,
                                 T* __restrict__ gw) {
  SAKUGA_GRID_LOOP(i, total) {
    float s = 0.f;
    for (int64_t g = 0; g < groups; ++g) s += partial[g * total + i];
    store(gw, i, s);
  }
}

template <class T, int OC>
void launch_filter(Params q, const T* x, const T* gy, T* gw, Stream s) {
  // Input channels per chunk: one thread per (channel, tap), within the shared-memory budget.
  q.cc = int(std::max<int64_t>(1, std::min<int64_t>({q.ci, int64_t(kThreads / q.kt),
                                                     (kFilterSmemFloats - OC * kTilePix) / (int64_t(q.tm) * q.lp)})));
  const size_t smem = size_t(OC * kTilePix + q.cc * q.tm * q.lp) * sizeof(float);
  const int64_t tiles = q.tiles_l * q.tiles_m, n_tiles = q.n * tiles, total = q.co * q.ci * q.k;
  q.groups = std::max<int64_t>(1, std::min<int64_t>({n_tiles, kMaxGroups, kWorkspaceFloats / total}));
  const int64_t t_passes = (q.k + q.kt - 1) / q.kt, c_chunks = (q.ci + q.cc - 1) / q.cc;
  const int64_t o_chunks = (q.co + OC - 1) / OC, chunks = o_chunks * c_chunks * t_passes;
  SAKUGA_CHECK(chunks <= 65535, "axial conv backward filter: too many channel chunks (", chunks, ")");
  auto kernel = axial_filter_partial_kernel<T, OC>;
  if (smem > kStaticSmem) SAKUGA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  sakuga::cuda::Workspace ws(size_t(q.groups * total) * sizeof(float), sakuga::cuda::current_device());
  float* partial = static_cast<float*>(ws.get());
  kernel<<<dim3(unsigned(q.groups), unsigned(chunks)), kThreads, smem, s>>>(q, x, gy, partial);
  SAKUGA_LAUNCH_CHECK();
  axial_sum_groups<T><<<grid_for(total), 256, 0, s>>>(partial, q.groups, total, gw);
  SAKUGA_LAUNCH_CHECK();
}

template <class T>
void filter(Params q, const T* x, const T* gy, T* gw, Stream s) {
  switch (pick_oc(q.co)) {
    case 1: launch_filter<T, 1>(q, x, gy, gw, s); break;
    case 2: launch_filter<T, 2>(q, x, gy, gw, s); break;
    case 4: launch_filter<T, 4>(q, x, gy, gw, s); break;
    case 8: launch_filter<T, 8>(q, x, gy, gw, s); break;
    case 12: launch_filter<T, 12>(q, x, gy, gw, s); break;
    default: launch_filter<T, 16>(q, x, gy, gw, s); break;
  }
}

void check_geometry(const char* op, const AxialGeometry& g) {
  SAKUGA_CHECK(g.n >= 1 && g.c_in >= 1 && g.c_out >= 1 && g.h >= 1 && g.w >= 1 && g.k >= 3 && g.k % 2 == 1, op,
               ": invalid axial geometry (n ", g.n, ", c_in ", g.c_in, ", c_out ", g.c_out, ", h ", g.h, ", w ", g.w,
               ", k ", g.k, ")");
}

}  // namespace

void axial_conv_forward(const AxialGeometry& g, DType dtype, const void* x, const void* w, const void* bias,
                        void* y, Stream s) {
  check_geometry("axial_conv_forward", g);
  dispatch_float_bf16("axial_conv_forward", dtype, [&](auto t) {
    using T = decltype(t);
    Params q = base_params(g);
    q.ci = g.c_in;
    q.co = g.c_out;
    q.flip = false;
    apply<T>(q, cp<T>(x), cp<T>(w), bias ? cp<T>(bias) : nullptr, mp<T>(y), s);
  });
}

void axial_conv_backward_data(const AxialGeometry& g, DType dtype, const void* gy, const void* w, void* gx,
                              Stream s) {
  check_geometry("axial_conv_backward_data", g);
  dispatch_float_bf16("axial_conv_backward_data", dtype, [&](auto t) {
    using T = decltype(t);
    Params q = base_params(g);
    q.ci = g.c_out;  // the input of this pass is gy
    q.co = g.c_in;   // its output is gx
    q.flip = true;
    apply<T>(q, cp<T>(gy), cp<T>(w), nullptr, mp<T>(gx), s);
  });
}

void axial_conv_backward_filter(const AxialGeometry& g, DType dtype, const void* x, const void* gy, void* gw,
                                Stream s) {
  check_geometry("axial_conv_backward_filter", g);
  dispatch_float_bf16("axial_conv_backward_filter", dtype, [&](auto t) {
    using T = decltype(t);
    Params q = base_params(g);
    q.ci = g.c_in;
    q.co = g.c_out;
    filter<T>(q, cp<T>(x), cp<T>(gy), mp<T>(gw), s);
  });
}

}  // namespace sakuga::kernels::cuda
