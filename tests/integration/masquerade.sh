#!/bin/bash
# masquerade.sh: the masquerade binding on a libvirt without passt (Debian 12's 9.0), against a
# real libvirtd in private namespaces: podform's NAT network podform-masq, a fixed address per
# NIC, and the VM's NAT rules in podform's nftables table ip podform. The host is read back with
# virsh and nft, never with podform. SKIP (77) when no private libvirtd can run here, or when
# this libvirt has passt (then the passt rendering applies, which libvirt.sh covers).
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
command -v nft >/dev/null || { echo "masquerade.sh: SKIP: no nft (Debian package nftables)" >&2; exit 77; }
command -v jq >/dev/null || { echo "masquerade.sh: SKIP: no jq" >&2; exit 77; }
v=$(virsh version | awk '/libvirt library:/ {print $NF}' | head -1)
if [ -n "$v" ] && [ "$(printf '%s\n' "$v" 9.1.0 | sort -V | head -1)" = 9.1.0 ]; then
	echo "masquerade.sh: SKIP: libvirt $v has passt; podform renders masquerade through it there" >&2
	exit 77
fi

cfg=$work/cfg
mkdir -p "$cfg"
cat >"$cfg/host.yaml" <<'EOF'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
spec:
  vmNetworkCIDR: 10.77.0.0/24
EOF
# vm: a masquerade NIC with ports; VM definitions only (running: false): the network and the
# table do not need a guest
vm() { # NAME PORTS-YAML
	cat <<EOF
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: $1}
spec:
  running: false
  domain:
    type: qemu
    memory: 64Mi
    devices:
      interfaces:
        - name: default
          masquerade: {}
          ports: $2
  networks:
    - name: default
      pod: {}
