#!/usr/bin/env bash
# Builds (once per pinned version) the real components the rig tests run against, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/aks-secrets-store/rig/<component>-<version>/
# and never into the repo. Idempotent: a component whose binaries exist (built from the same recipe) is skipped.
#
# Versions are pinned in harness/rig/tools/<component>/go.mod (Go components, built from the Go module proxy)
# and in LOWKEY_VAULT_VERSION below (the lowkey-vault runnable jar from Maven Central).
# rig-env.ts resolves the same paths; bump a version in go.mod (then `go mod tidy` there) and both follow.
#
# Usage: bash harness/rig/build.sh [component...] [--except component]...   (default: all)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tools="$here/tools"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/aks-secrets-store/rig"
work="$cache/.work"
LOWKEY_VAULT_VERSION="7.3.74"
# Version of the node's sidecar stand-ins (harness/rig/tools/csi-sidecars); keep in step with rig-env.ts.
CSI_SIDECARS_VERSION="v1"
MAVEN_CENTRAL="https://repo1.maven.org/maven2"

fail() {
  echo "harness/rig/build.sh: $*" >&2
  exit 1
}
now() { date +%s; }

# --- tools -----------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 ||
  fail "Go is missing: install Go >= 1.26 (https://go.dev/dl, or your distribution's golang package) and put 'go' on PATH."
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
if [ "${go_minor:-0}" -lt 26 ] && [ "$(go env GOTOOLCHAIN)" = "local" ]; then
  fail "Go $(go env GOVERSION) is too old: the pinned driver needs Go >= 1.26 (set GOTOOLCHAIN=auto or install a newer Go)."
fi
java25="$(ls -d /usr/lib/jvm/temurin-25-*/bin/java 2>/dev/null | head -n1 || true)"
[ -n "$java25" ] ||
  fail "Java 25 is missing (lowkey-vault needs it): install a JDK 25 into /usr/lib/jvm/temurin-25-* (Adoptium's 'temurin-25-jdk' package)."
command -v curl >/dev/null 2>&1 || fail "curl is missing: apt-get install curl"

# Version pinned in a tools go.mod: the `require <module> <version>` line.
pinned() {
  awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) { print ($1 == "require" ? $3 : $2); exit }' \
    "$tools/$1/go.mod"
}
# The recipe's fingerprint: a change to go.mod/go.sum/sources rebuilds even when the version is unchanged.
recipe_sha() { (cd "$tools/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16); }

k8s_version="$(pinned kubernetes k8s.io/kubernetes)"
etcd_version="$(pinned etcd go.etcd.io/etcd/server/v3)"
sanity_version="$(pinned csi-sanity github.com/kubernetes-csi/csi-test/v5)"
driver_version="$(pinned secrets-store-csi-driver sigs.k8s.io/secrets-store-csi-driver)"
provider_version="$(pinned provider-azure github.com/Azure/secrets-store-csi-driver-provider-azure)"
pulumi_version="$(pinned pulumi github.com/pulumi/pulumi/pkg/v3)"
pulumi_kubernetes_version="$(pinned pulumi-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4)"

echo "rig: cache $cache"
echo "rig: $(go version), java $("$java25" -version 2>&1 | head -n1)"
printf 'rig: versions: kubernetes %s, etcd %s, csi-sanity %s, secrets-store-csi-driver %s, provider-azure %s, lowkey-vault %s\n' \
  "$k8s_version" "$etcd_version" "$sanity_version" "$driver_version" "$provider_version" "$LOWKEY_VAULT_VERSION"
printf 'rig: versions: pulumi %s, pulumi-kubernetes %s\n' "$pulumi_version" "$pulumi_kubernetes_version"

mkdir -p "$cache" "$work"
summary=()
total_start=$(now)

# go_component_warm <component> <version> <tools dir> <binary=package>...: its binaries exist, from this recipe.
go_component_warm() {
  local out="$cache/$1-$2" src="$3" spec
  shift 3
  for spec in "$@"; do [ -x "$out/${spec%%=*}" ] || return 1; done
  [ "$(cat "$out/.recipe-sha" 2>/dev/null)" = "$(recipe_sha "$src")" ]
}

# go_component <tools dir> <version> <binary=package>...
go_component() {
  local component="$1" version="$2"
  shift 2
  local src="${GO_COMPONENT_SRC:-$component}"
  local out="$cache/$component-$version" sha
  sha="$(recipe_sha "$src")"
  if go_component_warm "$component" "$version" "$src" "$@"; then
    summary+=("$component $version: warm (cached, 0s)")
    return
  fi
  local start
  start=$(now)
  echo "rig: building $component $version (cold) ..."
  rm -rf "${work:?}/$component"
  cp -r "$tools/$src" "$work/$component"
  mkdir -p "$out"
  case "$component" in
    pulumi-kubernetes)
      # The files upstream's `go generate` writes, from the pinned module's schema.json (see the tools go.mod).
      local module="github.com/pulumi/pulumi-kubernetes/provider/v4" module_dir
      module_dir="$(cd "$work/$component" && go mod download "$module" && go list -m -f '{{.Dir}}' "$module")" ||
        fail "downloading $module $version failed (see above)"
      (cd "$work/$component" && GOFLAGS=-mod=mod go run schema-embed.go \
        "$module_dir/cmd/pulumi-resource-kubernetes" "${version#v}") ||
        fail "generating the embedded schema of pulumi-kubernetes $version failed (see above)"
      ;;
  esac
  for spec in "$@"; do
    local binary="${spec%%=*}" pkg="${spec#*=}" ldflags="-s -w"
    case "$component" in
      kubernetes | kubernetes-node)
        ldflags+=" -X k8s.io/component-base/version.gitVersion=$version"
        ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "$version" | sed -E 's/^v([0-9]+)\..*/\1/')"
        ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$version" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
        ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
        ;;
      secrets-store-csi-driver) ldflags+=" -X sigs.k8s.io/secrets-store-csi-driver/pkg/version.BuildVersion=$version" ;;
      provider-azure)
        ldflags+=" -X github.com/Azure/secrets-store-csi-driver-provider-azure/pkg/version.BuildVersion=$version"
        ;;
      pulumi) ldflags+=" -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" ;;
      # Plugin versions are semver without the v (the engine parses GetPluginInfo's answer).
      pulumi-kubernetes) ldflags+=" -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${version#v}" ;;
    esac
    (cd "$work/$component" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" \
      -o "$out/$binary.tmp" "$pkg") || fail "building $binary ($pkg) of $component $version failed (see above)"
    mv -f "$out/$binary.tmp" "$out/$binary"
  done
  echo "$sha" >"$out/.recipe-sha"
  summary+=("$component $version: cold build $(($(now) - start))s")
}

