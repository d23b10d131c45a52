#!/bin/bash
# links-libvirt.sh: host links (netlink) and libvirt together, end to end, against a real
# libvirtd (QEMU, TCG) in private namespaces: a Bridge, a Macvtap, a libvirt Network that
# forwards to that Bridge, and a VM that uses all three. Every check reads the host back with
# `ip` and virsh, never with podform. SKIP (77) when no private libvirtd can run here (not root,
# no unshare): see with-libvirtd.sh.
# shellcheck disable=SC2016 # the bash -c scripts expand their own variables
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=macvtap-lock.sh
. "$here/macvtap-lock.sh"
if [ -z "${WITH_LIBVIRTD-}" ]; then
	exec "$here/with-libvirtd.sh" "$0" "$@"
fi

src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
# shellcheck source=checks.sh
. "$here/checks.sh"
# in_order NAME REGEX...: the last command's output (from expect) has a line matching each
# REGEX, the first such lines in this order
in_order() {
	local name=$1 re prev=0 n
	shift
	for re in "$@"; do
		n=$(grep -nE -m1 -- "$re" "$work/out" | cut -d: -f1)
		if [ -z "$n" ] || [ "$n" -le "$prev" ]; then
			not_ok "$name (/$re/ ${n:+at line $n, }not after line $prev)"
			sed 's/^/    /' "$work/out"
			return
		fi
		prev=$n
	done
	ok "$name"
}
virsh() { command virsh -q -c qemu:///system "$@"; }
export -f virsh

# link NAME EXPR: a Python expression over `ip -j -d link show NAME` (as l) must hold;
# on failure print the link.
link() {
	ip -j -d link show "$1" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
info = l.get("linkinfo", {})
data = info.get("info_data", {})
if not eval(" ".join(sys.argv[1].split())):
    json.dump(l, sys.stdout, indent=1)
    sys.exit(1)' "$2"
}
export -f link
# masters: the names of the links enslaved to bridge $1, one a line, sorted
masters() { ip -j link show master "$1" | python3 -c 'import json, sys; print("\n".join(sorted(l["ifname"] for l in json.load(sys.stdin))))'; }
export -f masters
# ifindex NAME
ifindex() { ip -j link show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["ifindex"])'; }

# The host's NICs: veth pairs (no dummy driver on every kernel). eno3 stays free for moves.
for n in eno1 eno2 eno3; do
	ip link add "$n" type veth peer name "$n-p"
	ip link set "$n" up
	ip link set "$n-p" up
done
veths_intact() {
	local n
	for n in eno1 eno2 eno3; do
		link "$n" 'info.get("info_kind") == "veth" and "UP" in l["flags"] and l.get("link") == "'"$n"'-p"' &&
			link "$n-p" 'info.get("info_kind") == "veth" and "UP" in l["flags"] and "master" not in l' || return 1
	done
}

cfg=$work/cfg
mkdir -p "$cfg"
cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec:
  ports: [eno1]
  stp: false
  forwardDelay: 0
  addresses: [10.20.0.5/24]
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-vm1}
spec:
  parent: eno2
  mode: bridge
  macAddress: "52:54:00:1e:00:02"
YAML
cat >"$cfg/network.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: pxe-net}
spec:
  forward: bridge
  bridge: {name: br-pxe}
YAML
cat >"$cfg/pool.yaml" <<YAML
apiVersion: podform/v1
kind: StoragePool
metadata: {name: lpool}
spec:
  type: dir
  path: $work/pool
YAML
# vm1: one NIC on the network (a tap libvirt puts on br-pxe), one straight on the host bridge
# (another tap on br-pxe), one on the Macvtap (QEMU opens /dev/tapN; the MAC must match).
cat >"$cfg/vm.yaml" <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  running: true
  domain:
    type: qemu
    cpu: {cores: 1}
    memory: 256Mi
    devices:
      disks:
        - {name: root, size: 64Mi, format: qcow2, pool: lpool}
      interfaces:
        - {name: net, bridge: {}}
        - {name: direct, bridge: {}}
        - {name: tap, macvtap: {}, macAddress: "52:54:00:1e:00:02"}
  networks:
    - {name: net, network: pxe-net}
    - {name: direct, host: {interface: br-pxe}}
    - {name: tap, macvtap: mvt-vm1}
