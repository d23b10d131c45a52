#!/bin/bash
# The command line: every subcommand's --help, --version, exit codes, option checking, colour.
set -u
podform=${top_builddir:-.}/podform
src=${top_srcdir:-.}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME EXPECTED_EXIT GREP_PATTERN -- COMMAND...: run, compare exit code, grep combined output.
check() {
        local name=$1 want=$2 pattern=$3
        shift 4
        local out rc
        out=$("$@" 2>&1)
        rc=$?
        if [ "$rc" -ne "$want" ]; then
                echo "FAIL: $name: exit $rc, expected $want"; echo "$out" | head -5; fail=$((fail + 1)); return
        fi
        if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$out"; then
                echo "FAIL: $name: output does not match /$pattern/"; echo "$out" | head -5; fail=$((fail + 1)); return
        fi
        echo "ok: $name"; pass=$((pass + 1))
}

check "version" 0 '^podform [0-9]+\.[0-9]+\.[0-9]+$' -- "$podform" --version
check "main help" 0 'Commands:' -- "$podform" --help
check "no command" 1 'Usage: podform COMMAND' -- "$podform"
check "unknown command" 1 "unknown command 'frobnicate'" -- "$podform" frobnicate
for cmd in validate plan apply watch show graph; do
        check "$cmd --help" 0 "^Usage: podform $cmd" -- "$podform" "$cmd" --help
done
for cmd in watch; do
        check "$cmd not implemented" 1 "'$cmd' is not implemented yet" -- "$podform" "$cmd"
done
# plan and apply against libvirt's test driver (a host private to the process)
testhost="test://$src/tests/data/hosts/kvm01.xml"
example=(-f "$src/examples/maas-network.yaml" -f "$src/examples/libvirt-host")
check "plan json, changes pending" 2 '"summary":\{"create":8,"change":0,"delete":0,"disruptive":0\}' -- \
        "$podform" plan "${example[@]}" --connect "$testhost" --output json --detailed-exitcode
check "plan text" 0 '^Plan: 8 to create, 0 to change, 0 to delete\.$' -- "$podform" plan "${example[@]}" --connect "$testhost"
# a host where the example finds drift: one line per change, the same in a pipe as in a file
drift="test://$src/tests/data/hosts/kvm02-drift.xml"
check "plan text: one line per change" 2 \
        '^! vm pxe1 \(restart\)  -disk vms/pxe1-old, memory 256 MiB -> 512 MiB, \+iface pxe \[live\]$' -- \
        "$podform" plan "${example[@]}" --connect "$drift" --detailed-exitcode
"$podform" plan "${example[@]}" --connect "$drift" >"$tmp/plan.file" 2>&1
"$podform" plan "${example[@]}" --connect "$drift" 2>&1 | cat >"$tmp/plan.pipe"
check "plan text: the same through a pipe" 0 '' -- cmp "$tmp/plan.file" "$tmp/plan.pipe"
check "plan text: notices under their heading" 0 '^Notices:$' -- cat "$tmp/plan.file"
check "apply dry run" 0 '^Plan: 8 to create' -- "$podform" apply --dry-run --prune --yes --host kvm02 "${example[@]}" --connect "$testhost"
# --host must name one of the Host documents, when there are any; without one it is free (fleet
# repositories scope resources with metadata.host alone).
cat >"$tmp/hosts.yaml" <<'YAML'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm-pod01}
spec: {}
---
apiVersion: podform/v1
kind: Host
metadata: {name: kvm-pod03}
spec: {}
YAML
check "plan --host naming no Host document" 1 "^podform: --host 'kvm-pod02': no Host document has that name; the configuration's Hosts are kvm-pod01 \\($tmp/hosts\\.yaml:3\\), kvm-pod03 \\($tmp/hosts\\.yaml:8\\); name one of them, or declare a Host 'kvm-pod02'; did you mean \"kvm-pod01\"\\?$" -- \
        "$podform" plan -f "$tmp/hosts.yaml" --host kvm-pod02 --connect "$testhost"
