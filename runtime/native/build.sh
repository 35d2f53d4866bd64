#!/usr/bin/env bash
# Builds the runtime's one native addon, syscalls (runtime/common/native/syscalls.ts loads it),
# into build/runtime/native/, or into the directory given as the one argument (the benches' builds).
# Node-API only, so one build loads in every Node from 18 on: compiled here against the headers of the
# Node that runs this script, and run by the image's Node 24.
# Needs a C compiler (cc) and Node's headers (they come with Node's official builds, include/node).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$repo/build/runtime/native}"
headers="${NODE_INCLUDE_DIR:-$(node -p 'require("path").resolve(process.execPath, "..", "..", "include", "node")')}"
if [[ ! -f "$headers/node_api.h" ]]; then
  echo "runtime/native/build.sh: Node's headers are not in $headers (node_api.h); set NODE_INCLUDE_DIR to the include/node of a Node install" >&2
  exit 1
fi
cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null; then
  echo "runtime/native/build.sh: no C compiler ($cc); install gcc (Debian: apt-get install gcc libc6-dev)" >&2
  exit 1
fi
mkdir -p "$out"
"$cc" -O2 -Wall -Wextra -Werror -shared -fPIC -DNODE_GYP_MODULE_NAME=syscalls \
  -I"$headers" "$repo/runtime/native/syscalls.c" -o "$out/syscalls.node.tmp"
mv "$out/syscalls.node.tmp" "$out/syscalls.node"
