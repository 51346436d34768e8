#pragma once
// Run options for the end-to-end tests of the training harness.
#include <string>

#include "nets/harness/trainer.h"

namespace sakuga::test {

// A quiet run of `family` into the folder `out`.
inline harness::RunOptions quiet_run(const std::string& out, const std::string& family) {
  harness::RunOptions o;
  o.out = out;
  o.family = family;
  o.quiet = true;
  return o;
}

}  // namespace sakuga::test