check "apply --host naming no Host document changes nothing" 1 "^podform: --host 'web'" -- \
        "$podform" apply -f "$tmp/hosts.yaml" --host web --connect "$testhost" --yes
check "plan --host naming a Host document" 0 "^podform plan: host kvm-pod03, " -- \
        "$podform" plan -f "$tmp/hosts.yaml" --host kvm-pod03 --connect "$testhost"
check "plan --host without Host documents" 0 "^podform plan: host kvm-pod02, " -- \
        "$podform" plan -f "$src/examples/maas-network.yaml" --host kvm-pod02 --connect "$testhost"
check "apply verifies" 0 '^Verify: observed the host again; no changes remain\.$' -- "$podform" apply "${example[@]}" --connect "$testhost"
# Messages cite podform.yaml(5) by its section titles (resolve/attach.h): they must exist there.
for title in '.SH RESOLUTION' '.SS The pod network' '.SS Interface constraints'; do
        check "podform.yaml(5) has $title" 0 "" -- grep -qxF "$title" "$src/man/podform.yaml.5"
done
check "apply with pod networks" 1 "no target for the pod network of interface 'test1' \\(see podform\\.yaml\\(5\\), RESOLUTION, The pod network\\): " -- "$podform" apply -f "$src/examples/kubevirt/multus-default.yaml" --connect "$testhost"
# A constraint key whose Subnet is scoped to another host: validate (the whole repository) finds
# it, the plan of this host does not, and says so instead of leaving the VM out of the plan.
cat >"$tmp/scoped.yaml" <<'YAML'
apiVersion: podform/v1
kind: Subnet
metadata: {name: pxe, host: kvm01}
spec: {cidr: 10.20.0.0/24, interfaces: [br-pxe]}
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: c1}
spec:
  running: false
  domain:
    devices: {interfaces: [{name: pxe, bridge: {}}]}
  networks: [{name: pxe, constraints: {subnet: pxe}}]
YAML
check "validate: a Subnet of another host counts" 0 'configuration is valid' -- "$podform" validate -f "$tmp/scoped.yaml"
check "plan for a host without that Subnet: an error at the key" 1 \
        'scoped\.yaml:13:48: error: constraint subnet: no Subnet for this host matches pxe' -- \
        "$podform" plan -f "$tmp/scoped.yaml" --host kvm02 --connect "$testhost"
check "links on NICs this host lacks" 1 "port 'eno1' of Bridge br-pxe is not a link on this host" -- "$podform" plan -f "$src/examples/maas-pod" --connect "$testhost"
check "capacity of the default test host" 1 'does not fit' -- "$podform" plan "${example[@]}" --connect test:///default
check "bad URI" 1 'cannot connect to libvirt at nope:///x' -- "$podform" plan "${example[@]}" --connect nope:///x
check "plan bad output: the command and the values" 1 "^podform: --output of 'podform plan' takes text or json, not 'xml'$" -- "$podform" plan --output xml
check "-o is --output" 0 '"summary":' -- "$podform" plan -o json "${example[@]}" --connect "$testhost"
check "an option of another command is named, not its value" 1 "^podform: option '--output' is not accepted by 'podform apply'$" -- \
        "$podform" apply --output json
check "a missing value: one line naming the option" 1 "^podform: option '-o' needs a value$" -- "$podform" plan -o
check "an unknown option is named" 1 "^podform: unknown option '--bogus'$" -- "$podform" plan --bogus
printf 'apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: q1}\nspec:\n  domain: {memory: 4GB}\n' >"$tmp/decimal.yaml"
check "validate warns of decimal memory" 0 'warning: memory "4GB" is in decimal units' -- "$podform" validate -f "$tmp/decimal.yaml"
if "$podform" validate -q -f "$tmp/decimal.yaml" 2>&1 | grep -q .; then
        echo "FAIL: validate -q prints more than errors"; fail=$((fail + 1))
