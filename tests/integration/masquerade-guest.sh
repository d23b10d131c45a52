#!/bin/bash
# masquerade-guest.sh: a real guest behind the masquerade binding on a libvirt without passt
# (Debian 12's 9.0), end to end, in private namespaces with a real libvirtd: from a second
# network namespace upstream of the host, a declared port reaches the guest's listener, an
# undeclared one does not (though the guest listens there too), and the guest's own traffic
# leaves with the host's address. The guest is tests/guest/'s: it PXE-boots through a first NIC
# from a stand-in server (podform-masq's DHCP names no boot file), and its masquerade NIC leases
# its fixed address from podform-masq. SKIP (77) when no private libvirtd can run here, or when
# this libvirt has passt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${WITH_LIBVIRTD-}" ]; then
	# here: the private namespace of with-libvirtd.sh cannot reach the package archive (not as
	# another user than root: with-libvirtd.sh then skips)
	if [ "$(id -u)" = 0 ]; then
		PODFORM_GUEST_DIR=$("$here/../guest/build.sh") || exit 1
		export PODFORM_GUEST_DIR
	fi
	exec "$here/with-libvirtd.sh" "$0" "$@"
fi

me=masquerade-guest.sh
src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
# shellcheck source=checks.sh
. "$here/checks.sh"
# shellcheck source=../guest/lib.sh
. "$src/tests/guest/lib.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }
v=$(virsh version | awk '/libvirt library:/ {print $NF}' | head -1)
if [ -n "$v" ] && [ "$(printf '%s\n' "$v" 9.1.0 | sort -V | head -1)" = 9.1.0 ]; then
	echo "$me: SKIP: libvirt $v has passt; podform renders masquerade through it there" >&2
	exit 77
fi

guest=$(guest_build)
guest_boot_root "$work/boot" "$guest" "podform.listen=80,8080"

# Upstream: a second network namespace on a veth, as a client on the host's uplink would be.
ip netns add up
trap 'guest_stand_in_stop "$work/pxe"; ip netns del up 2>/dev/null || true' EXIT
ip link add uplink type veth peer name uplink-peer
ip link set uplink-peer netns up
ip addr add 192.0.2.1/24 dev uplink
ip link set uplink up
ip -n up addr add 192.0.2.2/24 dev uplink-peer
ip -n up link set uplink-peer up
ip -n up link set lo up

# tcp_hello [NETNS] ADDR PORT: what a TCP listener at ADDR:PORT says first (empty: nothing
# answered within 5 s).
tcp_hello() {
	local ns=()
	if [ -e "/run/netns/$1" ]; then ns=(ip netns exec "$1"); shift; fi
	"${ns[@]}" timeout 20 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    s.settimeout(5)
    sys.stdout.write(s.recv(4096).decode(errors="replace"))
except OSError as e:
    sys.stderr.write("%s:%s: %s\n" % (sys.argv[1], sys.argv[2], e))
' "$1" "$2"
}
says() { # says [NETNS] ADDR PORT REGEX: the listener there answers with REGEX
	local out
	out=$(tcp_hello "${@:1:$#-1}")
	echo "$out"
	grep -Eq -- "${!#}" <<<"$out"
}
in_guest() { # in_guest ADDR COMMAND: COMMAND runs in the guest and exits 0
	local out
	out=$(guest_run "$1" "$2")
	echo "$out"
	[ "$(tail -n 1 <<<"$out")" = "exit 0" ]
}

cfg=$work/cfg
mkdir -p "$cfg"
cat >"$cfg/vm.yaml" <<'EOF'
apiVersion: podform/v1
kind: Network
metadata: {name: pxe}
spec:
  forward: none
  bridge: {name: virbr-pxe}
  ips: [{address: 10.70.0.1, prefix: 24}]
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: web1}
spec:
  running: false
  domain:
    type: qemu
    memory: 256Mi
    devices:
      logSerialConsole: true
      interfaces:
        - {name: boot, bridge: {}, bootOrder: 1}
        - name: default
          masquerade: {}
          ports: [{name: http, port: 8080}]
  networks:
    - {name: boot, network: pxe}
    - {name: default, pod: {}}
