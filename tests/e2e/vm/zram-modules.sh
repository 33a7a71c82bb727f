#!/usr/bin/env bash
# Prints a directory holding zsmalloc.ko, lzo-rle.ko and zram.ko of the guest kernel that
# build-guest.sh cached in CACHE_DIR, extracting them once from the same kernel package
# (apt-get download, SHA256 checked against apt's lists, never installed).
#
#   zram-modules.sh CACHE_DIR
#
# The cloud kernel builds zram, zsmalloc and lzo-rle as modules (CONFIG_ZRAM=m,
# CONFIG_ZSMALLOC=m, CONFIG_CRYPTO_LZO=m; zram depends on zsmalloc only, lzo-rle on nothing:
# the lzo library is built in). Exit 1 on any failure.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
cache=$(cd "$1" && pwd)
die() { echo "zram-modules: ERROR: $*" >&2; exit 1; }
kdir=
for v in "$cache"/kernel/*/vmlinuz; do
  cmp -s "$v" "$cache/vmlinuz" && kdir=$(dirname "$v")
done
[[ -n $kdir ]] || die "no cached kernel directory matches $cache/vmlinuz"
out=$kdir/zram-modules
if [[ ! -f $out/.complete ]] || ! (cd "$out" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1); then
  exec 9>"$cache/.lock-zram"
  flock 9
  name=$(basename "$kdir")
  pkg=${name%_*} ver=${name##*_}
  tmp=$(mktemp -d "$cache/.zram.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  apt_opts=()
  [[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
  (cd "$tmp" && apt-get download -q "${apt_opts[@]}" "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed"
  deb=$(echo "$tmp"/*.deb)
  want=$(apt-cache show --no-all-versions "$pkg=$ver" 2>/dev/null | sed -n 's/^SHA256: //p;T;q')
  [[ -n $want && $(sha256sum "$deb" | cut -d' ' -f1) == "$want" ]] || die "$(basename "$deb"): SHA256 not as in apt's lists"
  dpkg-deb -x "$deb" "$tmp/root"
  rm -rf "$out"
  mkdir -p "$out"
  for m in zsmalloc lzo-rle zram; do
    f=$(find "$tmp/root/lib/modules" \( -name "$m.ko" -o -name "$m.ko.*" \) -print -quit)
    case "$f" in
      *.ko) cp "$f" "$out/$m.ko" ;;
      *.ko.xz) busybox xzcat "$f" >"$out/$m.ko" ;;
      *) die "module $m: '$f'" ;;
    esac
  done
  (cd "$out" && sha256sum zsmalloc.ko lzo-rle.ko zram.ko >SHA256SUMS)
  touch "$out/.complete"
  echo "zram-modules: extracted zsmalloc, lzo-rle and zram from $pkg $ver" >&2
fi
echo "$out"
