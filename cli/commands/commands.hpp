#pragma once
// Every command group registers itself on the root CLI::App. main.cpp calls
// these in order, so the whole command tree is visible in one place.

#include <CLI/CLI.hpp>

namespace de::cli {

struct Context;

void register_auth(CLI::App& root, Context& ctx);      // login, logout, whoami
void register_apps(CLI::App& root, Context& ctx);      // apps list|exists|create|info|delete|update
void register_mount(CLI::App& root, Context& ctx);     // mount enable|disable|status|url
void register_transfer(CLI::App& root, Context& ctx);  // upload, download
void register_files(CLI::App& root, Context& ctx);     // ls, cat, rm, mv, mkdir
void register_sync(CLI::App& root, Context& ctx);      // sync push|pull
void register_predeploy(CLI::App& root, Context& ctx);   // predeploy
void register_completion(CLI::App& root, Context& ctx);  // completion, man, hidden __complete

}  // namespace de::cli
