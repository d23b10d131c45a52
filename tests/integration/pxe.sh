#!/bin/bash
# pxe.sh: composed VMs really network-boot from a MAAS-style DHCP server, end to end, on a real
# libvirtd (QEMU, TCG) in private namespaces, with the tests' real guest (tests/guest/). A
# dnsmasq started here plays MAAS on the far side of each network: DHCP naming boot.ipxe, TFTP
# serving it, and HTTP serving the guest's kernel and initramfs (as MAAS serves them). podform
# applies the networks and VMs; each VM has no disk and the default boot order (network first)
# and logs its serial console (logSerialConsole). Five ways to the stand-in:
#   a      the pod network by rule (a): a Network `maas`, NAT, no libvirt DHCP; the stand-in on
#          its bridge
#   c1     the pod network by rule (c1): a Bridge of a DHCP-managed Subnet, whose port is a veth
#          to a second namespace where the stand-in runs
#   c2     the pod network by rule (c2): a macvtap on a NIC of a relay Subnet, a veth whose peer
#          sits in a third namespace with the stand-in
#   ip     constraints {subnet, ip} on c1's bridge: the stand-in gives the MAC the address
#          podform recorded for it (as MAAS does for a static assignment), and the guest leases it
#   bootp  bootFileName/tftpServerName through a declared Network's <bootp>: libvirt's own
#          dnsmasq answers DHCP, a TFTP/HTTP server on the network's bridge serves the boot
# A way passes when the guest's serial log shows the kernel it got over the network from that
# server, and a lease from it on the NIC, which the server's lease file agrees with (MAC and
# address). The guests boot together. SKIP (77) when no private libvirtd can run here.
# shellcheck disable=SC2016 # the bash -c scripts expand their own variables
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=macvtap-lock.sh
. "$here/macvtap-lock.sh"
if [ -z "${WITH_LIBVIRTD-}" ]; then
	# shellcheck source=../guest/lib.sh
	. "$here/../guest/lib.sh"
	guest_enter_libvirtd "$0" "$@"
fi

