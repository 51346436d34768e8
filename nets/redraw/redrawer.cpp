// The redraw redrawer stage (nets/redraw/family.h). Not built yet: its section is empty and the
// stage refuses to start.
#include "kernels/common.h"
#include "nets/redraw/family.h"
#include "nets/redraw/tools.h"

namespace sakuga::redraw {

Json redrawer_defaults() { return Json::object(); }

std::unique_ptr<harness::Family> make_redrawer_family(const Config&, Device, bool) {
  SAKUGA_FAIL("redraw: the redrawer stage is not built yet");
}

int run_redrawer_eval(const EvalOptions&) { SAKUGA_FAIL("eval redraw: the redrawer stage is not built yet"); }

}  // namespace sakuga::redraw
