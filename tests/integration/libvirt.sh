#!/bin/bash
# libvirt.sh: podform plan/apply against a real libvirtd (QEMU, TCG) in private namespaces.
# Every check reads the host back with virsh, never with podform. SKIP (77) when no private
# libvirtd can run here (not root, no unshare): see with-libvirtd.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${WITH_LIBVIRTD-}" ]; then
	exec "$here/with-libvirtd.sh" "$0" "$@"
fi

src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
# shellcheck source=checks.sh
. "$here/checks.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }

# The configuration: the README example, copied so tests can edit it.
cfg=$work/cfg
mkdir -p "$cfg"
cp "$src/examples/maas-network.yaml" "$cfg/"
cp -r "$src/examples/libvirt-host" "$cfg/host"
pf() { "$podform" "$1" -f "$cfg" --connect qemu:///system "${@:2}"; }

expect "first plan lists every object" 2 '^Plan: 8 to create, 0 to change, 0 to delete\.$' pf plan --detailed-exitcode
expect "apply from scratch" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "network maas is active, NAT on virbr1, no DHCP" bash -c '
	virsh net-info maas | grep -Eq "^Active: +yes" &&
	virsh net-info maas | grep -Eq "^Autostart: +yes" &&
	x=$(virsh net-dumpxml maas) && grep -q "<forward mode=.nat.>" <<<"$x" &&
	grep -q "<bridge name=.virbr1. stp=.off. delay=.0./>" <<<"$x" && ! grep -q "<dhcp>" <<<"$x"'
check "bridge virbr1 exists in the namespace" ip link show virbr1
check "pool vms is active and autostarts" bash -c 'virsh pool-info vms | grep -Eq "^State: +running" &&
	virsh pool-info vms | grep -Eq "^Autostart: +yes"'
check "volumes have their sizes" bash -c '
	[ "$(virsh vol-info --bytes --pool vms pxe1-root | awk "/Capacity/ {print \$2}")" = 8589934592 ] &&
	[ "$(virsh vol-info --bytes --pool vms db2-data | awk "/Capacity/ {print \$2}")" = 34359738368 ]'
check "both VMs run (QEMU, TCG)" bash -c '[ "$(virsh domstate pxe1)" = running ] && [ "$(virsh domstate db2)" = running ]'
check "VMs carry podform metadata" bash -c 'virsh dumpxml pxe1 | grep -q "xmlns:podform=\"https://podform.dev/xmlns/1\""'
check "ownership record lists the networks and the pool" bash -c '
	f=$(ls "$PODFORM_STATE_DIR"/libvirt-*.owned) && grep -q "^network	maas	" "$f" && grep -q "^pool	vms	" "$f"'
expect "second plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode
expect "second apply makes no call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes

# A change that needs a restart is written, flagged, and the VM keeps running.
# A CD-ROM added by hand to a podform VM is not podform's: it stays through the change.
cat >"$work/cdrom.xml" <<'XML'
<disk type='file' device='cdrom'><target dev='sdc' bus='sata'/><readonly/></disk>
XML
virsh attach-device db2 "$work/cdrom.xml" --config >/dev/null
sed -i 's/memory: 1Gi/memory: 768Mi/' "$cfg/host/vms.yaml"
expect "memory change is planned with !, in binary units" 2 '^! vm db2 \(restart\)  (.*, )?memory 1 GiB -> 768 MiB(,|$)' \
	pf plan --detailed-exitcode
expect "plan -v says how the memory change lands" 2 '^    memory: 1 GiB -> 768 MiB  \[restart\]$' pf plan -v --detailed-exitcode
expect "memory change applies" 0 '^Verify: observed the host again' pf apply --yes
check "new memory in the definition, VM still running" bash -c '
	virsh dumpxml --inactive db2 | grep -q "<memory unit=.KiB.>786432</memory>" && [ "$(virsh domstate db2)" = running ]'
check "the hand-added CD-ROM is still there" bash -c 'grep -q "device=.cdrom." <<<"$(virsh dumpxml --inactive db2)"'
expect "the plan says db2 waits for a restart" 0 'vm db2 runs an older definition than the one written' pf plan --detailed-exitcode
expect "--allow-restart restarts it" 0 '^  done    ! vm db2 \(restarted now\)$' pf apply --yes --allow-restart --shutdown-timeout 2
check "db2 runs with the new memory" bash -c '
	virsh dumpxml db2 | grep -q "<memory unit=.KiB.>786432</memory>" && [ "$(virsh domstate db2)" = running ]'
expect "then nothing is pending" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode

# Growing a disk resizes its volume in place; shrinking is refused.
sed -i 's/size: 8Gi/size: 10Gi/' "$cfg/host/vms.yaml"
expect "a bigger disk is a live resize" 2 '^~ volume vms/pxe1-root \(live\)  capacity 8 GiB -> 10 GiB$' pf plan --detailed-exitcode
expect "the resize applies" 0 '^Verify: observed the host again' pf apply --yes
check "the volume has grown" bash -c '
	[ "$(virsh vol-info --bytes --pool vms pxe1-root | awk "/Capacity/ {print \$2}")" = 10737418240 ]'
sed -i 's/size: 10Gi/size: 4Gi/' "$cfg/host/vms.yaml"
expect "a smaller disk is refused" 1 'would shrink from 10737418240 to 4294967296 bytes' pf apply --yes
sed -i 's/size: 4Gi/size: 10Gi/' "$cfg/host/vms.yaml"

# DHCP host edits land in place: same UUID, dnsmasq updated.
uuid=$(virsh net-uuid lab)
sed -i 's/ip: 10.77.0.10/ip: 10.77.0.12/' "$cfg/host/networks.yaml"
expect "DHCP host edit is live" 2 '^~ network lab \(live\)  ip\[10\.77\.0\.1\]\.dhcp\.host\[52:54:00:77:00:10\]$' pf plan --detailed-exitcode
expect "DHCP host edit applies" 0 '^Verify: observed the host again' pf apply --yes
check "lease changed, network not recreated" bash -c "
	virsh net-dumpxml lab | grep -q \"ip='10.77.0.12'\" && [ \"\$(virsh net-uuid lab)\" = $uuid ] &&
	grep -q 10.77.0.12 /var/lib/libvirt/dnsmasq/lab.hostsfile"

# Drift: a network removed by hand comes back.
virsh net-destroy maas >/dev/null && virsh net-undefine maas >/dev/null
expect "deleted network shows as a creation" 2 '^\+ network maas$' pf plan --detailed-exitcode
expect "deleted network comes back" 0 '^Verify: observed the host again' pf apply --yes
check "maas is back and active" bash -c 'virsh net-info maas | grep -Eq "^Active: +yes"'

# Hot-plug: a new NIC on a running VM lands live and persistent.
cat >"$cfg/extra-nic.yaml" <<'YAML'
YAML
python3 - "$cfg/host/vms.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("        - {name: pxe, bridge: {}}\n  networks:\n    - {name: pxe, network: maas}",
              "        - {name: pxe, bridge: {}}\n        - {name: lab, bridge: {}}\n  networks:\n"
              "    - {name: pxe, network: maas}\n    - {name: lab, network: lab}")
