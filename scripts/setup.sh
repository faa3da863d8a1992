#!/usr/bin/env bash
# Installs everything Steward needs on Debian 12, idempotently: Debian packages (build
# and test dependencies of Tauri, the keychain and notification daemons), the Python venv
# with the reference server, the UI and e2e npm packages, and tauri-driver into .tools/.
#
#   scripts/setup.sh            # everything (the test command runs this first)
#   SETUP_SKIP_APT=1 scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
step() { echo "=== setup: $* ($(date +%T))"; }

APT_PACKAGES=(
  build-essential pkg-config curl file libssl-dev libxdo-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth x11-utils imagemagick webkit2gtk-driver xdotool xclip
  dbus dbus-daemon gnome-keyring libsecret-tools dunst libglib2.0-bin
  postgresql redis-server
)
if [ "${SETUP_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

step "python venv (.venv) with the reference server's requirements"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r server/requirements-dev.txt

step "npm packages for ui/ and e2e/"
# `npm ci` cannot install @tauri-apps/cli from this lock file (it lacks other platforms'
# binaries); `npm install` honours the lock.
npm install --prefix ui --no-audit --no-fund --loglevel=error
npm install --prefix e2e --no-audit --no-fund --loglevel=error

step "tauri-driver (WebDriver for the desktop app) into .tools/"
if [ ! -x .tools/bin/tauri-driver ]; then
  cargo install tauri-driver --locked --version '^2' --root "$ROOT/.tools" --quiet
fi
step "done"