else
        echo "ok: validate -q prints errors only, no warning"; pass=$((pass + 1))
fi
check "a long option's missing value names it" 1 "^podform: option '--connect' needs a value$" -- "$podform" plan --connect
check "--parallel takes 1 to 64" 1 "^podform: --parallel takes a number of changes at once from 1 to 64, not '0'$" -- \
        "$podform" apply --parallel 0
check "--parallel is apply's" 1 "^podform: option '--parallel' is not accepted by 'podform plan'$" -- \
        "$podform" plan --parallel 2
check "apply --parallel 1 reports as the default does" 0 '^  done    \+ vm pxe1$' -- \
        "$podform" apply --parallel 1 --yes "${example[@]}" --connect "$testhost"
check "a value for an option that takes none" 1 "^podform: option '--yes' takes no value$" -- "$podform" apply --yes=1
check "--verbose=2 is named as written" 1 "^podform: option '--verbose' takes no value$" -- "$podform" plan --verbose=2
check "an unknown short option in a cluster" 1 "^podform: unknown option '-x'$" -- "$podform" plan -qx
check "a directory and a file in it: the file is read once" 0 'configuration is valid: 5 resources in 4 files' -- \
        "$podform" validate -f "$src/examples/libvirt-host" -f "$src/examples/libvirt-host/vms.yaml"
check "the same file twice is read once" 0 'configuration is valid: 7 resources in 5 files' -- \
        "$podform" validate "${example[@]}" -f "$src/examples/maas-network.yaml"
# piped, the refusal still comes after the plan it refers to
drift=(-f "$src/examples/maas-network.yaml" -f "$src/examples/libvirt-host" --connect "test://$src/tests/data/hosts/kvm02-drift.xml")
order=$("$podform" apply --prune "${drift[@]}" </dev/null 2>&1 | cat | grep -nE '^Plan:|no terminal can confirm' | cut -d: -f1 | tr '\n' ' ')
if [[ $order =~ ^([0-9]+)\ ([0-9]+)\ $ ]] && [ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ]; then
        echo "ok: piped, the refusal comes after the plan"; pass=$((pass + 1))
else
        echo "FAIL: piped, the plan and the refusal come in the wrong order (lines $order)"; fail=$((fail + 1))
fi
if "$podform" --help | grep -q '^  watch '; then
        echo "FAIL: --help lists watch, which is not implemented"; fail=$((fail + 1))
else
        echo "ok: --help lists only the commands that work"; pass=$((pass + 1))
fi
check "show bad output" 1 "^podform: --output of 'podform show' takes yaml or json, not 'xml'$" -- "$podform" show --output xml
check "show of the default test host" 0 "^kind: Network$" -- "$podform" show --connect test:///default
check "show --owned: only the Host on a fresh test host" 0 '^kind: Host$' -- "$podform" show --owned --connect "$testhost"
if "$podform" show --owned --connect test:///default | grep -q '^kind: Network$'; then
        echo "FAIL: show --owned shows a network podform does not own"; fail=$((fail + 1))
else
        echo "ok: show --owned leaves out what podform does not own"; pass=$((pass + 1))
fi
# the round trip on the test driver's default host (each process gets the same fresh one)
"$podform" show --connect test:///default >"$tmp/default.yaml" 2>&1
check "show of the default test host validates" 0 'configuration is valid' -- "$podform" validate -f "$tmp/default.yaml"
check "and plans nothing there" 0 '^No changes: the host matches the configuration\.$' -- \
        "$podform" plan -f "$tmp/default.yaml" --connect test:///default --detailed-exitcode
check "and applies with no mutating call" 0 '^Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions\.$' -- \
        "$podform" apply -f "$tmp/default.yaml" --connect test:///default --yes
