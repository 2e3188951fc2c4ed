#!/usr/bin/env bash
# Makes the Docker base image that deploy/Dockerfile starts FROM, on a machine
# whose Docker engine can pull nothing (no registry): a minimal Debian 12 root
# file system built from Debian's packages with debootstrap --variant=minbase,
# trimmed like Debian's official "slim" images, imported with `docker import`.
#
#   scripts/docker-base.sh [--force] [--tag TAG]
#
# TAG defaults to the image deploy/Dockerfile names (ARG DEBIAN_IMAGE, i.e.
# debian:bookworm-slim), so the Dockerfile builds unchanged where a registry
# exists. Nothing is done when the image already exists (--force: rebuild).
# The root file system tarball is cached in $ACTORRENT_DOCKER_CACHE (default
# ~/.cache/actorrent/docker, outside the repository): with a cached tarball,
# making the image is only the import. DEBIAN_MIRROR overrides the mirror
# (default http://deb.debian.org/debian). Needs root (debootstrap) and the
# debootstrap package (scripts/dev.sh installs it). Prints how long each step took.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE=${ACTORRENT_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/actorrent/docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
FORCE=0
TAG=$(sed -n 's/^ARG DEBIAN_IMAGE=\(.*\)$/\1/p' "$ROOT/deploy/Dockerfile" | head -n 1)

while (($# > 0)); do
  case "$1" in
    --force) FORCE=1 ;;
    --tag) TAG=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "docker-base.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$TAG" ]] || { echo "docker-base.sh: no 'ARG DEBIAN_IMAGE=' in deploy/Dockerfile and no --tag" >&2; exit 2; }

say() { printf 'docker-base: %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

command -v docker >/dev/null || { echo "docker-base.sh: no docker command" >&2; exit 1; }
timeout 20 docker info >/dev/null 2>&1 || { echo "docker-base.sh: no Docker engine answers (docker info)" >&2; exit 1; }

if ((FORCE == 0)) && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG exists ($(docker image inspect -f '{{.Size}}' "$TAG") bytes): nothing to do"
  exit 0
fi

t_all=$(now)
TARBALL=$CACHE/debian-$SUITE-minbase-$(dpkg --print-architecture).tar.gz
mkdir -p "$CACHE"
if ((FORCE == 1)) || [[ ! -s "$TARBALL" ]]; then
  [[ "$(id -u)" -eq 0 ]] || { echo "docker-base.sh: debootstrap needs root" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "docker-base.sh: install debootstrap (scripts/dev.sh deps)" >&2; exit 1; }
  WORK=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  cleanup() {
    # debootstrap mounts /proc and /sys inside the target while it works:
    # never delete through a mount that a failure left behind.
    local m
    for m in $(awk -v r="$WORK/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    if awk -v r="$WORK/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
      echo "docker-base.sh: mounts remain under $WORK; left it in place" >&2
    else
      rm -rf -- "$WORK"
    fi
  }
  trap cleanup EXIT
  t=$(now)
  say "debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$WORK/root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 20 "$WORK/debootstrap.log" >&2
    echo "docker-base.sh: debootstrap failed" >&2
    exit 1
  }
  say "debootstrap took $(since "$t") s"

  R=$WORK/root
  # What Debian's own slim images do: no documentation or translations from
  # later installs, apt caches cleaned after every install, no recommends.
  cat >"$R/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$R/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'APT::Install-Recommends "false";\n' >"$R/etc/apt/apt.conf.d/docker-no-recommends"
  # The suites a user of debian:bookworm-slim gets: main, updates, security.
  rm -f "$R/etc/apt/sources.list"
  cat >"$R/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$R"/usr/share/{man,info,groff,lintian,linda}/* "$R"/usr/share/locale/*
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
  rm -rf "$R"/var/log/*.log "$R"/var/log/apt/* "$R"/tmp/* "$R"/var/tmp/*
  : >"$R/etc/machine-id"
  rm -f "$R/etc/hostname" "$R/etc/resolv.conf" # the engine provides these

  t=$(now)
  tar --numeric-owner --xattrs -C "$R" -c . | gzip -1 >"$TARBALL.tmp"
  mv "$TARBALL.tmp" "$TARBALL"
  say "cached $(du -h "$TARBALL" | cut -f1) root file system as $TARBALL ($(since "$t") s)"
else
  say "using the cached root file system $TARBALL"
fi

t=$(now)
docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["bash"]' \
  -m "Debian $SUITE minbase (debootstrap), made by actorrent's scripts/docker-base.sh" \
  "$TARBALL" "$TAG" >/dev/null
say "imported as $TAG ($(docker image inspect -f '{{.Size}}' "$TAG") bytes) in $(since "$t") s"
say "done in $(since "$t_all") s"
