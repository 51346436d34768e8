#pragma once
// Checkpoints of a family's declared parts: one safetensors file with
//   <network prefix><tensor>        every network's parameters and persistent buffers
//   <optimizer prefix><state>       every optimiser's state (optim/optimizer.h)
// and string metadata
//   config    the resolved config (JSON)       family   the registered family name
//   step      steps completed                   harness  JSON: rng offsets, early-stop state,
//                                                        stage, the family's own state
// A tensor belongs to the part with the longest matching prefix, so "" (gcn's network) and
// "optim." (its optimiser) coexist with "disc." and "optim.D.".
//
// Files written before the shared harness (gcn and fmnist) carry the metadata keys
// dropout_rng_offset, best_val_loss and bad_evals instead of "harness"; they load too.
#include <optional>
#include <string>

#include "nets/harness/family.h"

namespace sakuga::harness {

// Writes the checkpoint atomically.
void save_checkpoint(const Family& family, const std::string& path, int64_t step, const Json& harness_state,
                     const std::string& family_name);

struct LoadedState {
  int64_t step = 0;
  std::optional<double> best;  // the monitored metric's best value so far
  int64_t bad_evals = 0, best_step = -1;
};
// Restores every declared part (and the family's state) from `path`. Errors name the file and
// list every missing, unexpected or mis-shaped tensor; a checkpoint of another family is an
// error naming both.
LoadedState load_checkpoint(Family& family, const std::string& path, const std::string& family_name);

// `to` becomes the same file as `from` (a hard link, else a copy), replaced atomically.
void link_or_copy(const std::string& from, const std::string& to);

}  // namespace sakuga::harness
