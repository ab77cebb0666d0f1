#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when missing, mounts binfmt_misc for
# arm64 binaries under qemu-user, and starts dockerd when no Docker Engine answers.
# Idempotent; run as root. Says clearly what is missing where it cannot install.
set -euo pipefail

log() { printf 'prereqs: %s\n' "$*" >&2; }
die() { printf 'prereqs: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get, dockerd, network namespaces and binfmt_misc need it)"

# package -> a file it provides (checked before installing)
declare -A WANT=(
  [docker.io]=/usr/sbin/dockerd
  [iproute2]=/usr/sbin/ip
  [iptables]=/usr/sbin/iptables
  [nftables]=/usr/sbin/nft
  [qemu-user-static]=/usr/bin/qemu-aarch64-static
  [binfmt-support]=/usr/sbin/update-binfmts
  [busybox-static]=/bin/busybox
  [util-linux]=/usr/bin/nsenter
  [socat]=/usr/bin/socat
  [g++-aarch64-linux-gnu]=/usr/bin/aarch64-linux-gnu-g++
  [binutils-aarch64-linux-gnu]=/usr/bin/aarch64-linux-gnu-strip
  [xz-utils]=/usr/bin/xz
  [file]=/usr/bin/file
)
missing=()
for pkg in "${!WANT[@]}"; do
  [ -e "${WANT[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: Debian's package mirror is not reachable"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi
for pkg in "${!WANT[@]}"; do
  [ -e "${WANT[$pkg]}" ] || die "package $pkg did not provide ${WANT[$pkg]}"
done

# arm64 ELF binaries run directly once binfmt_misc is mounted and qemu-aarch64 registered.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  [ -e /usr/lib/binfmt.d/qemu-aarch64.conf ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
    sed -n 's/^[^#]/&/p' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register 2>/dev/null || true
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "qemu-aarch64 is not registered in binfmt_misc"

# Kernel modules the overlay and service tests use (built in on some kernels: failures are fine
# as long as the feature then works, which the tests check).
modprobe vxlan 2>/dev/null || true
modprobe br_netfilter 2>/dev/null || true

# Docker Engine: start Debian's dockerd when nothing answers on the default socket.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  nohup /usr/sbin/dockerd --host=unix:///var/run/docker.sock >/var/log/edgekube-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/edgekube-dockerd.log"
fi
[ -x /usr/bin/kubectl ] || die "kubectl is missing at /usr/bin/kubectl (the end-to-end tests drive it)"
log "ok"
