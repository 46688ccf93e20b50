#!/usr/bin/env bash
# Installs what the build and the tests need and the machine lacks (Debian/Ubuntu: apt, as root
# or with sudo; pip): used by scripts/test.sh and .ci/run.
# `--windows` also installs what .ci/run's Windows cross-check needs: the x86_64-pc-windows-gnu
# Rust target and MinGW's C compiler (the build compiles the bundled SQLite for the target).
set -euo pipefail
windows=false
if [ "${1:-}" = "--windows" ]; then windows=true; fi

# What the build and the tests need from apt: a C toolchain (the build compiles the bundled
# jemalloc and SQLite), redis-cli and redis-benchmark (redis-tools), redis-server.
need=()
command -v make >/dev/null 2>&1 || need+=(make)
command -v cc >/dev/null 2>&1 || need+=(gcc)
{ command -v redis-cli && command -v redis-benchmark; } >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v tclsh >/dev/null 2>&1 || need+=(tcl)   # Redis's own test suite (scripts/redis-suite.sh)
command -v openssl >/dev/null 2>&1 || need+=(openssl)   # certificates for the TLS smoke test
if $windows; then
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! python3 -c 'import redis' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check redis
fi
if $windows && ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  rustup target add x86_64-pc-windows-gnu
fi
