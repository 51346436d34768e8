#include "nets/redraw/tools.h"

#include "kernels/common.h"
#include "tensor/safetensors.h"

namespace sakuga::redraw {

namespace {

// A checkpoint of another stage is refused before any work (each stage's loader checks again).
void check_checkpoint(const ModelSource& m, Stage stage) {
  require_stage(io::load_safetensors(m.ckpt), m.ckpt, stage);
}

}  // namespace

int run_eval(const EvalOptions& o) {
  check_checkpoint(o.model, o.stage);
  switch (o.stage) {
    case Stage::detect: return run_detect_eval(o);
    case Stage::encoder: return run_encoder_eval(o);
    case Stage::redrawer: return run_redrawer_eval(o);
  }
  SAKUGA_FAIL("eval redraw: unknown stage");
}

int run_infer(const InferOptions& o) {
  if (o.stage != Stage::redrawer) check_checkpoint(o.model, o.stage);
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
