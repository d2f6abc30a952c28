#!/usr/bin/env bash
# The C interface (capi/): builds the static library, checks that the committed header is
# what cbindgen makes of the sources (--write regenerates it instead), then builds the two C
# examples with -Wall -Wextra -Werror under AddressSanitizer and UBSan and runs them: every
# function called with bad arguments, and the digits data trained from C (>= 95% required).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v cbindgen >/dev/null || ! command -v gcc >/dev/null; then
  echo "capi: installing cbindgen and gcc" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends cbindgen gcc libc6-dev >/dev/null
fi

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
