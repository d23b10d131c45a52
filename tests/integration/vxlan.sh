#!/bin/bash
# vxlan.sh: the Vxlan kind against the real kernel, in a throwaway network namespace: created
# as a Bridge's port, applied again with no change, changed in place (learning, MTU, address:
# same ifindex), recreated for a new id or port (new ifindex, still a port), pruned, and someone
# else's VXLAN left alone. Every check reads the kernel back with ip -d -j. SKIP (77) when not
# root or without network namespaces.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${top_srcdir:-$here/../..}" && pwd)
podform=${top_builddir:-$src}/podform
uri=test://$src/tests/data/hosts/kvm01.xml

if [ "${1:-}" != --inner ]; then
	[ "$(id -u)" = 0 ] || { echo "vxlan.sh: SKIP: needs root, for a network namespace" >&2; exit 77; }
	unshare -n true 2>/dev/null || { echo "vxlan.sh: SKIP: cannot make a network namespace" >&2; exit 77; }
	exec unshare -n bash "$0" --inner
fi

failures=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PODFORM_STATE_DIR=$tmp/state
cfg=$tmp/vxlan.yaml out=$tmp/out

ip link set lo up
ip link add eno1 type veth peer name eno1-p
ip link set eno1 up
# someone else's tunnel, which podform must never touch
ip link add vxf type vxlan id 7 remote 10.9.9.9 dstport 4789 dev eno1

