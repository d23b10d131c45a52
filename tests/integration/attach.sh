#!/bin/bash
# attach.sh: where podform puts the interfaces the configuration leaves to it (podform.yaml(5),
# RESOLUTION: the pod network, interface constraints, DHCP boot options), end to end, against a real
# libvirtd (QEMU, TCG) in private namespaces. libvirt's `default` network has its DHCP on
# throughout, as a fresh Debian/Ubuntu install has it. Each scenario has its own configuration
# directory; they run in an order where what an earlier one leaves on the host (VMs, bridges) cannot
# change the rule a later one expects:
#   error  nothing qualifies: apply fails, names every candidate, changes nothing
#   c1     `default` passed over for its DHCP; a bridge of a DHCP-managed Subnet; a VM boots on it
#   c2     no bridge on a DHCP VLAN: a macvtap on a NIC of a relay Subnet, Host's default mode
#   d      two DHCP bridges: the Subnet with the most free addresses wins
#   ip     constraints {space, ip}: the bridge of the matching Subnet, the address recorded in
#          the domain's podform metadata, a no-op second apply, then an address change
#   bootp  bootFileName/tftpServerName become the <bootp> of a declared Network with DHCP
#   a      a declared Network `maas` without DHCP is the pod network (last: it stays on the host)
# The host is read back with `ip` and virsh, never with podform. SKIP (77) when no
# private libvirtd can run here (not root, no unshare): see with-libvirtd.sh.
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
virsh() { command virsh -q -c qemu:///system "$@"; }
export -f virsh
# iface VM: the <interface> elements of VM's persistent definition, one a line
iface() { virsh dumpxml --inactive "$1" | python3 -c '
import sys, xml.etree.ElementTree as ET
for i in ET.fromstring(sys.stdin.read()).iter("interface"):
    s = i.find("source")
    print(i.get("type"), " ".join("%s=%s" % kv for kv in sorted((s.attrib if s is not None else {}).items())))'; }
export -f iface
# pf COMMAND DIR [ARGS...]: podform on the private libvirtd, acting as host kvm01
pf() { "$podform" "$1" -f "$2" --connect qemu:///system --host kvm01 "${@:3}"; }
scenario() { echo "# ---- $1 ($((SECONDS - t0)) s)"; }
t0=$SECONDS

# libvirt's `default` network, with its DHCP on (the private libvirtd starts without one).
cat >"$work/default.xml" <<'XML'
<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
XML
virsh net-define "$work/default.xml" >/dev/null
virsh net-start default >/dev/null
check "libvirt network default is active, with DHCP" bash -c '
	virsh net-info default | grep -Eq "^Active: +yes" && virsh net-dumpxml default | grep -q "<dhcp>"'

# The host's NICs: veth pairs (no dummy driver on every kernel).
for n in eno1 eno2; do
	ip link add "$n" type veth peer name "$n-p"
	ip link set "$n" up
	ip link set "$n-p" up
done

vm() { # NAME RUNNING [EXTRA SPEC LINES]: a small VM (TCG), pod network only unless extra lines say otherwise
	printf 'apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: %s}\nspec:\n  running: %s\n' "$1" "$2"
	printf '  domain:\n    type: qemu\n    memory: 128Mi\n'
	[ $# -lt 3 ] || printf '%s\n' "$3"
}
# The Host of every scenario: CPU overcommit so that the three running VMs fit a 1-CPU machine.
host_doc() { # [SPEC LINES]
	printf 'apiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm01}\nspec:\n  connect: qemu:///system\n'
	printf '  overcommit: {cpu: 4.0, memory: 1.0}\n'
	[ $# -lt 1 ] || printf '%s\n' "$1"
}

# ---------------------------------------------------------------------------
scenario "error: nothing qualifies"
e=$work/error
mkdir -p "$e"
host_doc >"$e/host.yaml"
cat >"$e/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-ext}
spec: {ports: []}
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: ext}
spec:
  cidr: 10.10.0.0/24
  dhcp: external
  interfaces: [br-ext]
YAML
vm evm false >"$e/vm.yaml"
expect "apply fails: no target for the pod network" 1 \
	"vm\.yaml:3:18: error: no target for the pod network of interface 'default' \(see podform\.yaml\(5\), RESOLUTION, The pod network\): " pf apply "$e" --yes
has "the error names maas: not there" "^  - libvirt network 'maas': \(a\) no such libvirt network"
has "the error names default: its libvirt DHCP" "^  - libvirt network 'default': \(a\) its libvirt DHCP is on"
has "the error names br-ext: its VLAN is not DHCP-enabled" "^  - br-ext \(Subnet ext\): \(c\) its VLAN is not DHCP-enabled \(dhcp: external"
has "nothing was changed, says podform" '^podform: 1 error; nothing was changed$'
lacks "nothing was applied" '^Applying'
check "no domain evm" bash -c '! virsh dominfo evm >/dev/null 2>&1 && [ -z "$(virsh list --all --name | grep .)" ]'
check "no bridge br-ext" bash -c '! ip link show br-ext 2>/dev/null'
check "libvirt has only the network default" bash -c '[ "$(virsh net-list --all --name | grep .)" = default ]'

# ---------------------------------------------------------------------------
scenario "c1: a bridge on a DHCP-managed VLAN; a VM boots on it"
c1=$work/c1
mkdir -p "$c1"
host_doc >"$c1/host.yaml"
cat >"$c1/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec:
  ports: [eno1]
  stp: false
  forwardDelay: 0
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: pxe}
spec:
  cidr: 10.20.0.0/24
  dhcp: managed
  gateway: 10.20.0.1
  interfaces: [br-pxe]
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: ext}
spec:
  cidr: 10.10.0.0/24
  dhcp: external
  interfaces: [eno2]
YAML
vm c1vm true >"$c1/vm.yaml"
expect "c1: plan places the pod interface on br-pxe by rule c1" 2 \
	'^  vm c1vm interface default: bridge br-pxe  \[pod network, rule c1\]$' pf plan "$c1" --detailed-exitcode
has "c1: why: br-pxe is on the VLAN of Subnet pxe (253 free)" \
	'^      why: host bridge br-pxe is on the VLAN of Subnet pxe \(dhcp: managed, 253 free addresses\) \(c1\)$'
has "c1: passed over: default, for its libvirt DHCP" \
	"^      passed over: libvirt network 'default': \(a\) its libvirt DHCP is on"
has "c1: passed over: maas, not there" "^      passed over: libvirt network 'maas': \(a\) no such libvirt network"
has "c1: passed over: eno2, not DHCP-enabled" '^      passed over: eno2 \(Subnet ext\): \(c\) its VLAN is not DHCP-enabled'
has "c1: the attachments come before the plan" '^Attachments \(see podform\.yaml\(5\), RESOLUTION\):$'
expect "c1: json plan has the attachment" 0 \
	'"attachments":\[\{"vm":"c1vm","interface":"default","network":"default","rule":"c1","by_d":false,"kept":false,"target":\{"type":"bridge","source":"br-pxe"\},"subnet":"pxe","free_addresses":253,"ip":null,' \
	pf plan "$c1" --output json
expect "c1: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$c1" --yes
check "c1: c1vm's only NIC is type bridge on br-pxe" bash -c '[ "$(iface c1vm)" = "bridge bridge=br-pxe" ]'
check "c1: c1vm runs (QEMU, TCG)" bash -c '[ "$(virsh domstate c1vm)" = running ] && virsh dumpxml c1vm | grep -q "<domain type=.qemu."'
check "c1: c1vm's tap is a port of br-pxe, next to eno1" bash -c '
	tap=$(virsh domiflist c1vm | awk "\$2 == \"bridge\" && \$3 == \"br-pxe\" {print \$1}") && [ -n "$tap" ] &&
	[ "$(ip -o link show master br-pxe | awk -F": " "{print \$2}" | sed "s/@.*//" | sort | tr "\n" " ")" = "$(printf "%s\n" eno1 "$tap" | sort | tr "\n" " ")" ]'
check "c1: network default is untouched, c1vm is not on it" bash -c '
	virsh net-dumpxml default | grep -q "<dhcp>" && ! virsh domiflist c1vm | grep -q default'
expect "c1: second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$c1" --yes
lacks "c1: ... and names no attachment: c1vm's interface is where the rules put it" '^Attachments'
expect "c1: plan -v still says where it is and why" 0 '^  vm c1vm interface default: bridge br-pxe  \[pod network, rule c1\]$' \
	pf plan "$c1" -v --detailed-exitcode
# TCG VMs spinning in their PXE ROMs make everything after slower: c1vm has made its point.
virsh destroy c1vm >/dev/null

# ---------------------------------------------------------------------------
scenario "c2: a macvtap on a NIC of a DHCP relay VLAN, the Host's default mode"
c2=$work/c2
mkdir -p "$c2"
host_doc '  defaultMacvlanMode: vepa' >"$c2/host.yaml"
cat >"$c2/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Subnet
metadata: {name: relayed}
spec:
  cidr: 10.30.0.0/24
  vlan: 0
  dhcp: relay
  interfaces: [eno2]
YAML
vm c2vm true >"$c2/vm.yaml"
expect "c2: plan places the pod interface on eno2 (macvtap, vepa) by rule c2" 2 \
	'^  vm c2vm interface default: direct eno2 mode=vepa  \[pod network, rule c2\]$' pf plan "$c2" --detailed-exitcode
has "c2: why: a macvtap in the Host's default mode on eno2" \
	'^      why: a macvtap \(mode vepa, the Host.s default\) on host NIC eno2, on the VLAN of Subnet relayed \(dhcp: relay, 254 free addresses\) \(c2\)$'
has "c2: passed over: default, for its libvirt DHCP" "^      passed over: libvirt network 'default': \(a\) its libvirt DHCP is on"
expect "c2: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$c2" --yes
check "c2: c2vm's only NIC is type direct on eno2, mode vepa" bash -c '[ "$(iface c2vm)" = "direct dev=eno2 mode=vepa" ]'
check "c2: c2vm runs" bash -c '[ "$(virsh domstate c2vm)" = running ]'
check "c2: libvirt made a macvtap on eno2 in vepa mode for it" bash -c '
	dev=$(virsh domiflist c2vm | awk "\$2 == \"direct\" {print \$1}") && [ -n "$dev" ] &&
	ip -d link show "$dev" | grep -q "@eno2:" && ip -d link show "$dev" | grep -q "macvtap  *mode vepa"'
expect "c2: second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$c2" --yes
virsh destroy c2vm >/dev/null

# ---------------------------------------------------------------------------
scenario "d: two DHCP bridges, the most free addresses wins"
# Hand-made bridges this time: podform reads their kind from the host.
ip link add br-d1 type bridge
ip link add br-d2 type bridge
d=$work/d
mkdir -p "$d"
host_doc >"$d/host.yaml"
# d1 sorts first and is a /24, but its reserved range leaves 253 - 200 = 53; d2 is a /26: 61.
cat >"$d/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Subnet
metadata: {name: d1}
spec:
  cidr: 10.61.0.0/24
  dhcp: managed
  gateway: 10.61.0.1
  reserved: ["10.61.0.2-10.61.0.201"]
  interfaces: [br-d1]
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: d2}
spec:
  cidr: 10.62.0.0/26
  dhcp: relay
  gateway: 10.62.0.1
  interfaces: [br-d2]
YAML
vm dvm false >"$d/vm.yaml"
expect "d: plan places the pod interface on br-d2 by rule c1, by d" 2 \
	'^  vm dvm interface default: bridge br-d2  \[pod network, rule c1 by d\]$' pf plan "$d" --detailed-exitcode
has "d: why: the most free addresses (61)" \
	'^      why: host bridge br-d2 is on the VLAN of Subnet d2 \(dhcp: relay, 61 free addresses\) \(c1\); rule \(d\): the most free addresses among 2 candidates'
has "d: passed over: br-d1, 53 free addresses" '^      passed over: br-d1 \(Subnet d1\): \(d\) ranks after br-d2: 53 free addresses$'
expect "d: json says by_d" 0 '"rule":"c1","by_d":true,"kept":false,"target":\{"type":"bridge","source":"br-d2"\},"subnet":"d2","free_addresses":61,' \
	pf plan "$d" --output json
expect "d: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$d" --yes
check "d: dvm's only NIC is type bridge on br-d2" bash -c '[ "$(iface dvm)" = "bridge bridge=br-d2" ]'
check "d: dvm is shut off (running: false)" bash -c '[ "$(virsh domstate dvm)" = "shut off" ]'

# ---------------------------------------------------------------------------
scenario "constraints: space and ip"
k=$work/ip
mkdir -p "$k"
host_doc >"$k/host.yaml"
cat >"$k/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-prov}
spec: {ports: []}
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-stor}
spec: {ports: []}
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: prov}
spec:
  cidr: 10.40.0.0/24
  space: provisioning
  dhcp: managed
  gateway: 10.40.0.1
  interfaces: [br-prov]
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: stor}
spec:
  cidr: 10.41.0.0/24
  space: storage
  dhcp: managed
  interfaces: [br-stor]