check "--owned and --all together are refused" 1 "cannot be combined" -- "$podform" show --owned --all
check "show json" 0 '"resources": \[' -- "$podform" show --output json --connect "$testhost"
check "show --all is show's only" 1 "option '--all' is not accepted" -- "$podform" plan --all
check "watch bad debounce" 1 "--debounce takes" -- "$podform" watch --debounce soon
check "watch options parse" 1 "not implemented yet" -- "$podform" watch --debounce 500 --resync 60
check "option not accepted" 1 "option '--dry-run' is not accepted" -- "$podform" validate --dry-run
check "bad color" 1 "--color takes auto, always or never" -- "$podform" validate --color sometimes
check "verbose and quiet" 1 "cannot be combined" -- "$podform" validate -v -q -f "$src/examples"
check "stray argument" 1 "unexpected argument 'examples'" -- "$podform" validate examples

check "validate examples" 0 '^podform: configuration is valid: [0-9]+ resources in [0-9]+ files$' -- "$podform" validate -f "$src/examples"
check "validate -q is silent" 0 '^$' -- "$podform" validate -q -f "$src/examples"
check "validate -v lists" 0 'VirtualMachine +web1' -- "$podform" validate -v -f "$src/examples/maas-pod"
check "validate two paths" 0 'resources in 2 files' -- "$podform" validate -f "$src/examples/maas-network.yaml" -f "$src/examples/maas-pod/host.yaml"
# validate has no host: a reference nothing declares may be live, so it is a warning (with a
# "did you mean" from the declared names), and validate succeeds; a host interface is warned
# about only when close to a declared link (a NIC is declared nowhere). The plan, which sees the
# host, makes the missing ones errors instead, and does not repeat the warnings.
cat >"$tmp/refs.yaml" <<'YAML'
apiVersion: podform/v1
kind: Network
metadata: {name: maas}
spec: {forward: nat}
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-lab}
spec: {}
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: typo}
spec:
  running: false
  domain:
    memory: 512Mi
    devices:
      disks: [{name: root, size: 1Gi, pool: vmpoool}]
      interfaces: [{name: a, bridge: {}}, {name: b, bridge: {}}, {name: c, bridge: {}}]
  networks: [{name: a, network: maaas}, {name: b, host: {interface: br-lb}}, {name: c, host: {interface: eno1}}]
YAML
refs_out=$("$podform" validate -f "$tmp/refs.yaml" 2>&1); refs_rc=$?
refs_want="$tmp/refs.yaml:19:45: warning: storage pool \"vmpoool\" is not declared here; it must exist on the host as a libvirt storage pool
      disks: [{name: root, size: 1Gi, pool: vmpoool}]
                                            ^
$tmp/refs.yaml:21:33: warning: network \"maaas\" is not declared here; it must exist on the host as a libvirt network; did you mean \"maas\"?
  networks: [{name: a, network: maaas}, {name: b, host: {interface: br-lb}}, {name: c, host: {interface: eno1}}]
                                ^
$tmp/refs.yaml:21:69: warning: host interface \"br-lb\" is not declared here; it must exist on the host as a link; did you mean \"br-lab\"?
  networks: [{name: a, network: maaas}, {name: b, host: {interface: br-lb}}, {name: c, host: {interface: eno1}}]
                                                                    ^
podform: configuration is valid: 3 resources in 1 file"
if [ "$refs_rc" -eq 0 ] && [ "$refs_out" = "$refs_want" ]; then
        echo "ok: validate warns about undeclared references"; pass=$((pass + 1))
else
        echo "FAIL: validate warns about undeclared references: exit $refs_rc"; diff <(echo "$refs_want") <(echo "$refs_out"); fail=$((fail + 1))
fi
check "plan: the undeclared network is an error, with a did you mean" 1 \
        "^$tmp/refs\\.yaml:21:33: error: network 'maaas' is neither declared nor defined in libvirt on this host; declare a Network of that name, or name an existing one; did you mean \"maas\"\\?$" -- \
        "$podform" plan -f "$tmp/refs.yaml" --connect "$testhost"
