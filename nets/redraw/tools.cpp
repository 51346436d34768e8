#include "nets/redraw/tools.h"

#include "kernels/common.h"

namespace sakuga::redraw {

int run_eval(const EvalOptions& o) {
  switch (o.stage) {
    case Stage::detect: return run_detect_eval(o);
    case Stage::encoder: return run_encoder_eval(o);
    case Stage::redrawer: return run_redrawer_eval(o);
  }
  SAKUGA_FAIL("eval redraw: unknown stage");
}

int run_infer(const InferOptions& o) {
  switch (o.stage) {
    case Stage::detect: return run_detect_infer(o);
    case Stage::encoder: return run_encoder_infer(o);
    case Stage::redrawer:
      SAKUGA_FAIL("infer redraw: the redrawer runs on frames through the whole pipeline (sakuga redraw --frames DIR "
                  "--guide design.png ...), not alone");
  }
  SAKUGA_FAIL("infer redraw: unknown stage");
}

}  // namespace sakuga::redraw
