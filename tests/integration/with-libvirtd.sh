#!/bin/bash
# with-libvirtd.sh COMMAND [ARGS...]
#
# Runs COMMAND against a throw-away system libvirtd: a private mount, network
# and PID namespace with its own /run, /var/lib/libvirt, /var/cache/libvirt,
# /var/log/libvirt and a copy of /etc/libvirt, where virtlogd and libvirtd are
# started fresh. Returns COMMAND's exit status; 77 (automake SKIP) when this
# machine cannot host such a daemon. COMMAND gets:
#   LIBVIRT_DEFAULT_URI=qemu:///system
#   PODFORM_STATE_DIR   an empty directory (removed afterwards)
#   WITH_LIBVIRTD_DIR   scratch directory, mode 0755 so the qemu user can
#                       reach disk images placed there (removed afterwards)
#   WITH_LIBVIRTD=1     so a script can tell it already runs inside
#   WITH_LIBVIRTD_HOST_NETNS  path of the outer network namespace, to check
#                       that nothing shows up there: nsenter --net=PATH ip link
# Set WITH_LIBVIRTD_KEEP=1 to keep the scratch directory (logs) afterwards.
# COMMAND starts with SIGINT ignored (unshare's doing); on Ctrl-C, SIGTERM or
# SIGHUP it gets SIGTERM, then the daemons are stopped.
#
# Nothing leaks out: networks/bridges/taps live in the private netns, mounts in
# the private mount ns, and every daemon/qemu/dnsmasq in the private PID ns, so
# the kernel kills what is left when the namespace's init (this script) exits.
# shellcheck disable=SC2317 # trap handlers look unreachable to shellcheck
set -euo pipefail

me=with-libvirtd
skip() { echo "$me: SKIP: $*" >&2; exit 77; }

