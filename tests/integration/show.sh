#!/bin/bash
# show.sh: import a host built by hand with ip and virsh, against a real libvirtd (QEMU, TCG) in
# private namespaces. `podform show` of it must validate, plan nothing and apply with no
# mutating call: a bridge with a port and an address, macvtaps in every mode, a macvlan,
# networks of five forward modes with DHCP ranges, hosts and bootp, a dir pool with qcow2 and
# raw volumes, a running VM with network, bridge and direct NICs, multiqueue, a PCI address
# and boot orders, and a shut-off one. SKIP (77) when no private libvirtd can run here.
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

# ---- the host, by hand ----
for i in 1 2 3 4 5; do ip link add "eth$i" type veth peer name "eth${i}p"; ip link set "eth$i" up; done
ip link add br0 type bridge stp_state 0 forward_delay 200
ip link set eth1 master br0
ip addr add 192.168.77.10/24 dev br0
ip link set br0 up
for mode in private vepa bridge; do ip link add link eth2 name "mvt-$mode" type macvtap mode "$mode"; done
ip link add link eth3 name mvt-passthru type macvtap mode passthru
ip link add link eth2 name mvl0 type macvlan mode bridge
ip addr add 10.30.0.2/24 dev mvl0
ip link add vx42 type vxlan id 42 dev eth1 remote 10.9.0.2 dstport 4789 nolearning

net() { printf '%s\n' "$2" >"$work/$1.xml" && virsh net-define "$work/$1.xml" >/dev/null && virsh net-start "$1" >/dev/null; }
net natnet "<network><name>natnet</name><forward mode='nat'><nat><port start='1024' end='65000'/></nat></forward>
  <bridge name='virbr10' stp='on' delay='0'/><domain name='lab.test'/>
  <ip address='192.168.50.1' prefix='24'><dhcp><range start='192.168.50.100' end='192.168.50.200'/>
  <host mac='52:54:00:50:00:10' ip='192.168.50.10' name='web1'/><bootp file='pxelinux.0' server='192.168.50.1'/></dhcp></ip>
  </network>"
net routed "<network><name>routed</name><forward mode='route'/><bridge name='virbr11' stp='on' delay='0'/>
  <ip address='192.168.51.1' netmask='255.255.255.0'><dhcp><host ip='192.168.51.9' name='db1'/></dhcp></ip></network>"
net isolated "<network><name>isolated</name><bridge name='virbr12' stp='off' delay='0'/>
  <ip address='192.168.52.1' prefix='24'/></network>"
net bridged "<network><name>bridged</name><forward mode='bridge'/><bridge name='br0'/></network>"
net direct "<network><name>direct</name><forward mode='private'><interface dev='eth4'/></forward></network>"
virsh net-autostart natnet >/dev/null

mkdir -p "$work/pool1"
virsh pool-define-as pool1 dir --target "$work/pool1" >/dev/null
virsh pool-start pool1 >/dev/null
virsh vol-create-as pool1 web1-root 64M --format qcow2 >/dev/null
virsh vol-create-as pool1 web1-data 32M --format raw >/dev/null
virsh vol-create-as pool1 db1-root 64M --format qcow2 >/dev/null
virsh vol-create-as pool1 spare.qcow2 16M --format qcow2 >/dev/null

cat >"$work/web1.xml" <<'XML'
<domain type='qemu'><name>web1</name><memory unit='MiB'>128</memory><vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='pool1' volume='web1-root'/>
      <target dev='vda' bus='virtio'/><boot order='2'/></disk>
    <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='pool1' volume='web1-data'/>
      <target dev='vdb' bus='virtio'/></disk>
    <interface type='network'><mac address='52:54:00:50:00:10'/><source network='natnet'/><model type='e1000'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/><boot order='1'/></interface>
    <interface type='bridge'><mac address='52:54:00:50:00:11'/><source bridge='br0'/><model type='virtio'/>
      <driver queues='2'/></interface>
    <interface type='direct'><mac address='52:54:00:50:00:12'/><source dev='eth5' mode='vepa'/><model type='virtio'/>
      <driver queues='2'/></interface>
    <interface type='network'><mac address='52:54:00:50:00:13'/><source network='bridged'/><model type='virtio'/>
      <driver queues='2'/></interface>
    <serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>
  </devices></domain>
XML
cat >"$work/db1.xml" <<'XML'
<domain type='qemu'><name>db1</name><memory unit='KiB'>131072</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='network'/><boot dev='hd'/></os>
  <devices>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='pool1' volume='db1-root'/>
      <target dev='sda' bus='sata'/></disk>
    <interface type='network'><mac address='52:54:00:51:00:09'/><source network='routed'/><model type='virtio'/></interface>
    <interface type='bridge'><mac address='52:54:00:51:00:0a'/><source bridge='br0'/><model type='rtl8139'/></interface>
    <serial type='pty'><target port='0'/></serial>
  </devices></domain>
