#!/bin/bash
# graph.sh: podform graph against a real libvirtd (QEMU, TCG) in private namespaces: the host
# as it is after an apply, then a plan with every kind of change drawn on it: a network and a
# VM created (green; the VM's pod-network edge labelled with its rule), a network changed in
# place and a running VM changed so that it waits for a restart (amber, marked), and a VM
# deleted with its volume by --prune (red, dashed). Graphviz's dot must take every graph.
# SKIP (77) when no private libvirtd can run here (see with-libvirtd.sh) or without dot.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v dot >/dev/null || { echo "graph.sh: SKIP: no dot (apt-get install graphviz)"; exit 77; }
if [ -z "${WITH_LIBVIRTD-}" ]; then
	exec "$here/with-libvirtd.sh" "$0" "$@"
fi

src=${top_srcdir:-$here/../..}
podform=${top_builddir:-$src}/podform
work=$WITH_LIBVIRTD_DIR
# shellcheck source=checks.sh
. "$here/checks.sh"
virsh() { command virsh -q -c qemu:///system "$@"; }

cfg=$work/cfg
mkdir -p "$cfg"
cp "$src/examples/maas-network.yaml" "$cfg/"
cp -r "$src/examples/libvirt-host" "$cfg/host"
pf() { "$podform" "$1" -f "$cfg" --connect qemu:///system "${@:2}"; }

# graph NAME ARGS...: podform graph ARGS into $work/NAME.dot, which dot must render; exit 0.
graph() {
	local name=$1
	shift
	check "graph $name: exit 0" "$podform" graph "$@" --connect qemu:///system
	cp "$work/out" "$work/$name.dot"
	check "graph $name: dot -Tsvg takes it" dot -Tsvg -o "$work/$name.svg" "$work/$name.dot"
}
# has NAME WHAT ERE: a node or edge of graph NAME (its attributes joined on one line, spaced and
# quoted as libcgraph writes them, as tests/graph.sh does) matches
joined() {
	tr -d '\n\t' <"$work/$1.dot" | sed -E 's/;/;\n/g' | sed -E 's/" \[/"[/; s/, ([a-z]+=)/,\1/g; s/="([A-Za-z0-9_#.]*)"/=\1/g'
}
has() {
	if joined "$1" | grep -Eq -- "$3"; then
		ok "graph $1: $2"
	else
		not_ok "graph $1: $2 (no /$3/)"
		sed 's/^/    /' "$work/$1.dot"
	fi
}
hasnt() {
	if joined "$1" | grep -Eq -- "$3"; then
		not_ok "graph $1: $2 (/$3/ is there)"
	else
		ok "graph $1: $2"
	fi
}

expect "apply the example" 0 '^Verify: observed the host again; no changes remain\.$' pf apply --yes

# ---- the live host, and the plan that changes nothing ----
graph live
has live "vm pxe1, running" '^"vm:pxe1"\[label="vm pxe1\\n2 vCPU, 512 MiB",shape=box3d\]'
has live "its interface on network maas" '^"iface:pxe1/pxe" -> "network:maas";'
has live "network maas on its own bridge" '^"network:maas" -> "link:virbr1"\[label="own bridge"\]'
has live "a disk, to its volume in pool vms" '^"vm:db2" -> "volume:vms/db2-data"\[label=vdb\]'
has live "the volume in its pool" '^"volume:vms/db2-data" -> "pool:vms";'
hasnt live "libvirt's bridges are not drawn again as links" '^"link:virbr1"\[label="bridge virbr1"'
hasnt live "nothing coloured" 'class='
graph unchanged -f "$cfg"
hasnt unchanged "a plan without changes colours nothing" 'class='
has unchanged "a Subnet, on the network's own bridge" '^"network:maas" -> "link:virbr1"\[label="own bridge"\];'
has unchanged "(the bridge, drawn as the network's)" '^"link:virbr1"\[label="bridge virbr1\\n\(the network.s own\)"'
has unchanged "the Subnet beside it" '^"link:virbr1" -> "subnet:maas-nat";'
has unchanged "but it is the plan" 'label="podform graph: host [^"]*, the plan"'

# ---- every kind of change ----
cat >>"$cfg/host/networks.yaml" <<'YAML'
---
apiVersion: podform/v1
kind: Network
metadata: {name: lab2}
spec:
  forward: none
  bridge: {name: virbr-lab2}
YAML
cat >"$cfg/host/web3.yaml" <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: web3}
spec:
  running: false
  domain:
    memory: 256Mi
    devices:
      disks: [{name: root, size: 1Gi}]
      interfaces: [{name: default, bridge: {}}]
  networks: [{name: default, pod: {}}]
YAML
sed -i 's/ip: 10.77.0.10/ip: 10.77.0.12/' "$cfg/host/networks.yaml"     # lands live
sed -i 's/memory: 1Gi/memory: 768Mi/' "$cfg/host/vms.yaml"              # db2 runs: at restart
python3 - "$cfg/host/vms.yaml" <<'EOF'
import sys
path = sys.argv[1]
docs = open(path).read().split("\n---\n")
open(path, "w").write("\n---\n".join(d for d in docs if "name: pxe1" not in d))
EOF
expect "the plan has them all" 2 '^Plan: 3 to create, 2 to change, 2 to delete;' pf plan --prune --detailed-exitcode

graph changes -f "$cfg" --prune
has changes "a created network: green" '^"network:lab2"\[class=create,color=green4,'
has changes "a created VM: green" '^"vm:web3"\[class=create,color=green4,'
has changes "its new volume: green" '^"volume:vms/web3-root"\[class=create,color=green4,'
has changes "its pod-network edge names its rule, and why" \
	'^"iface:web3/default" -> "network:maas"\[class=create,color=green4,label="pod: rule a",tooltip="[^"]+"\]'
has changes "a network changed in place: amber, no mark" '^"network:lab"\[class=change,color=#ffbf00,label="network lab\\n[^"(]*",'
has changes "a running VM changed at restart: amber, restart pending" \
	'^"vm:db2"\[class=change,color=#ffbf00,label="vm db2\\n1 vCPU, 768 MiB\\n\(restart pending\)",peripheries=2,'
has changes "a pruned VM: red, dashed, stopped first" \
	'^"vm:pxe1"\[class=delete,color=red,label="vm pxe1\\n2 vCPU, 512 MiB\\n\(running: stopped first\)",.*style="dashed,bold"\]'
has changes "its volume too" '^"volume:vms/pxe1-root"\[class=delete,color=red,.*style=dashed\]'
has changes "and its edges" '^"vm:pxe1" -> "iface:pxe1/pxe"\[class=delete,color=red,style=dashed\]'
has changes "what stays is plain" '^"pool:vms"\[label="pool vms'
graph kept -f "$cfg"
hasnt kept "without --prune nothing is deleted" 'class=delete'
has kept "and pxe1 is drawn as it is" '^"vm:pxe1"\[label='
check "graph changed nothing: pxe1 still runs" bash -c '[ "$(virsh domstate pxe1)" = running ]'
check "nor created anything" bash -c '! virsh net-info lab2 >/dev/null 2>&1'

# ---- applied: db2 runs its older definition until it restarts ----
expect "apply the changes" 0 '^Verify: observed the host again' pf apply --yes --prune --shutdown-timeout 2
graph after
has after "db2 waits for its restart: marked, not coloured" \
	'^"vm:db2"\[label="vm db2\\n1 vCPU, 768 MiB\\n\(restart pending\)",peripheries=2,shape=box3d,style=bold\]'
hasnt after "pxe1 is gone" '"vm:pxe1"'
has after "web3 is there" '^"vm:web3"\['

[ "$failures" -eq 0 ]
