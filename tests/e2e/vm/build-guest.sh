#!/usr/bin/env bash
# Builds the kvmem e2e guest, idempotently: CACHE_DIR/vmlinuz and CACHE_DIR/initrd.img.
#
#   build-guest.sh CACHE_DIR
#
# The kernel is Debian's linux-image-6.1.0-*-cloud-amd64 (newest the apt lists know,
# or KVMEM_VM_KERNEL_PKG), fetched with `apt-get download` and unpacked into the cache,
# never installed. The initramfs holds busybox-static, the virtio balloon/virtio-mem
# modules, a static memory hog (guest/hog.c) and guest/init. Nothing is rebuilt while
# the kernel package, busybox, guest/* and this script are unchanged.
# Verified: the downloaded .deb must have the SHA256 that apt's signed lists give for that
# version, and the unpacked kernel and modules must still match the sums recorded then, on
# every use (a cache that does not is fetched again).
# Exit codes: 0 ok, 77 no guest kernel obtainable (no apt lists / no archive), 1 error. Under
# CI=true "no kernel obtainable" is 1 too: CI must not turn six real-guest tests into skips.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "build-guest: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() {
  if [[ "${CI:-}" == true ]]; then log "ERROR (CI=true, no skipping): $*"; exit 1; fi
  log "SKIP: $*"
  exit 77
}

[[ $# -eq 1 ]] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
mkdir -p "$1"
cache=$(cd "$1" && pwd)

modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_balloon virtio_mem)
busybox=$(command -v busybox || true)
[[ -n "$busybox" ]] || die "busybox not found (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; the initramfs needs busybox-static"
fi
command -v gcc >/dev/null || die "gcc not found (needed for the static memory hog; apt-get install build-essential)"

exec 9>"$cache/.lock"
flock 9

# --- which kernel ----------------------------------------------------------------------
newest_pkg() {
  apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
    grep -E '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' | sort -V | tail -n1
}
pkg=${KVMEM_VM_KERNEL_PKG:-}
pkg_version=
# apt-cache takes ~0.7 s a call here: remember the answer until the apt lists change.
lists_sig=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -d' ' -f1)
resolved="$cache/kernel/resolved"
if [[ -z "$pkg" && -f "$resolved" ]]; then
  read -r sig rpkg rver <"$resolved" || true
  if [[ "${sig:-}" == "$lists_sig" && -n "${rpkg:-}" && -n "${rver:-}" ]]; then pkg=$rpkg pkg_version=$rver; fi
fi
if [[ -z "$pkg" ]]; then
  pkg=$(newest_pkg)
  if [[ -z "$pkg" ]] && ! compgen -G "$cache/kernel/*/vmlinuz" >/dev/null && [[ $(id -u) -eq 0 ]]; then
    log "apt lists know no cloud kernel; running apt-get update"
    apt-get update -qq >&2 || true
    lists_sig=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -d' ' -f1)
    pkg=$(newest_pkg)
  fi
fi
if [[ -n "$pkg" && -z "$pkg_version" ]]; then
  pkg_version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p;T;q' || true)
  if [[ -n "$pkg_version" && -z "${KVMEM_VM_KERNEL_PKG:-}" ]]; then
    mkdir -p "$cache/kernel"
    echo "$lists_sig $pkg $pkg_version" >"$resolved"
  fi
fi
if [[ -n "${KVMEM_VM_KERNEL_PKG:-}" && -z "$pkg_version" ]]; then
  # A pin apt does not know must not quietly become whatever kernel the cache holds.
  skip "KVMEM_VM_KERNEL_PKG=$KVMEM_VM_KERNEL_PKG is not in the apt lists"
fi
if [[ -z "$pkg" || -z "$pkg_version" ]]; then
  # Offline: fall back to the newest kernel already unpacked in the cache.
  last=$(compgen -G "$cache/kernel/*/vmlinuz" | sort -V | tail -n1 || true)
  [[ -n "$last" ]] || skip "no linux-image-6.1.0-*-cloud-amd64 in the apt lists and none cached in $cache"
  kdir=$(dirname "$last")
  log "apt cannot resolve the kernel; reusing cached $(basename "$kdir")"
else
  kdir="$cache/kernel/${pkg}_${pkg_version}"
fi

# --- fetch + unpack the kernel (once per package version) ------------------------------
cache_intact() {
  [[ -f "$kdir/vmlinuz" && -f "$kdir/.complete" && -f "$kdir/SHA256SUMS" ]] &&
    (cd "$kdir" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1)
}
if [[ -f "$kdir/.complete" ]] && ! cache_intact; then
  [[ -n "$pkg_version" ]] || skip "cached $(basename "$kdir") fails its checksums and apt cannot fetch it again"
  log "cached $(basename "$kdir") fails its checksums (or predates them); fetching it again"
  rm -f "$kdir/.complete"
