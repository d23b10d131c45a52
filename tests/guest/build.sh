#!/bin/bash
# tests/guest/build.sh [--print]
#
# Builds the tests' guest: the Debian kernel (linux-image-amd64's image, with only the modules a
# test guest needs) and a busybox-static initramfs whose init (rootfs/) brings up every NIC with
# DHCP, reports on the serial console, powers off cleanly on the ACPI power button, logs PCI
# hot-plug and hot-unplug of NICs, and serves small TCP listeners (see tests/guest/README).
# Everything comes from Debian's archive (apt-get download; no package is installed).
#
# Prints the directory that holds vmlinuz and initrd.gz. The result is cached in
# $PODFORM_GUEST_CACHE (default /var/cache/podform-test-guest), keyed by the package versions
# and the builder's own files, so it survives between runs and checkouts; a new kernel in the
# archive or a changed init builds a new one. Building takes a few seconds after the download.
set -euo pipefail
me=podform-guest
here=$(cd "$(dirname "$0")" && pwd)
cache=${PODFORM_GUEST_CACHE:-/var/cache/podform-test-guest}
die() { echo "$me: $*" >&2; exit 1; }

# The modules the guest loads, in no particular order: their dependencies are read from each
# module's own .modinfo and loaded first. virtio_pci and virtio_net for the default NIC model,
# e1000 and e1000e for the other common ones, button for the ACPI power button (PCI hot-plug, pciehp and
# acpiphp, is built into Debian's kernel), evdev for the input device the button reports on.
modules=(virtio_pci virtio_net e1000 e1000e button evdev)

# apt_get_download PKG...: into the current directory; reads the package lists once if they
# are missing (a fresh machine that never ran apt-get update).
apt_get_download() {
	# as root into a directory of root's: apt's _apt sandbox user could not write here
	apt-get download -qq -o APT::Sandbox::User=root "$@" 2>/dev/null && return 0
	apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "$@"
}

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }

kernel_meta_version=$(candidate linux-image-amd64)
busybox_version=$(candidate busybox-static)
if [ -z "$kernel_meta_version" ] || [ "$kernel_meta_version" = "(none)" ]; then
	apt-get update -qq
	kernel_meta_version=$(candidate linux-image-amd64)
	busybox_version=$(candidate busybox-static)
fi
[ -n "$kernel_meta_version" ] && [ "$kernel_meta_version" != "(none)" ] ||
	die "linux-image-amd64 is not in this machine's package archive; add Debian's main archive to apt's sources"
kernel_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$kernel_pkg" ] || die "cannot tell which kernel package linux-image-amd64 $kernel_meta_version depends on"

key=$( { echo "$kernel_pkg $kernel_meta_version busybox-static $busybox_version ${modules[*]}";
	 cd "$here" && find build.sh rootfs -type f | LC_ALL=C sort | xargs sha256sum; } |
	 sha256sum | cut -c1-16)
out=$cache/$key
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ]; then
	echo "$out"
	exit 0
fi

# Tests run in parallel (make -j): one builds, the others wait for its result.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.gz" ]; then
	echo "$out"
	exit 0
fi
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
apt_get_download "$kernel_pkg" busybox-static >&2 || die "cannot download $kernel_pkg and busybox-static from the package archive: this machine (and this network namespace) must reach it, as apt-get download does"
mkdir kernel busybox root
dpkg-deb -x "$kernel_pkg"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
kver=$(ls kernel/lib/modules)
[ -f "kernel/boot/vmlinuz-$kver" ] || die "$kernel_pkg has no /boot/vmlinuz-$kver"
bb=busybox/bin/busybox

# ko_path NAME: the module file of NAME (modules spell - and _ alike).
ko_path() {
	local f
	f=$(find "kernel/lib/modules/$kver" -name "$1.ko" -o -name "${1//_/-}.ko" | head -n 1)
	[ -n "$f" ] || die "$kernel_pkg has no module $1"
	echo "$f"
}
# load_order NAME: NAME's dependencies, depth first, then NAME, each once.
declare -A seen=()
order=()
load_order() {
	local ko dep
	[ -z "${seen[$1]-}" ] || return 0
	seen[$1]=1
	ko=$(ko_path "$1")
	for dep in $(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		load_order "$dep"
	done
	order+=("$1")
}
for m in "${modules[@]}"; do load_order "$m"; done

mkdir -p root/bin root/sbin root/etc root/proc root/sys root/dev root/tmp root/run root/lib/modules
cp "$bb" root/bin/busybox
for applet in $("$bb" --list); do
	[ -e "root/bin/$applet" ] || ln -s busybox "root/bin/$applet"
done
for m in "${order[@]}"; do
	cp "$(ko_path "$m")" "root/lib/modules/$m.ko"
	echo "$m" >>root/lib/modules/order
done
cp -a "$here/rootfs/." root/
ln -s bin/init root/init
(cd root && find . | LC_ALL=C sort | "../$bb" cpio -o -H newc -R 0:0 2>/dev/null | gzip -9 >../initrd.gz)

mkdir -p "$out.tmp"
cp "kernel/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"
mv initrd.gz "$out.tmp/initrd.gz"
echo "$kernel_pkg $kernel_meta_version, busybox-static $busybox_version, modules: ${order[*]}" >"$out.tmp/VERSION"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
