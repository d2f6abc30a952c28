# Sourced by firmware.sh and capi-check.sh: installs what building for the Cortex-M4F and
# running it under QEMU needs (Debian's rustc-web with its library source for
# -Zbuild-std=core, QEMU, binutils for the sizes), and defines `cargo_web` (that toolchain)
# and `run_qemu` (an ELF on mps2-an386 with semihosting, 120 s at most).

if [ ! -x /usr/bin/rustc ] || ! /usr/bin/rustc -V | grep -q '^rustc 1\.9[6-9]' || ! command -v qemu-system-arm >/dev/null \
   || [ ! -d /usr/lib/rustlib/src/rust/library/core ] || ! command -v arm-none-eabi-size >/dev/null; then
  echo "embedded: installing rustc-web, cargo-web, rust-web-src, qemu-system-arm, binutils-arm-none-eabi" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src rust-web-llvm \
    qemu-system-arm binutils-arm-none-eabi >/dev/null
fi
if [ -L /usr/bin/rust-lld ] && [ ! -e /usr/bin/rust-lld ]; then
  # rust-lld is a symlink to lld-22, which no package depends on.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(basename "$(readlink /usr/bin/rust-lld)")" >/dev/null
fi

cargo_web() { RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 /usr/bin/cargo "$@"; }
# `-icount shift=0`: one instruction per nanosecond of virtual time, so that the firmware
# can count instructions with SysTick.
run_qemu() { timeout -k 5 120 qemu-system-arm -machine mps2-an386 -icount shift=0 -nographic -semihosting-config enable=on,target=native -kernel "$1"; }
