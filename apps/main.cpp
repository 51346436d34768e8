// sakuga: the command line. `sakuga --help` lists the commands.
#include <fmt/format.h>

#include <exception>

#include "apps/commands.h"
#include "kernels/common.h"
#include "sakuga_build_info.h"

int main(int argc, char** argv) {
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const sakuga::Error& e) {
    fmt::print(stderr, "sakuga: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sakuga: unexpected error: {}\n", e.what());
    return 2;
  }
}
