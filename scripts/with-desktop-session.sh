#!/usr/bin/env bash
# Runs a command inside a private D-Bus session that has a real, unlocked Secret Service
# (gnome-keyring) and a real notification server (dunst on an Xvfb display), as a desktop
# session would. Debian 12, no desktop needed. Adapted from shared/recipes.
#
#   scripts/with-desktop-session.sh cargo test --workspace
#
# Inside: DISPLAY points at the Xvfb screen (1280x800); `secret-tool lookup service S
# username U` reads the keychain; `dunstctl close-all; dunstctl history` lists notifications.
set -euo pipefail
for tool in dbus-run-session gnome-keyring-daemon dunst Xvfb xdpyinfo secret-tool; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/setup.sh first" >&2; exit 1; }
done
export SESSION_WORK=${SESSION_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/steward-session.XXXX")}
# Toolchains keep finding their own homes after HOME moves below.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export npm_config_cache=${npm_config_cache:-$HOME/.npm}
# HOME must be set before dbus-run-session: services the bus starts inherit its environment.
export HOME=${SESSION_HOME:-$SESSION_WORK/home}; mkdir -p "$HOME"
exec dbus-run-session -- bash -euo pipefail -c '
  pids=()
  cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
  trap cleanup EXIT
  wait_name() { for _ in $(seq 100); do
      dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q true && return 0
      sleep 0.1; done; echo "timeout waiting for $1 on the session bus" >&2; return 1; }
  # --foreground: a daemonized gnome-keyring-daemon can outlive the bus.
  printf %s "session-keyring-pw" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>"$SESSION_WORK/gnome-keyring.log" &
  pids+=($!); wait_name org.freedesktop.secrets
  if [ -z "${STEWARD_DISPLAY:-}" ]; then
    for n in $(seq 90 140); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
    display=:$n
    Xvfb $display -screen 0 1280x800x24 -nolisten tcp >"$SESSION_WORK/xvfb.log" 2>&1 & pids+=($!)
  else
    display=$STEWARD_DISPLAY
  fi
  export DISPLAY=$display
  for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  mkdir -p "$SESSION_WORK/cfg/dunst"
  printf "[global]\n  history_length = 1000\n  stack_duplicates = false\n" >"$SESSION_WORK/cfg/dunst/dunstrc"
  XDG_CONFIG_HOME="$SESSION_WORK/cfg" dunst >"$SESSION_WORK/dunst.log" 2>&1 & pids+=($!)
  wait_name org.freedesktop.Notifications
  "$@"
' bash "$@"
