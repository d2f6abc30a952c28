#!/usr/bin/env bash
# The C interface (capi/): builds the static library, checks that the committed header is
# what cbindgen makes of the sources (--write regenerates it instead), then builds the two C
# examples with -Wall -Wextra -Werror under AddressSanitizer and UBSan and runs them: every
# function called with bad arguments, and the digits data trained from C (>= 95% required).
# Last, the C firmware: the library built for thumbv7em-none-eabihf, linked by
# arm-none-eabi-gcc into capi/firmware's C main, run under QEMU (it must learn XOR with SGD
# and Adam and run the desktop-trained model), and its footprint printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v cbindgen >/dev/null || ! command -v gcc >/dev/null || ! command -v arm-none-eabi-gcc >/dev/null \
   || [ ! -d /usr/lib/arm-none-eabi/newlib ]; then
  echo "capi: installing cbindgen, gcc, gcc-arm-none-eabi and newlib" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cbindgen gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi >/dev/null
fi
# shellcheck source=scripts/embedded-toolchain.sh
. "$root/scripts/embedded-toolchain.sh"

cd "$root/capi"
cargo fmt --check
cargo clippy --release --quiet -- -D warnings
cargo build --release --quiet
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
cbindgen --quiet --config cbindgen.toml --crate embergrad-c --output "$fresh"
if [ "${1:-}" = "--write" ]; then
  cp "$fresh" include/embergrad.h
elif ! diff -u include/embergrad.h "$fresh"; then
  echo "capi: include/embergrad.h is stale; run scripts/capi-check.sh --write and commit it" >&2
  exit 1
fi

out=$(mktemp -d)
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all
       -fno-omit-frame-pointer -Iinclude)
for example in bad_arguments train_digits; do
  gcc "${flags[@]}" -o "$out/$example" "examples/$example.c" target/release/libembergrad_c.a -lm
done
"$out/bad_arguments"
"$out/train_digits" "$root/data/digits/digits_train.csv" "$root/data/digits/digits_test.csv"
echo "capi: header current, both C examples passed under ASan and UBSan"

# The C firmware for the Cortex-M4F.
cargo_web rustc --quiet --release --lib --crate-type staticlib --target thumbv7em-none-eabihf -Zbuild-std=core \
  --target-dir target/thumb
cp "$root/examples/firmware/data/xor-model.ember" "$out/xor_model.ember"
(cd "$out" && arm-none-eabi-objcopy -I binary -O elf32-littlearm -B arm xor_model.ember xor_model.o)
arm_flags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections
           -Wall -Wextra -Werror -Iinclude -Ifirmware -nostartfiles -T firmware/link.ld -Wl,--gc-sections
           -Wl,--no-warn-execstack --specs=nano.specs --specs=nosys.specs)
for variant in full baseline; do
  defines=()
  [ "$variant" = baseline ] && defines=(-DBASELINE)
  arm-none-eabi-gcc "${arm_flags[@]}" "${defines[@]}" -o "$out/$variant.elf" firmware/startup.c firmware/main.c \
    "$out/xor_model.o" target/thumb/thumbv7em-none-eabihf/release/libembergrad_c.a
done
echo "--- C firmware under qemu-system-arm -machine mps2-an386"
run_qemu "$out/full.elf"
flash() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $1 + $2 }'; }
ram() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $2 + $3 }'; }
echo "C firmware: flash $(flash "$out/full.elf") B, static RAM $(ram "$out/full.elf") B; baseline (start-up and printing) $(flash "$out/baseline.elf") B"
echo "C firmware: embergrad's share (SGD + Adam, model loading, forward): $(( $(flash "$out/full.elf") - $(flash "$out/baseline.elf") )) B of flash"
