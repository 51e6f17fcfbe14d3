#!/usr/bin/env bash
# The Debian packages the test suite needs beyond Python: Chromium for the browser tests
# (DESIGN.md §5), Pango for WeasyPrint's PDFs. Installed with apt-get when running as root; otherwise a message naming
# the package, so `make test` says exactly what is missing on a machine that never saw
# the project.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# WeasyPrint (PDF receipts and letters) needs Pango; Chromium usually brings it along.
ldconfig -p | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian package(s): ${missing[*]}. Install them: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