open(p, "w").write(s)
PY
expect "new NIC on a running VM is a hot-plug, one item" 2 '^~ vm pxe1 \(live\)  \+iface lab$' pf plan --detailed-exitcode
expect "plan -v: the new NIC on one line" 2 '^    \+ iface lab \(network lab, virtio, 52:54:00:[0-9a-f:]{8}\)  \[live\]$' \
	pf plan -v --detailed-exitcode
expect "hot-plug applies" 0 '^Verify: observed the host again' pf apply --yes
check "pxe1 has two NICs live and in its definition" bash -c '
	[ "$(virsh domiflist pxe1 | grep -c network)" = 2 ] &&
	[ "$(virsh dumpxml --inactive pxe1 | grep -c "<interface type=.network.>")" = 2 ]'

# A NIC moved to another network: in place, no restart.
python3 - "$cfg/host/vms.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("    - {name: pxe, network: maas}\n    - {name: lab, network: lab}", "    - {name: pxe, network: maas}\n    - {name: lab, network: maas}", 1)
open(p, "w").write(s)
PY
expect "a NIC moved to another network lands live" 2 '^~ vm pxe1 \(live\)  iface\[lab\]\.source lab -> maas$' pf plan --detailed-exitcode
expect "the move applies" 0 '^Verify: observed the host again' pf apply --yes
check "pxe1's second NIC is on maas, live and in its definition, without a restart" bash -c '
	[ "$(virsh domiflist pxe1 | grep -c " maas ")" = 2 ] &&
	[ "$(virsh dumpxml --inactive pxe1 | grep -c "<source network=.maas.")" = 2 ] && [ "$(virsh domstate pxe1)" = running ]'

# Prune: owned objects dropped from the configuration go; a hand-made VM stays.
cat >"$work/handmade.xml" <<XML
<domain type='qemu'><name>handmade</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><interface type='network'><source network='lab'/></interface></devices></domain>
XML
virsh define "$work/handmade.xml" >/dev/null
python3 - "$cfg/host/vms.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s[:s.index("---\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata:\n  name: db2")])
PY
expect "without --prune the dropped VM is only listed" 0 'vm db2 is podform.s but no longer declared; --prune deletes it' pf plan
expect "prune plan lists the VM and its volumes with sizes" 2 '^- volume vms/db2-data \(capacity 32 GiB\)$' pf plan --prune --detailed-exitcode
expect "prune without --yes and no terminal refuses" 1 'no terminal can confirm it' pf apply --prune </dev/null
# On a terminal apply asks; anything but "yes" changes nothing.
expect "on a terminal, answering no deletes nothing" 1 'deletion not confirmed; nothing was changed' \
	bash -c "echo no | script -qec '$podform apply -f $cfg --connect qemu:///system --prune' /dev/null"
