#include "kvserver/server/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace kvserver::server {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("kvserver");
  // No colours and a plain layout: the reader is usually journalctl, which adds time and unit.
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);  // a state change must be visible before a crash
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace kvserver::server