# print_logs DIR: tails of the daemons' and domains' logs, for failures.
print_logs() {
	local f
	for f in "$1"/log/libvirtd.log "$1"/log/virtlogd.log "$1"/varlog/qemu/*.log; do
		[ -s "$f" ] || continue
		echo "---- $me: tail of ${f#"$1"/} ----" >&2
		tail -n 25 "$f" >&2
	done
}

# ---------------------------------------------------------------------------
# Inner half: runs as PID 1 of the new namespaces.
# ---------------------------------------------------------------------------
if [ "${1-}" = --inner ]; then
	work=$2 netns_fd=$3
	shift 3
	cmd_pid=

	# stop_daemons: domains first (so libvirtd tears down taps cleanly), then
	# the daemons by pid file; whatever is left dies with this PID namespace.
	stop_daemons() {
		local f pid
		# NAME.pid are qemu/dnsmasq; driver.pid are libvirtd's own driver locks.
		for f in /run/libvirt/qemu/*.pid /run/libvirt/network/*.pid; do
			[ "${f##*/}" != driver.pid ] || continue
			if pid=$(cat "$f" 2>/dev/null); then kill -TERM "$pid" 2>/dev/null || true; fi
		done
		for f in /run/libvirtd.pid /run/virtlogd.pid; do
			pid=$(cat "$f" 2>/dev/null) || continue
			kill -TERM "$pid" 2>/dev/null || continue
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		done
	}
	on_signal() {
		trap - TERM HUP
		echo "$me: interrupted, stopping COMMAND and daemons" >&2
		if [ -n "$cmd_pid" ]; then kill -TERM "$cmd_pid" 2>/dev/null || true; fi
		stop_daemons
		exit "$1"
	}
	# INT is ignored on entry (inherited from unshare): the outer half sends TERM.
	trap 'on_signal 143' TERM
	trap 'on_signal 129' HUP

	ip link set lo up
	# A sysfs of this netns: /sys/class/net then shows our bridges, not the
	# host's NICs, and /sys/fs/cgroup is empty, so no cgroup can leak out.
	mount -t sysfs sysfs /sys

	# Private copies of the host paths libvirt writes to. Directory skeletons
	# keep the packaged owners/modes (libvirtd expects them), not the content.
	skeleton() { # DIR: mount a tmpfs over DIR holding only DIR's subdirectories
		local dir=$1 list rel mode owner
		list=$(find "$dir" -mindepth 1 -maxdepth 3 -type d -printf '%P\t%m\t%u:%g\n' 2>/dev/null || true)
		mount -t tmpfs -o "mode=$(stat -c %a "$dir")" tmpfs "$dir"
		while IFS=$'\t' read -r rel mode owner; do
			[ -n "$rel" ] || continue
			mkdir -p "$dir/$rel"
			chown "$owner" "$dir/$rel"
			chmod "$mode" "$dir/$rel"
		done <<<"$list"
	}
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/lock
	skeleton /var/lib/libvirt
	skeleton /var/cache/libvirt
	# Domain logs go to the scratch dir so the outer half can print them.
	mkdir -p "$work/varlog/qemu"
	mount --bind "$work/varlog" /var/log/libvirt

	# /etc/libvirt: a copy with the host's config files but none of its
	# objects (not even the packaged 'default' network): tests start empty.
	# No cgroups: parallel daemons would both name their first domain's cgroup
	# machine/qemu-1-NAME, and a killed run would leave cgroups behind.
	cp -a /etc/libvirt "$work/etc"
	find "$work/etc" -path '*/autostart/*' -delete
	rm -f "$work"/etc/qemu/*.xml "$work"/etc/qemu/networks/*.xml \
		"$work"/etc/storage/*.xml "$work"/etc/secrets/*
	echo 'cgroup_controllers = [ ]' >>"$work/etc/qemu.conf"
	mount --bind "$work/etc" /etc/libvirt

	# /dev/kvm may be root:root 0600: the QEMU user cannot use it, and libvirtd probes QEMU's
	# capabilities again on every domain define (0.6-9 s each; under load the probe can time out
	# and the define fail, "An error occurred, but the cause is unknown"). A root:kvm 0660 node
	# of the same device, bound over it in this mount namespace only, ends both; the host's node
	# is untouched. (In /run: a fresh tmpfs, which allows device nodes.)
	# Where that cannot be done (no CAP_MKNOD, a nodev /run in a user namespace), the daemon
	# just probes as before.
	if [ -c /dev/kvm ] && getent group kvm >/dev/null &&
		mknod /run/kvm c "$((16#$(stat -c %t /dev/kvm)))" "$((16#$(stat -c %T /dev/kvm)))" 2>/dev/null &&
		chown root:kvm /run/kvm && chmod 0660 /run/kvm && : <>/run/kvm 2>/dev/null; then
		mount --bind /run/kvm /dev/kvm || true
	fi

	mkdir -p "$work/log"
	# The daemons must not hold the host netns fd (it is COMMAND's only).
	LIBVIRT_LOG_OUTPUTS="3:file:$work/log/virtlogd.log" virtlogd -d {netns_fd}<&-
	LIBVIRT_LOG_OUTPUTS="3:file:$work/log/libvirtd.log" libvirtd -d {netns_fd}<&-

	# The daemon probes QEMU on first start (no capability cache): a few seconds.
	up='' deadline=$((SECONDS + 20))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if virsh -q -c qemu:///system version >/dev/null 2>&1; then up=1; break; fi
		sleep 0.2
	done
	if [ -z "$up" ]; then
		echo "$me: SKIP: libvirtd did not answer on qemu:///system within 20 s" >&2
		print_logs "$work"
		stop_daemons
		exit 77
	fi

	export LIBVIRT_DEFAULT_URI=qemu:///system PODFORM_STATE_DIR=$work/state
	export WITH_LIBVIRTD_DIR=$work/scratch WITH_LIBVIRTD=1
	# /proc/self/fd/N: every process that inherited the fd can open it.
	export WITH_LIBVIRTD_HOST_NETNS=/proc/self/fd/$netns_fd
	# Background + wait: a trapped signal interrupts `wait`, not a foreground
	# child. Explicit <&0 keeps stdin (bash gives & jobs /dev/null otherwise).
	"$@" <&0 &
	cmd_pid=$!
	rc=0
	wait "$cmd_pid" || rc=$?
	cmd_pid=
	trap - TERM HUP
	stop_daemons
	exit "$rc"
fi

# ---------------------------------------------------------------------------
# Outer half: checks, scratch directory, namespaces, signal forwarding.
# ---------------------------------------------------------------------------
if [ $# -eq 0 ]; then
	echo "usage: $me.sh COMMAND [ARGS...]" >&2
	exit 2
fi
[ "$(id -u)" -eq 0 ] || skip "needs root (runs a system libvirtd in private namespaces)"
for tool in unshare libvirtd virtlogd virsh ip mount; do
	command -v "$tool" >/dev/null || skip "$tool not found"
done
unshare --mount --net --pid --fork --propagation private true 2>/dev/null ||
	skip "unshare --mount --net --pid does not work here (no CAP_SYS_ADMIN?)"

work=$(mktemp -d "${TMPDIR:-/tmp}/with-libvirtd.XXXXXX")
# 0755 all the way down: qemu runs as libvirt-qemu and must traverse to images.
chmod 0755 "$work"
mkdir -m 0755 "$work/state" "$work/scratch"

# An open handle on the host's netns, inherited down to COMMAND (see top).
exec {netns_fd}</proc/self/ns/net

inner=
cleanup() {
	if [ "${WITH_LIBVIRTD_KEEP:-0}" = 1 ]; then
		echo "$me: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
# unshare blocks INT/TERM and ignores INT, so the inner PID 1 starts with INT
# ignored and cannot trap it: send TERM straight to it for every signal, and
# report the signal we got as 128+N ourselves.
signalled=
forward() {
	signalled=$1
	if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'forward 130' INT
trap 'forward 143' TERM
trap 'forward 129' HUP

# --kill-child: if unshare itself dies, the inner PID 1 gets SIGTERM and
# cleans up; if PID 1 dies, the kernel kills everything in the namespace.
unshare --mount --net --pid --fork --mount-proc --propagation private \
	--kill-child=SIGTERM -- "$BASH" "$(readlink -f "$0")" --inner "$work" "$netns_fd" "$@" &
ushare=$!
for _ in $(seq 50); do
	inner=$(cat "/proc/$ushare/task/$ushare/children" 2>/dev/null || true)
	inner=${inner%% *}
	[ -n "$inner" ] && break
	sleep 0.02
done
# A signal that came before we knew the inner pid.
[ -z "$signalled" ] || forward "$signalled"
rc=0
# `wait` returns early when a trapped signal arrives; keep waiting for the end.
while :; do
	wait "$ushare" && rc=0 || rc=$?
	kill -0 "$ushare" 2>/dev/null || break
done
# If unshare itself was killed, PID 1 is still cleaning up: let it finish
# before its scratch directory goes.
for _ in $(seq 150); do
	if [ -z "$inner" ] || ! kill -0 "$inner" 2>/dev/null; then break; fi
	sleep 0.1
done
[ -z "$signalled" ] || rc=$signalled
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
	echo "$me: COMMAND exited $rc" >&2
	print_logs "$work"
fi
exit "$rc"
