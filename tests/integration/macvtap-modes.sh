#!/bin/bash
# macvtap-modes.sh: the four macvtap (macvlan) modes behave as the MAAS documentation says,
# end to end, on a real libvirtd (QEMU, TCG) in private namespaces, with the tests' real guest
# (tests/guest/). Each mode has its own parent NIC here: a veth whose peer is a port of a bridge
# in a second namespace (the "upstream switch"), where a stand-in MAAS (dnsmasq, HTTP) boots the
# guests over the network. podform applies the VMs, each with one interface
# `macvtap: {...}` on `host: {interface: PARENT}`:
#   private   two guests, the mode from Host.defaultMacvlanMode (macvtap: {}): they cannot
#             reach each other, with or without hairpin on the switch port, but reach upstream
#   bridge    two guests, macvtap: {mode: bridge}: they reach each other (and upstream)
#   vepa      two guests, macvtap: {mode: vepa}: they reach each other only when the switch
#             port reflects their frames (hairpin on), not without
#   passthru  one guest owns the parent: a second VM on it fails to start (the kernel puts no
#             second macvtap beside a passthru one); the guest changes its MAC and still
#             reaches upstream, where a guest in bridge mode that does the same loses it
# Reachability is a ping from one guest to the other's leased address, run in the guest through
# its command port from the upstream namespace (which reaches every guest in every mode).
# The guests boot together. SKIP (77) when no private libvirtd can run here.
# shellcheck disable=SC2016 # the bash -c scripts expand their own arguments
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
me=macvtap-modes.sh
# shellcheck source=checks.sh
. "$here/checks.sh"
# shellcheck source=../guest/lib.sh
. "$src/tests/guest/lib.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }
pf() { "$podform" "$1" -f "$2" --connect qemu:///system --host kvm01 "${@:3}"; }
t0=$SECONDS
far=mvfar
cleanup() {
	guest_stand_in_stop "$work/stand"
	ip netns del "$far" 2>/dev/null || true
}
trap cleanup EXIT

guest=$(guest_build)
root=$work/boot
guest_boot_root "$root" "$guest"

# The upstream switch: a bridge in $far with the stand-in on it, one port per parent NIC.
ip netns add "$far"
ip -n "$far" link set lo up
ip -n "$far" link add br-up type bridge stp_state 0 forward_delay 0
ip -n "$far" addr add 10.73.0.1/24 dev br-up
ip -n "$far" link set br-up up
modes=(priv brdg vepa pass)
for m in "${modes[@]}"; do
	ip link add "up-$m" type veth peer name "sw-$m"
	ip link set "sw-$m" netns "$far"
	ip -n "$far" link set "sw-$m" master br-up up
	ip link set "up-$m" up
done
guest_stand_in "$far" br-up 10.73.0.1 10.73.0.100,10.73.0.199 "$root" "$work/stand"
# hairpin MODE on|off: whether the switch sends frames back out of the port of MODE's parent
hairpin() { ip -n "$far" link set dev "sw-$1" type bridge_slave hairpin "$2"; }

host_doc() {
	printf 'apiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm01}\nspec:\n  connect: qemu:///system\n'
	printf '  overcommit: {cpu: 8.0, memory: 1.0}\n  defaultMacvlanMode: private\n'
}
vm() { # NAME PARENT BINDING: a guest without disks (so network boot), one NIC, serial logged
	cat <<YAML
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: $1}
spec:
  running: true
  domain:
    type: qemu
    memory: 256Mi
    devices:
      logSerialConsole: true
      autoattachPodInterface: false
      interfaces:
        - {name: up, macvtap: $3}
  networks:
    - {name: up, host: {interface: $2}}
---
YAML
}
cfg=$work/cfg
mkdir -p "$cfg"
host_doc >"$cfg/host.yaml"
{
	vm priv1 up-priv '{}'
	vm priv2 up-priv '{}'
	vm brdg1 up-brdg '{mode: bridge}'
	vm brdg2 up-brdg '{mode: bridge}'
	vm vepa1 up-vepa '{mode: vepa}'
	vm vepa2 up-vepa '{mode: vepa}'
	vm pass1 up-pass '{mode: passthru}'
} >"$cfg/vms.yaml"

