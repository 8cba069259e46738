#include "provision/steps/progress.h"

#include <cstdio>
#include <ostream>

namespace provision::steps {

namespace {
std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}
}  // namespace

void Progress::begin(const std::string& step) {
  std::lock_guard<std::mutex> lock(mu_);
  step_ = step;
  start_ = std::chrono::steady_clock::now();
}

void Progress::line(const std::string& node, const std::string& text, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  out_ << pad(step_, 10) << pad(node, 8) << text;
  if (seconds >= 0) out_ << "  (" << seconds_text(seconds) << ")";
  out_ << std::endl;
}

double Progress::done(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << pad(step_, 10) << pad("done", 8) << text << " in " << seconds_text(s) << std::endl;
  return s;
}

}  // namespace provision::steps