YAML
pf() { "$podform" "$1" -f "$cfg" --connect qemu:///system "${@:2}"; }

expect "the configuration is valid" 0 '^podform: configuration is valid: 5 resources' "$podform" validate -f "$cfg"

# 1-2. From scratch: links first (libvirt's network needs the bridge, the VM the macvtap).
expect "first plan creates everything" 2 '^Plan: 6 to create, 0 to change, 0 to delete\.$' pf plan --detailed-exitcode
in_order "first plan: bridge and macvtap before pool, volume, network, vm" \
	'^\+ bridge br-pxe$' '^\+ macvtap mvt-vm1$' '^\+ pool lpool$' '^\+ volume lpool/vm1-root$' \
	'^\+ network pxe-net$' '^\+ vm vm1$'
expect "apply from scratch" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
in_order "apply creates links first, the VM last" \
	'^ +done +\+ bridge br-pxe$' '^ +done +\+ macvtap mvt-vm1$' '^ +done +\+ network pxe-net$' '^ +done +\+ vm vm1$'

# 3. The kernel.
check "br-pxe is a bridge, up, STP off, forward delay 0, owned by podform" link br-pxe '
	info["info_kind"] == "bridge" and "UP" in l["flags"] and data["stp_state"] == 0 and
	data["forward_delay"] == 0 and l.get("ifalias") == "podform:Bridge/br-pxe"'
check "eno1 is a port of br-pxe" link eno1 'l.get("master") == "br-pxe"'
check "br-pxe has 10.20.0.5/24" bash -c 'ip -o -4 addr show dev br-pxe | grep -q " inet 10\.20\.0\.5/24 "'
check "mvt-vm1 is a macvtap on eno2, mode bridge, its MAC, up, owned by podform" link mvt-vm1 '
	info["info_kind"] == "macvtap" and l.get("link") == "eno2" and data["mode"] == "bridge" and
	l["address"] == "52:54:00:1e:00:02" and "UP" in l["flags"] and l.get("ifalias") == "podform:Macvtap/mvt-vm1"'
check "eno2 is nobody's port" link eno2 '"master" not in l'

# 4. libvirt.
check "network pxe-net is active, forwards to the existing bridge br-pxe" bash -c '
	virsh net-info pxe-net | grep -Eq "^Active: +yes" &&
	x=$(virsh net-dumpxml pxe-net) && grep -q "<forward mode=.bridge./>" <<<"$x" &&
	grep -q "<bridge name=.br-pxe./>" <<<"$x"'
check "vm1 runs (QEMU, TCG)" bash -c '[ "$(virsh domstate vm1)" = running ] && virsh dumpxml vm1 | grep -q "<domain type=.qemu."'
check "vm1 has 3 interfaces" bash -c '[ "$(virsh domiflist vm1 | grep -c .)" = 3 ]'
taps=$(virsh domiflist vm1 | awk '$2 == "bridge" {print $1}' | sort)
export taps
check "vm1's taps for pxe-net and for br-pxe are ports of br-pxe" bash -c '
	[ "$(virsh domiflist vm1 | awk "\$3 == \"pxe-net\" {print \$1}")" != "" ] &&
	[ "$(virsh domiflist vm1 | awk "\$2 == \"bridge\" && \$3 == \"br-pxe\" {print \$1}")" != "" ] &&
	[ "$(masters br-pxe)" = "$(sort <<<"eno1
$taps")" ]'
check "vm1's third NIC is the macvtap mvt-vm1 (type ethernet, unmanaged), its MAC" bash -c '
	virsh domiflist vm1 | awk "\$1 == \"mvt-vm1\" && \$2 == \"ethernet\" && \$5 == \"52:54:00:1e:00:02\"" | grep -q . &&
	virsh dumpxml vm1 | grep -q "<target dev=.mvt-vm1. managed=.no./>"'
mvt_index=$(ifindex mvt-vm1)
# (what QEMU holds and the link are printed, and shown should the check fail: it failed once,
# unexplained, and has not since)
check "QEMU holds /dev/tap$mvt_index, mvt-vm1's character device" bash -c '
	pid=$(cat /run/libvirt/qemu/vm1.pid) && ls -l /proc/$pid/fd && ip -d link show mvt-vm1 &&
	ls -l /proc/$pid/fd | grep -q " -> /dev/tap'"$mvt_index"'$"'

# Nothing leaked to the outer network namespace.
check "the outer network namespace can be entered" nsenter --net="$WITH_LIBVIRTD_HOST_NETNS" ip link show lo
for l in br-pxe mvt-vm1 eno1 $taps; do
	check "$l is not in the outer network namespace" bash -c '! nsenter --net="$WITH_LIBVIRTD_HOST_NETNS" ip link show "$1"' _ "$l"
done

# 5. Nothing left to do.
expect "second plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode
# libvirt shows a NIC of a forward-mode bridge network as type='bridge' in the running XML:
# that is the definition podform wrote, not an older one.
lacks "second plan does not call the fresh vm1 stale" 'runs an older definition'
expect "second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes
# Nothing waits for a restart either: --allow-restart must not reboot vm1 (same QEMU process).
qemu_pid=$(cat /run/libvirt/qemu/vm1.pid)
expect "apply --allow-restart makes no call either" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' \
	pf apply --yes --allow-restart --shutdown-timeout 2
check "vm1 was not restarted (QEMU pid $qemu_pid)" bash -c '[ "$(virsh domstate vm1)" = running ] &&
	[ "$(cat /run/libvirt/qemu/vm1.pid)" = '"$qemu_pid"' ]'
# (a restart gives vm1 new taps: read them again)
taps=$(virsh domiflist vm1 | awk '$2 == "bridge" {print $1}' | sort)
mvt_index=$(ifindex mvt-vm1)

# 6. podform releases only the ports it enslaved; the VM's taps stay on the bridge.
check "after the no-op apply, eno1 and the taps are still on br-pxe" bash -c '[ "$(masters br-pxe)" = "$(sort <<<"eno1
$taps")" ]'
sed -i 's/  ports: \[eno1\]/  ports: []/' "$cfg/links.yaml"
expect "dropping eno1 from the ports is a live change" 2 '^~ bridge br-pxe \(live\)  ports eno1 -> \(none\)$' pf plan --detailed-exitcode
lacks "the plan does not touch the taps" 'vnet'
expect "the port change applies" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "eno1 is released, up" link eno1 '"master" not in l and "UP" in l["flags"]'
check "vm1's taps stay on br-pxe" bash -c '[ "$(masters br-pxe)" = "$taps" ]'
check "vm1 still runs" bash -c '[ "$(virsh domstate vm1)" = running ]'
expect "then the plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode

