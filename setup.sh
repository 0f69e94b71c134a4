#!/usr/bin/env bash
# Set Dockyard up on a Debian 12 machine, as root, offline but for Debian's
# and PyPI's package registries. Safe to run again: every step checks first.
#
#   1. apt packages (busybox-static for the seed image; python3-venv if needed)
#   2. a virtualenv in .venv with the Python dependencies
#   3. the `dockyard` and `dockyardd` commands in /usr/local/bin, pointing
#      straight at the venv's interpreter (no pyenv shim on the hot path)
#   4. the busybox:latest image, built from the host's static busybox and
#      loaded through the daemon
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BIN_DIR=${DOCKYARD_BIN_DIR:-/usr/local/bin}
WITH_TESTS=0
[ "${1:-}" = "--with-tests" ] && WITH_TESTS=1

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh must run as root (it installs packages and commands)" >&2
  exit 1
fi

# --- 1. apt packages ---------------------------------------------------------
# libseccomp2: compiles seccomp profiles (runtime/seccomp.py); iptables: NAT and
# published ports (network/sys/firewall.py); procps: `top` runs the host's ps.
apt_pkgs=(busybox-static iproute2 libseccomp2 iptables procps tini)  # tini: tini-static for --init
apt_pkgs+=(gcc libc6-dev)  # builds the native container monitor (src/dockyard/runtime/monitor/*.c)
# static isolation probe run inside containers (tests/integration/security/probe.c)
# the API-door tests run the CLI as unprivileged users with Debian's python3
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(python3)
# the reference engine: tests start a private dockerd on a private containerd
# (tests/integration/refdocker.py) and call the `docker` CLI by name. A newer
# CLI in /usr/local/bin keeps winning: it precedes docker.io's /usr/bin on PATH.
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(docker.io containerd runc)
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(skopeo umoci)  # image-format round trips (tests/integration/image)
# registry server: skopeo interop, htpasswd -B for auth tests, Debian's registry for bench/
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(apache2-utils docker-registry)
# compose interop: Debian's docker-compose 1.29 (docker-py) against dockyardd (tests/integration/compose)
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(docker-compose)
# registry client tests: skopeo both ways, openssl signs the test token server's JWTs
[ "$WITH_TESTS" = 1 ] && apt_pkgs+=(skopeo openssl)

pick_python() {
  local c
  for c in python3.13 python3.12 python3.11 python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}
PYTHON=$(pick_python || true)
[ -n "$PYTHON" ] || apt_pkgs+=(python3 python3-venv)

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  # docker.io and docker-registry ship services; we want their files (the
  # reference client, a registry the tests start themselves), never a daemon
  # started behind our back: forbid service starts during our install...
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # ...and on systemd hosts, do not leave them enabled for the next boot.
  if [ -d /run/systemd/system ]; then
    for p in "${missing[@]}"; do
      case "$p" in
        docker.io|containerd) systemctl disable --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true ;;
        docker-registry) systemctl disable --now docker-registry.service >/dev/null 2>&1 || true ;;
      esac
    done
  else  # sysvinit: no boot-time start either
    for p in "${missing[@]}"; do
      case "$p" in
        docker.io) update-rc.d docker disable >/dev/null 2>&1 || true ;;
      esac
    done
  fi
fi
[ -n "$PYTHON" ] || PYTHON=$(pick_python)

# --- 2. virtualenv -----------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.dockyard-deps
want="$(sha256sum pyproject.toml | cut -c1-16)-$WITH_TESTS"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies"
  deps=$(.venv/bin/python - "$WITH_TESTS" <<'PY'
import sys, tomllib
proj = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = list(proj["dependencies"])
if sys.argv[1] == "1":
    deps += proj["optional-dependencies"]["test"]
print("\n".join(deps))
PY
)
  # shellcheck disable=SC2086
  printf '%s\n' $deps | .venv/bin/pip install -q --disable-pip-version-check -r /dev/stdin
  echo "$want" > "$stamp"
fi

# --- 2b. native container monitor (runtime/monitor): rebuilt when a source is newer.
# A failed build is not fatal: running containers then stay with the Python shim.
mon=.venv/libexec/dockyard-monitor
mon_src=(src/dockyard/runtime/monitor/*.c src/dockyard/runtime/monitor/*.h)
if [ ! -x "$mon" ] || [ -n "$(find "${mon_src[@]}" -newer "$mon" 2>/dev/null)" ]; then
  log "building the native monitor"
  mkdir -p .venv/libexec
  if gcc -std=c11 -O2 -Wall -Wextra -o "$mon.tmp" src/dockyard/runtime/monitor/*.c; then
    mv -f "$mon.tmp" "$mon"
  else
    rm -f "$mon.tmp"
    log "WARNING: could not build the native monitor; containers keep the Python shim"
  fi
fi

# --- 3. commands -------------------------------------------------------------
# -I: isolated (no user site, no PYTHON* env); the CLI also skips site (-S):
# it is stdlib-only and every millisecond of start-up is visible.
write_entry() {  # name flags module
  local tmp
  tmp=$(mktemp "$BIN_DIR/.$1.XXXXXX")
  cat > "$tmp" <<PY
#!$ROOT/.venv/bin/python $2
import sys
sys.path.insert(0, "$ROOT/src")
from $3 import main
sys.exit(main())
PY
  chmod 755 "$tmp"
  mv -f "$tmp" "$BIN_DIR/$1"
}
mkdir -p "$BIN_DIR"
write_entry dockyard -IS dockyard.cli.main
write_entry dockyardd -I dockyard.daemon.main

# The API is root: its socket is 0660 root:dockyard (dockyardd -G); members of
# this group are as good as root. Nobody is added to it here.
getent group dockyard >/dev/null || groupadd --system dockyard

# dockyardd --userns-remap=default maps container root onto `dockremap`'s
# subordinate ids (Docker's user). Made with --userns-remap or --with-tests
# (the remap tests use it); idempotent: an existing range is kept.
case " $* " in *" --userns-remap "*|*" --with-tests "*)
    getent passwd dockremap >/dev/null || useradd --system --no-create-home --shell /bin/false --user-group dockremap
    for f in /etc/subuid /etc/subgid; do
        touch "$f"
        if ! grep -q '^dockremap:' "$f"; then
            start=$(awk -F: 'BEGIN{m=100000} NF==3 && $2+$3>m {m=$2+$3} END{print m}' "$f")
            echo "dockremap:$start:65536" >>"$f"
        fi
    done ;;
esac

# --- 4. the busybox image ----------------------------------------------------
seed_dir=/var/lib/dockyard/seed
mkdir -p "$seed_dir"
PYTHONPATH="$ROOT/src" .venv/bin/python -m dockyard.image.seed --busybox "$(readlink -f /bin/busybox)" -o "$seed_dir/busybox.tar"
started=0
if ! "$BIN_DIR/dockyard" daemon status >/dev/null 2>&1; then started=1; fi
"$BIN_DIR/dockyard" load -q -i "$seed_dir/busybox.tar" >/dev/null
# Leave the machine as we found it: a daemon started only for seeding stops
# again (the next `dockyard` command starts it on demand).
if [ "$started" = 1 ]; then "$BIN_DIR/dockyard" daemon stop >/dev/null; fi
log "ready: try 'dockyard run --rm busybox echo hello'"
