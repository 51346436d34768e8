// The redraw detect stage (nets/redraw/family.h). Not built yet: its section is empty and the
// stage refuses to start.
#include "kernels/common.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"

namespace sakuga::redraw {

Json detect_defaults() { return Json::object(); }

std::unique_ptr<harness::Family> make_detect_family(const Config&, Device, bool) {
  SAKUGA_FAIL("redraw: the detect stage is not built yet");
}

int run_detect_eval(const EvalOptions&) { SAKUGA_FAIL("eval redraw: the detect stage is not built yet"); }

int run_detect_infer(const InferOptions&) { SAKUGA_FAIL("infer redraw: the detect stage is not built yet"); }

}  // namespace sakuga::redraw