check "db2 is still there" virsh dominfo db2
expect "prune applies" 0 '^Verify: observed the host again' pf apply --prune --yes --shutdown-timeout 2
check "db2 and its volumes are gone, the hand-made VM stays" bash -c '
	! virsh dominfo db2 >/dev/null 2>&1 && ! virsh vol-info --pool vms db2-root >/dev/null 2>&1 &&
	virsh dominfo handmade >/dev/null && virsh vol-info --pool vms pxe1-root >/dev/null'

# running: false: ACPI shutdown; a guest with no OS ignores it, so destroy after the timeout.
sed -i '0,/running: true/s//running: false/' "$cfg/host/vms.yaml"
expect "running: false is planned" 2 '^! vm pxe1 \(live, stops it\)  running yes -> no$' pf plan --detailed-exitcode
expect "running: false applies" 0 '^Verify: observed the host again' pf apply --yes --shutdown-timeout 2
check "pxe1 is shut off and still defined" bash -c '[ "$(virsh domstate pxe1)" = "shut off" ]'
expect "and the plan is empty" 0 '^No changes' pf plan --detailed-exitcode

# A VM without domain.type is what libvirt's domain capabilities offer: kvm where they do for
# --virttype kvm, else qemu (here, on a host whose /dev/kvm this namespace may or may not use).
if virsh domcapabilities --arch x86_64 --virttype kvm >/dev/null 2>&1; then
	want='type kvm: this host offers kvm for x86_64'
else
	want='type qemu: this host offers no kvm for x86_64'
fi
cat >"$work/untyped.yaml" <<'EOF'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: untyped}
spec:
  running: false
  domain:
    memory: 256Mi
    devices:
      autoattachPodInterface: false
EOF
expect "a VM without type: $want" 2 "^\\+ vm untyped \\($want\\)\$" \
	"$podform" plan --detailed-exitcode -f "$work/untyped.yaml" --connect qemu:///system

# --parallel: four at once give the report and the host one at a time gives (a pool, two
# networks with DHCP, 12 VMs with a volume each, taken down again with --prune in between).
par=$work/par
mkdir -p "$par" "$work/par-pool"
{
	printf 'apiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: par}\nspec: {type: dir, path: %s}\n' "$work/par-pool"
	for n in 0 1; do
		printf -- '---\napiVersion: podform/v1\nkind: Network\nmetadata: {name: par%s}\nspec:\n  forward: nat\n' "$n"
		printf '  bridge: {name: virbr-par%s}\n  ips:\n    - address: 10.78.%s.1\n      prefix: 24\n' "$n" "$n"
		printf '      dhcp: {ranges: [{start: 10.78.%s.100, end: 10.78.%s.199}]}\n' "$n" "$n"
	done
	for i in $(seq -w 0 11); do
		printf -- '---\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: par%s}\nspec:\n' "$i"
		printf '  running: false\n  domain:\n    type: qemu\n    memory: 64Mi\n    devices:\n'
		printf '      disks: [{name: root, size: %sMi, format: qcow2, pool: par}]\n' "$((64 + 10#$i))"
		printf '      interfaces: [{name: lan, bridge: {}}]\n  networks: [{name: lan, network: par%s}]\n' "$((10#$i % 2))"
	done
} >"$par/par.yaml"
# the host as virsh reads it, without what libvirt makes up afresh (UUIDs, a network bridge's
# MAC) and the file system's free space
par_state() {
	virsh pool-dumpxml par | grep -Ev '<(uuid|allocation|available)[ >]'
	virsh vol-list par
	for n in 0 1; do virsh net-dumpxml "par$n" | grep -Ev '<uuid>|<mac address'; done
	for i in $(seq -w 0 11); do virsh dumpxml --inactive "par$i" | grep -v '<uuid>'; done
}
pfp() { "$podform" apply -f "$cfg" -f "$par" --connect qemu:///system --yes "$@"; }
expect "apply --parallel 1" 0 '^Apply: 27 done, 0 failed, 0 skipped\.$' pfp --parallel 1
cp "$work/out" "$work/par1.out"
par_state >"$work/par1.state"
mv "$par/par.yaml" "$work/par.yaml"
expect "and --prune takes it down at once" 0 '^Apply: 27 done, 0 failed, 0 skipped\.$' pfp --prune --parallel 4
check "nothing of it is left" bash -c '! virsh pool-info par >/dev/null 2>&1 && ! virsh net-info par0 >/dev/null 2>&1 &&
	! virsh dominfo par00 >/dev/null 2>&1'
mv "$work/par.yaml" "$par/par.yaml"
expect "apply --parallel 4" 0 '^Apply: 27 done, 0 failed, 0 skipped\.$' pfp --parallel 4
cp "$work/out" "$work/par4.out"
check "--parallel 4 reports as --parallel 1 does" diff "$work/par1.out" "$work/par4.out"
par_state >"$work/par4.state"
check "--parallel 4 makes the host --parallel 1 makes" diff "$work/par1.state" "$work/par4.state"

echo "# $failures failed"
[ "$failures" -eq 0 ]
