#!/usr/bin/env bash
# The Debian packages the test suite needs beyond Python: Chromium for the browser tests
# (DESIGN.md §5). Installed with apt-get when running as root; otherwise a message naming
# the package, so `make test` says exactly what is missing on a machine that never saw
# the project.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian package(s): ${missing[*]}. Install them: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