src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
me=pxe.sh
# shellcheck source=checks.sh
. "$here/checks.sh"
# shellcheck source=../guest/lib.sh
. "$src/tests/guest/lib.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }
pf() { "$podform" "$1" -f "$2" --connect qemu:///system --host kvm01 "${@:3}"; }
t0=$SECONDS
stands=()
cleanup() {
	local s
	for s in "${stands[@]}"; do guest_stand_in_stop "$s"; done
	for s in far1 far2; do ip netns del "$s" 2>/dev/null || true; done
}
trap cleanup EXIT

guest=$(guest_build)
root=$work/boot
guest_boot_root "$root" "$guest"
check "the guest is built: a kernel and an initramfs" test -s "$guest/vmlinuz" -a -s "$guest/initrd.gz"

# way NAME TITLE: a configuration directory $work/NAME with the Host, announced
way() {
	echo "# ---- $1: $2 ($((SECONDS - t0)) s)"
	mkdir -p "$work/$1"
	host_doc >"$work/$1/host.yaml"
}
host_doc() {
	printf 'apiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm01}\nspec:\n  connect: qemu:///system\n'
	printf '  overcommit: {cpu: 8.0, memory: 1.0}\n'
}
vm() { # NAME RUNNING [SPEC LINES]: a guest without disks (so network boot), TCG, serial logged
	printf 'apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: %s}\nspec:\n  running: %s\n' "$1" "$2"
	printf '  domain:\n    type: qemu\n    memory: 256Mi\n    devices:\n      logSerialConsole: true\n'
	[ $# -lt 3 ] || printf '%s\n' "$3"
}
# far NETNS HOSTIF FARIF ADDR: a veth HOSTIF here whose peer FARIF has ADDR/24 in NETNS
far() {
	ip netns add "$1"
	ip link add "$2" type veth peer name "$3"
	ip link set "$3" netns "$1"
	ip -n "$1" addr add "$4/24" dev "$3"
	ip -n "$1" link set "$3" up
	ip -n "$1" link set lo up
	ip link set "$2" up
}
# lease_of LEASES MAC: the address dnsmasq's lease file gives MAC
lease_of() { awk -v m="$2" 'tolower($2) == tolower(m) { print $3 }' "$1"; }
# net_lease_of NETWORK MAC: the address libvirt's DHCP of NETWORK gives MAC
net_lease_of() { virsh net-dhcp-leases "$1" --mac "$2" | awk '{ sub("/.*", "", $5); print $5 }'; }
export -f lease_of net_lease_of virsh
mac_of() { virsh domiflist "$1" | awk 'NR == 1 { print $5 }'; }
# booted VM SERVER NET: the serial log shows a boot from SERVER and a lease in NET (a /24 prefix,
# "10.71.0"); prints the leased address
booted() {
	guest_wait "$1" "^PFG boot .*podform\.from=${2//./\\.}( |$)" >/dev/null &&
		guest_wait "$1" "^PFG lease eth0 ip=${3//./\\.}\.[0-9]+/24 " |
		sed -n 's/^PFG lease eth0 ip=\([^/]*\)\/.*/\1/p'
}

# ---------------------------------------------------------------------------
way c1 "a DHCP-managed Bridge with a veth port to the stand-in"
far far1 pxe-port pxe-far 10.71.0.1
c1=$work/c1
cat >"$c1/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec: {ports: [pxe-port]}
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: pxe}
spec:
  cidr: 10.71.0.0/24
  dhcp: managed
  gateway: 10.71.0.1
  interfaces: [br-pxe]
YAML
# Not running at first: the stand-in learns the ip VM's static address from podform's record.
vm c1vm false >"$c1/c1vm.yaml"
vm ipvm false '      interfaces: [{name: pxe, bridge: {}}]
  networks:
    - {name: pxe, constraints: {subnet: pxe, ip: 10.71.0.50}}' >"$c1/ipvm.yaml"
expect "c1: c1vm's pod interface goes on br-pxe by rule c1" 2 \
	'^  vm c1vm interface default: bridge br-pxe  \[pod network, rule c1\]$' pf plan "$c1" --detailed-exitcode
expect "c1: apply (VMs defined, not started)" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$c1" --yes
ipvm_mac=$(mac_of ipvm)
recorded=$(virsh dumpxml --inactive ipvm | sed -n 's/.*<podform:interface name="pxe" mac="\([^"]*\)" ip="\([^"]*\)".*/\1,\2/p')
check "ip: podform recorded 10.71.0.50 for ipvm's MAC $ipvm_mac" [ "$recorded" = "$ipvm_mac,10.71.0.50" ]
echo "$recorded" >"$work/c1-hosts"
stands+=("$work/stand-c1")
guest_stand_in far1 pxe-far 10.71.0.1 10.71.0.100,10.71.0.150 "$root" "$work/stand-c1" \
	--dhcp-hostsfile="$work/c1-hosts"
sed -i 's/running: false/running: true/' "$c1/c1vm.yaml" "$c1/ipvm.yaml"
expect "c1: apply starts c1vm and ipvm" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$c1" --yes

way c2 "a macvtap on a relay Subnet's NIC, a veth to the stand-in"
far far2 nic-c2 nic-c2-far 10.72.0.1
stands+=("$work/stand-c2")
guest_stand_in far2 nic-c2-far 10.72.0.1 10.72.0.100,10.72.0.150 "$root" "$work/stand-c2"
c2=$work/c2
cat >"$c2/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Subnet
metadata: {name: relayed}
spec:
  cidr: 10.72.0.0/24
  dhcp: relay
  interfaces: [nic-c2]
YAML
vm c2vm true >"$c2/c2vm.yaml"
expect "c2: c2vm's pod interface is a macvtap on nic-c2 by rule c2" 2 \
	'^  vm c2vm interface default: direct nic-c2 mode=bridge  \[pod network, rule c2\]$' pf plan "$c2" --detailed-exitcode
expect "c2: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$c2" --yes

way bootp "a declared Network's own DHCP names the boot file"
b=$work/bootp
cat >"$b/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: lab}
spec:
  forward: nat
  bridge: {name: virbr-lab, stp: false, forwardDelay: 0}
  ips:
    - address: 10.74.0.1
      prefix: 24
      dhcp:
        ranges: [{start: 10.74.0.100, end: 10.74.0.150}]
YAML
vm bootpvm false '      interfaces:
        - {name: lab, bridge: {}, bootFileName: boot.ipxe, tftpServerName: 10.74.0.2}
  networks:
    - {name: lab, network: lab}' >"$b/vm.yaml"
expect "bootp: apply the network and the VM" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$b" --yes
check "bootp: libvirt's dnsmasq for lab names boot.ipxe on 10.74.0.2" \
	grep -Eq '^dhcp-boot=boot\.ipxe,,10\.74\.0\.2$' /var/lib/libvirt/dnsmasq/lab.conf
# TFTP and HTTP only, on an address of its own on the network (the DHCP is libvirt's, on .1)
ip addr add 10.74.0.2/24 dev virbr-lab
stands+=("$work/stand-bootp")
guest_stand_in virbr-lab 10.74.0.2 "" "$root" "$work/stand-bootp"
sed -i 's/running: false/running: true/' "$b/vm.yaml"
expect "bootp: apply starts bootpvm" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$b" --yes

way a "a Network maas, NAT, no libvirt DHCP; the stand-in on its bridge"
a=$work/a
cat >"$a/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: maas}
spec:
  forward: nat
  bridge: {name: virbr-maas, stp: false, forwardDelay: 0}
  ips: [{address: 10.70.0.1, prefix: 24}]
YAML
vm avm false >"$a/vm.yaml"
expect "a: avm's pod interface goes on network maas by rules a, b" 2 \
	'^  vm avm interface default: network maas  \[pod network, rules a, b\]$' pf plan "$a" --detailed-exitcode
expect "a: apply the network (the VM defined, not started)" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$a" --yes
stands+=("$work/stand-a")
guest_stand_in virbr-maas 10.70.0.1 10.70.0.100,10.70.0.150 "$root" "$work/stand-a"
sed -i 's/running: false/running: true/' "$a/vm.yaml"
expect "a: apply starts avm" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$a" --yes

# ---------------------------------------------------------------------------
echo "# ---- the guests boot ($((SECONDS - t0)) s)"
# check_boot WAY VM SERVER NET DHCP LEASES...: booted with the boot file and kernel of SERVER,
# leased in NET from the DHCP server DHCP, the command LEASES... MAC gives the same address, the
# guest reached DHCP from it, and the definition boots from the network first
check_boot() {
	local addr mac
	addr=$(booted "$2" "$3" "$4") || { not_ok "$1: $2 booted over the network from $3"; return; }
	ok "$1: $2 booted over the network from $3 and leased $addr ($((SECONDS - t0)) s)"
	mac=$(mac_of "$2")
	check "$1: the DHCP server's leases give $2's MAC $mac the address $addr" \
		bash -c '[ "$("${@:3}" "$1")" = "$2" ] || { echo "leases: $("${@:3}" "$1")"; false; }' _ "$mac" "$addr" "${@:6}"
	check "$1: $2 leased from $5 and reached it from its address (a ping)" \
		guest_wait "$2" "^PFG ping eth0 ${5//./\\.} ok$" 60
	check "$1: $2's definition boots from the network first" \
		bash -c '[ "$(virsh dumpxml --inactive "$1" | grep -o -m 1 "<boot [a-z]*=.[a-z0-9]*.")" = "<boot dev='"'"'network'"'"'" ] ||
			{ virsh dumpxml --inactive "$1" | grep -E "<boot|<os>"; false; }' _ "$2"
}
check_boot c1 c1vm 10.71.0.1 10.71.0 10.71.0.1 lease_of "$work/stand-c1/leases"
check_boot ip ipvm 10.71.0.1 10.71.0 10.71.0.1 lease_of "$work/stand-c1/leases"
check "ip: ipvm leased the constraint's address 10.71.0.50" guest_wait ipvm '^PFG lease eth0 ip=10\.71\.0\.50/24 ' 5
check_boot c2 c2vm 10.72.0.1 10.72.0 10.72.0.1 lease_of "$work/stand-c2/leases"
# libvirt's DHCP (10.74.0.1) leases, and its <bootp> sends the guest to the server at 10.74.0.2
check_boot bootp bootpvm 10.74.0.2 10.74.0 10.74.0.1 net_lease_of lab
check_boot a avm 10.70.0.1 10.70.0 10.70.0.1 lease_of "$work/stand-a/leases"
echo "# ---- done ($((SECONDS - t0)) s)"

exit $((failures > 0))
