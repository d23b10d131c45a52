#!/bin/bash
# links.sh: podform's host links (Bridge, Macvtap, Macvlan) against the real kernel.
#
# Every scenario runs in a network namespace of its own (unshare -n: it and everything in it
# vanish when the scenario's shell exits, so nothing can leak into the host), with veth pairs
# as the host's "physical" NICs and a state directory of its own. The libvirt side is libvirt's
# in-process test driver (simulated, empty). Every check reads the kernel back over netlink
# with ip -j, never by asking podform. SKIP (77) when not root or without network namespaces.
# LINKS_ONLY="s4_ports s6_prune" runs only those scenarios.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=macvtap-lock.sh
. "$here/macvtap-lock.sh"
src=$(cd "${top_srcdir:-$here/../..}" && pwd)
podform=${top_builddir:-$src}/podform
uri=test://$src/tests/data/hosts/kvm01.xml

skip() {
	echo "links.sh: SKIP: $*" >&2
	exit 77
}

failures=0
ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failures=$((failures + 1))
}

# ---- podform and its output ----

# pf COMMAND ARGS...: podform on this scenario's configuration and the test driver
pf() { "$podform" "$1" -f "$cfg" --connect "$uri" --host kvm01 "${@:2}"; }

# run NAME CODE COMMAND...: COMMAND exits CODE; its output is kept for saw/sawre/never
run() {
	local name=$1 code=$2 rc=0
	shift 2
	"$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" = "$code" ]; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted $code)"
		sed 's/^/    | /' "$out"
	fi
}
# saw NAME LINE...: every LINE is a whole line of the last output
saw() {
	local name=$1 l miss=()
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$out" || miss+=("$l")
	done
	if [ ${#miss[@]} -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name"
		printf '    missing: %s\n' "${miss[@]}"
		sed 's/^/    | /' "$out"
	fi
}
# sawre NAME ERE: a line of the last output matches
sawre() {
	if grep -Eq -- "$2" "$out"; then ok "$1"; else
		not_ok "$1 (no line matches /$2/)"
		sed 's/^/    | /' "$out"
	fi
}
# never NAME ERE: no line of the last output matches
never() {
	if ! grep -Eq -- "$2" "$out"; then ok "$1"; else
		not_ok "$1 (a line matches /$2/)"
		sed 's/^/    | /' "$out"
	fi
}

# ---- the kernel's side, over netlink ----

# facts DEV: key=value lines of what the kernel says about DEV (exists=no when it has none);
# with jq when installed, else python3 (slower to start)
# shellcheck disable=SC2016 # jq's $variables, not the shell's
facts_jq='if ($l | length) == 0 then "exists=no" else
	$l[0] as $x | ($x.linkinfo // {}) as $i | ($i.info_data // {}) as $d |
	"exists=yes", "ifindex=\($x.ifindex)", "kind=\($i.info_kind // "")", "stp=\($d.stp_state // "")",
	"delay=\($d.forward_delay // "")", "mode=\($d.mode // "")", "master=\($x.master // "")", "mtu=\($x.mtu // "")",
	"mac=\($x.address // "")", "up=\(if ($x.flags // []) | index(["UP"]) then 1 else 0 end)",
	"alias=\($x.ifalias // "")", "parent=\($x.link // "")",
	"addrs=\([$a[0].addr_info[]? | select(.scope == "global") | "\(.local)/\(.prefixlen)"] | sort | join(","))"
end'
facts_py='
import json, sys
link, addr = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if not link:
    print("exists=no")
    sys.exit()
l = link[0]
info = l.get("linkinfo") or {}
data = info.get("info_data") or {}
addrs = sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in (addr[0].get("addr_info") or [] if addr else [])
               if a.get("scope") == "global")
f = [("exists", "yes"), ("ifindex", l["ifindex"]), ("kind", info.get("info_kind", "")),
     ("stp", data.get("stp_state", "")), ("delay", data.get("forward_delay", "")), ("mode", data.get("mode", "")),
     ("master", l.get("master", "")), ("mtu", l.get("mtu", "")), ("mac", l.get("address", "")),
     ("up", int("UP" in l.get("flags", []))), ("alias", l.get("ifalias", "")), ("parent", l.get("link", "")),
     ("addrs", ",".join(addrs))]
for k, v in f:
    print("%s=%s" % (k, v))
'
facts() {
	local l a
	l=$(ip -j -d link show dev "$1" 2>/dev/null) || l='[]'
	a=$(ip -j addr show dev "$1" 2>/dev/null) || a='[]'
	if command -v jq >/dev/null; then
		jq -nr --argjson l "$l" --argjson a "$a" "$facts_jq"
	else
		python3 -c "$facts_py" "$l" "$a"
	fi
}
# fact DEV KEY: one value
fact() { facts "$1" | sed -n "s/^$2=//p"; }
# has NAME DEV KEY=VALUE...: the kernel says all of that about DEV
has() {
	local name=$1 dev=$2 kv f miss=()
	shift 2
	f=$(facts "$dev")
	for kv in "$@"; do
		grep -qxF -- "$kv" <<<"$f" || miss+=("$kv")
	done
	if [ ${#miss[@]} -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name"
		echo "    $dev: wanted ${miss[*]}"
		echo "    $dev: kernel says $(tr '\n' ' ' <<<"$f")"
	fi
}
# same NAME A B / differ NAME A B: two values (ifindexes) are equal / different
same() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 ($2 != $3)"; fi; }
differ() { if [ "$2" != "$3" ]; then ok "$1"; else not_ok "$1 (both $2)"; fi; }

# nic NAME...: a "physical" NIC: one end of a veth pair, up (its peer NAME-p stays down)
nic() {
	local n
	for n in "$@"; do
		ip link add "$n" type veth peer name "$n-p"
		ip link set "$n" up
	done
}
# snapshot: every link and address of the namespace, for before/after comparisons
# (what the kernel changes on its own is left out: operational state, carrier, and the
# link-local and temporary addresses IPv6 brings up a moment after a link goes up)
snapshot() {
	{ ip -j link show; ip -j addr show; } | python3 -c '
import json, sys
for line in sys.stdin:
    for l in json.loads(line):
        l.pop("operstate", None)
        l["flags"] = ["UP"] if "UP" in l.get("flags", []) else []
        if "addr_info" in l:
            l["addr_info"] = [{"local": a["local"], "prefixlen": a["prefixlen"]} for a in l["addr_info"]
                              if a.get("scope") != "link" and not a.get("dynamic")]
        print(json.dumps(l, sort_keys=True))'
}
# pos FILE TEXT: LINE:COL of the first occurrence of TEXT in FILE (computed here, not by podform)
pos() { awk -v t="$2" 'i = index($0, t) { print NR ":" i; exit }' "$1"; }

# ---- scenarios: each runs in a fresh network namespace ----

# The configuration of scenarios 1 and 2.
base_config() {
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec:
  ports: [eno1]
  stp: false
  forwardDelay: 0
  mtu: 1400
  macAddress: "52:54:00:aa:00:01"
  addresses: [10.20.0.5/24, "fd00:20::5/64"]
  state: up
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt1}
spec:
  parent: eno2
  mode: vepa
  macAddress: "52:54:00:12:34:56"
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl1}
spec:
  parent: eno2
  mode: bridge
  addresses: [10.30.0.2/24]
  state: up
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-stp}
spec:
  stp: true
  forwardDelay: 4
  state: down
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-def}
spec:
  parent: eno2
YAML
}