# 7. How disruptive a macvtap change is depends on whether a running VM uses it.
sed -i 's/  mode: bridge/  mode: vepa/' "$cfg/links.yaml"
expect "a macvtap mode change is live" 2 '^~ macvtap mvt-vm1 \(live\)  mode bridge -> vepa$' pf plan --detailed-exitcode
expect "the mode change applies" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "mvt-vm1 is in vepa mode, same link (ifindex $mvt_index)" link mvt-vm1 '
	data["mode"] == "vepa" and l["ifindex"] == '"$mvt_index"' and l.get("link") == "eno2"'
check "vm1 still runs" bash -c '[ "$(virsh domstate vm1)" = running ]'
sed -i 's/  parent: eno2/  parent: eno3/' "$cfg/links.yaml"
expect "a new parent recreates the macvtap the running vm1 uses: marked !" 2 '^! macvtap mvt-vm1 \(recreate\)  parent eno2 -> eno3$' \
	pf plan --detailed-exitcode
sed -i 's/  parent: eno3/  parent: eno2/' "$cfg/links.yaml"
sed -i 's/  running: true/  running: false/' "$cfg/vm.yaml"
expect "vm1 stops" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes --shutdown-timeout 2
check "vm1 is shut off" bash -c '[ "$(virsh domstate vm1)" = "shut off" ]'
sed -i 's/  parent: eno2/  parent: eno3/' "$cfg/links.yaml"
expect "with vm1 off, the new parent is a recreate without !" 2 '^~ macvtap mvt-vm1 \(recreate\)  parent eno2 -> eno3$' pf plan --detailed-exitcode
lacks "no ! in that plan" '^!'
expect "the recreate applies" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "mvt-vm1 is a macvtap on eno3 now, vepa, its MAC, owned by podform" link mvt-vm1 '
	info["info_kind"] == "macvtap" and l.get("link") == "eno3" and data["mode"] == "vepa" and
	l["address"] == "52:54:00:1e:00:02" and l.get("ifalias") == "podform:Macvtap/mvt-vm1"'
expect "then the plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode

# 8. Prune. A bridge that a declared network and VM still use is not pruned from under them.
python3 - "$cfg/links.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[s.index("---\n") + 4:])
PY
expect "pruning only br-pxe is refused: pxe-net uses it" 1 \
	'error: network pxe-net uses bridge br-pxe, which is podform.s and no longer declared' pf apply --prune --yes
expect "... and so does vm1" 1 'error: vm vm1 uses bridge br-pxe, which is podform.s and no longer declared' \
	pf plan --prune --detailed-exitcode
check "br-pxe is still there" link br-pxe 'info["info_kind"] == "bridge"'
# Without the VM and the network, deletions go in reverse creation order: the VM, then the
# network, then the bridge.
rm "$cfg/vm.yaml" "$cfg/network.yaml"
expect "prune plan deletes the VM (and its volume), the network and the bridge" 2 \
	'^Plan: 0 to create, 0 to change, 4 to delete\.$' \
	pf plan --prune --detailed-exitcode
in_order "prune plan: vm, then network, then volume, then bridge" \
	'^- vm vm1( |$)' '^- network pxe-net( |$)' '^- volume lpool/vm1-root( |$)' '^- bridge br-pxe( |$)'
expect "prune applies" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --prune --yes --shutdown-timeout 2
in_order "prune deletes the vm, then the network, then the bridge" \
	'^ +done +- vm vm1( |$)' '^ +done +- network pxe-net( |$)' '^ +done +- bridge br-pxe( |$)'
check "vm1 and pxe-net are gone from libvirt" bash -c '! virsh dominfo vm1 >/dev/null 2>&1 && ! virsh net-info pxe-net >/dev/null 2>&1'
check "br-pxe is gone from the kernel" bash -c '! ip link show br-pxe'
check "the hand-made veths are untouched" veths_intact
check "mvt-vm1 and the pool stay (still declared)" bash -c 'link mvt-vm1 "l.get(\"link\") == \"eno3\"" >/dev/null &&
	virsh pool-info lpool | grep -Eq "^State: +running"'
expect "then the plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --prune --detailed-exitcode

echo "# $failures failed"
[ "$failures" -eq 0 ]
