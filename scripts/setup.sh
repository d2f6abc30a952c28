#!/usr/bin/env bash
# Makes sure this machine can build embergrad: a Rust toolchain >= 1.89 with cargo.
# On the project's machines rustup's stable toolchain is preinstalled; where no cargo is found,
# Debian's rustc-web/cargo-web (Rust 1.96, bookworm-security) are installed instead.
set -euo pipefail

if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: no cargo found; installing Debian's rustc-web and cargo-web" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rustc-web cargo-web gcc libc6-dev >/dev/null
fi

cargo --version