lowkey_component() {
  local version="$LOWKEY_VAULT_VERSION" out="$cache/lowkey-vault-$LOWKEY_VAULT_VERSION"
  local jar="$out/lowkey-vault-app.jar"
  if [ -s "$jar" ]; then
    summary+=("lowkey-vault $version: warm (cached, 0s)")
    return
  fi
  local start url code
  start=$(now)
  if [ -n "${LOWKEY_VAULT_JAR:-}" ]; then
    # A lowkey-vault-app jar obtained elsewhere (e.g. the project's GitHub release): used as the pinned one.
    [ -s "$LOWKEY_VAULT_JAR" ] || fail "LOWKEY_VAULT_JAR=$LOWKEY_VAULT_JAR is not a file"
    mkdir -p "$out" && cp "$LOWKEY_VAULT_JAR" "$jar" && rm -f "$out/UNAVAILABLE"
    summary+=("lowkey-vault $version: copied from LOWKEY_VAULT_JAR")
    return
  fi
  url="$MAVEN_CENTRAL/com/github/nagyesta/lowkey-vault/lowkey-vault-app/$version/lowkey-vault-app-$version.jar"
  mkdir -p "$out"
  code="$(curl -sS -L -o "$jar.tmp" -w '%{http_code}' "$url" || echo "curl-failed")"
  if [ "$code" != "200" ]; then
    rm -f "$jar.tmp"
    # Not fatal: Maven Central serves no lowkey-vault-app jar (see docs/testing.md). jest.config.js then leaves
    # the lowkey-vault test files out and test/run-all.sh prints this reason as BLOCKED.
    echo "lowkey-vault-app $version: Maven Central answered $code for $url" >"$out/UNAVAILABLE"
    echo "rig: WARNING: lowkey-vault-app $version is not served by Maven Central (HTTP $code); lowkey tests are not run (set LOWKEY_VAULT_JAR to a jar to run them)." >&2
    summary+=("lowkey-vault $version: unavailable (HTTP $code)")
    return
  fi
  rm -f "$out/UNAVAILABLE"
  mv -f "$jar.tmp" "$jar"
  summary+=("lowkey-vault $version: cold download $(($(now) - start))s")
}

