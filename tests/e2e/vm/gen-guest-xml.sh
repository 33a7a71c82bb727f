#!/usr/bin/env bash
# Renders guest.xml.in to stdout: the kvmem e2e domain (TCG or KVM, direct kernel boot,
# virtio balloon with 1 s stats, virtio-mem on NUMA node 0, serial log to a file, a
# second serial port on a unix socket as the guest's control channel).
#
#   gen-guest-xml.sh --kernel F --initrd F --serial-log F --control-socket F [options]
#     --name NAME              domain name (default kvmem-e2e)
#     --type qemu|kvm          default: kvm only with vmx/svm and no kvm_pvm, else qemu (TCG)
#     --memory-mib N           base RAM (default 512)
#     --vcpus N                (default 1)
#     --vmem-size-mib N        virtio-mem size, 0 = no virtio-mem device (default 512)
#     --vmem-requested-mib N   initially requested (default 128)
#     --vmem-block-mib N       block size (default 2)
#     --cmdline-extra STR      appended to the kernel command line (e.g. kvmem.hog_mb=300)
#     --free-page-reporting on|off   the balloon's freePageReporting (default off)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "gen-guest-xml.sh: $*" >&2; exit 2; }

default_type() {
  if [[ ! -d /sys/module/kvm_pvm && -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
    echo kvm
  else
    echo qemu
  fi
}

name=kvmem-e2e type='' memory=512 vcpus=1 vmem_size=512 vmem_req=128 vmem_block=2
kernel='' initrd='' serial='' control='' extra='' fpr=off
while (($#)); do
  (($# >= 2)) || die "missing value for $1"
  case "$1" in
    --name) name=$2 ;;
    --type) type=$2 ;;
    --memory-mib) memory=$2 ;;
    --vcpus) vcpus=$2 ;;
    --vmem-size-mib) vmem_size=$2 ;;
    --vmem-requested-mib) vmem_req=$2 ;;
    --vmem-block-mib) vmem_block=$2 ;;
    --kernel) kernel=$2 ;;
    --initrd) initrd=$2 ;;
    --serial-log) serial=$2 ;;
    --control-socket) control=$2 ;;
    --cmdline-extra) extra=$2 ;;
    --free-page-reporting) fpr=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[[ -n "$kernel" && -n "$initrd" && -n "$serial" && -n "$control" ]] ||
  die "--kernel, --initrd, --serial-log and --control-socket are required"
[[ -n "$type" ]] || type=$(default_type)
[[ "$fpr" == on || "$fpr" == off ]] || die "--free-page-reporting: on or off, got $fpr"
for n in "$memory" "$vcpus" "$vmem_size" "$vmem_req" "$vmem_block"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: $n"
done

# memhp_default_state: hot-plugged memory online_movable from the start (init sets it too).
# swiotlb=noforce: the virtio-mem region lies above 4 GiB, which would make the kernel
# reserve a 64 MiB bounce buffer out of base RAM; virtio needs none.
cmdline="console=ttyS0 panic=-1 loglevel=4 mitigations=off swiotlb=noforce memhp_default_state=online_movable${extra:+ $extra}"

xml_escape() { local s=${1//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\'/&apos;}; printf '%s' "$s"; }
sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

args=()
sub() { args+=(-e "s|@$1@|$(sed_escape "$(xml_escape "$2")")|g"); }
sub NAME "$name"
sub TYPE "$type"
sub MEMORY_MIB "$memory"
sub MAX_MEMORY_MIB "$((memory + vmem_size + 1024))"
sub SLOTS 8
sub VCPUS "$vcpus"
sub LAST_CPU "$((vcpus - 1))"
sub KERNEL "$kernel"
sub INITRD "$initrd"
sub CMDLINE "$cmdline"
sub SERIAL_LOG "$serial"
sub CONTROL_SOCKET "$control"
sub VMEM_SIZE_MIB "$vmem_size"
sub VMEM_REQUESTED_MIB "$vmem_req"
sub VMEM_BLOCK_MIB "$vmem_block"
sub FREE_PAGE_REPORTING "$fpr"
((vmem_size > 0)) || args+=(-e '/virtio-mem:begin/,/virtio-mem:end/d')
sed "${args[@]}" "$here/guest.xml.in"