YAML
vm cvm true '    devices:
      interfaces: [{name: pxe, bridge: {}}]
  networks:
    - name: pxe
      constraints: {space: provisioning, ip: 10.40.0.50}' >"$k/vm.yaml"
expect "ip: plan places pxe on br-prov with ip 10.40.0.50" 2 \
	'^  vm cvm interface pxe: bridge br-prov, ip 10\.40\.0\.50  \[constraints(, rule constraints)?\]$' pf plan "$k" --detailed-exitcode
expect "ip: json plan has the ip" 0 '"rule":"constraints",.*"source":"br-prov"\},"subnet":"prov","free_addresses":252,"ip":"10\.40\.0\.50",' \
	pf plan "$k" --output json
expect "ip: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$k" --yes
check "ip: cvm's only NIC is type bridge on br-prov" bash -c '[ "$(iface cvm)" = "bridge bridge=br-prov" ]'
check "ip: cvm runs" bash -c '[ "$(virsh domstate cvm)" = running ]'
# metadata: the podform:interface element of NIC pxe, with its MAC, records the address
meta_ip() { # VM IFACE [--inactive]: the ip the podform metadata records for IFACE
	virsh dumpxml "${@:3}" "$1" | python3 -c '
import sys, xml.etree.ElementTree as ET
ns = "{https://podform.dev/xmlns/1}"
for e in ET.fromstring(sys.stdin.read()).iter(ns + "interface"):
    if e.get("name") == sys.argv[1]:
        print(e.get("ip"), e.get("mac"))' "$2"
}
export -f meta_ip
check "ip: the domain's podform metadata records ip 10.40.0.50 for pxe (its MAC)" bash -c '
	mac=$(virsh domiflist cvm | awk "{print \$5}") && [ "$(meta_ip cvm pxe --inactive)" = "10.40.0.50 $mac" ] &&
	[ "$(meta_ip cvm pxe)" = "10.40.0.50 $mac" ]'