echo "# ---- apply ($((SECONDS - t0)) s)"
pf plan "$cfg" -v >"$work/plan" 2>&1 || true
# planned NAME PARENT MODE: the plan (-v) puts NAME's interface on a macvtap of PARENT in MODE
planned() {
	awk -v vm="$1" '/^[-+~!] / { in_vm = $3 == vm } in_vm' "$work/plan" | grep -Eq "iface\[up\].* $2 mode=$3( |,|\)|$)" ||
		{ cat "$work/plan"; false; }
}
check "plan: priv1 (macvtap: {}) gets Host.defaultMacvlanMode, private" planned priv1 up-priv private
check "plan: so does priv2" planned priv2 up-priv private
check "plan: brdg1 gets its interface's mode, bridge" planned brdg1 up-brdg bridge
check "plan: vepa2 vepa" planned vepa2 up-vepa vepa
check "plan: pass1 passthru (libvirt's passthrough)" planned pass1 up-pass passthrough
expect "apply: seven VMs, started" 0 '^Verify: observed the host again; no changes remain\.$' pf apply "$cfg" --yes
# source_is VM PARENT MODE: libvirt's running domain has <source dev=PARENT mode=MODE>
source_is() { virsh dumpxml "$1" | grep -q "<source dev='$2' mode='$3'/>" || { virsh dumpxml "$1" | grep -A3 "<interface"; false; }; }
check "libvirt: priv1 is on a private macvtap of up-priv" source_is priv1 up-priv private
check "libvirt: brdg2 on a bridge macvtap of up-brdg" source_is brdg2 up-brdg bridge
check "libvirt: vepa1 on a vepa macvtap of up-vepa" source_is vepa1 up-vepa vepa
check "libvirt: pass1 on a passthrough macvtap of up-pass" source_is pass1 up-pass passthrough

echo "# ---- the guests boot ($((SECONDS - t0)) s)"
declare -A addr
for v in priv1 priv2 brdg1 brdg2 vepa1 vepa2 pass1; do
	a=$(guest_wait "$v" '^PFG lease eth0 ip=10\.73\.0\.[0-9]+/24 ' 300 | sed -n 's/^PFG lease eth0 ip=\([^/]*\)\/.*/\1/p') || true
	if [ -n "$a" ] && guest_wait "$v" '^PFG ready ' 120 >/dev/null; then
		addr[$v]=$a
		ok "$v booted over its macvtap and leased $a ($((SECONDS - t0)) s)"
	else
		not_ok "$v booted over its macvtap and leased an address"
		addr[$v]=none
	fi
done
for v in priv1 priv2 vepa1 pass1; do
	check "$v reached upstream (10.73.0.1) from its leased address" guest_wait "$v" '^PFG ping eth0 10\.73\.0\.1 ok$' 60
done

# ping_exit FROM TO: the exit status of one guest's ping of TO, run through FROM's command port
ping_exit() { guest_run "$far" "${addr[$1]}" "ping -c 2 -W 2 ${addr[$2]}" | tail -n 1 | sed -n 's/^exit //p'; }
# reaches FROM TO / cannot_reach FROM TO: the guest FROM's ping of TO succeeds / fails (the
# command port answered either way: exit 1 is ping's "no reply")
reaches() { local e; e=$(ping_exit "$1" "$2"); [ "$e" = 0 ] || { echo "ping from $1 to $2: exit ${e:-(no answer from the command port)}"; false; }; }
cannot_reach() { local e; e=$(ping_exit "$1" "$2"); [ "$e" = 1 ] || { echo "ping from $1 to $2: exit ${e:-(no answer from the command port)}"; false; }; }

echo "# ---- private ($((SECONDS - t0)) s)"
check "private: priv1 cannot reach priv2 on the same parent" cannot_reach priv1 priv2
check "private: priv2 cannot reach priv1" cannot_reach priv2 priv1
hairpin priv on
check "private: not even when the switch port has hairpin on" cannot_reach priv1 priv2
hairpin priv off

