#!/usr/bin/env bash
# Runs every native Go fuzzer in the module for $1 (default 20s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-20s}
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $f ($fuzztime)"
    if ! go test "$pkg" -run '^$' -fuzz "^$f\$" -fuzztime "$fuzztime"; then
      status=1
    fi
  done
done
exit $status
