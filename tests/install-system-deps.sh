#!/bin/sh
# System packages the test suite needs beyond PyPI: Debian's Chromium for the browser test of
# the HTML report (Playwright drives the system binary; it never downloads a browser).
# Node.js and npm (for npm audit and the SARIF Multitool) are expected on the machine.
set -eu
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
    echo "install-system-deps: Chromium not found and apt-get not usable; the browser test will skip (or fail in CI)" >&2
fi
