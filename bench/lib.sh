# shellcheck shell=bash disable=SC2034
# bench/lib.sh: what bench/run and bench/profile share (sourced, not run).
# The caller sets PROG (for messages) and BENCH (this directory).

REPO=$(dirname "$BENCH")
NOBODY=65534

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

require_root() {
  [[ $(id -u) == 0 ]] || die "run me as root ($*)"
}

# install_missing PACKAGE...: apt-get install what dpkg does not know.
install_missing() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  note "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# enter_private_ns "$0" "$@": re-run the script in a private mount namespace
# (once), so that whatever it mounts dies with it and the host keeps its
# mounts.
enter_private_ns() {
  [[ -n "${NSL_BENCH_INNER:-}" ]] && return 0
  NSL_BENCH_INNER=1 exec unshare --mount --propagation private -- "$@"
}

# private_cgroup_view: in the private mount namespace, /sys/fs/cgroup
# becomes a throwaway tmpfs with the host's hierarchies bound back in. A
# suite's helpers that make a cgroup of every controller the kernel has
# (runc's do, from /proc/cgroups) would otherwise leave plain directories of
# the controllers this host does not mount on the host's tmpfs.
private_cgroup_view() {
  [[ -n "${NSL_BENCH_INNER:-}" ]] || die "private_cgroup_view: not in a private mount namespace"
  local d h
  d=$(mktemp -d /tmp/nsl-cgview.XXXXXX)
  mount -t tmpfs -o size=64k cgview "$d"
  mkdir "$d/host"
  mount --rbind /sys/fs/cgroup "$d/host"
  mount -t tmpfs -o mode=755 cgroup-view /sys/fs/cgroup
  for h in "$d"/host/*; do
    mountpoint -q "$h" || continue
    mkdir "/sys/fs/cgroup/${h##*/}"
    mount --rbind "$h" "/sys/fs/cgroup/${h##*/}"
  done
  umount -l "$d"
  rmdir "$d"
}

# stage: a world-readable mktemp -d tree (like spec/helper.lua's
# helper.stage) so that uid 65534 runs the very same files, removed at exit:
#   T/bin/nsl, T/bin/floor (static, musl), T/bin/floor-glibc (static),
#   T/bin/floor-dynamic, T/bin/nsl-glibc (with NSL_GLIBC), T/share/nsl/scripts,
#   T/bench/minimal.lua,
#   T/root (a busybox root), T/out (root's), T/uout (uid 65534's).
# The scripts come from the source tree the binary was built from (its
# CMakeCache.txt), so that they match the library embedded in it.
# Sets T, ROOT, N (the staged nsl), NSL_SRC and NSL_REV (its source tree).
CLEANUP_HOOKS=()
stage() {
  local nsl=${NSL:-${NSL_BUILD:-$REPO/build}/nsl} src
  [[ -x "$nsl" ]] || die "no nsl binary at $nsl: build it first (cmake --build build), or set NSL"
  src=$(sed -n 's/^nsl_SOURCE_DIR:STATIC=//p' "$(dirname "$nsl")/CMakeCache.txt" 2>/dev/null)
  [[ -d "${src:-}/scripts" ]] || src=$REPO
  NSL_SRC=$src
  NSL_REV=${NSL_REV:-$(git -C "$src" describe --always --dirty 2>/dev/null || echo "not a git tree")}
  command -v cc >/dev/null || die "cc is missing (apt-get install gcc)"
  T=$(mktemp -d /tmp/nsl-bench.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  chmod 0755 "$T"
  mkdir -p "$T/bin" "$T/share/nsl" "$T/bench" "$T/out"
  cp "$nsl" "$T/bin/nsl"
  cp -r "$src/scripts" "$T/share/nsl/scripts"
  cp "$BENCH/minimal.lua" "$T/bench/"
  # the floor is static and linked with musl, the fastest form of the least
  # sequence (nsl is too: a static glibc start costs about 0.6 ms more
  # here, tools/musl-deps); the static glibc and dynamic ones are rows, for
  # comparison
  cc -O2 -Wall -Wextra -static -o "$T/bin/floor-glibc" "$BENCH/floor.c" ||
    die "cannot link bench/floor.c statically (libc6-dev's libc.a?)"
  cc -O2 -Wall -Wextra -o "$T/bin/floor-dynamic" "$BENCH/floor.c"
  command -v musl-gcc >/dev/null || die "musl-gcc is missing (apt-get install musl-tools)"
  mkdir -p "$T/kernel" # musl-gcc sees no /usr/include: the kernel's headers
  ln -s /usr/include/linux /usr/include/asm-generic "$T/kernel/"
  ln -s "/usr/include/$(gcc -print-multiarch)/asm" "$T/kernel/asm"
  musl-gcc -O2 -Wall -Wextra -static -isystem "$T/kernel" -o "$T/bin/floor" "$BENCH/floor.c" ||
    die "cannot link bench/floor.c with musl-gcc"
  # NSL_GLIBC: an nsl linked with glibc, measured beside (nsl-busybox-glibc)
  if [[ -n ${NSL_GLIBC:-} ]]; then
    [[ -x $NSL_GLIBC ]] || die "NSL_GLIBC=$NSL_GLIBC is not an executable"
    cp "$NSL_GLIBC" "$T/bin/nsl-glibc"
  fi
  ROOT=$T/root
  N=$T/bin/nsl
  "$N" -e 'require"nsl".rootfs.busybox(...)' "$ROOT" >/dev/null
  chmod -R a+rX "$T"
  install -d -o $NOBODY -g $NOBODY "$T/uout"
  # nsl's caches (compiled seccomp programs, roots) go to XDG_CACHE_HOME:
  # keep them in T too, not in the caller's home
  export XDG_CACHE_HOME=$T/out/cache
}

cleanup() {
  local hook
  cd /
  for hook in "${CLEANUP_HOOKS[@]}"; do "$hook" || true; done
  [[ -n "${T:-}" && -d "$T" ]] && rm -rf --one-file-system "$T"
}

# As uid 65534 with no groups and a clean environment.
as_user() {
  setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent \
    XDG_CACHE_HOME="$T/uout/cache" "$@"
}

# run_as root|user COMMAND...: in T, as root or as uid 65534.
run_as() {
  local who=$1
  shift
  if [[ $who == user ]]; then (cd "$T" && as_user "$@"); else (cd "$T" && "$@"); fi
}