EOF
pf() { "$podform" "$1" -f "$cfg" --connect qemu:///system "${@:2}"; }

expect "apply: the PXE network, podform-masq, the VM, its NAT rules" 0 \
	'^Verify: observed the host again; no changes remain\.$' pf apply --yes
# The stand-in needs the PXE network's bridge; then the VM starts and boots from it.
guest_stand_in virbr-pxe 10.70.0.1 10.70.0.100,10.70.0.150 "$work/boot" "$work/pxe"
sed -i 's/^  running: false$/  running: true/' "$cfg/vm.yaml"
expect "start the VM" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes
mac=$(virsh domiflist web1 | awk '$3 == "podform-masq" {print $5}')
ip=$(virsh net-dumpxml podform-masq | sed -n "s/.*<host mac='$mac' name='web1' ip='\([^']*\)'.*/\1/p")
check "the guest PXE-booted the test guest from the stand-in" guest_wait web1 '^PFG boot .*podform\.from=10\.70\.0\.1( |$)'
check "and is up" guest_wait web1 '^PFG ready '
check "its masquerade NIC leased podform-masq's fixed address ($ip), the gateway 10.0.2.1 as router" \
	guest_wait web1 "^PFG lease eth[0-9] ip=$ip/24 server=10\.0\.2\.1 router=10\.0\.2\.1 " 30
# The guest's DHCP script sets no default route (it has several NICs); a guest behind
# masquerade takes the router its lease names, as KubeVirt's guests do.
nic=$(grep -a -m 1 "^PFG lease .* ip=$ip/" "$(guest_serial web1)" | awk '{print $3}')
check "the guest takes that router" in_guest "$ip" "ip route add default via 10.0.2.1 dev $nic"

check "from upstream, the declared port 8080 reaches the guest's listener" says up 192.0.2.1 8080 '^podform-guest .* port 8080$'
check "from the host itself, its own address's port 8080 reaches the guest too (chain output)" \
	says 192.0.2.1 8080 '^podform-guest .* port 8080$'
check "the guest listens on 80 too (from the host, straight to it)" says "$ip" 80 '^podform-guest .* port 80$'
check "but from upstream the undeclared port 80 is not reachable" bash -c '! grep -q podform-guest <<<"$0"' \
	"$(tcp_hello up 192.0.2.1 80 2>&1)"
ip netns exec up python3 -m http.server --bind 192.0.2.2 8000 >"$work/up-http.log" 2>&1 &
up_http=$!
# serving before the guest asks
ip netns exec up python3 -c '
import socket, time
for _ in range(100):
    try:
        socket.create_connection(("192.0.2.2", 8000), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)'
check "the guest reaches upstream through the masquerade" in_guest "$ip" "wget -q -O /dev/null http://192.0.2.2:8000/"
check "and upstream sees the host's address, not the guest's" grep -q '^192\.0\.2\.1 .*"GET / ' "$work/up-http.log"
kill "$up_http" 2>/dev/null || true

expect "a second apply changes nothing" 0 \
	'^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' pf apply --yes
rm "$cfg/vm.yaml"
expect "pruned, the VM goes with its rules" 0 '^Verify: observed the host again; no changes remain\.$' \
	pf apply --yes --prune
check "nothing of it is left" bash -c '! nft list table ip podform >/dev/null 2>&1 && ! virsh -c qemu:///system dominfo web1 >/dev/null 2>&1'
check "and from upstream port 8080 answers no more" bash -c '! grep -q podform-guest <<<"$0"' \
	"$(tcp_hello up 192.0.2.1 8080 2>&1)"

echo "$me: $failures failed"
[ "$failures" -eq 0 ]
