#!/bin/sh
# The system packages the tests use, from Debian's packages: Chromium and its WebDriver for the
# studio's browser tests (tests/e2e/test_studio*.py), curl and jq for the README's
# walk-throughs (tests/e2e/test_readme.py). Nothing is downloaded when the tests run.
# Installs only as root and only what is missing; otherwise says what to run.
set -eu

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/chromedriver ] || missing="$missing chromium-driver"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages:$missing; the tests that use them will fail until they are installed." >&2
    echo "Install them as root: apt-get install -y$missing" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq --no-install-recommends $missing
