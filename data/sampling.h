#pragma once
// How every family orders and splits its data, in one place:
//   epoch_order          the permutation of a training set in an epoch: a pure function of (seed,
//                        epoch), so the batch of any step can be built from its number alone
//   is_validation_name   the train/validation split of a folder dataset by file name
#include <cstdint>
#include <string>
#include <vector>

namespace sakuga::data {

// The indices 0..n−1 sorted by Philox keys of (seed, epoch).
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch);

// Deterministic train/validation split: FNV-1a 64 of the file name (without folder), mapped to
// [0, 1); names below `val_fraction` are validation. Stable across machines and runs.
bool is_validation_name(const std::string& name, double val_fraction);

}  // namespace sakuga::data
