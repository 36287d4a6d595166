#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Licensing: every source file says its licence in an SPDX line, the
# same as LICENSE's and the crate's.

load helpers

# The source files a distribution ships or builds: code, build files,
# scripts and manual pages (not data, prose, or recorded results).
source_files () {
  git -C "$top" ls-files --cached --others --exclude-standard |
    while IFS= read -r f; do
      [ -f "$top/$f" ] && [ ! -L "$top/$f" ] || continue
      case "$f" in
        fuzz/corpus/*|fuzz/regressions/*|bench/results/*) continue ;;
        *.c|*.h|*.rs|*.py|*.bash|*.bats|*.sh|*.cmake|*.toml|*.pod|*CMakeLists.txt)
          echo "$f" ;;
        *.*) ;;
        *) [ "$(head -c 2 "$top/$f")" = '#!' ] && echo "$f" ;;
      esac
    done
}

@test "every source file carries the SPDX licence line in its first lines" {
  local f missing=()
  while IFS= read -r f; do
    head -n 5 "$top/$f" | grep -q 'SPDX-License-Identifier: BSD-2-Clause' ||
      missing+=("$f")
  done < <(source_files)
  [ "$(source_files | wc -l)" -gt 100 ]
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'no SPDX line: %s\n' "${missing[@]}"
    return 1
  fi
}

@test "the SPDX identifier is the licence of LICENSE and of the crate" {
  grep -qx 'license = "BSD-2-Clause"' "$top/rust-sdk/Cargo.toml"
  # BSD-2-Clause: two conditions, no third ("neither the name ...").
  grep -q 'Redistributions of source code must retain' "$top/LICENSE"
  grep -q 'Redistributions in binary form must reproduce' "$top/LICENSE"
  ! grep -qi 'neither the name' "$top/LICENSE"
}
