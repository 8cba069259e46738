// Quoting and sudo-output helpers. shell_quote is judged by a real /bin/sh.
#include "provision/ssh/remote_shell.h"

#include <catch2/catch.hpp>

#include "sshd_fixture.h"

using provision::ssh::explain_sudo_failure;
using provision::ssh::shell_quote;
using provision::ssh::tail_lines;
using provision::ssh::testing::run_local;

TEST_CASE("shell_quote makes any string exactly one word for sh", "[ssh][shell]") {
  for (const std::string word : {"plain", "with space", "it's", "a'b\"c", "$(touch /tmp/x)", "`id`",
                                 "semi;colon && ls", "", "new\nline", "back\\slash"}) {
    INFO(word);
    auto r = run_local("sh -c 'printf %s \"$#:$1\"' sh " + shell_quote(word));
    REQUIRE(r.exit_code == 0);
    CHECK(r.output == "1:" + word);
  }
}

TEST_CASE("sudo refusals are recognised, other failures are not", "[ssh][shell]") {
  auto pw = explain_sudo_failure("sudo: a password is required\n", "deploy");
  REQUIRE(pw.has_value());
  CHECK(pw->find("deploy ALL=(ALL) NOPASSWD: ALL") != std::string::npos);
  auto not_allowed = explain_sudo_failure("deploy is not in the sudoers file.", "deploy");
  REQUIRE(not_allowed.has_value());
  CHECK(not_allowed->find("may not use sudo") != std::string::npos);
  CHECK_FALSE(explain_sudo_failure("cp: cannot stat 'x': No such file", "deploy").has_value());
}

TEST_CASE("tail_lines keeps the last non-empty lines", "[ssh][shell]") {
  CHECK(tail_lines("a\n\nb\nc\nd\n", 2) == "c | d");
  CHECK(tail_lines("", 3).empty());
  CHECK(tail_lines(std::string(2000, 'x'), 3, 10) == "..." + std::string(10, 'x'));
}
