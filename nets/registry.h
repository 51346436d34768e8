#pragma once
// The families `sakuga train|bench|eval|infer|synth` know, in one list (nets/registry.cpp). A
// new family adds its entry there and its command-line hooks in apps/families.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nets/harness/family.h"

namespace sakuga {

struct FamilyEntry {
  std::string name;     // the command-line name: sakuga train <name>
  std::string summary;  // one line for --help
  std::function<Json()> defaults;  // every config key with its default (harness keys included)
  std::function<std::unique_ptr<harness::Family>(const Config& cfg, Device device, bool quiet)> make;
  std::string torch_twin;  // how to run the PyTorch script in bench/ that times the same step ("" = none yet)
};

const std::vector<FamilyEntry>& families();
// The entry of `name`, or an error listing the registered names.
const FamilyEntry& find_family(const std::string& name);

}  // namespace sakuga