s1_create() {
	nic eno1 eno2
	base_config
	run "plan from scratch exits 2" 2 pf plan --detailed-exitcode
	saw "plan lists the five links" "+ bridge br-pxe" "+ bridge br-stp" "+ macvlan mvl1" "+ macvlan mvl-def" \
		"+ macvtap mvt1" "Plan: 5 to create, 0 to change, 0 to delete."
	has "plan created nothing" br-pxe exists=no
	run "apply from scratch" 0 pf apply --yes
	saw "apply verifies and reports" "Verify: observed the host again; no changes remain." \
		"Apply: 5 done, 0 failed, 0 skipped."
	has "br-pxe: bridge, no STP, delay 0, mtu 1400, MAC, both addresses, up, podform's alias" br-pxe \
		kind=bridge stp=0 delay=0 mtu=1400 mac=52:54:00:aa:00:01 up=1 alias=podform:Bridge/br-pxe \
		addrs=10.20.0.5/24,fd00:20::5/64
	has "eno1 is a port of br-pxe" eno1 master=br-pxe
	has "mvt1: macvtap on eno2, vepa, MAC, up, alias" mvt1 \
		kind=macvtap parent=eno2 mode=vepa mac=52:54:00:12:34:56 up=1 alias=podform:Macvtap/mvt1
	has "mvl1: macvlan on eno2, bridge, address, up, alias" mvl1 \
		kind=macvlan parent=eno2 mode=bridge up=1 alias=podform:Macvlan/mvl1 addrs=10.30.0.2/24
	has "mvl-def: no mode declared and no Host: bridge (the default defaultMacvlanMode)" mvl-def \
		kind=macvlan parent=eno2 mode=bridge up=1 alias=podform:Macvlan/mvl-def addrs=
	has "br-stp: STP on, delay 4 s, down, no address" br-stp \
		kind=bridge stp=1 delay=400 up=0 alias=podform:Bridge/br-stp addrs=
	if grep -qxP 'br-pxe\teno1' "$PODFORM_STATE_DIR"/links-net*.ports 2>/dev/null; then
		ok "the record of enslaved ports lists br-pxe/eno1"
	else
		not_ok "the record of enslaved ports lists br-pxe/eno1"
		cat "$PODFORM_STATE_DIR"/* 2>&1 | sed 's/^/    | /'
	fi
	local before
	before=$(snapshot)
	run "second apply changes nothing" 0 pf apply --yes
	saw "second apply makes no netlink change" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
	run "then plan --detailed-exitcode exits 0" 0 pf plan --detailed-exitcode
	saw "and says so" "No changes: the host matches the configuration."
	same "the kernel's links and addresses did not move" "$before" "$(snapshot)"
}

s2_drift() {
	nic eno1 eno2
	base_config
	run "setup: apply" 0 pf apply --yes
	# drift, by hand
	ip link set br-pxe mtu 1300
	ip addr add 10.99.0.1/24 dev br-pxe
	ip link del mvl1
	ip link set mvt1 down
	ip link set eno1 nomaster
	ip link set br-stp type bridge stp_state 0 forward_delay 700
	ip link set br-stp up
	run "drift: plan --detailed-exitcode exits 2" 2 pf plan -v --detailed-exitcode
	saw "drift: the plan lists every change" \
		"~ bridge br-pxe (live)" \
		"    addresses: 10.20.0.5/24, 10.99.0.1/24, fd00:20::5/64 -> 10.20.0.5/24, fd00:20::5/64  [live]" \
		"    mtu: 1300 -> 1400  [live]" \
		"    ports: (none) -> eno1  [live]" \
		"~ bridge br-stp (live)" \
		"    forwardDelay: 7 -> 4  [live]" \
		"    stp: false -> true  [live]" \
		"    state: up -> down  [live]" \
		"+ macvlan mvl1" \
		"~ macvtap mvt1 (live)" \
		"    state: down -> up  [live]" \
		"Plan: 1 to create, 3 to change, 0 to delete."
	run "drift: apply repairs" 0 pf apply --yes
	saw "drift: verified" "Verify: observed the host again; no changes remain."
	has "br-pxe has its MTU and only its addresses again" br-pxe mtu=1400 addrs=10.20.0.5/24,fd00:20::5/64 stp=0
	has "eno1 is enslaved again" eno1 master=br-pxe
	has "mvl1 is back" mvl1 kind=macvlan parent=eno2 mode=bridge up=1 alias=podform:Macvlan/mvl1 addrs=10.30.0.2/24
	has "mvt1 is up again" mvt1 up=1 mode=vepa
	has "br-stp has STP, 4 s and is down again" br-stp stp=1 delay=400 up=0
	run "drift: the next apply" 0 pf apply --yes
	saw "drift: the next apply makes no netlink change" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."

	# STP turned on by hand on a bridge declared without it (the kernel raises the delay to 2 s)
	ip link set br-pxe type bridge stp_state 1
	run "hand-set STP: plan exits 2" 2 pf plan --detailed-exitcode
	saw "hand-set STP: one line says what changes" "~ bridge br-pxe (live)  forwardDelay 2 -> 0, stp true -> false"
	run "hand-set STP: plan -v exits 2" 2 pf plan -v --detailed-exitcode
	saw "hand-set STP: planned" "~ bridge br-pxe (live)" "    stp: true -> false  [live]"
	run "hand-set STP: apply turns it off" 0 pf apply --yes
	has "hand-set STP: br-pxe has no STP and delay 0 again" br-pxe stp=0 delay=0
}

s3_inplace() {
	nic eno2 eno3 eno4 eno5
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt1}
spec:
  parent: eno2
  mode: vepa
  macAddress: "52:54:00:12:34:56"
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt2}
spec:
  parent: eno4
  mode: bridge
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-def}
spec:
  parent: eno2
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-stp}
spec:
  stp: true
  forwardDelay: 4
YAML
	cat >"$cfg/v6.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-v6}
spec:
  addresses: ["fd00:6::1/64", 10.6.0.1/24]
YAML
	run "setup: apply" 0 pf apply --yes
	local mvt1 mvt2 mvl brs
	mvt1=$(fact mvt1 ifindex) mvt2=$(fact mvt2 ifindex) mvl=$(fact mvl-def ifindex) brs=$(fact br-stp ifindex)

	# mode vepa -> bridge and a new MAC: both in place
	sed -i 's/mode: vepa/mode: bridge/; s/52:54:00:12:34:56/52:54:00:12:34:57/' "$cfg/links.yaml"
	run "mode and MAC change: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "mode and MAC change land live" "~ macvtap mvt1 (live)" \
		"    macAddress: 52:54:00:12:34:56 -> 52:54:00:12:34:57  [live]" "    mode: vepa -> bridge  [live]"
	run "mode and MAC change: apply" 0 pf apply --yes
	has "mvt1 is in bridge mode with the new MAC" mvt1 mode=bridge mac=52:54:00:12:34:57 parent=eno2
	same "mvt1 was changed in place (same ifindex)" "$mvt1" "$(fact mvt1 ifindex)"

	# bridge -> passthru: the kernel cannot, so recreate
	sed -i '/name: mvt2/,/^---/s/mode: bridge/mode: passthru/' "$cfg/links.yaml"
	run "passthru: plan exits 2" 2 pf plan -v --detailed-exitcode
	# nothing uses mvt2: a recreate, but not marked !
	sawre "passthru: planned as a recreate" '^~ macvtap mvt2 \(recreate\)$'
	saw "passthru: the mode change says recreate" "    mode: bridge -> passthru  [recreate]"
	run "passthru: apply" 0 pf apply --yes
	has "mvt2 is a passthru macvtap on eno4, podform's" mvt2 kind=macvtap mode=passthru parent=eno4 \
		alias=podform:Macvtap/mvt2 up=1
	differ "mvt2 was recreated (new ifindex)" "$mvt2" "$(fact mvt2 ifindex)"

	# a new parent: recreate
	mvt1=$(fact mvt1 ifindex)
	sed -i 's/parent: eno2$/parent: eno3/' "$cfg/links.yaml"
	sed -i '/name: mvl-def/,$s/parent: eno3/parent: eno2/' "$cfg/links.yaml"
	run "new parent: plan exits 2" 2 pf plan -v --detailed-exitcode
	sawre "new parent: planned as a recreate" '^~ macvtap mvt1 \(recreate\)$'
	saw "new parent: the change says recreate" "    parent: eno2 -> eno3  [recreate]"
	run "new parent: apply" 0 pf apply --yes
	has "mvt1 sits on eno3, keeps its mode, MAC and alias" mvt1 parent=eno3 mode=bridge mac=52:54:00:12:34:57 \
		alias=podform:Macvtap/mvt1
	differ "mvt1 was recreated (new ifindex)" "$mvt1" "$(fact mvt1 ifindex)"
	has "mvl-def stayed on eno2" mvl-def parent=eno2

	# a bridge MTU declared later: live
	sed -i 's/forwardDelay: 4/forwardDelay: 4\n  mtu: 1400/' "$cfg/links.yaml"
	run "bridge MTU: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "bridge MTU: planned live" "~ bridge br-stp (live)" "    mtu: 1500 -> 1400  [live]"
	run "bridge MTU: apply" 0 pf apply --yes
	has "br-stp has MTU 1400, same ifindex" br-stp mtu=1400 ifindex="$brs"

	# Host.spec.defaultMacvlanMode applies to a Macvlan that names no mode
	cat >"$cfg/host.yaml" <<'YAML'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
spec:
  defaultMacvlanMode: private
YAML
	run "defaultMacvlanMode: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "defaultMacvlanMode: planned live" "~ macvlan mvl-def (live)" "    mode: bridge -> private  [live]"
	run "defaultMacvlanMode: apply" 0 pf apply --yes
	has "mvl-def is private, same ifindex" mvl-def mode=private ifindex="$mvl"

	# a passthru macvtap with a declared MAC: the kernel gives it its parent's; podform must
	# converge in one apply (or refuse at plan time), not report a failed verify
	cat >"$cfg/passthru.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt3}
spec:
  parent: eno5
  mode: passthru
  macAddress: "52:54:00:33:00:03"
YAML
	local rc=0
	pf apply --yes >"$out" 2>&1 || rc=$?
	if [ $rc = 0 ] && grep -qxF "Verify: observed the host again; no changes remain." "$out" &&
		[ "$(fact mvt3 mac)" = 52:54:00:33:00:03 ]; then
		ok "a passthru macvtap with a macAddress converges in one apply"
	else
		not_ok "a passthru macvtap with a macAddress converges in one apply (exit $rc)"
		sed 's/^/    | /' "$out"
		echo "    mvt3: kernel says $(facts mvt3 | tr '\n' ' ')"
	fi
	rm "$cfg/passthru.yaml"
	ip link del mvt3 2>/dev/null || true	# out of the way of what follows, whatever happened

	# state: down on a link with IPv6 addresses (the kernel drops them when the link goes down)
	echo "  state: down" >>"$cfg/v6.yaml"
	run "state down: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "state down: planned live" "~ bridge br-v6 (live)" "    state: up -> down  [live]"
	run "state down: one apply converges" 0 pf apply --yes
	has "br-v6 is down and keeps both its addresses" br-v6 up=0 addrs=10.6.0.1/24,fd00:6::1/64
	rm "$cfg/v6.yaml"
	ip link del br-v6	# out of the way of what follows

	# STP turned off in the configuration (the delay falls back to 0)
	sed -i 's/stp: true/stp: false/; /forwardDelay: 4/d' "$cfg/links.yaml"
	run "STP off: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "STP off: planned live" "~ bridge br-stp (live)" "    forwardDelay: 4 -> 0  [live]" "    stp: true -> false  [live]"
	run "STP off: apply" 0 pf apply --yes
	has "br-stp has no STP and delay 0" br-stp stp=0 delay=0 ifindex="$brs"
}

s4_ports() {
	nic eno1 eno3
	ip link add vx type veth peer name vx-p
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-pxe}
spec:
  ports: [eno1]
YAML
	run "setup: apply" 0 pf apply --yes
	ip link set vx master br-pxe
	run "a port enslaved by hand: no changes" 0 pf plan --detailed-exitcode
	saw "a port enslaved by hand is not in the plan" "No changes: the host matches the configuration."

	sed -i 's/ports: \[eno1\]/ports: [eno1, eno3]/' "$cfg/links.yaml"
	run "add eno3: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "add eno3: planned" "~ bridge br-pxe (live)" "    ports: eno1 -> eno1, eno3  [live]"
	never "add eno3: the hand-enslaved vx is not in the plan" 'vx'
	run "add eno3: apply" 0 pf apply --yes
	has "eno3 is enslaved" eno3 master=br-pxe
	has "eno1 still is" eno1 master=br-pxe
	has "vx still is" vx master=br-pxe

	sed -i 's/ports: \[eno1, eno3\]/ports: [eno3]/' "$cfg/links.yaml"
	run "drop eno1: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "drop eno1: planned" "    ports: eno1, eno3 -> eno3  [live]"
	never "drop eno1: vx is not in the plan" 'vx'
	run "drop eno1: apply" 0 pf apply --yes
	has "eno1 is released (podform enslaved it)" eno1 master=
	has "eno3 stays" eno3 master=br-pxe
	has "vx, enslaved by hand, stays" vx master=br-pxe
	local rec
	if ! rec=$(cat "$PODFORM_STATE_DIR"/links-net*.ports); then
		not_ok "eno1 is gone from the record of enslaved ports (no record)"
	elif grep -qP '\teno1$' <<<"$rec"; then
		not_ok "eno1 is gone from the record of enslaved ports"
	else
		ok "eno1 is gone from the record of enslaved ports"
	fi

	# vx declared, then dropped again: podform never enslaved it, so it is never released
	sed -i 's/ports: \[eno3\]/ports: [eno3, vx]/' "$cfg/links.yaml"
	run "vx declared: nothing to do" 0 pf plan --detailed-exitcode
	saw "vx declared: no changes" "No changes: the host matches the configuration."
	sed -i 's/ports: \[eno3, vx\]/ports: []/' "$cfg/links.yaml"
	run "no ports: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "no ports: only eno3 is released" "    ports: eno3 -> (none)  [live]"
	run "no ports: apply" 0 pf apply --yes
	has "eno3 is released" eno3 master=
	has "vx is still enslaved" vx master=br-pxe
	run "no ports: nothing left to do" 0 pf plan --detailed-exitcode

	# a port podform enslaved, released by hand: enslaved again (and podform forgets its record
	# of it without touching freed memory)
	sed -i 's/ports: \[\]/ports: [eno1, eno3]/' "$cfg/links.yaml"
	run "eno1 and eno3 again: apply" 0 pf apply --yes
	ip link set eno1 nomaster
	# a sanitizer build checks memory itself (and cannot run under valgrind)
	local checker=() how=
	if grep -q libasan <<<"$(ldd "$podform" 2>/dev/null)"; then
		how=ASan
	elif command -v valgrind >/dev/null; then
		checker=(valgrind -q --error-exitcode=9) how=valgrind
	fi
	if [ -n "$how" ]; then
		local rc=0
		"${checker[@]}" "$podform" plan -f "$cfg" --connect "$uri" --host kvm01 >"$out" 2>&1 || rc=$?
		if [ $rc = 0 ]; then
			ok "a port released by hand: plan is clean under $how"
		else
			not_ok "a port released by hand: plan is clean under $how (exit $rc)"
			head -n 16 "$out" | sed 's/^/    | /'
		fi
	else
		ok "a port released by hand: plan is clean under valgrind # SKIP no valgrind"
	fi
	run "a port released by hand: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "a port released by hand: planned" "    ports: eno3 -> eno1, eno3  [live]"
	run "a port released by hand: apply" 0 pf apply --yes
	has "eno1 is enslaved again" eno1 master=br-pxe

	# eno3 moves to a new bridge that sorts before br-pxe
	sed -i 's/ports: \[eno1, eno3\]/ports: [eno1]/' "$cfg/links.yaml"
	cat >"$cfg/br-a.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-a}
spec:
  ports: [eno3]
YAML
	run "a port moves to another bridge: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "a port moves: planned" "+ bridge br-a" "~ bridge br-pxe (live)" "    ports: eno1, eno3 -> eno1  [live]"
	run "a port moves: one apply converges" 0 pf apply --yes
	has "eno3 is a port of br-a" eno3 master=br-a
	has "eno1 stays on br-pxe" eno1 master=br-pxe
	has "vx stays on br-pxe" vx master=br-pxe

	# a port whose name has a comma (the kernel allows it; lists are joined with ", ")
	ip link add "eth,1" type veth peer name ethp1
	sed -i 's/ports: \[eno1\]/ports: [eno1, "eth,1"]/' "$cfg/links.yaml"
	run "a name with a comma: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "a name with a comma: planned" "~ bridge br-pxe (live)" "    ports: eno1 -> eno1, eth,1  [live]"
	run "a name with a comma: apply" 0 pf apply --yes
	saw "a name with a comma: verified" "Verify: observed the host again; no changes remain."
	has "eth,1 is a port of br-pxe" "eth,1" master=br-pxe
	has "eno1 stays on br-pxe beside it" eno1 master=br-pxe
	run "a name with a comma: the next apply" 0 pf apply --yes
	saw "a name with a comma: nothing left" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
	sed -i 's/ports: \[eno1, "eth,1"\]/ports: [eno1]/' "$cfg/links.yaml"
	run "a name with a comma, dropped: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "a name with a comma, dropped: planned" "    ports: eno1, eth,1 -> eno1  [live]"
	run "a name with a comma, dropped: apply" 0 pf apply --yes
	has "eth,1 is released" "eth,1" exists=yes master=
	has "eno1 is still a port of br-pxe" eno1 master=br-pxe
}

s5_adopt() {
	nic eno2 eno3
	ip link add br-hand type bridge
	ip link set br-hand mtu 1300
	ip addr add 10.40.0.1/24 dev br-hand
	ip link set br-hand up
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-hand}
spec:
  stp: true
  forwardDelay: 5
YAML
	run "adopt: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "adopt: only the declared fields, and the plan says why" \
		"~ bridge br-hand (live; not created by podform: only declared fields are managed)" \
		"    forwardDelay: 15 -> 5  [live]" "    stp: false -> true  [live]" "Plan: 0 to create, 1 to change, 0 to delete."
	never "adopt: MTU, addresses, state and ports are not podform's business" '^    (mtu|addresses|state|ports|macAddress):'
	run "adopt: apply" 0 pf apply --yes
	has "br-hand has STP and a 5 s delay; its MTU, address and state are untouched, and no podform alias" br-hand \
		stp=1 delay=500 mtu=1300 addrs=10.40.0.1/24 up=1 alias=
	run "adopt: the next apply" 0 pf apply --yes
	saw "adopt: the next apply makes no netlink change" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."

	# dropped from the configuration, pruned: not podform's, so it stays
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-own}
spec: {}
YAML
	run "adopt: prune plan" 2 pf plan --prune --detailed-exitcode
	never "adopt: prune never lists the adopted bridge" 'br-hand'
	run "adopt: apply --prune" 0 pf apply --prune --yes
	has "br-hand survives prune, as it was" br-hand kind=bridge stp=1 mtu=1300 addrs=10.40.0.1/24 alias=

	# a hand-made macvlan declared on another parent would need a delete: refused at plan time
	ip link add mvx link eno2 type macvlan mode bridge
	ip addr add 10.41.0.1/24 dev mvx
	local mvx
	mvx=$(fact mvx ifindex)
	cat >"$cfg/mvx.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvx}
spec:
  parent: eno3
YAML
	run "adopted macvlan on a new parent: apply refuses" 1 pf apply --yes
	sawre "adopted macvlan on a new parent: the error says why, at file:line:col" \
		"(^|/)mvx\.yaml:$(pos "$cfg/mvx.yaml" mvx): error: Macvlan mvx is not podform's"
	has "mvx is untouched" mvx parent=eno2 ifindex="$mvx" addrs=10.41.0.1/24 alias=
}

s6_prune() {
	nic eno1 eno2
	ip link add br-hand type bridge
	ip link set br-hand alias "rack uplink"
	ip link add mvh link eno2 type macvlan mode bridge
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-keep}
spec:
  ports: [eno1]
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl1}
spec:
  parent: eno2
  addresses: [10.30.0.2/24]
YAML
	run "setup: apply" 0 pf apply --yes
	local mvh
	mvh=$(fact mvh ifindex)
	# drop the Macvlan
	sed -i '/^---$/,$d' "$cfg/links.yaml"
	run "undeclared: plan without --prune exits 0" 0 pf plan --detailed-exitcode
	saw "undeclared: the plan says it is kept, as a notice" "Notices:" \
		"  macvlan mvl1 is podform's but no longer declared; --prune deletes it" \
		"No changes: the host matches the configuration."
	run "undeclared: apply without --prune" 0 pf apply --yes
	has "mvl1 is still there" mvl1 kind=macvlan alias=podform:Macvlan/mvl1
	run "prune: plan exits 2" 2 pf plan --prune --detailed-exitcode
	saw "prune: plans the deletion" "- macvlan mvl1" "Plan: 0 to create, 0 to change, 1 to delete."
	never "prune: foreign links are not in the plan" 'mvh|br-hand'
	run "prune without --yes and no terminal refuses" 1 pf apply --prune </dev/null
	has "mvl1 is still there after the refusal" mvl1 kind=macvlan
	run "prune: apply --prune --yes" 0 pf apply --prune --yes
	has "mvl1 is deleted" mvl1 exists=no
	has "the hand-made macvlan is untouched" mvh kind=macvlan parent=eno2 ifindex="$mvh"
	has "the hand-made bridge is untouched, its alias too" br-hand kind=bridge "alias=rack uplink"
	has "the declared bridge stays, with its port" br-keep kind=bridge
	has "eno1 is still its port" eno1 master=br-keep

	# a whole bridge pruned: refused while a hand-made macvlan sits on it
	: >"$cfg/links.yaml"
	ip link add mvb link br-keep type macvlan mode bridge
	run "prune under a foreign macvlan: refused" 1 pf apply --prune --yes
	sawre "prune under a foreign macvlan: the error names both" \
		'prune would delete bridge br-keep, but macvlan mvb \(not podform.s\) still uses it'
	has "br-keep is still there" br-keep kind=bridge
	has "mvb is still there" mvb kind=macvlan parent=br-keep
	ip link del mvb
	# nor is it deleted while it holds a port podform did not enslave (a tap someone added; a
	# veth where the kernel has no tun): that fails at apply time, the rest is done
	ip tuntap add tap-x mode tap 2>/dev/null || ip link add tap-x type veth peer name tap-x-p
	ip link set tap-x master br-keep
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-new}
spec: {}
YAML
	local refused="  FAILED  - bridge br-keep: bridge br-keep: not deleted: it holds ports podform did not enslave (tap-x); release them or declare the bridge again"
	run "prune a bridge holding a port added by hand: apply exits 3" 3 pf apply --prune --yes
	saw "prune a bridge holding a port added by hand: FAILED and why, the rest done" "$refused" \
		"  done    + bridge br-new" "Apply: 1 done, 1 failed, 0 skipped."
	has "br-keep is still there, podform's" br-keep kind=bridge alias=podform:Bridge/br-keep
	has "tap-x is still its port" tap-x master=br-keep
	has "eno1 is still its port too" eno1 master=br-keep
	has "br-new is created" br-new kind=bridge alias=podform:Bridge/br-new
	run "prune it again, nothing else to do: apply exits 1" 1 pf apply --prune --yes
	saw "prune it again: FAILED again" "$refused" "Apply: 0 done, 1 failed, 0 skipped."
	has "br-keep is still there, still with tap-x" tap-x master=br-keep
	ip link set tap-x nomaster
	# then it goes; its port goes free and leaves the record
	run "prune a bridge: apply" 0 pf apply --prune --yes
	saw "prune a bridge: planned" "- bridge br-keep"
	has "br-keep is deleted" br-keep exists=no
	has "eno1 is free" eno1 exists=yes master=
	has "tap-x is untouched" tap-x exists=yes master=
	local rec
	if ! rec=$(cat "$PODFORM_STATE_DIR"/links-net*.ports); then
		not_ok "br-keep is gone from the record of enslaved ports (no record)"
	elif grep -q br-keep <<<"$rec"; then
		not_ok "br-keep is gone from the record of enslaved ports"
	else
		ok "br-keep is gone from the record of enslaved ports"
	fi
	has "foreign links still untouched" mvh ifindex="$mvh"
	has "the hand-made bridge still untouched" br-hand kind=bridge
}

s7_errors() {
	nic eno1 eno1b
	ip link add vtaken type veth peer name vtaken-p
	local f=$cfg/errors.yaml
	cat >"$f" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-ok}
spec:
  ports: [eno1]
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-bad}
spec:
  parent: eno9
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-bad}
spec:
  ports: [eno8]
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: vtaken}
spec: {}
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  running: false
  domain:
    type: qemu
    memory: 256Mi
    cpu: {cores: 1}
    devices:
      interfaces:
        - {name: up, bridge: {}}
  networks:
    - {name: up, host: {interface: br-nope}}
    - {name: veth, host: {interface: vtaken-p}}
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-nobridge}
spec:
  parent: eno1b
---
apiVersion: podform/v1
kind: Network
metadata: {name: on-macvlan}
spec:
  forward: bridge
  bridge: {name: mvl-nobridge}
YAML
	# (the VM's second interface is added to its interfaces list below)
	sed -i 's/        - {name: up, bridge: {}}/        - {name: up, bridge: {}}\n        - {name: veth, bridge: {}}/' "$f"
	local before fwd_at
	fwd_at=$(pos "$f" "bridge: {name: mvl-nobridge}")
	fwd_at=${fwd_at%:*}:$((${fwd_at#*:} + 15))	# the value, after "bridge: {name: "
	before=$(snapshot)
	for cmd in plan apply; do
		if [ $cmd = plan ]; then
			run "plan with plan errors exits 1" 1 pf plan --detailed-exitcode
		else
			run "apply --yes with plan errors exits 1" 1 pf apply --yes
		fi
		saw "$cmd: all six errors counted, nothing changed" "podform: 6 errors; nothing was changed"
		sawre "$cmd: a parent that does not exist, at file:line:col" \
			"(^|/)errors\.yaml:$(pos "$f" eno9): error: parent 'eno9' is neither a link on this host nor declared as a Bridge, Macvtap, Macvlan or Vxlan; create it, declare it, or fix the name; did you mean \"eno[0-9]\"\\?$"
		sawre "$cmd: a port that does not exist, at file:line:col" \
			"(^|/)errors\.yaml:$(pos "$f" eno8): error: port 'eno8' of Bridge br-bad is not a link on this host; ports are existing links \\(NICs, veths\\) podform enslaves; create it or fix the name; did you mean \"eno[0-9]\"\\?$"
		sawre "$cmd: a name taken by a veth, at file:line:col" \
			"(^|/)errors\.yaml:$(pos "$f" vtaken): error: Bridge vtaken: the name is taken by a veth link"
		sawre "$cmd: a VM on a host interface that does not exist, at file:line:col" \
			"(^|/)errors\.yaml:$(pos "$f" br-nope): error: .*'br-nope'"
		sawre "$cmd: the bridge binding on a link that is no bridge, at file:line:col" \
			"(^|/)errors\.yaml:$(pos "$f" "vtaken-p}"): error: .*'vtaken-p', which is a veth, not a bridge"
		sawre "$cmd: forward: bridge on a Macvlan, at file:line:col" \
			"(^|/)errors\.yaml:$fwd_at: error: bridge 'mvl-nobridge' of Network on-macvlan is a macvlan, not a bridge"
	done
	same "plan errors: the kernel's links and addresses are exactly as before" "$before" "$(snapshot)"
	has "plan errors: br-ok was not created" br-ok exists=no
	has "plan errors: eno1 was not enslaved" eno1 master=
	has "plan errors: vtaken is still a veth" vtaken kind=veth alias=
}

s8_kernel_error() {
	nic eno2
	# a hand-made macvlan, up, with the MAC the Macvtap below asks for: the kernel refuses a
	# second link up on one parent with the same MAC, which no plan can foresee
	ip link add mvh link eno2 address 52:54:00:00:00:99 type macvlan mode bridge
	ip link set mvh up
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvdup}
spec:
  parent: eno2
  macAddress: "52:54:00:00:00:99"
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-ok}
spec:
  addresses: [10.60.0.1/24]
YAML
	cat >"$cfg/vm.yaml" <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  running: false
  domain:
    type: qemu
    memory: 256Mi
    cpu: {cores: 1}
    devices:
      interfaces:
        - {name: tap, macvtap: {}}
  networks:
    - {name: tap, macvtap: mvdup}
YAML
	local mvh before
	mvh=$(fact mvh ifindex)
	run "the kernel refuses: apply exits 3" 3 pf apply --yes
	saw "the kernel refuses a MAC in use: FAILED, the name, the step, the kernel's reason" \
		"  FAILED  + macvtap mvdup: macvtap mvdup: creating the link: Address already in use"
	saw "what needs the failed macvtap is skipped, the rest applied" \
		"  skipped + vm vm1: it needs macvtap mvdup, which was not applied" \
		"  done    + bridge br-ok" "Apply: 1 done, 1 failed, 1 skipped."
	never "the kernel refuses: no claim that the host converged" '^Verify: observed the host again'
	has "the unrelated bridge is created" br-ok kind=bridge alias=podform:Bridge/br-ok addrs=10.60.0.1/24 up=1
	has "the refused macvtap is not there" mvdup exists=no
	has "the hand-made macvlan is untouched" mvh kind=macvlan parent=eno2 mac=52:54:00:00:00:99 up=1 \
		ifindex="$mvh" alias=

	# fixed (another MAC): the next apply resumes and converges
	sed -i 's/52:54:00:00:00:99/52:54:00:00:00:98/' "$cfg/links.yaml"
	run "fixed: apply converges" 0 pf apply --yes
	saw "fixed: the macvtap, then the VM, verified" "  done    + macvtap mvdup" "  done    + vm vm1" \
		"Verify: observed the host again; no changes remain." "Apply: 2 done, 0 failed, 0 skipped."
	has "mvdup is a macvtap on eno2 with the new MAC, up, podform's" mvdup kind=macvtap parent=eno2 \
		mac=52:54:00:00:00:98 up=1 alias=podform:Macvtap/mvdup
	has "the hand-made macvlan is still untouched" mvh mac=52:54:00:00:00:99 up=1 ifindex="$mvh"
	# the test driver forgets its VMs between runs: each apply creates vm1 again, and only vm1
	before=$(snapshot)
	run "fixed: the next apply" 0 pf apply --yes
	saw "fixed: the next apply plans only the (simulated) VM" "+ vm vm1" "Plan: 1 to create, 0 to change, 0 to delete."
	never "fixed: the next apply plans no link" '^[-+~!] (bridge|macvlan|macvtap) '
	same "fixed: the next apply leaves the kernel's links and addresses as they were" "$before" "$(snapshot)"
	rm "$cfg/vm.yaml"
	run "fixed: without the VM" 0 pf apply --yes
	saw "fixed: nothing left" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
}

s9_order() {
	nic eno1
	nic eno2
	cat >"$cfg/all.yaml" <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  running: false
  domain:
    type: qemu
    memory: 256Mi
    cpu: {cores: 1}
    devices:
      interfaces:
        - {name: up, bridge: {}}
        - {name: tap, macvtap: {}, macAddress: "52:54:00:09:00:09"}
  networks:
    - {name: up, host: {interface: br-up}}
    - {name: tap, macvtap: mvt-vm1}
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-vm1}
spec:
  parent: eno2
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-up}
spec:
  parent: br-up
  addresses: [10.50.0.2/24]
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-up}
spec:
  ports: [eno1]
  addresses: [10.50.0.1/24]
YAML
	run "a macvlan on a bridge of the same configuration: one apply" 0 pf apply --yes
	saw "everything is created and verified" "  done    + bridge br-up" "  done    + macvlan mvl-up" "  done    + vm vm1" \
		"Verify: observed the host again; no changes remain." "Apply: 4 done, 0 failed, 0 skipped."
	local order
	order=$(grep -E '^  done    \+ ' "$out" | sed 's/^  done    + //' | tr '\n' ',')
	if [[ $order == "bridge br-up,macvlan mvl-up,"*"vm vm1,"* ]]; then
		ok "the bridge comes first, then the macvlan on it, then the libvirt side"
	else
		not_ok "the bridge comes first, then the macvlan on it, then the libvirt side (order: $order)"
	fi
	has "br-up has eno1 and its address" br-up kind=bridge addrs=10.50.0.1/24 alias=podform:Bridge/br-up
	has "eno1 is its port" eno1 master=br-up
	has "mvl-up sits on br-up" mvl-up kind=macvlan parent=br-up mode=bridge addrs=10.50.0.2/24 alias=podform:Macvlan/mvl-up
	# a macvtap passes only frames for its own MAC: it takes the one of the VM interface on it
	has "mvt-vm1 has the MAC of the VM interface on it" mvt-vm1 kind=macvtap parent=eno2 mac=52:54:00:09:00:09
}

# What the kernel would refuse halfway through an apply, podform refuses at plan time: one
# guard a file, so that pos finds each error's place
s10_plan_guards() {
	nic eno1 eno2 eno3 eno4 eno5 eno6 eno7
	ip link add mvh2 link eno2 type macvlan mode bridge
	ip link add mvp3 link eno3 type macvtap mode passthru
	ip link add mvh5 link eno5 type macvtap mode bridge
	ip link add brh type bridge
	ip link set eno7 master brh
	local f
	# passthru beside a hand-made macvlan, and a macvlan beside a hand-made passthru macvtap
	cat >"$cfg/pt-live.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-pt}
spec:
  parent: eno2
  mode: passthru
YAML
	cat >"$cfg/beside-live.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-beside}
spec:
  parent: eno3
YAML
	# the same, both declared: each one is refused
	cat >"$cfg/pt-decl.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-pt4}
spec:
  parent: eno4
  mode: passthru
YAML
	cat >"$cfg/beside-decl.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-br4}
spec:
  parent: eno4
  mode: bridge
YAML
	# a port that carries a hand-made macvtap
	cat >"$cfg/port.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-c}
spec:
  ports: [eno5]
YAML
	# a macvlan on a macvlan, a macvtap on a macvtap, a macvtap on a declared macvlan
	cat >"$cfg/on-mvl.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl-on-mvl}
spec:
  parent: mvh2
YAML
	cat >"$cfg/on-mvt.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-on-mvt}
spec:
  parent: mvh5
YAML
	cat >"$cfg/lower.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl6}
spec:
  parent: eno6
YAML
	cat >"$cfg/on-decl.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvtap
metadata: {name: mvt-on-decl}
spec:
  parent: mvl6
YAML
	# a VM's macvtap and a Network's forward interfaces on a bridge port (declared or by hand)
	cat >"$cfg/br-e.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-e}
spec:
  ports: [eno1]
YAML
	cat >"$cfg/vm.yaml" <<'YAML'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  running: false
  domain:
    type: qemu
    memory: 256Mi
    cpu: {cores: 1}
    devices:
      interfaces:
        - {name: t, macvtap: {}}
  networks:
    - {name: t, host: {interface: eno1}}
YAML
	cat >"$cfg/net-vepa.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: n-vepa}
spec:
  forward: vepa
  interfaces: [eno1]
YAML
	cat >"$cfg/net-br.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: n-br}
spec:
  forward: bridge
  interfaces: [eno7]
YAML
	local before cmd
	before=$(snapshot)
	for cmd in plan apply; do
		if [ $cmd = plan ]; then
			run "plan guards: plan exits 1" 1 pf plan --detailed-exitcode
		else
			run "plan guards: apply --yes exits 1" 1 pf apply --yes
		fi
		saw "$cmd: all eleven errors counted, nothing changed" "podform: 11 errors; nothing was changed"
		f=$cfg/pt-live.yaml
		sawre "$cmd: passthru beside a hand-made macvlan, at file:line:col" \
			"(^|/)pt-live\.yaml:$(pos "$f" passthru): error: mode passthru gives 'eno2' to one link, but mvh2 sits on it too; the kernel refuses a second link beside passthru \(move mvh2 first"
		f=$cfg/beside-live.yaml
		sawre "$cmd: a macvlan beside a hand-made passthru macvtap, at file:line:col" \
			"(^|/)beside-live\.yaml:$(pos "$f" eno3): error: 'eno3' is given to mvp3 in mode passthru, and the kernel puts no other link beside it$"
		f=$cfg/pt-decl.yaml
		sawre "$cmd: passthru beside a declared macvtap, at file:line:col" \
			"(^|/)pt-decl\.yaml:$(pos "$f" passthru): error: mode passthru gives 'eno4' to one link, but mvt-br4 sits on it too"
		f=$cfg/beside-decl.yaml
		sawre "$cmd: a macvtap beside a declared passthru macvlan, at file:line:col" \
			"(^|/)beside-decl\.yaml:$(pos "$f" eno4): error: 'eno4' is given to mvl-pt4 in mode passthru"
		f=$cfg/port.yaml
		sawre "$cmd: a port that carries a hand-made macvtap, at file:line:col" \
			"(^|/)port\.yaml:$(pos "$f" eno5): error: port 'eno5' of Bridge br-c carries macvtap mvh5, and the kernel enslaves no link that has macvlans on it; move mvh5 off eno5 first"
		f=$cfg/on-mvl.yaml
		sawre "$cmd: a macvlan on a macvlan, at file:line:col, with the parent to use" \
			"(^|/)on-mvl\.yaml:$(pos "$f" mvh2): error: parent 'mvh2' is a macvlan; the kernel puts a macvlan on that one's parent instead: use parent: eno2$"
		f=$cfg/on-mvt.yaml
		sawre "$cmd: a macvtap on a macvtap, at file:line:col, with the parent to use" \
			"(^|/)on-mvt\.yaml:$(pos "$f" mvh5): error: parent 'mvh5' is a macvtap; the kernel puts a macvtap on that one's parent instead: use parent: eno5$"
		f=$cfg/on-decl.yaml
		sawre "$cmd: a macvtap on a declared macvlan, at file:line:col, with the parent to use" \
			"(^|/)on-decl\.yaml:$(pos "$f" mvl6): error: parent 'mvl6' is a macvlan; the kernel puts a macvtap on that one's parent instead: use parent: eno6$"
		f=$cfg/vm.yaml
		sawre "$cmd: a VM's macvtap on a declared bridge port, at file:line:col" \
			"(^|/)vm\.yaml:$(pos "$f" "eno1}"): error: network 't' puts a macvtap on 'eno1', a port of bridge br-e, and the kernel puts no macvtap on a bridge port; use host: \{interface: br-e\}$"
		f=$cfg/net-vepa.yaml
		sawre "$cmd: forward: vepa on a declared bridge port, at file:line:col" \
			"(^|/)net-vepa\.yaml:$(pos "$f" eno1): error: forward interface 'eno1' is a port of bridge br-e, and the kernel puts no macvtap on a bridge port; use forward: bridge with bridge\.name br-e instead$"
		f=$cfg/net-br.yaml
		sawre "$cmd: forward: bridge with interfaces on a hand-made bridge's port, at file:line:col" \
			"(^|/)net-br\.yaml:$(pos "$f" eno7): error: forward interface 'eno7' is a port of bridge brh, .*bridge\.name brh instead$"
		never "$cmd: the valid declarations draw no error" '(lower|br-e)\.yaml:'
	done
	same "plan guards: the kernel's links and addresses are exactly as before" "$before" "$(snapshot)"
	has "plan guards: br-c was not created" br-c exists=no
	has "plan guards: eno5 was not enslaved" eno5 master=
	has "plan guards: br-e was not created" br-e exists=no
	has "plan guards: mvl6 was not created" mvl6 exists=no
	# the valid ones alone plan cleanly: the errors came from the guards
	(cd "$cfg" && rm pt-live.yaml beside-live.yaml pt-decl.yaml beside-decl.yaml port.yaml on-mvl.yaml on-mvt.yaml \
		on-decl.yaml vm.yaml net-vepa.yaml net-br.yaml)
	run "plan guards: the rest plans without errors" 2 pf plan --detailed-exitcode
	saw "plan guards: the rest is planned" "+ bridge br-e" "+ macvlan mvl6" "Plan: 2 to create, 0 to change, 0 to delete."
}

# A macvlan that moves to another parent in the same apply is still on the old one when a bridge
# is set up (bridges come first): enslaving that parent, or putting a passthru link on it, is a
# plan error telling to move it first, not a half-done apply.
s12_moving_child() {
	nic eno5 eno6
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl}
spec:
  parent: eno5
YAML
	run "moving: the macvlan on eno5" 0 pf apply --yes
	local f=$cfg/links.yaml
	cat >"$f" <<'YAML'
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mvl}
spec:
  parent: eno6
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-a}
spec:
  ports: [eno5]
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: a-pt}
spec:
  parent: eno5
  mode: passthru
YAML
	local before
	before=$(snapshot)
	run "moving: plan errors, nothing applied" 1 pf apply --yes
	sawre "moving: the port still carries the macvlan that moves" \
		"(^|/)links\.yaml:$(pos "$f" "[eno5]" | awk -F: '{print $1 ":" $2 + 1}'): error: port 'eno5' of Bridge br-a carries macvlan mvl, .*move mvl off eno5 first"
	sawre "moving: passthru beside the macvlan that moves" \
		"(^|/)links\.yaml:$(pos "$f" "passthru"): error: mode passthru gives 'eno5' to one link, but mvl sits on it too"
	same "moving: nothing changed" "$before" "$(snapshot)"
	# done in two steps, as the errors say
	sed -i '/^---$/,$d' "$f"
	run "moving: first the macvlan moves" 0 pf apply --yes
	has "mvl is on eno6" mvl kind=macvlan parent=eno6
	cat >>"$f" <<'YAML'
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-a}
spec:
  ports: [eno5]
YAML
	run "moving: then the bridge takes eno5" 0 pf apply --yes
	has "eno5 is a port of br-a" eno5 master=br-a
}

# A port podform enslaved, released by hand, then enslaved by hand again: an apply in between,
# even one with nothing to do, forgets podform's record of it, so podform never releases it.
s13_stale_record() {
	nic eno2
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: brd}
spec: {ports: [eno2]}
YAML
	run "stale: enslaved by podform" 0 pf apply --yes
	sed -i 's/ports: \[eno2\]/ports: []/' "$cfg/links.yaml"
	ip link set eno2 nomaster
	run "stale: released by hand, then an apply with nothing to do" 0 pf apply --yes
	saw "stale: nothing to do" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
	local rec
	rec=$(cat "$PODFORM_STATE_DIR"/links-net*.ports)
	if grep -q '^#' <<<"$rec" && ! grep -q "^brd	eno2$" <<<"$rec"; then
		ok "stale: the record forgets eno2"
	else
		not_ok "stale: the record forgets eno2 (record: $rec)"
	fi
	ip link set eno2 master brd
	run "stale: enslaved by hand again: no changes" 0 pf plan --detailed-exitcode
	run "stale: an apply leaves it" 0 pf apply --yes
	has "stale: eno2 stays on brd" eno2 master=brd
}

# Addresses podform does not own (a lifetime: SLAAC, DHCP) and the kernel's side effects of removals
s11_addresses() {
	cat >"$cfg/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-x}
spec:
  addresses: [10.0.0.5/24, 10.0.0.6/24]
YAML
	run "setup: apply" 0 pf apply --yes
	has "br-x has both addresses" br-x addrs=10.0.0.5/24,10.0.0.6/24

	# an address with a lifetime (a DHCP lease, a SLAAC address) is not podform's
	ip addr add 10.9.9.9/24 dev br-x valid_lft 300 preferred_lft 300
	ip addr add fd00:9::9/64 dev br-x valid_lft 300 preferred_lft 300
	run "addresses with a lifetime: plan --detailed-exitcode exits 0" 0 pf plan --detailed-exitcode
	saw "addresses with a lifetime: no changes" "No changes: the host matches the configuration."
	run "addresses with a lifetime: apply" 0 pf apply --yes
	saw "addresses with a lifetime: apply makes no netlink change" \
		"Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
	has "addresses with a lifetime: they stay" br-x addrs=10.0.0.5/24,10.0.0.6/24,10.9.9.9/24,fd00:9::9/64

	# removing an IPv4 primary takes its subnet's secondaries along (promote_secondaries is off
	# by default): the one kept must be there after one apply
	sed -i 's|addresses: \[10.0.0.5/24, 10.0.0.6/24\]|addresses: [10.0.0.6/24]|' "$cfg/links.yaml"
	run "drop the primary: plan exits 2" 2 pf plan -v --detailed-exitcode
	saw "drop the primary: planned" "~ bridge br-x (live)" "    addresses: 10.0.0.5/24, 10.0.0.6/24 -> 10.0.0.6/24  [live]"
	run "drop the primary: one apply converges" 0 pf apply --yes
	saw "drop the primary: verified" "Verify: observed the host again; no changes remain."
	has "drop the primary: 10.0.0.6/24 is there, 10.0.0.5/24 is not, the others stay" br-x \
		addrs=10.0.0.6/24,10.9.9.9/24,fd00:9::9/64
	run "drop the primary: the next apply" 0 pf apply --yes
	saw "drop the primary: nothing left" "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions."
}

scenarios=(s1_create s2_drift s3_inplace s4_ports s5_adopt s6_prune s7_errors s8_kernel_error s9_order s10_plan_guards s11_addresses s12_moving_child s13_stale_record)

# ---- inside a scenario's namespace ----
if [ "${1-}" = --scenario ]; then
	scen=$2
	dir=$LINKS_WORK/$scen
	mkdir -p "$dir/cfg"
	cfg=$dir/cfg out=$dir/out
	PODFORM_STATE_DIR=$(mktemp -d "$dir/state.XXXXXX")
	export PODFORM_STATE_DIR
	set -E
	trap 'echo "# $scen: aborted at line $LINENO: $BASH_COMMAND"' ERR
	ip link set lo up
	"$scen"
	echo "# $scen: done"
	exit $((failures == 0 ? 0 : 1))
fi

# ---- the driver ----
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null || skip "no ip(8)"
command -v python3 >/dev/null || skip "no python3"
unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n true fails)"
unshare -n bash -c 'ip link add name pa type veth peer name pb && ip link add name pbr type bridge &&
	ip link add name pmv link pa type macvlan && ip link add name pmt link pa type macvtap' >/dev/null 2>&1 ||
	skip "this kernel lacks veth, bridge, macvlan or macvtap links"
if [ ! -x "$podform" ]; then
	echo "links.sh: $podform is not built" >&2
	exit 1
fi

LINKS_WORK=$(mktemp -d /tmp/podform-links.XXXXXX)
export LINKS_WORK
trap 'rm -rf "$LINKS_WORK"' EXIT
start=$SECONDS
for s in "${scenarios[@]}"; do
	[ -z "${LINKS_ONLY-}" ] || [[ " $LINKS_ONLY " == *" $s "* ]] || continue
	echo "# $s"
	rc=0 t=$SECONDS
	timeout --kill-after=5 60 unshare -n -- bash "$0" --scenario "$s" >"$LINKS_WORK/$s.log" 2>&1 || rc=$?
	cat "$LINKS_WORK/$s.log"
	echo "# $s: $((SECONDS - t)) s"
	n=$(grep -c '^not ok' "$LINKS_WORK/$s.log" || true)
	failures=$((failures + n))
	if ! grep -qxF "# $s: done" "$LINKS_WORK/$s.log"; then
		not_ok "$s ended early (exit $rc)"
	fi
done
echo "# $failures failed, $((SECONDS - start)) s"
[ "$failures" -eq 0 ]