expect "ip: second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$k" --yes
qemu_pid=$(cat /run/libvirt/qemu/cvm.pid)
sed -i 's/ip: 10\.40\.0\.50/ip: 10.40.0.60/' "$k/vm.yaml"
expect "ip: the new address is a change of cvm" 2 '^  vm cvm interface pxe: bridge br-prov, ip 10\.40\.0\.60  \[constraints(, rule constraints)?\]$' \
	pf plan "$k" --detailed-exitcode
has "ip: the plan shows the address change" 'ip\[pxe\] 10\.40\.0\.50 -> 10\.40\.0\.60'
has "ip: one change" '^Plan: 0 to create, 1 to change, 0 to delete'
expect "ip: apply the new address" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$k" --yes
check "ip: the metadata records 10.40.0.60 now (persistent definition)" bash -c '
	[ "$(meta_ip cvm pxe --inactive | cut -d" " -f1)" = 10.40.0.60 ] || { virsh dumpxml --inactive cvm | grep podform:; false; }'
# the change lands [live]: the running domain's copy of the metadata says it too
check "ip: the running domain's metadata records 10.40.0.60 too" bash -c '
	[ "$(meta_ip cvm pxe | cut -d" " -f1)" = 10.40.0.60 ] || { virsh dumpxml cvm | grep "podform:"; echo "(persistent:)"; virsh dumpxml --inactive cvm | grep "podform:"; false; }'