# --- the node (kubelet + containerd; harness/rig/node) ------------------------------------------------------
# Debian packages the node needs, installed when missing so a fresh machine (CI) works: containerd 1.6 +
# runc, the CNI plugins (ptp, host-local, loopback), dnsmasq (the pods' cluster DNS), socat (the kubernetes
# Service address), debootstrap and busybox-static (image layers), a C compiler with static libc (pause).
node_packages() {
  local wanted=(containerd runc containernetworking-plugins dnsmasq-base socat debootstrap busybox-static
    iproute2 util-linux mount gcc libc6-dev tar) missing=() pkg
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" = 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "rig: WARNING: the node needs Debian packages ${missing[*]} (apt-get install -y ${missing[*]} as root); node tests cannot run." >&2
    return
  fi
  echo "rig: installing Debian packages for the node: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  summary+=("node packages: installed ${missing[*]}")
}

node_component() {
  node_packages
  # kubelet and kube-scheduler (the DaemonSet pods need one) from the kubernetes pin (same module, same
  # go.sum), in their own cache dir so the apiserver's recipe and binaries stay as they are.
  GO_COMPONENT_SRC=kubernetes go_component kubernetes-node "$k8s_version" \
    "kubelet=k8s.io/kubernetes/cmd/kubelet" "kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler"
  go_component csi-sidecars "$CSI_SIDECARS_VERSION" "csi-sidecars=."
  # Image layers (Debian rootfs, Node 24, the runtime's production dependencies, busybox, pause).
  local start
  start=$(now)
  (cd "$here/../.." && npx ts-node --transpile-only harness/rig/node/node-images.ts) ||
    fail "building the node's image layers failed (see above)"
  summary+=("node image layers: $(($(now) - start))s")
}

selected=()
excepted=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --except) [ "$#" -ge 2 ] || fail "--except needs a component name"; excepted+=("$2"); shift 2 ;;
    --except=*) excepted+=("${1#--except=}"); shift ;;
    -*) fail "unknown option $1 (usage: build.sh [component...] [--except component]...)" ;;
    *) selected+=("$1"); shift ;;
  esac
done
want() {
  [ "${#excepted[@]}" = 0 ] || ! printf '%s\n' "${excepted[@]}" | grep -qx "$1" || return 1
  [ "${#selected[@]}" = 0 ] || printf '%s\n' "${selected[@]}" | grep -qx "$1"
}

# A cold build spends minutes waiting on the module proxy before each `go build` can compile. Download
# the modules of every wanted cold Go component up front, in the background, so each build finds its
# modules while the one before it compiles. The module cache locks per module, so the two may overlap.
prefetch_log="$work/prefetch-modules.log"
prefetch_modules() {
  local spec component version src
  for spec in "etcd $etcd_version etcd" "kubernetes $k8s_version kubernetes" \
    "csi-sanity $sanity_version csi-sanity" "secrets-store-csi-driver $driver_version secrets-store-csi-driver" \
    "provider-azure $provider_version provider-azure" "kubernetes-node $k8s_version kubernetes" \
    "csi-sidecars $CSI_SIDECARS_VERSION csi-sidecars" "pulumi $pulumi_version pulumi" \
    "pulumi-kubernetes $pulumi_kubernetes_version pulumi-kubernetes"; do
    read -r component version src <<<"$spec"
    case "$component" in kubernetes-node | csi-sidecars) want node || continue ;; *) want "$component" || continue ;; esac
    [ "$(cat "$cache/$component-$version/.recipe-sha" 2>/dev/null)" = "$(recipe_sha "$src")" ] && continue
    echo "prefetch: $component $version"
    (cd "$tools/$src" && GOFLAGS=-mod=mod go mod download) || echo "prefetch: $component failed (its build retries)"
  done
}
prefetch_modules >"$prefetch_log" 2>&1 &
prefetch_pid=$!
trap 'kill "$prefetch_pid" 2>/dev/null || true' EXIT

# One build at a time: the machine has 2 cores.
want etcd && go_component etcd "$etcd_version" "etcd=."
want kubernetes && go_component kubernetes "$k8s_version" \
  "kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver" \
  "kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager"
want csi-sanity && go_component csi-sanity "$sanity_version" \
  "csi-sanity=github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity"
want secrets-store-csi-driver && go_component secrets-store-csi-driver "$driver_version" \
  "secrets-store-csi-driver=sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver"
want provider-azure && go_component provider-azure "$provider_version" \
  "secrets-store-csi-driver-provider-azure=github.com/Azure/secrets-store-csi-driver-provider-azure/cmd"
want lowkey-vault && lowkey_component
want node && node_component
# The Pulumi engine and its Kubernetes provider plugin: two modules, so their dependency graphs stay apart.
want pulumi && go_component pulumi "$pulumi_version" "pulumi=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
want pulumi-kubernetes && go_component pulumi-kubernetes "$pulumi_kubernetes_version" "pulumi-resource-kubernetes=."

wait "$prefetch_pid" || true
for line in "${summary[@]}"; do echo "rig: $line"; done
echo "rig: total $(($(now) - total_start))s"
