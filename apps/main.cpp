// sakuga: the command line. `sakuga --help` lists the commands.
#include <fmt/format.h>

#include <exception>

#include "apps/commands.h"
#include "kernels/comm.h"
#include "kernels/common.h"
#include "kernels/cpu/blas_kernels.h"
#include "sakuga_build_info.h"

int main(int argc, char** argv) {
  sakuga::kernels::cpu::use_fast_blas_kernels(argv);  // may restart the program (blas_kernels.h)
  CLI::App app{"sakuga — neural networks for anime production research (C++/CUDA)"};
  app.set_version_flag("--version", std::string("sakuga ") + SAKUGA_VERSION + " (" + SAKUGA_GIT_COMMIT + ")");
  app.require_subcommand(1);
  sakuga::app::Action action;
  sakuga::app::add_info(app, action);
  sakuga::app::add_train(app, action);
  sakuga::app::add_eval(app, action);
  sakuga::app::add_infer(app, action);
  sakuga::app::add_synth(app, action);
  sakuga::app::add_bench(app, action);
  sakuga::app::add_blend(app, action);
  sakuga::app::add_redraw(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // A data-parallel job (mpirun/srun): a rank that fails ends the whole job with its message
  // (the others would wait for it in their next collective); nothing it had written is lost.
  auto fail = [](const std::string& message, int code) {
    if (sakuga::dist::world().world() > 1) sakuga::dist::abort_job(message, code);
    fmt::print(stderr, "sakuga: {}\n", message);
    return code;
  };
  try {
    sakuga::dist::init();
    const int rc = action ? action() : 0;
    sakuga::dist::finalize();
    return rc;
  } catch (const sakuga::Error& e) {
    return fail(std::string("error: ") + e.what(), 1);
  } catch (const std::exception& e) {
    return fail(std::string("unexpected error: ") + e.what(), 2);
  }
}
