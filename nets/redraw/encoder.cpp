// The redraw encoder stage (nets/redraw/family.h). Not built yet: its section is empty and the
// stage refuses to start.
#include "kernels/common.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"

namespace sakuga::redraw {

Json encoder_defaults() { return Json::object(); }

std::unique_ptr<harness::Family> make_encoder_family(const Config&, Device, bool) {
  SAKUGA_FAIL("redraw: the encoder stage is not built yet");
}

int run_encoder_eval(const EvalOptions&) { SAKUGA_FAIL("eval redraw: the encoder stage is not built yet"); }

int run_encoder_infer(const InferOptions&) { SAKUGA_FAIL("infer redraw: the encoder stage is not built yet"); }

}  // namespace sakuga::redraw