echo "# ---- bridge ($((SECONDS - t0)) s)"
check "bridge: brdg1 reaches brdg2 on the same parent" reaches brdg1 brdg2
check "bridge: brdg2 reaches brdg1" reaches brdg2 brdg1

echo "# ---- vepa ($((SECONDS - t0)) s)"
check "vepa: without hairpin on the switch port, vepa1 cannot reach vepa2" cannot_reach vepa1 vepa2
hairpin vepa on
check "vepa: with hairpin on, vepa1 reaches vepa2 (the switch reflects the frames)" reaches vepa1 vepa2
check "vepa: and vepa2 reaches vepa1" reaches vepa2 vepa1
hairpin vepa off

echo "# ---- passthru ($((SECONDS - t0)) s)"
pass1_mac=$(virsh domiflist pass1 | awk 'NR == 1 { print $5 }')
check "passthru: the parent up-pass took pass1's MAC $pass1_mac (libvirt's passthrough)" \
	bash -c '[ "$(cat /sys/class/net/up-pass/address)" = "$1" ] || { ip link show up-pass; false; }' _ "$pass1_mac"
cfg2=$work/cfg2
mkdir -p "$cfg2"
host_doc >"$cfg2/host.yaml"
vm pass2 up-pass '{mode: passthru}' >"$cfg2/vm.yaml"
# podform plans it (libvirt creates the macvtap when the VM starts); the kernel refuses it
expect "passthru: a second VM on pass1's parent fails to start: the kernel refuses the macvtap" 1 \
	"FAILED  \+ vm pass2: cannot start VM pass2: error creating macvtap interface [^ ]*@up-pass .*Invalid argument" \
	pf apply "$cfg2" --yes
check "passthru: pass2 is not left defined" bash -c '! virsh dominfo pass2'
# runs_ok VM COMMAND REGEX: COMMAND run in VM prints a line matching REGEX
runs_ok() { guest_run "$far" "${addr[$1]}" "$2" >"$work/run.out" || true; grep -Eqx -- "$3" "$work/run.out" || { cat "$work/run.out"; false; }; }
check "passthru: pass1 still runs and reaches upstream" runs_ok pass1 'ping -c 1 -W 2 10.73.0.1' 'exit 0'

# change_mac VM MAC: the guest changes its NIC's MAC, announces it (gratuitous ARP), pings
# upstream and reports on its serial console ("PFG newmac MAC ok|fail"): the command port's
# answer may not come back when the frames for the new MAC do not reach the guest
change_mac() {
	local line="ip link set eth0 address $2 && arping -U -c 2 -I eth0 ${addr[$1]} >/dev/null 2>&1;"
	line+=" if ping -c 2 -W 2 10.73.0.1 >/dev/null 2>&1; then r=ok; else r=fail; fi;"
	line+=" echo \"PFG newmac \$(cat /sys/class/net/eth0/address) \$r\" >/dev/console"
	guest_run "$far" "${addr[$1]}" "( $line ) >/dev/null 2>&1 &" >/dev/null 2>&1 || true
}
change_mac pass1 52:54:00:73:00:91
check "passthru: pass1 changed its MAC and still reaches upstream" guest_wait pass1 '^PFG newmac 52:54:00:73:00:91 ok$' 60
check "passthru: upstream sees pass1 at its new MAC" \
	bash -c 'ip -n "$1" neigh show "$2" | grep -q "lladdr 52:54:00:73:00:91" || { ip -n "$1" neigh show; false; }' _ "$far" "${addr[pass1]}"
check "passthru: pass1's command port answers at the new MAC" runs_ok pass1 'cat /sys/class/net/eth0/address' '52:54:00:73:00:91'
change_mac brdg2 52:54:00:73:00:92
check "bridge, for contrast: brdg2 that changes its MAC no longer reaches upstream (a macvtap passes only its own MAC's frames)" \
	guest_wait brdg2 '^PFG newmac 52:54:00:73:00:92 fail$' 60
echo "# ---- done ($((SECONDS - t0)) s)"

exit $((failures > 0))
