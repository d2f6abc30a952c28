#!/usr/bin/env bash
# Builds the Cortex-M4F firmware (examples/firmware) with Debian's rustc-web and
# -Zbuild-std=core, runs it under QEMU (mps2-an386), fails if it did not learn, and prints the
# footprint: flash and RAM of the full firmware (XOR with SGD + iris with Adam), of the
# XOR-only firmware, of XOR trained with SGD then Adam, and of a baseline with the same start-up and printing but no embergrad;
# then each optimizer's flash cost: XOR trained with SGD and then with that optimizer, over SGD alone.
# Also builds the core alone for thumbv7em-none-eabihf and thumbv6m-none-eabi (Cortex-M0: no
# FPU, no atomic compare-and-swap) with every optional feature off.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# shellcheck source=scripts/embedded-toolchain.sh
. "$root/scripts/embedded-toolchain.sh"
elf=target/thumbv7em-none-eabihf/release/embergrad-firmware
# text (flash: vector table + code + read-only data) and bss of an ELF
sizes() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $1, $2 + $3 }'; }

cd "$root/examples/firmware"
declare -A text ram
for variant in full xor-only xor-sgd-adam baseline; do
  case $variant in
    full) features=() ;;
    *) features=(--features "$variant") ;;
  esac
  cargo_web build --release --quiet "${features[@]}"
  echo "--- firmware ($variant) under qemu-system-arm -machine mps2-an386"
  run_qemu "$elf"
  read -r t r < <(sizes "$elf")
  text[$variant]=$t
  ram[$variant]=$r
done

echo
echo "Footprint (arm-none-eabi-size; flash = .vector_table + .text + .rodata, RAM = .data + .bss, plus the peak stack printed above):"
printf '| build | flash bytes | static RAM bytes |\n|---|---:|---:|\n'
for variant in full xor-only xor-sgd-adam baseline; do
  printf '| %s | %s | %s |\n' "$variant" "${text[$variant]}" "${ram[$variant]}"
done
echo "embergrad + training code, full (SGD and Adam, 2 networks, iris data 2,550 bytes included): $(( text[full] - text[baseline] )) bytes of flash"
echo "embergrad + training code, XOR only (SGD): $(( text[xor-only] - text[baseline] )) bytes of flash"
echo "embergrad + training code, one MLP with SGD and Adam: $(( text[xor-sgd-adam] - text[baseline] )) bytes of flash"

echo
echo "Each optimizer's flash cost: the XOR firmware trained with SGD and then with it, minus SGD alone"
printf '| optimizer | flash bytes over SGD alone |\n|---|---:|\n'
printf '| adam | %s |\n' "$(( text[xor-sgd-adam] - text[xor-only] ))"
cd "$root/examples/firmware"
for optimizer in adagrad rmsprop nadam radam adamax adadelta rprop; do
  cargo_web build --release --quiet --features "xor-sgd-$optimizer"
  # Each must also learn XOR, or the build is not measuring a working optimizer.
  run_qemu "$elf" > /dev/null
  read -r t _ < <(sizes "$elf")
  printf '| %s | %s |\n' "$optimizer" "$(( t - text[xor-only] ))"
done

echo "--- the core alone, no optional features, for Cortex-M4F and Cortex-M0"
cd "$root/core"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  # An explicit RUSTFLAGS keeps any flags of the caller's environment out of the thumb build.
  RUSTFLAGS="-C debuginfo=0" cargo_web build --release --quiet --no-default-features --target "$target" -Zbuild-std=core \
    --target-dir "$root/target/embedded-core"
  echo "core builds for $target"
done
