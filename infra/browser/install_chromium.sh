#!/bin/sh
# Chromium and its WebDriver from Debian's packages, for the studio's browser tests
# (tests/e2e/test_studio.py). The tests drive this browser; nothing is downloaded at run time.
# Installs only as root and only when the browser is missing; otherwise says what to run.
set -eu

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing: the studio's browser tests will fail until it is installed." >&2
    echo "Install it as root: apt-get install -y chromium chromium-driver" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver
