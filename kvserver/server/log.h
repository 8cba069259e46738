// kvserver's logging: one spdlog logger writing to stderr (journald adds the timestamp and unit
// when run under systemd). Convention: one line per state change (listening, TLS reloaded, became
// leader, ...), never one per request.
//
// Linked header-only (spdlog with fmt header-only) so the static kvserver binary needs no libspdlog
// or libfmt at run time.
//
// Thread-safety: spdlog's *_mt sinks; safe from any thread after init_logging().
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace kvserver::server {

// Installs the stderr logger as spdlog's default. level: "debug", "info", "warn", "error".
void init_logging(const std::string& level = "info");

}  // namespace kvserver::server