fi
if [[ ! -f "$kdir/vmlinuz" || ! -f "$kdir/.complete" ]]; then
  log "fetching $pkg $pkg_version"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  apt_opts=()
  [[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
  (cd "$tmp" && apt-get download -q "${apt_opts[@]}" "$pkg=$pkg_version" >&2) ||
    skip "apt-get download $pkg=$pkg_version failed (no access to the Debian archive?)"
  debs=("$tmp"/*.deb)
  deb=${debs[0]}
  [[ -f "$deb" ]] || die "apt-get download produced no .deb"
  want=$(apt-cache show --no-all-versions "$pkg=$pkg_version" 2>/dev/null | sed -n 's/^SHA256: //p;T;q')
  [[ -n "$want" ]] || die "apt knows no SHA256 for $pkg=$pkg_version"
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  [[ "$got" == "$want" ]] || die "$(basename "$deb"): SHA256 $got, apt's lists say $want"
  log "verified $(basename "$deb"): SHA256 $got as in apt's lists"
  log "unpacking $(basename "$deb") ($(du -m "$deb" | cut -f1) MB)"
  dpkg-deb -x "$deb" "$tmp/root"
  rm -rf "$kdir"
  mkdir -p "$kdir/modules"
  vmlinuzes=("$tmp"/root/boot/vmlinuz-*)
  vmlinuz=${vmlinuzes[0]}
  [[ -f "$vmlinuz" ]] || die "no /boot/vmlinuz-* in $deb"
  cp "$vmlinuz" "$kdir/vmlinuz"
  cp "$tmp"/root/boot/config-* "$kdir/config" 2>/dev/null || true
  for m in "${modules[@]}"; do
    f=$(find "$tmp/root/lib/modules" \( -name "$m.ko" -o -name "$m.ko.*" \) -print -quit)
    case "$f" in
      '') log "  $m: no module file (built in?)"; continue ;;
      *.ko) cp "$f" "$kdir/modules/$m.ko" ;;
      *.ko.xz) "$busybox" xzcat "$f" >"$kdir/modules/$m.ko" ;;
      *.ko.gz) gzip -dc "$f" >"$kdir/modules/$m.ko" ;;
      *.ko.zst) zstd -qdc "$f" >"$kdir/modules/$m.ko" ;;
      *) die "unknown module compression: $f" ;;
    esac
    log "  $m: $(basename "$f")"
  done
  (cd "$kdir" && sha256sum vmlinuz modules/*.ko >SHA256SUMS)
  touch "$kdir/.complete"
  rm -rf "$tmp"
  trap - EXIT
fi

# --- up to date? ------------------------------------------------------------------------
stamp=$( {
  echo "kernel=$(basename "$kdir")"
  sha256sum "$busybox" "$here/guest/init" "$here/guest/hog.c" "${BASH_SOURCE[0]}" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
if [[ -f "$cache/vmlinuz" && -f "$cache/initrd.img" && "$(cat "$cache/build.stamp" 2>/dev/null)" == "$stamp" ]] &&
  cmp -s "$cache/vmlinuz" "$kdir/vmlinuz"; then
  log "up to date: $cache/vmlinuz $cache/initrd.img ($(basename "$kdir"))"
  exit 0
fi

# --- initramfs ----------------------------------------------------------------------------
log "building initramfs ($(basename "$kdir"))"
work=$(mktemp -d "$cache/.initrd.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib/modules}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$here/guest/init" "$root/init"
gcc -static -O2 -s -Wall -o "$root/bin/kvmem-hog" "$here/guest/hog.c"
cp "$kdir"/modules/*.ko "$root/lib/modules/" 2>/dev/null || true
# The kernel opens /dev/console before /init mounts devtmpfs.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || log "  (cannot mknod dev/console; /init reopens it)"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
  gzip -n -9 >"$work/initrd.img"
cp "$kdir/vmlinuz" "$work/vmlinuz"
mv -f "$work/vmlinuz" "$cache/vmlinuz"
mv -f "$work/initrd.img" "$cache/initrd.img"
echo "$stamp" >"$cache/build.stamp"
log "built $cache/initrd.img ($(du -k "$cache/initrd.img" | cut -f1) KiB), $cache/vmlinuz ($(du -k "$cache/vmlinuz" | cut -f1) KiB)"