EOF
}
vm web1 '[{name: http, port: 8080}, {port: 5353, protocol: UDP}]' >"$cfg/web1.yaml"
vm db1 '[{port: 5432}]' >"$cfg/db1.yaml"
pf() { "$podform" "$1" -f "$cfg" --host kvm01 --connect qemu:///system "${@:2}"; }

# rules NAME: the table's rules of VM NAME, one line each: CHAIN PROTO/PORT TARGET or masquerade SADDR
rules() {
	nft -j list table ip podform | jq -r --arg vm "$1" '.nftables[] | select(.rule) | .rule |
		select(.comment | startswith($vm + "/")) |
		if (.expr | map(has("masquerade")) | any) then "\(.chain) masquerade \(.expr[0].match.right)"
		else (.expr | map(select(.match.left.payload.field? == "dport")) | .[0].match) as $p |
			(.expr | map(select(.dnat)) | .[0].dnat) as $d |
			"\(.chain) \($p.left.payload.protocol)/\($p.right) \($d.addr):\($d.port)" end' |
		sort
}
export -f rules
# guest_ip NAME: the address podform-masq's DHCP host entry gives VM NAME
guest_ip() { virsh net-dumpxml podform-masq | sed -n "s/.*<host mac='[^']*' name='$1' ip='\([^']*\)'.*/\1/p"; }

# Another table, the host's own: podform leaves it as it is.
nft -f - <<'EOF'
table inet hostfw {
	chain input { type filter hook input priority 0; policy accept; tcp dport 22 accept comment "the host's"; }
}
EOF
nft list table inet hostfw >"$work/hostfw.before"

expect "the plan: the network, then the VMs, then their NAT rules" 2 '^\+ nat web1$' pf plan --detailed-exitcode
has "the plan says why the NIC goes on podform-masq" 'interface default: network podform-masq  \[pod network, by its binding\]'
cp "$work/out" "$work/plan"
check "in that order" bash -c '
	n=$(grep -n "^+ network podform-masq$" "$0" | cut -d: -f1) v=$(grep -n "^+ vm web1$" "$0" | cut -d: -f1)
	r=$(grep -n "^+ nat web1$" "$0" | cut -d: -f1) && [ -n "$n" ] && [ "$n" -lt "$v" ] && [ "$v" -lt "$r" ]' "$work/plan"
expect "apply" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "podform-masq: forward open, its own bridge, gateway 10.77.0.1/24, DHCP by host entries only" bash -c '
	x=$(virsh net-dumpxml podform-masq) && grep -q "<forward mode=.open./>" <<<"$x" &&
	grep -q "<bridge name=.podform-masq. stp=.off. delay=.0./>" <<<"$x" &&
	grep -q "<ip address=.10.77.0.1. prefix=.24.>" <<<"$x" && ! grep -q "<range" <<<"$x" &&
	[ "$(grep -c "<host mac=" <<<"$x")" = 2 ] && virsh net-info podform-masq | grep -Eq "^Active: +yes"'
web1=$(guest_ip web1) db1=$(guest_ip db1)
check "each VM has a fixed address in vmNetworkCIDR, not the gateway" bash -c '
	[[ $0 == 10.77.0.* ]] && [[ $1 == 10.77.0.* ]] && [ "$0" != "$1" ] && [ "$0" != 10.77.0.1 ] && [ "$1" != 10.77.0.1 ]' \
	"$web1" "$db1"
check "web1's NIC is on podform-masq with the MAC of that host entry" bash -c '
	mac=$(virsh net-dumpxml podform-masq | sed -n "s/.*<host mac=.\([^\x27]*\). name=.web1.*/\1/p") &&
	virsh domiflist web1 | grep -Eq "network +podform-masq +virtio +$mac"'
cat >"$work/web1.want" <<EOF
output tcp/8080 $web1:8080
output udp/5353 $web1:5353
postrouting masquerade $web1
prerouting tcp/8080 $web1:8080
prerouting udp/5353 $web1:5353
EOF
check "web1's rules: each declared port forwarded to it, its traffic masqueraded" diff -u "$work/web1.want" <(rules web1)
check "db1's rules: its one port" bash -c '[ "$(rules db1 | grep -c " tcp/5432 $0:5432$")" = 2 ]' "$db1"
check "the host's own connections to loopback are not forwarded (chain output)" bash -c '
	nft list chain ip podform output | grep -q "ip daddr != 127\.0\.0\.0/8 fib daddr type local tcp dport 8080 dnat to $0:8080 comment \"web1/default\""' "$web1"
check "the rules match the host's own addresses only (fib daddr type local)" bash -c '
	nft list chain ip podform prerouting | grep -q "fib daddr type local tcp dport 8080 dnat to $0:8080 comment \"web1/default\""' "$web1"
check "the host's own table is as it was" diff -u "$work/hostfw.before" <(nft list table inet hostfw)
check "podform made no other table" bash -c '[ "$(nft list tables | sort | tr "\n" " ")" = "table inet hostfw table ip podform " ]'
expect "second plan is empty" 0 '^No changes: the host matches the configuration\.$' pf plan --detailed-exitcode
expect "second apply makes no change at all, and says so" 0 \
	'^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes

# show writes the VMs back as declared (masquerade, their ports read from their rules) and the
# range into the Host document; podform-masq and the rules are comments: applied, nothing changes.
check "podform show" bash -c '"$0" show --connect qemu:///system >"$1"' "$podform" "$work/shown.yaml"
check "shows web1's interface as masquerade on the pod network, with its ports" bash -c '
	grep -A20 "name: web1" "$0" | grep -q "masquerade: {}" && grep -q "^ *pod: {}" "$0" &&
	grep -A3 "port: 5353" "$0" | grep -q "protocol: UDP" && grep -q "vmNetworkCIDR: 10.77.0.0/24" "$0" &&
	grep -q "^# network podform-masq is podform.s NAT network" "$0" || { cat "$0"; exit 1; }' "$work/shown.yaml"
expect "applying what show printed changes nothing" 0 \
	'^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' \
	"$podform" apply -f "$work/shown.yaml" --connect qemu:///system --yes
lacks "nor leaves anything undeclared" 'no longer declared'

# Drift: a rule of web1 deleted by hand, one edited, and one that is nobody's, all in podform's table.
h=$(nft -a list chain ip podform output | sed -n 's/.*tcp dport 8080 .*# handle \([0-9]*\)$/\1/p')
nft delete rule ip podform output handle "$h"
nft add rule ip podform prerouting tcp dport 9999 dnat to 10.77.0.250:9999
expect "a deleted rule is planned back, in place" 2 '^~ nat web1 \(live\)' pf plan --detailed-exitcode
has "and a rule nobody declared is podform's to prune" '^  nat \(no VM\) is podform.s but no longer declared; --prune deletes it$'
expect "apply --prune puts the table back as declared" 0 '^Verify: observed the host again; no changes remain\.$' \
	pf apply --yes --prune
check "web1's rules are whole again" diff -u "$work/web1.want" <(rules web1)
check "the stray rule is gone" bash -c '! nft list table ip podform | grep -q "dport 9999"'

# A changed port: web1's rules change in one transaction; db1's stay.
db1_before=$(nft -a list table ip podform | grep -c 'db1/default')
vm web1 '[{name: http, port: 8081}, {port: 5353, protocol: UDP}]' >"$cfg/web1.yaml"
expect "a changed port changes web1's rules only" 2 '^~ nat web1 \(live\)  port\[default\]\.tcp/8080' pf plan --detailed-exitcode
lacks "nothing else" '^[~+!-] (vm|network|nat db1)'
expect "apply the port" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
check "8081 now, 8080 no more" bash -c 'r=$(nft list chain ip podform prerouting) &&
	grep -q "tcp dport 8081 dnat to $0:8081" <<<"$r" && ! grep -q "dport 8080" <<<"$r"' "$web1"
check "web1 kept its address" bash -c '[ "$(virsh net-dumpxml podform-masq | grep -c "name=.web1. ip=.$0.")" = 1 ]' "$web1"
check "db1's rules were not touched" bash -c '[ "$(nft -a list table ip podform | grep -c "db1/default")" = "$0" ]' "$db1_before"

# Removal: the VM's rules go with it (first), and its DHCP host entry; the other's stay.
rm "$cfg/web1.yaml"
expect "pruning web1: its rules first, then the VM" 2 '^- nat web1$' pf plan --prune --detailed-exitcode
cp "$work/out" "$work/plan"
check "in that order" bash -c '
	r=$(grep -n "^- nat web1$" "$0" | cut -d: -f1) v=$(grep -n "^- vm web1$" "$0" | cut -d: -f1) &&
	[ -n "$v" ] && [ "$r" -lt "$v" ]' "$work/plan"
expect "apply the removal" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes --prune
check "web1's rules and host entry are gone, db1's stay" bash -c '
	[ -z "$(rules web1)" ] && [ "$(rules db1 | wc -l)" = 3 ] && ! virsh net-dumpxml podform-masq | grep -q "name=.web1."'
check "web1 is undefined" bash -c '! virsh dominfo web1 >/dev/null 2>&1'
rm "$cfg/db1.yaml"
expect "the last one: rules, VM, then the network nothing uses" 0 '^Verify: observed the host again; no changes remain\.$' \
	pf apply --yes --prune
check "the table is gone, and the network" bash -c '! nft list table ip podform >/dev/null 2>&1 &&
	! virsh net-info podform-masq >/dev/null 2>&1'
check "the host's own table is still as it was" diff -u "$work/hostfw.before" <(nft list table inet hostfw)
expect "and nothing is left to do" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' \
	pf apply --yes --prune

echo "masquerade.sh: $failures failed"
[ "$failures" -eq 0 ]
