// `sakuga eval|infer|synth FAMILY`: dispatched to the families that have these commands
// (apps/families.h).
#include "apps/commands.h"
#include "apps/families.h"
#include "nets/registry.h"

namespace sakuga::app {

namespace {

using Hook = std::function<void(CLI::App*, Action&)> FamilyCli::*;

void add_family_command(CLI::App& app, Action& action, const char* name, const char* help, Hook hook,
                        const char* what) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->require_subcommand(1);
  for (const FamilyEntry& fam : families())
    if (const auto& h = family_cli(fam.name).*hook) h(cmd->add_subcommand(fam.name, std::string(what) + fam.name), action);
  for (const std::string& name : unregistered_cli_families())
    if (const auto& h = family_cli(name).*hook) h(cmd->add_subcommand(name, std::string(what) + name), action);
}

}  // namespace

void add_eval(CLI::App& app, Action& action) {
  add_family_command(app, action, "eval", "metrics of a checkpoint on a dataset", &FamilyCli::eval, "evaluate a model of ");
}

void add_infer(CLI::App& app, Action& action) {
  add_family_command(app, action, "infer", "run a checkpoint on input files", &FamilyCli::infer, "inference with ");
}

void add_synth(CLI::App& app, Action& action) {
  add_family_command(app, action, "synth", "write a procedural dataset (PNG folders)", &FamilyCli::synth,
                     "synthetic data for ");
}

}  // namespace sakuga::app
