#!/usr/bin/env bash
# Builds the pod images the tests use, from Debian's busybox-static, with no registry:
#   edgekube/busybox:test        amd64, imported into the local dockerd (docker import) and saved
#                                as images/build/busybox-amd64.tar
#   edgekube/busybox:test-arm64  arm64, written by hand in `docker load` format as
#                                images/build/busybox-arm64.tar (not loaded: `docker load -i` it)
#
# Design notes
# - No registry is reachable here, and `docker run` of an image that is not loaded makes dockerd
#   try Docker Hub: so images come from Debian packages, and this script never pulls.
# - `docker import` always records the host architecture, so the arm64 image is assembled by
#   hand: one layer tar, a config whose "architecture" is arm64, and manifest.json. Tar entries
#   are sorted with fixed owners and mtimes, so the same busybox gives the same layer digest.
# - Every busybox applet gets a symlink in /bin (sh, httpd, wget, nc, nslookup, …), plus ping;
#   /sbin and /usr/bin point at /bin so absolute paths from other images work.
# - The arm64 .deb comes from `apt-get download busybox-static:arm64` at the host package's
#   version. That needs the arm64 architecture in dpkg; when this script had to add it, it
#   removes it again. The .deb is kept in images/build/debs, so later builds need no apt.
# Run as root (dockerd, dpkg). Usage: scripts/build-test-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-test-images: %s\n' "$*" >&2; }
die() { printf 'build-test-images: ERROR: %s\n' "$*" >&2; exit 1; }

OUT=images/build
AMD64_TAG=edgekube/busybox:test
ARM64_TAG=edgekube/busybox:test-arm64
IMAGE_PATH=/bin:/sbin:/usr/bin:/usr/sbin

[ -x /bin/busybox ] || die "/bin/busybox is missing: apt-get install busybox-static (scripts/prereqs.sh does)"
docker info >/dev/null 2>&1 || die "no dockerd answers: run scripts/prereqs.sh"
mkdir -p "$OUT/debs"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ek-test-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# make_root DIR BUSYBOX: a minimal root filesystem around one static busybox binary.
make_root() {
  local root=$1 bb=$2 applet
  mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root,var/www,usr}
  chmod 1777 "$root/tmp"
  install -m 0755 "$bb" "$root/bin/busybox"
  # The applet list of the host's busybox: the arm64 package is the same version.
  for applet in $(/bin/busybox --list) ping; do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  ln -s bin "$root/sbin"
  ln -s ../bin "$root/usr/bin"
  ln -s ../bin "$root/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

layer_tar() { # ROOT OUTFILE
  tar -C "$1" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$2" .
}

# --- amd64 --------------------------------------------------------------------------------
make_root "$WORK/amd64" /bin/busybox
layer_tar "$WORK/amd64" "$WORK/amd64.tar"
docker import -c 'CMD ["sh"]' -c "ENV PATH=$IMAGE_PATH" "$WORK/amd64.tar" "$AMD64_TAG" >/dev/null
docker save -o "$OUT/busybox-amd64.tar" "$AMD64_TAG"
log "amd64: $AMD64_TAG imported, saved as $OUT/busybox-amd64.tar"

# --- arm64 --------------------------------------------------------------------------------
version=$(dpkg-query -W -f='${Version}' busybox-static)
deb=$(find "$OUT/debs" -name "busybox-static_*_arm64.deb" -print -quit)
if [ -z "$deb" ]; then
  added_arch=no
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    added_arch=yes
  fi
  log "downloading busybox-static:arm64=$version from Debian"
  ok=yes
  apt-get update -qq >/dev/null && (cd "$OUT/debs" && apt-get download -qq -o APT::Sandbox::User=root "busybox-static:arm64=$version") || ok=no
  if [ "$added_arch" = yes ]; then dpkg --remove-architecture arm64; fi
  [ "$ok" = yes ] || die "apt-get download busybox-static:arm64=$version failed: is Debian's mirror reachable?"
  deb=$(find "$OUT/debs" -name "busybox-static_*_arm64.deb" -print -quit)
fi
dpkg-deb -x "$deb" "$WORK/deb-arm64"
file -b "$WORK/deb-arm64/bin/busybox" | grep -q aarch64 || die "$deb does not hold an arm64 busybox"
make_root "$WORK/arm64" "$WORK/deb-arm64/bin/busybox"
mkdir -p "$WORK/image"
layer_tar "$WORK/arm64" "$WORK/layer.tar"
diff_id=$(sha256sum "$WORK/layer.tar" | cut -d' ' -f1)
mkdir -p "$WORK/image/$diff_id"
mv "$WORK/layer.tar" "$WORK/image/$diff_id/layer.tar"
cat >"$WORK/config.json" <<EOF
{"architecture":"arm64","variant":"v8","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=$IMAGE_PATH"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/build-test-images.sh from busybox-static:arm64 $version"}]}
EOF
config_id=$(sha256sum "$WORK/config.json" | cut -d' ' -f1)
mv "$WORK/config.json" "$WORK/image/$config_id.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
  "$config_id" "$ARM64_TAG" "$diff_id" >"$WORK/image/manifest.json"
tar -C "$WORK/image" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 \
  -cf "$OUT/busybox-arm64.tar.tmp" manifest.json "$config_id.json" "$diff_id/layer.tar"
mv "$OUT/busybox-arm64.tar.tmp" "$OUT/busybox-arm64.tar"
log "arm64: $ARM64_TAG written as $OUT/busybox-arm64.tar (image id sha256:$config_id)"
