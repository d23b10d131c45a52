#!/bin/bash
# guest-ack.sh: the tests' real guest (tests/guest/) acknowledges what podform does to it while
# it runs, end to end, on a real libvirtd (QEMU, TCG) in private namespaces. One VM on a Bridge
# whose port is a veth to a second namespace, where a stand-in MAAS (dnsmasq, HTTP) boots it:
#   hot-plug     a NIC added to the configuration: the plan says it lands live (+iface, a
#                hot-plug), the guest's serial console shows the new NIC and a lease on it
#   hot-unplug   the NIC removed: the guest logs its removal, the running domain no longer has
#                it when apply returns, and the plan is empty afterwards
#   running: false   the ACPI power button: the guest powers off cleanly ("PFG acpi
#                power-button", "PFG shutdown"), and libvirt records a shutdown, not the
#                destroy podform falls back to when --shutdown-timeout runs out
# The seconds the shutdown took are printed. SKIP (77) when no private libvirtd can run here.
# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${WITH_LIBVIRTD-}" ]; then
	# shellcheck source=../guest/lib.sh
	. "$here/../guest/lib.sh"
	guest_enter_libvirtd "$0" "$@"
fi

src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
me=guest-ack.sh
# shellcheck source=checks.sh
. "$here/checks.sh"
# shellcheck source=../guest/lib.sh
. "$src/tests/guest/lib.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }
export -f virsh
pf() { "$podform" "$1" -f "$2" --connect qemu:///system --host kvm01 "${@:3}"; }
t0=$SECONDS
cleanup() {
	guest_stand_in_stop "$work/stand"
	ip netns del ackfar 2>/dev/null || true
}
trap cleanup EXIT

guest=$(guest_build)
root=$work/boot
guest_boot_root "$root" "$guest"

ip netns add ackfar
ip link add ack-port type veth peer name ack-far
ip link set ack-far netns ackfar
ip -n ackfar addr add 10.75.0.1/24 dev ack-far
ip -n ackfar link set ack-far up
ip -n ackfar link set lo up
ip link set ack-port up
guest_stand_in ackfar ack-far 10.75.0.1 10.75.0.100,10.75.0.150 "$root" "$work/stand"

cfg=$work/cfg
mkdir -p "$cfg"
cat >"$cfg/host.yaml" <<'YAML'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
spec:
  connect: qemu:///system
  overcommit: {cpu: 8.0, memory: 1.0}
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-ack}
spec: {ports: [ack-port], stp: false, forwardDelay: 0}
YAML
# vm_doc [EXTRA]: the VM with one NIC on br-ack, or two with EXTRA=lan2
vm_doc() {
	cat <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: ackvm}
spec:
  running: true
  domain:
    type: qemu
    memory: 256Mi
    devices:
      logSerialConsole: true
      autoattachPodInterface: false
      interfaces:
        - {name: lan, bridge: {}}
YAML
	[ "${1-}" != lan2 ] || echo '        - {name: lan2, bridge: {}}'
	echo '  networks:'
	echo '    - {name: lan, host: {interface: br-ack}}'
	[ "${1-}" != lan2 ] || echo '    - {name: lan2, host: {interface: br-ack}}'
}
vm_doc >"$cfg/vm.yaml"
expect "apply: the bridge and the running VM" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$cfg" --yes
# lease_line VM NIC: the address the guest leased on NIC (from its serial console)
leased() { guest_wait "$1" "^PFG lease $2 ip=10\.75\.0\.[0-9]+/24 " | sed -n 's/^PFG lease [^ ]* ip=\([^/]*\)\/.*/\1/p'; }
if addr=$(leased ackvm eth0) && [ -n "$addr" ]; then
	ok "ackvm booted from the stand-in and leased $addr on eth0 ($((SECONDS - t0)) s)"
else
	not_ok "ackvm booted from the stand-in and leased an address on eth0"
	exit 1
fi
check "ackvm's services are up" guest_wait ackvm '^PFG ready ' 120

echo "# ---- hot-plug ($((SECONDS - t0)) s)"
vm_doc lan2 >"$cfg/vm.yaml"
expect "a second NIC on the running VM is planned as a hot-plug" 2 '^~ vm ackvm \(live\)  \+iface lan2$' \
	pf plan "$cfg" --detailed-exitcode
expect "apply hot-plugs it" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$cfg" --yes
mac2=$(virsh domiflist ackvm | awk 'NR == 2 { print $5 }')
check "the running domain has two NICs, the second $mac2" [ "$(virsh domiflist ackvm | wc -l)" = 2 -a -n "$mac2" ]
check "the guest saw the NIC arrive" guest_wait ackvm '^PFG hotplug add eth1$' 60
check "the guest's eth1 is the new NIC ($mac2)" guest_wait ackvm "^PFG nic eth1 mac=$mac2 " 30
if addr2=$(leased ackvm eth1) && [ -n "$addr2" ]; then
	ok "the guest leased $addr2 on the hot-plugged NIC"
	check "the stand-in's lease file agrees: $mac2 has $addr2" \
		grep -Eq "^[0-9]+ $mac2 ${addr2//./\\.} " "$work/stand/leases"
else
	not_ok "the guest leased an address on the hot-plugged NIC"
fi

echo "# ---- hot-unplug ($((SECONDS - t0)) s)"
vm_doc >"$cfg/vm.yaml"
expect "removing the NIC is planned live" 2 '^~ vm ackvm \(live\)  -iface lan2$' pf plan "$cfg" --detailed-exitcode
t=$SECONDS
expect "apply hot-unplugs it" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$cfg" --yes
echo "# hot-unplug apply took $((SECONDS - t)) s"
check "when apply returns, the running domain no longer has $mac2" \
	bash -c '! virsh domiflist ackvm | grep -qi "$1" && [ "$(virsh domiflist ackvm | wc -l)" = 1 ]' _ "$mac2"
check "nor has its definition" bash -c '! virsh domiflist --inactive ackvm | grep -qi "$1"' _ "$mac2"
check "the guest acknowledged the removal" guest_wait ackvm '^PFG hotplug remove eth1$' 30
expect "and the plan is empty" 0 '^No changes' pf plan "$cfg" --detailed-exitcode

echo "# ---- running: false ($((SECONDS - t0)) s)"
sed -i 's/running: true/running: false/' "$cfg/vm.yaml"
expect "running: false is planned" 2 '^! vm ackvm \(live, stops it\)  running yes -> no$' pf plan "$cfg" --detailed-exitcode
timeout=120
t=$SECONDS
expect "apply powers the guest off" 0 '^Verify: observed the host again; no changes remain\.$' \
	pf apply "$cfg" --yes --shutdown-timeout "$timeout"
took=$((SECONDS - t))
echo "# the shutdown took $took s (apply included), --shutdown-timeout $timeout s"
check "the guest saw the ACPI power button" guest_wait ackvm '^PFG acpi power-button$' 5
check "and shut down cleanly" guest_wait ackvm '^PFG shutdown$' 5
check "ackvm is shut off, by the guest (not destroyed)" \
	bash -c '[ "$(virsh domstate --reason ackvm)" = "shut off (shutdown)" ] || { virsh domstate --reason ackvm; false; }'
check "libvirt's log of ackvm has no destroy" \
	bash -c '! grep -E "reason=destroyed" /var/log/libvirt/qemu/ackvm.log && grep -E "shutting down, reason=shutdown" /var/log/libvirt/qemu/ackvm.log'
echo "# ---- done ($((SECONDS - t0)) s)"

exit $((failures > 0))