check "ip: cvm was not restarted for it (QEMU pid $qemu_pid), still on br-prov" bash -c '
	[ "$(virsh domstate cvm)" = running ] && [ "$(cat /run/libvirt/qemu/cvm.pid)" = '"$qemu_pid"' ] &&
	[ "$(iface cvm)" = "bridge bridge=br-prov" ]'
expect "ip: then nothing to do" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$k" --yes

# ---------------------------------------------------------------------------
scenario "bootp: DHCP boot options on a declared Network with DHCP"
b=$work/bootp
mkdir -p "$b"
host_doc >"$b/host.yaml"
cat >"$b/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: pxenet}
spec:
  forward: nat
  bridge: {name: virbr5, stp: false, forwardDelay: 0}
  ips:
    - address: 10.50.0.1
      prefix: 24
      dhcp:
        ranges: [{start: 10.50.0.100, end: 10.50.0.200}]
YAML
vm bvm false '    devices:
      interfaces:
        - {name: pxe, bridge: {}, bootFileName: pxelinux.0, tftpServerName: 10.50.0.1}
  networks:
    - {name: pxe, network: pxenet}' >"$b/vm.yaml"
expect "bootp: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$b" --yes
check "bootp: net-dumpxml pxenet shows <bootp file='pxelinux.0' server='10.50.0.1'/>" bash -c '
	virsh net-dumpxml pxenet | grep -q "<bootp file=.pxelinux\.0. server=.10\.50\.0\.1./>"'