check "plan: no validate warnings" 0 "" -- bash -c "! '$podform' plan -f '$tmp/refs.yaml' --connect '$testhost' 2>&1 | grep -q 'is not declared here'"
cat >"$tmp/links.yaml" <<'YAML'
apiVersion: podform/v1
kind: Bridge
metadata: {name: br-lab}
spec: {ports: [eno1]}
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: mv0}
spec: {parent: br-lb, mode: bridge}
---
apiVersion: podform/v1
kind: Network
metadata: {name: ext}
spec: {forward: bridge, bridge: {name: br-lba}}
YAML
refs_out=$("$podform" validate -f "$tmp/links.yaml" 2>&1); refs_rc=$?
refs_want="$tmp/links.yaml:9:16: warning: parent \"br-lb\" is not declared here; it must exist on the host as a link; did you mean \"br-lab\"?
spec: {parent: br-lb, mode: bridge}
               ^
$tmp/links.yaml:14:40: warning: bridge \"br-lba\" is not declared here; it must exist on the host as a link; did you mean \"br-lab\"?
spec: {forward: bridge, bridge: {name: br-lba}}
                                       ^
podform: configuration is valid: 3 resources in 1 file"
if [ "$refs_rc" -eq 0 ] && [ "$refs_out" = "$refs_want" ]; then
        echo "ok: validate warns about near misses of declared links, not about NICs"; pass=$((pass + 1))
else
        echo "FAIL: validate warns about near misses of declared links: exit $refs_rc"; diff <(echo "$refs_want") <(echo "$refs_out"); fail=$((fail + 1))
fi
check "missing path" 1 "^/nonexistent/podform: error: cannot read the configuration: No such file or directory" -- "$podform" validate -f /nonexistent/podform
if [ ! -e /etc/podform ]; then
        check "default path" 1 "^/etc/podform: error: cannot read the configuration" -- "$podform" validate
fi

printf 'apiVersion: podform/v1\nkind: Network\nmetadata: {name: n}\nspec: {forward: nta}\n' >"$tmp/bad.yaml"
check "error format" 1 "^$tmp/bad.yaml:4:17: error: unknown forward mode \"nta\"; did you mean \"nat\"\\?$" -- "$podform" validate -f "$tmp/bad.yaml"
check "error summary" 1 "^podform: 1 error; nothing was changed$" -- "$podform" validate -f "$tmp/bad.yaml"
check "caret line" 1 '^ {16}\^$' -- "$podform" validate -f "$tmp/bad.yaml"
check "color always" 1 $'\033\\[' -- "$podform" validate --color always -f "$tmp/bad.yaml"
out=$("$podform" validate --color never -f "$tmp/bad.yaml" 2>&1)
if grep -q $'\033' <<<"$out"; then echo "FAIL: color never has escapes"; fail=$((fail + 1)); else echo "ok: color never"; pass=$((pass + 1)); fi
# --color auto on a terminal: colour unless NO_COLOR is set (script(1) provides the terminal).
if command -v script >/dev/null; then
        out=$(TERM=xterm script -qec "'$podform' validate -f '$tmp/bad.yaml'" /dev/null 2>&1)
        if grep -q $'\033' <<<"$out"; then echo "ok: color auto on a tty"; pass=$((pass + 1)); else echo "FAIL: no colour on a tty"; fail=$((fail + 1)); fi
        out=$(NO_COLOR=1 TERM=xterm script -qec "'$podform' validate -f '$tmp/bad.yaml'" /dev/null 2>&1)
        if grep -q $'\033' <<<"$out"; then echo "FAIL: NO_COLOR ignored"; fail=$((fail + 1)); else echo "ok: NO_COLOR"; pass=$((pass + 1)); fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