XML
virsh define "$work/web1.xml" >/dev/null
virsh define "$work/db1.xml" >/dev/null
virsh start web1 >/dev/null

# ---- the import ----
show() { "$podform" show --connect qemu:///system --host kvm01 "$@"; }
pf() { "$podform" "$1" -f "$work/host.yaml" --connect qemu:///system --host kvm01 "${@:2}"; }
check "show prints the host" bash -c "'$podform' show --connect qemu:///system --host kvm01 >'$work/host.yaml'"
cp "$work/host.yaml" "$work/out"
sed 's/^/#   /' "$work/host.yaml"     # in the log, for whoever reads a failure
has "a Bridge with its port and address" '^  ports: \[eth1\]$'
has "the bridge's address" '^  addresses: \[192\.168\.77\.10/24\]$'
for mode in private vepa bridge passthru; do has "macvtap mvt-$mode" "^  name: mvt-$mode$"; done
has "the macvlan" '^  name: mvl0$'
has "the vxlan" '^  name: vx42$'
has "web1's own macvtap, as a comment" "^# macvtap macvtap[0-9]+ is VM web1's own"
lacks "and not as a Macvtap of its own" '^  name: macvtap[0-9]+$'
cp "$work/host.yaml" "$work/out"
for n in natnet routed isolated bridged direct; do has "network $n" "^  name: $n$"; done
has "a dhcp host" '^            name: web1$'
has "bootp" '^          file: pxelinux\.0$'
has "VM web1 runs" '^  name: web1$'
has "its PCI address" '^          pciAddress: "0000:00:05\.0"$'
has "its boot order" '^          bootOrder: 1$'
has "its multiqueue" '^      networkInterfaceMultiqueue: true$'
has "its direct NIC" '^            mode: vepa$'
has "its disk, sized from the volume" '^          size: 64Mi$'
has "db1's sata disk" '^          bus: sata$'
has "a volume no VM uses, as a comment" '^# volume pool1/spare\.qcow2 \(16777216 bytes, qcow2\) is no disk of a VM shown here'
check "show prints the same bytes twice" bash -c "'$podform' show --connect qemu:///system --host kvm01 | cmp - '$work/host.yaml'"
check "what show printed validates" "$podform" validate -f "$work/host.yaml"
check "and the JSON Schema accepts it" python3 "$src/tests/check-schema.py" "$src/schemas/podform-v1.schema.json" "$work/host.yaml"
expect "the plan of it is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode
expect "applying it makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes
expect "nor with --prune: nothing shown is podform's to delete" 0 \
	'^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes --prune
check "web1 still runs" bash -c '[ "$(virsh domstate web1)" = running ]'

# ---- the same host, drawn ----
check "graph of the imported host: dot -Tsvg accepts it" bash -c "
	'$podform' graph --connect qemu:///system --host kvm01 >'$work/host.dot' && dot -Tsvg '$work/host.dot' >/dev/null"
cp "$work/host.dot" "$work/out"
has "web1 in it" '"vm:web1"'
has "its bridge NIC's edge to br0" '-> "(bridge|link):br0"'
lacks "web1's own macvtap is no node of its own" '^[[:space:]]*"[a-z]+:macvtap[0-9]+"'
check "graph of show's output as a plan: accepted too" bash -c "
	'$podform' graph -f '$work/host.yaml' --connect qemu:///system --host kvm01 | dot -Tsvg >/dev/null"

# ---- JSON, and --owned ----
check "show --output json" bash -c "'$podform' show --connect qemu:///system --host kvm01 --output json >'$work/host.json'"
check "the JSON matches schemas/show.schema.json" python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator(schema).validate(doc)
kinds = sorted({r["kind"] for r in doc["resources"]})
assert kinds == ["Bridge", "Host", "Macvlan", "Macvtap", "Network", "StoragePool", "VirtualMachine", "Vxlan"], kinds
assert any("spare.qcow2" in c["text"] for c in doc["comments"]), "the unused volume is a comment"
' "$src/schemas/show.schema.json" "$work/host.json"
expect "show --owned: nothing here is podform's" 0 '^kind: Host$' show --owned
lacks "no adopted object in it" '^kind: (Bridge|Network|VirtualMachine|StoragePool)$'

echo "# $failures failed"
[ "$failures" -eq 0 ]
