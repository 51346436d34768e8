// CPU reference of the douga post-processing family: the literal algorithms of gcn.md
// ("Post-processing"), straight loops, single-threaded.
#include <deque>
#include <vector>

#include "kernels/postprocess.h"

namespace sakuga::kernels::cpu {

int64_t postprocess_zhang_suen(const uint8_t* in, uint8_t* out, int64_t H, int64_t W) {
  const int64_t n = H * W;
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] != 0 ? 1 : 0;
  std::vector<uint8_t> snap(size_t(n > 0 ? n : 0));
  int64_t iterations = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    ++iterations;
    for (int sub = 0; sub < 2; ++sub) {
      // Decide on a snapshot, then delete.
      for (int64_t i = 0; i < n; ++i) snap[size_t(i)] = out[i];
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          if (!snap[size_t(h * W + w)]) continue;
          int p[8];
          postprocess_neighbours(snap.data(), H, W, h, w, p);
          if (postprocess_zs_delete(p, sub)) {
            out[h * W + w] = 0;
            changed = true;
          }
        }
    }
  }
  return iterations;
}

void postprocess_dilate3x3(const uint8_t* in, uint8_t* out, int64_t H, int64_t W) {
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w) {
      uint8_t v = 0;
      for (int64_t y = h - 1; y <= h + 1 && !v; ++y)
        for (int64_t x = w - 1; x <= w + 1; ++x)
          if (y >= 0 && y < H && x >= 0 && x < W && in[y * W + x]) {
            v = 1;
            break;
          }
      out[h * W + w] = v;
    }
}

int64_t postprocess_label_components4(const uint8_t* mask, int32_t* labels, int64_t H, int64_t W) {
  const int64_t n = H * W;
  for (int64_t i = 0; i < n; ++i) labels[i] = -1;
  int64_t count = 0;
  std::deque<int64_t> queue;
  // Raster order: the first pixel reached of a component is its smallest linear index.
  for (int64_t start = 0; start < n; ++start) {
    if (!mask[start] || labels[start] >= 0) continue;
    ++count;
    const int32_t label = int32_t(start);
    labels[start] = label;
    queue.push_back(start);
    while (!queue.empty()) {
      const int64_t i = queue.front();
      queue.pop_front();
      const int64_t h = i / W, w = i % W;
      const int64_t nb[4] = {h > 0 ? i - W : -1, w > 0 ? i - 1 : -1, w + 1 < W ? i + 1 : -1,
                             h + 1 < H ? i + W : -1};
      for (int64_t j : nb)
        if (j >= 0 && mask[j] && labels[j] < 0) {
          labels[j] = label;
          queue.push_back(j);
        }
    }
  }
  return count;
}

void postprocess_douga(const float* probs, int32_t* out, int64_t H, int64_t W) {
  const int64_t n = H * W;
  const size_t un = size_t(n > 0 ? n : 0);
  // 1. lines = argmax in 1–5.
  std::vector<uint8_t> lines(un), skel(un), dil(un), fill(un);
  for (int64_t i = 0; i < n; ++i)
    lines[size_t(i)] = postprocess_is_line(postprocess_argmax(probs, n, i, 0, kPostprocessClasses - 1)) ? 1 : 0;
  // 2. skeleton; 3. dilated skeleton, each pixel the most probable line class.
  postprocess_zhang_suen(lines.data(), skel.data(), H, W);
  postprocess_dilate3x3(skel.data(), dil.data(), H, W);
  for (int64_t i = 0; i < n; ++i) {
    fill[size_t(i)] = dil[size_t(i)] ? 0 : 1;
    if (dil[size_t(i)]) out[i] = postprocess_argmax(probs, n, i, 1, 5);
  }
  // 4. components of the rest; each takes the fill class with the highest mean probability.
  std::vector<int32_t> labels(un);
  const int64_t ncomp = postprocess_label_components4(fill.data(), labels.data(), H, W);
  // Components numbered in raster order of their roots; sums[comp·5 + k] over the component.
  std::vector<int32_t> comp(un, -1);
  int32_t next = 0;
  for (int64_t i = 0; i < n; ++i)
    if (labels[size_t(i)] == int32_t(i)) comp[size_t(i)] = next++;
  std::vector<unsigned long long> sums(size_t(ncomp) * 5, 0ull);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = labels[size_t(i)];
    if (r < 0) continue;
    unsigned long long* s = sums.data() + size_t(comp[size_t(r)]) * 5;
    for (int k = 0; k < 5; ++k) s[k] += postprocess_fixed(probs[int64_t(postprocess_fill_class(k)) * n + i]);
  }
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = labels[size_t(i)];
    if (r < 0) continue;
    const unsigned long long* s = sums.data() + size_t(comp[size_t(r)]) * 5;
    int best = 0;
    for (int k = 1; k < 5; ++k)
      if (s[k] > s[best]) best = k;
    out[i] = postprocess_fill_class(best);
  }
}

}  // namespace sakuga::kernels::cpu
