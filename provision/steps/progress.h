// Progress lines for the steps: "push       h2    wrote 6 files (20.1 MB)   0.62 s", printed as
// they happen (from any thread) so a user watching a slow node sees which one it is.
// Thread-safety: line() and done() may be called from several threads at once.
#pragma once

#include <chrono>
#include <iosfwd>
#include <mutex>
#include <string>

namespace provision::steps {

class Progress {
 public:
  explicit Progress(std::ostream& out) : out_(out) {}
  // Starts timing a step.
  void begin(const std::string& step);
  // One line about one node within the current step.
  void line(const std::string& node, const std::string& text, double seconds = -1);
  // The step's closing line with its wall time; returns that time in seconds.
  double done(const std::string& text);

 private:
  std::ostream& out_;
  std::mutex mu_;
  std::string step_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace provision::steps
