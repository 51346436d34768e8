#pragma once
// Curves of a run's metrics.jsonl as PNG pictures, refreshed by the harness at every
// evaluation: plots/train.png (each logged training scalar against the step, learning rates
// excepted) and plots/eval.png (each evaluation metric). One small panel per quantity, each with
// its own scale, titled with the key and its last value.
#include <string>

namespace sakuga::harness {

// Reads `metrics_jsonl`, writes train.png and eval.png into `dir` (a file with no records of a
// kind is not written). Torn or non-JSON lines are skipped.
void write_plots(const std::string& metrics_jsonl, const std::string& dir);

}  // namespace sakuga::harness
