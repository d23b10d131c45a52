# tests/guest/lib.sh: sourced by the end-to-end tests that boot the test guest (see README).
# They run inside tests/integration/with-libvirtd.sh, as root, and set `me` before sourcing.

guest_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# guest_build: the directory with vmlinuz and initrd.gz (built once, then cached); inside
# with-libvirtd.sh, the one guest_enter_libvirtd built (PODFORM_GUEST_DIR).
guest_build() {
	if [ -n "${PODFORM_GUEST_DIR-}" ]; then echo "$PODFORM_GUEST_DIR"; else "$guest_here/build.sh"; fi
}

# guest_enter_libvirtd SCRIPT [ARGS...]: builds the guest here (as root; as another user
# with-libvirtd.sh skips), then runs SCRIPT again inside with-libvirtd.sh, whose private network
# namespace cannot reach the package archive. A test's first lines:
#     if [ -z "${WITH_LIBVIRTD-}" ]; then . "$here/../guest/lib.sh"; guest_enter_libvirtd "$0" "$@"; fi
guest_enter_libvirtd() {
	if [ "$(id -u)" = 0 ]; then
		PODFORM_GUEST_DIR=$("$guest_here/build.sh") || exit 1
		export PODFORM_GUEST_DIR
	fi
	exec "$guest_here/../integration/with-libvirtd.sh" "$@"
}

# guest_boot_root DIR GUEST_DIR [KERNEL_ARGS]: DIR becomes what a stand-in MAAS serves: boot.ipxe
# (over TFTP: the file the DHCP answer names) loads the guest's kernel and initramfs over HTTP
# from the same server (port 8000), as MAAS serves them, and tells the guest which server it
# booted from (podform.from=).
guest_boot_root() {
	mkdir -p "$1"
	ln -sf "$2/vmlinuz" "$1/vmlinuz"
	ln -sf "$2/initrd.gz" "$1/initrd.gz"
	cat >"$1/boot.ipxe" <<IPXE
#!ipxe
kernel http://\${next-server}:8000/vmlinuz console=ttyS0 quiet panic=-1 podform.from=\${next-server} podform.mac=\${mac} ${3-}
initrd http://\${next-server}:8000/initrd.gz
boot
IPXE
}

# guest_stand_in [NETNS] IFACE ADDR RANGE ROOT LOGDIR [DNSMASQ_ARGS...]: plays MAAS on IFACE
# (which has ADDR): DHCP from RANGE ("10.70.0.100,10.70.0.150") naming boot.ipxe, TFTP and
# HTTP from ROOT. Leases are written to LOGDIR/leases; dnsmasq's log to LOGDIR/dnsmasq.log. With
# NETNS, the servers run in that network namespace (ip netns). No DNS (port 0). An empty RANGE
# serves TFTP and HTTP only, for a network whose DHCP is someone else's.
guest_stand_in() {
	local ns=()
	if [ -e "/run/netns/$1" ]; then ns=(ip netns exec "$1"); shift; fi
	local iface=$1 addr=$2 range=$3 root=$4 logdir=$5 dhcp=()
	shift 5
	mkdir -p "$logdir"
	: >"$logdir/leases"
	# --no-ping: dnsmasq otherwise pings an address 3 s before it offers it, one new client at a
	# time, and guests booting together outwait their firmware's DHCP
	[ -z "$range" ] || dhcp=(--dhcp-range="$range,255.255.255.0,10m" --dhcp-boot=boot.ipxe
		--dhcp-leasefile="$logdir/leases" --dhcp-authoritative --no-ping)
	"${ns[@]}" dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 \
		--interface="$iface" --bind-interfaces --except-interface=lo "${dhcp[@]}" \
		--enable-tftp --tftp-root="$root" \
		--pid-file="$logdir/dnsmasq.pid" --log-dhcp --log-facility="$logdir/dnsmasq.log" "$@" &
	echo $! >"$logdir/dnsmasq.job"
	"${ns[@]}" python3 -m http.server --bind "$addr" --directory "$root" 8000 \
		>"$logdir/http.log" 2>&1 &
	echo $! >"$logdir/http.job"
	# serving before any guest asks
	"${ns[@]}" python3 -c '
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection((sys.argv[1], 8000), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the stand-in HTTP server on %s:8000 did not start" % sys.argv[1])' "$addr"
}

# guest_stand_in_stop LOGDIR
guest_stand_in_stop() {
	local f
	for f in "$1"/dnsmasq.job "$1"/http.job; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	return 0
}

# guest_serial VM: the file VM's serial console is logged to (logSerialConsole: true).
guest_serial() {
	echo "/var/log/libvirt/qemu/$1-serial0.log"
}

# guest_wait VM PATTERN [SECONDS]: waits until VM's serial log has a line matching the extended
# regular expression PATTERN (default 240 s: TCG on a busy machine); prints the line.
guest_wait() {
	local log i line
	log=$(guest_serial "$1")
	for ((i = 0; i < ${3:-240} * 2; i++)); do
		# the serial line ends lines with CR LF
		if [ -f "$log" ] && line=$(tr -d '\r' <"$log" | grep -a -E -- "$2"); then
			printf '%s\n' "${line%%$'\n'*}"
			return 0
		fi
		# the log holds the kernel's output only: empty this long, the firmware never booted it
		if [ "$i" -ge 360 ] && [ ! -s "$log" ]; then
			echo "$me: $1: nothing on its serial console after 180 s: its firmware found no boot (no DHCP or TFTP answer?)" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "$me: $1: no line matching /$2/ on its serial console after ${3:-240} s; it says:" >&2
	tr -d '\r' <"$log" 2>/dev/null | tail -n 30 >&2 || echo "(no serial log at $log)" >&2
	return 1
}

# guest_run [NETNS] ADDR COMMAND: runs COMMAND in the guest at ADDR (its command port, 7) and
# prints its output; the last line is "exit N". From NETNS when given.
guest_run() {
	local ns=()
	if [ -e "/run/netns/$1" ]; then ns=(ip netns exec "$1"); shift; fi
	echo "$2" | "${ns[@]}" timeout 30 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=25)
s.sendall(sys.stdin.buffer.read())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode(errors="replace"))
' "$1"
}
