// CapturedLog: routes spdlog's default logger into a string for the object's lifetime, so a test
// can assert on what kvserver logs.
#pragma once

#include <memory>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace kvserver::server::testing {

struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  }
  // Later tests in the same binary log through the logger they had, not into a freed stream.
  ~CapturedLog() { spdlog::set_default_logger(previous); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
};

}  // namespace kvserver::server::testing
