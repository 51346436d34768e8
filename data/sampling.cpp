#include "data/sampling.h"

#include <algorithm>
#include <numeric>

#include "kernels/philox.h"

namespace sakuga::data {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<uint32_t> key(static_cast<size_t>(n));
  const uint64_t key_seed = seed * 0x9E3779B97F4A7C15ull + uint64_t(epoch) + 1;
  for (size_t i = 0; i < key.size(); ++i) key[i] = philox::word(key_seed, i);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t(0));
  std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    return key[size_t(a)] != key[size_t(b)] ? key[size_t(a)] < key[size_t(b)] : a < b;
  });
  return idx;
}

bool is_validation_name(const std::string& name, double val_fraction) {
  const size_t slash = name.find_last_of("/\\");
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : base) {
    h ^= uint64_t(c);
    h *= 1099511628211ull;
  }
  const double u = double(h >> 11) * (1.0 / 9007199254740992.0);  // top 53 bits → [0, 1)
  return u < val_fraction;
}

}  // namespace sakuga::data
