#!/bin/bash
# graph.sh: `podform graph` on libvirt's test driver: the live host (test:///default), every
# example as a plan (the configurations of tests/plan-snapshot.sh), and its --output choices.
# Every graph must be accepted by Graphviz's `dot -Tsvg` and hold the nodes, edges and colours
# it should. The plan with every kind of change (create, change, delete, restart pending) needs
# a host that outlives one podform process: tests/integration/graph.sh, on a real libvirtd.
#
# As root it runs in a private network namespace holding the NICs and bridges the examples name
# (as plan-snapshot.sh does); else the examples that name host links are left out, said so.
# SKIP (77) without Graphviz's dot (.ci/deps installs graphviz).
set -u
podform=${top_builddir:-.}/podform
src=$(cd "${top_srcdir:-.}" && pwd)
command -v dot >/dev/null || { echo "graph.sh: SKIP: no dot (apt-get install graphviz)"; exit 77; }

if [ "${PF_GRAPH_INNER:-}" != 1 ] && [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
        PF_GRAPH_INNER=1 exec unshare --net -- bash "${BASH_SOURCE[0]}"
fi
netns=no
if [ "${PF_GRAPH_INNER:-}" = 1 ]; then
        netns=yes
        ip link set lo up
        for nic in eth0 eno1 eno2 eno3 enp129s0f0; do
                ip link add "$nic" type veth peer name "$nic-p" && ip link set "$nic" up && ip link set "$nic-p" up
        done
        for br in br1-vlan100 br-red cni0 br1 br-storage; do ip link add "$br" type bridge && ip link set "$br" up; done
fi

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PODFORM_STATE_DIR=$tmp/state
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

# graph NAME WANT_EXIT ARGS...: podform graph into $tmp/NAME.dot (stderr .err); the exit status
# and that dot renders it to SVG.
graph() {
        local name=$1 want=$2 rc=0
        shift 2
        "$podform" graph "$@" >"$tmp/$name.dot" 2>"$tmp/$name.err" || rc=$?
        if [ "$rc" -ne "$want" ]; then
                bad "$name: exit $rc, expected $want"; head -5 "$tmp/$name.err"; return 1
        fi
        if ! dot -Tsvg "$tmp/$name.dot" >"$tmp/$name.svg" 2>"$tmp/$name.dot-err" || [ -s "$tmp/$name.dot-err" ]; then
                bad "$name: dot -Tsvg refuses the graph"; head -5 "$tmp/$name.dot-err"; return 1
        fi
        ok "$name: exit $want, dot -Tsvg accepts it"
}

# has NAME WHAT ERE: the graph NAME holds a line matching ERE (agwrite breaks attribute lists:
# a node's or edge's attributes are joined into one line first).
# podform's own writer (built without Graphviz) spaces and quotes a little differently: the same.
joined() {
        tr -d '\n\t' <"$tmp/$1.dot" | sed -E 's/;/;\n/g' | sed -E 's/" \[/"[/; s/, ([a-z]+=)/,\1/g; s/=\"([A-Za-z0-9_#.]*)\"/=\1/g'
}
has() {
        if joined "$1" | grep -qE -- "$3"; then ok "$1: $2"; else bad "$1: $2: no /$3/"; fi
}
hasnt() {
        if joined "$1" | grep -qE -- "$3"; then bad "$1: $2: /$3/ is there"; else ok "$1: $2"; fi
}

# ---- the live host, no configuration: drawn as it is, nothing coloured ----
if graph live 0 --connect test:///default; then
        has live "the test driver's domain" '^"vm:test"\[.*label="vm test\\n2 vCPU, 8192 MiB".*shape=box3d'
        has live "its interface, on network default" '^"iface:test/mac aa:bb:cc:dd:ee:ff" -> "network:default"'
        has live "the network's own bridge" '^"network:default" -> "link:virbr0"\[label="own bridge"\]'
        has live "the pool" '^"pool:default-pool"\[.*shape=cylinder'
        has live "the title says it is the live host" 'label="podform graph: host [^"]*, as it is"'
        hasnt live "nothing is planned, nothing coloured" 'class=(create|change|delete)'
fi
graph live-again 0 --connect test:///default &&
        if cmp -s "$tmp/live.dot" "$tmp/live-again.dot"; then ok "deterministic: two runs, same bytes"; else bad "deterministic"; fi

# ---- every example, planned on kvm01 ----
kvm01=test://$src/tests/data/hosts/kvm01.xml
# the VirtualMachines of the files given
vms_of() { grep -h -A2 '^kind: VirtualMachine' "$@" | sed -n 's/^metadata: *{name: *\([^,}]*\).*/\1/p; s/^  name: *\([^ ]*\)$/\1/p'; }
# NAME|HOST URI|WANT EXIT|NEEDS NICS|-f ARGS (paths under $src)
configs=(
        "maas-network|$kvm01|0|no|examples/maas-network.yaml"
        "libvirt-host|$kvm01|0|no|examples/maas-network.yaml examples/libvirt-host"
        "pod-network|$kvm01|0|no|examples/maas-network.yaml examples/kubevirt/multiqueue.yaml"
        "host-links|$kvm01|0|yes|examples/maas-network.yaml examples/libvirt-host examples/host-links"
        "maas-pod|test://$src/examples/maas-pod/test-host.xml|0|yes|examples/maas-pod"
        "maas-pod-and-maas|test://$src/examples/maas-pod/test-host.xml|0|yes|examples/maas-network.yaml examples/maas-pod"
)
# KubeVirt's examples beside the networks they name; those refused at plan time (sriov on multus,
# KubeVirt volumes) are drawn without their VM, exit 1. Masquerade without passt goes on
# podform's NAT network.
for f in "$src"/examples/kubevirt/*.yaml; do
        base=$(basename "$f" .yaml) want=0
        case $base in masquerade-ipv6 | multus | sriov) want=1 ;; esac
        [ "$base" = networks ] && continue
        configs+=("kubevirt-$base|$kvm01|$want|yes|examples/maas-network.yaml examples/kubevirt/networks.yaml examples/kubevirt/$base.yaml")
done
for c in "${configs[@]}"; do
        IFS='|' read -r name uri want nics paths <<<"$c"
        if [ "$nics" = yes ] && [ "$netns" = no ]; then
                echo "graph.sh: $name left out: it names host links, and only root gets a network namespace to hold them"
                continue
        fi
        args=() files=()
        for p in $paths; do args+=(-f "$src/$p"); files+=($(find "$src/$p" -name '*.yaml')); done
        graph "$name" "$want" "${args[@]}" --connect "$uri" || continue
        has "$name" "the title says it is a plan" 'label="podform graph: host [^"]*, the plan"'
        if [ "$want" -ne 0 ]; then
                if grep -q 'error' "$tmp/$name.err"; then ok "$name: its errors are said on stderr"; else bad "$name: no error said"; fi
        fi
        for vm in $(vms_of "${files[@]}"); do
                [ "$want" -eq 0 ] || continue
                has "$name" "vm $vm is to be created: green" "^\"vm:$vm\"\\[.*class=create.*color=green4"
        done
done

# What the examples are there to show: a pod-network edge labelled with its rule (its reason
# as the tooltip), a Subnet beside its interface, a volume in its pool, links on their NICs.
has libvirt-host "a disk is an edge to its volume, labelled with its device" '^"vm:db2" -> "volume:vms/db2-root"\[.*label=vda'
has libvirt-host "the volume is in its pool" '^"volume:vms/db2-root" -> "pool:vms"'
has pod-network "the pod network's edge names the rule that chose it, its reason the tooltip" \
        '^"iface:kv-multiqueue/default" -> "network:maas"\[.*label="pod: rule a".*tooltip="[^"]*maas[^"]*"'
if [ "$netns" = yes ]; then
        has kubevirt-multiqueue "the pod network's edge names the rule that chose it" \
                '^"iface:kv-multiqueue/default" -> "network:maas"\[.*label="pod: rule a".*tooltip="[^"]+"'
        has host-links "a forward-bridge network sits on its host bridge" '^"network:pxe" -> "link:br-boot"'
        has host-links "a bridge's port" '^"link:br-boot" -> "link:eno1"\[.*label=port'
        has host-links "a macvtap's parent NIC" '^"link:mvt-node3" -> "link:eno2"\[.*label=parent'
        has host-links "the NIC, drawn plain" '^"link:eno2"\[.*shape=box.*style=filled'
        has maas-pod "a Subnet, beside the interface it is on" '^"link:eno2" -> "subnet:storage"'
        has maas-pod "its label: CIDR" '^"subnet:storage"\[.*label="Subnet storage\\n10\.30\.0\.0/24'
        has maas-pod "constraints edges are labelled, with the macvtap mode" \
                '^"iface:db1/lab" -> "link:eno3"\[.*label="constraints\\nmode=private"'
        has maas-pod "a pod-network edge by rule c1 (no maas network)" 'label="pod: rule c1'
        has maas-pod-and-maas "a pod-network edge by rule a (with maas)" '-> "network:maas"\[.*label="pod: rule a'
        has kubevirt-pod "masquerade without passt: on podform's NAT network" \
                '^"iface:kv-pod/default" -> "network:podform-masq"'
        has kubevirt-sriov "a VM refused at plan time is left out" '^"network:maas"\['
        hasnt kubevirt-sriov "(so it is not drawn)" '^"vm:kv-sriov"'
fi

# ---- --output ----
if "$podform" graph --connect test:///default --output svg >"$tmp/live-out.svg" 2>"$tmp/svg.err"; then
        if grep -q '<svg' "$tmp/live-out.svg" && grep -q 'vm test' "$tmp/live-out.svg"; then
                ok "--output svg: SVG, rendered in process"
        else
                bad "--output svg: no SVG"
        fi
elif grep -q 'built without Graphviz' "$tmp/svg.err"; then
        ok "--output svg: refused, built without Graphviz"
else
        bad "--output svg"; cat "$tmp/svg.err"
fi
graph output-dot 0 --connect test:///default --output dot &&
        if cmp -s "$tmp/live.dot" "$tmp/output-dot.dot"; then ok "--output dot is the default"; else bad "--output dot is the default"; fi
if "$podform" graph --output png 2>&1 | grep -q -- "^podform: --output of 'podform graph' takes dot or svg, not 'png'$"; then ok "--output png is refused"; else bad "--output png"; fi
if "$podform" graph -f "$src/tests/data/invalid/bridge-mac-list.yaml" --connect test:///default >"$tmp/invalid.out" 2>&1; then
        bad "an invalid configuration draws nothing"
else
        grep -q 'error' "$tmp/invalid.out" && ! grep -q digraph "$tmp/invalid.out" && ok "an invalid configuration: errors, no graph" ||
                bad "an invalid configuration: errors, no graph"
fi

echo "graph.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