check "bootp: pxenet is active; its dnsmasq serves the boot file" bash -c '
	virsh net-info pxenet | grep -Eq "^Active: +yes" &&
	grep -Eq "^dhcp-boot=pxelinux\.0(,,10\.50\.0\.1)?$" /var/lib/libvirt/dnsmasq/pxenet.conf'
check "bootp: bvm's NIC is on network pxenet" bash -c '[ "$(iface bvm)" = "network network=pxenet" ]'
expect "bootp: second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$b" --yes

# ---------------------------------------------------------------------------
scenario "a: a declared Network maas without DHCP"
a=$work/a
mkdir -p "$a"
host_doc >"$a/host.yaml"
# A DHCP-managed bridge is there too (br-pxe of c1): rule (a) comes first.
cat >"$a/net.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: maas}
spec:
  forward: nat
  bridge: {name: virbr1, stp: false, forwardDelay: 0}
  ips: [{address: 172.16.99.1, prefix: 24}]
---
apiVersion: podform/v1
kind: Subnet
metadata: {name: pxe}
spec:
  cidr: 10.20.0.0/24
  dhcp: managed
  interfaces: [br-pxe]
YAML
vm avm false >"$a/vm.yaml"
expect "a: plan places the pod interface on network maas by rules a, b" 2 \
	'^  vm avm interface default: network maas  \[pod network, rules a, b\]$' pf plan "$a" --detailed-exitcode
has "a: why: maas is declared, without DHCP" "^      why: libvirt network 'maas' \(declared\): it exists and its libvirt DHCP is off \(a\), and libvirt manages it \(b\)$"
has "a: maas and avm are created" '^Plan: 2 to create, 0 to change, 0 to delete'
expect "a: apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$a" --yes
check "a: network maas is active, NAT, without DHCP" bash -c '
	virsh net-info maas | grep -Eq "^Active: +yes" && x=$(virsh net-dumpxml maas) &&
	grep -q "<forward mode=.nat.>" <<<"$x" && ! grep -q "<dhcp>" <<<"$x"'
check "a: avm's only NIC is on network maas" bash -c '[ "$(iface avm)" = "network network=maas" ]'
expect "a: second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply "$a" --yes

# Nothing leaked to the outer network namespace.
for l in br-pxe br-prov virbr1 virbr5; do
	check "$l is not in the outer network namespace" bash -c '! nsenter --net="$WITH_LIBVIRTD_HOST_NETNS" ip link show "$1" 2>/dev/null' _ "$l"
done

echo "# $failures failed ($((SECONDS - t0)) s)"
[ "$failures" -eq 0 ]
