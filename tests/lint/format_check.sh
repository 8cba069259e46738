#!/usr/bin/env bash
# Fails when any C++ file git knows is not clang-format clean (the repo's .clang-format).
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find . -path ./build -prune -o \( -name '*.cpp' -o -name '*.h' \) -print)
if [ ${#files[@]} -eq 0 ]; then
  echo "format_check: no C++ files found" >&2
  exit 1
fi
clang-format --dry-run -Werror "${files[@]}"
echo "format_check: ${#files[@]} files clean"