pf() { "$podform" "$1" -f "$cfg" --connect "$uri" --host kvm01 "${@:2}"; }
run() {         # run NAME CODE COMMAND...
	local name=$1 code=$2 rc=0
	shift 2
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" = "$code" ]; then ok "$name"; else not_ok "$name (exit $rc, wanted $code)"; sed 's/^/    | /' "$out"; fi
}
saw() {         # saw NAME LINE...: each LINE is a whole line of the last output
	local name=$1 l miss=()
	shift
	for l in "$@"; do grep -qxF -- "$l" "$out" || miss+=("$l"); done
	if [ ${#miss[@]} -eq 0 ]; then ok "$name"; else not_ok "$name"; printf '    missing: %s\n' "${miss[@]}"; sed 's/^/    | /' "$out"; fi
}
# fact DEV KEY: one attribute of DEV as the kernel reports it
fact() {
	ip -d -j addr show dev "$1" 2>/dev/null | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]; d = l.get("linkinfo", {}).get("info_data", {}); k = sys.argv[1]
v = {"ifindex": l.get("ifindex"), "master": l.get("master", ""), "mtu": l.get("mtu"), "alias": l.get("ifalias", ""),
     "addrs": ",".join(a["local"] + "/" + str(a["prefixlen"]) for a in l.get("addr_info", []) if a.get("scope") == "global")}.get(k, d.get(k, ""))
print(str(v).lower() if isinstance(v, bool) else v)' "$2"
}
has() {         # has NAME DEV KEY=VALUE...
	local name=$1 dev=$2 kv got bad=()
	shift 2
	for kv in "$@"; do
		got=$(fact "$dev" "${kv%%=*}" || echo "(no link)")
		[ "$got" = "${kv#*=}" ] || bad+=("${kv%%=*}=$got, wanted ${kv#*=}")
	done
	if [ ${#bad[@]} -eq 0 ]; then ok "$name"; else not_ok "$name"; printf '    %s\n' "${bad[@]}"; fi
}
gone() { if ip link show dev "$2" >/dev/null 2>&1; then not_ok "$1"; else ok "$1"; fi; }

write() {       # write ID PORT LEARNING MTU ADDRESS
	cat >"$cfg" <<YAML
apiVersion: podform/v1
kind: Vxlan
metadata: {name: vx42}
spec: {id: $1, parent: eno1, remote: 10.9.0.2, dstport: $2, learning: $3, mtu: $4, addresses: [$5]}
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec: {ports: [vx42], state: up}
YAML
}

write 42 4789 false 1450 10.30.0.1/24
run "plan exits 2 with changes" 2 pf plan --detailed-exitcode
saw "the tunnel comes before the bridge that takes it" "+ vxlan vx42" "+ bridge br-pxe"
[ "$(grep -n '^+ ' "$out" | head -1)" = "2:+ vxlan vx42" ] && ok "vxlan first in the plan" || not_ok "vxlan first in the plan"
run "apply" 0 pf apply --yes
has "vx42 as declared, podform's, a port of br-pxe" vx42 id=42 remote=10.9.0.2 port=4789 learning=false link=eno1 \
	mtu=1450 alias=podform:Vxlan/vx42 master=br-pxe addrs=10.30.0.1/24
run "second apply" 0 pf apply --yes
saw "second apply changes nothing" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
first=$(fact vx42 ifindex)

write 42 4789 true 1400 10.30.0.2/24
run "in place: plan" 0 pf plan -v
saw "in place: learning, mtu, addresses are live" "~ vxlan vx42 (live)" "    learning: false -> true  [live]" \
	"    mtu: 1450 -> 1400  [live]" "    addresses: 10.30.0.1/24 -> 10.30.0.2/24  [live]"
run "in place: apply" 0 pf apply --yes
has "in place: changed, same link" vx42 ifindex="$first" learning=true mtu=1400 addrs=10.30.0.2/24 master=br-pxe

write 43 4789 true 1400 10.30.0.2/24
run "new id: plan" 0 pf plan -v
saw "new id: a recreation" "~ vxlan vx42 (recreate)" "    id: 42 -> 43  [recreate]"
run "new id: apply" 0 pf apply --yes
has "new id: a new link, back on the bridge" vx42 id=43 master=br-pxe alias=podform:Vxlan/vx42
[ "$(fact vx42 ifindex)" != "$first" ] && ok "new id: new ifindex" || not_ok "new id: new ifindex"
second=$(fact vx42 ifindex)
write 43 4790 true 1400 10.30.0.2/24
run "new port: apply" 0 pf apply --yes
has "new port: recreated" vx42 port=4790 master=br-pxe
[ "$(fact vx42 ifindex)" != "$second" ] && ok "new port: new ifindex" || not_ok "new port: new ifindex"
run "after the recreations, nothing left" 0 pf apply --yes
saw "after the recreations, nothing left: says so" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."

# a group (multicast) tunnel by local address is another shape of the same kind
cat >>"$cfg" <<YAML
---
apiVersion: podform/v1
kind: Vxlan
metadata: {name: vxg}
spec: {id: 100, parent: eno1, group: 239.1.1.1, local: 10.9.0.1}
YAML
run "group: apply" 0 pf apply --yes
has "group: as declared" vxg id=100 group=239.1.1.1 local=10.9.0.1 link=eno1 port=4789 learning=true

# someone else's tunnel: declaring it with another id would recreate it, which podform refuses
cat >>"$cfg" <<YAML
---
apiVersion: podform/v1
kind: Vxlan
metadata: {name: vxf}
spec: {id: 8, parent: eno1, remote: 10.9.9.9}
YAML
run "someone else's vxlan: a plan error" 1 pf plan
grep -q "Vxlan vxf is not podform's, and changing its id from 7 to 8" "$out" && ok "someone else's vxlan: says why" \
	|| { not_ok "someone else's vxlan: says why"; sed 's/^/    | /' "$out"; }
has "someone else's vxlan: untouched" vxf id=7 alias=

# no longer declared: kept without --prune, deleted (and released) with it; vxf stays
write 43 4790 true 1400 10.30.0.2/24
sed -i '1,5d' "$cfg"    # the Bridge alone
sed -i 's/ports: \[vx42\], //' "$cfg"
run "undeclared: plan without prune" 0 pf apply --yes
has "undeclared: kept without --prune" vx42 id=43
run "undeclared: apply --prune" 0 pf apply --yes --prune
gone "undeclared: vx42 deleted" vx42
gone "undeclared: vxg deleted" vxg
has "someone else's vxlan still there" vxf id=7 remote=10.9.9.9

echo "vxlan.sh: $failures failure(s)"
[ "$failures" = 0 ]
