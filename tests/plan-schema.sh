#!/bin/bash
# `podform plan --output json` and schemas/plan.schema.json agree: plans with creations, changes
# of every landing, orphans, deletions and restarts, host links, and an empty plan, all validate;
# the schema is strict enough to reject what podform never prints. Runs on libvirt's test driver
# (hosts written under a temporary directory) and only plans, so it touches nothing: host links
# are read, never changed.
set -u
podform=${top_builddir:-.}/podform
src=${top_srcdir:-.}
python=${PYTHON:-python3}
[ "$python" = ":" ] && python=python3
schema=$src/schemas/plan.schema.json
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# plan keeps its record of enslaved ports (and its lock) there, not in /var/lib/podform
export PODFORM_STATE_DIR=$tmp/state

ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

if ! "$python" -c 'import jsonschema' 2>/dev/null; then
        echo "FAIL: python3-jsonschema is needed (apt-get install python3-jsonschema)"
        exit 1
fi

# validate.py SCHEMA JSON [CHECK]: JSON valid against SCHEMA (Draft-07, formats off), then the
# Python expression CHECK, over the parsed plan `p`, must be true.
cat >"$tmp/validate.py" <<'EOF'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
text = open(sys.argv[2]).read()
if text.count("\n") != 1 or not text.endswith("\n"):
    sys.exit("not one line of JSON")
p = json.loads(text)
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(p), key=lambda e: list(e.absolute_path))
for e in errors:
    print("  %s: %s" % ("/".join(str(x) for x in e.absolute_path) or "(root)", e.message[:300]))
if errors:
    sys.exit(1)
acts = p["actions"]
by = {(a["kind"], a["name"]): a for a in acts}
def change(kind, name, field):
    for c in by[(kind, name)]["changes"]:
        if c["field"] == field:
            return c
    return None
# what the schema cannot say: indexes, dependencies backwards, the summary adds up
assert [a["index"] for a in acts] == list(range(len(acts))), "index is not the position"
assert all(d < a["index"] for a in acts for d in a["depends_on"]), "a dependency is not an earlier action"
s = p["summary"]
for op in ("create", "change", "delete"):
    assert s[op] == sum(a["op"] == op for a in acts), "summary." + op
assert s["disruptive"] == sum(a["disruptive"] for a in acts), "summary.disruptive"
if len(sys.argv) > 3 and not eval("(" + sys.argv[3] + ")"):
    sys.exit("check failed: " + sys.argv[3])
EOF

# An invalid plan must fail: the schema is not vacuous.
cat >"$tmp/mutate.py" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
what = sys.argv[2]
a = p["actions"][0]
if what == "op": a["op"] = "replace"
elif what == "kind": a["kind"] = "domain"
elif what == "landing": a["changes"][0]["landing"] = "reboot"
elif what == "extra": a["remark"] = "x"
elif what == "missing": del a["depends_on"]
elif what == "size": a["size"] = 1
elif what == "version": p["format_version"] = 2
json.dump(p, sys.stdout)
print()
EOF

# plan NAME EXPECTED_EXIT HOST_XML [PODFORM OPTION]...: the JSON plan of the example on HOST_XML.
plan() {
        local name=$1 want=$2 host=$3
        shift 3
        "$podform" plan --color never --output json --detailed-exitcode "${files[@]}" \
                --connect "test://$host" "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"
        local rc=$?
        if [ "$rc" -ne "$want" ]; then
                bad "$name: podform plan exits $rc, expected $want"
                head -5 "$tmp/$name.err"
                return 1
        fi
}

# check NAME CHECK: the plan NAME validates against the schema, and CHECK holds.
check() {
        local name=$1 out
        if out=$("$python" "$tmp/validate.py" "$schema" "$tmp/$name.json" "${2:-True}" 2>&1); then
                ok "$name: plan validates${2:+ and reads as expected}"
        else
                bad "$name"
                echo "$out" | tail -5
        fi
}

# 1. The example on a fresh host: everything is created. (It uses the maas network of
# examples/maas-network.yaml unless it declares one itself.)
files=(-f "$src/examples/libvirt-host")
if ! grep -qs '^  name: maas$' "$src"/examples/libvirt-host/*.yaml && [ -f "$src/examples/maas-network.yaml" ]; then
        files=(-f "$src/examples/maas-network.yaml" "${files[@]}")
fi
plan example 2 "$src/tests/data/hosts/kvm01.xml" &&
        check example 's["create"] == len(acts) > 0 and not p["orphans"] and all(a["op"] == "create" for a in acts)
                and {"pool", "volume", "network", "vm"} == {a["kind"] for a in acts}
                and all(a["depends_on"] for a in acts if a["kind"] in ("volume", "vm"))'

# The rest uses a configuration of its own, so that it does not change with the example.
cat >"$tmp/config.yaml" <<'EOF'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
spec: {defaultStoragePool: vms}
---
apiVersion: podform/v1
kind: Network
metadata: {name: maas}
spec:
  forward: nat
  bridge: {name: virbr1, stp: false, forwardDelay: 0}
  ips: [{address: 172.16.99.1, prefix: 24}]
---
apiVersion: podform/v1
kind: Network
metadata: {name: lab}
spec:
  forward: none
  bridge: {name: virbr-lab, stp: true}
  domain: lab.example
  ips:
    - address: 10.77.0.1
      prefix: 24
      dhcp:
        ranges: [{start: 10.77.0.100, end: 10.77.0.199}]
        hosts: [{mac: "52:54:00:77:00:10", ip: 10.77.0.10, name: db1}]
---
apiVersion: podform/v1
kind: StoragePool
metadata: {name: vms}
spec: {type: dir, path: /var/lib/libvirt/images/podform-vms, autostart: true}
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: web1}
spec:
  running: true
  domain:
    type: qemu
    cpu: {cores: 2}
    memory: 512Mi
    devices:
      disks: [{name: root, size: 8Gi, format: qcow2}]
      interfaces: [{name: pxe, bridge: {}}]
  networks: [{name: pxe, network: maas}]
---
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: db1}
spec:
  running: true
  domain:
    type: qemu
    memory: 1Gi
    boot: [hd]
    devices:
      disks: [{name: root, size: 16Gi}]
      interfaces: [{name: lab, bridge: {}, macAddress: "52:54:00:77:00:10"}]
  networks: [{name: lab, network: lab}]
EOF
files=(-f "$tmp/config.yaml")

# 2. A host where things exist and differ: an adopted `lab` network (DHCP edits in place, STP
# needing a restart of the network), the pool, a too-small volume, a running podform VM web1
# with less memory and a disk no longer declared, and a podform VM no longer declared.
cat >"$tmp/changed.xml" <<'EOF'
<node>
  <cpu>
    <nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>2</threads>
    <active>16</active><mhz>2400</mhz><model>x86_64</model>
  </cpu>
  <memory>67108864</memory>
  <network>
    <name>lab</name>
    <uuid>4b3f0a4e-1d1c-4c4e-9d6a-2f5b2f0c0b01</uuid>
    <bridge name='virbr-lab' stp='off' delay='0'/>
    <domain name='lab.example'/>
    <ip address='10.77.0.1' prefix='24'>
      <dhcp>
        <range start='10.77.0.100' end='10.77.0.150'/>
        <host mac='52:54:00:77:00:10' ip='10.77.0.11' name='db1'/>
      </dhcp>
    </ip>
  </network>
  <pool type='dir'>
    <name>vms</name>
    <uuid>4b3f0a4e-1d1c-4c4e-9d6a-2f5b2f0c0c01</uuid>
    <target><path>/var/lib/libvirt/images/podform-vms</path></target>
    <volume type='file'><name>web1-root</name><capacity unit='GiB'>4</capacity><target><format type='qcow2'/></target></volume>
    <volume type='file'><name>web1-old</name><capacity unit='GiB'>2</capacity><target><format type='raw'/></target></volume>
  </pool>
  <domain type='qemu'>
    <name>web1</name>
    <uuid>4b3f0a4e-1d1c-4c4e-9d6a-2f5b2f0c0d01</uuid>
    <metadata>
      <podform:vm xmlns:podform='https://podform.dev/xmlns/1' name='web1' config='vms.yaml' hash='0'>
        <podform:interface name='pxe' mac='52:54:00:00:96:41'/>
        <podform:disk name='root' pool='vms' volume='web1-root'/>
        <podform:disk name='old' pool='vms' volume='web1-old'/>
      </podform:vm>
    </metadata>
    <memory unit='KiB'>262144</memory>
    <vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type><boot dev='network'/><boot dev='hd'/></os>
    <devices>
      <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='vms' volume='web1-root'/><target dev='vda' bus='virtio'/></disk>
      <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='vms' volume='web1-old'/><target dev='vdb' bus='virtio'/></disk>
      <interface type='network'><mac address='52:54:00:00:96:41'/><source network='maas'/><model type='virtio'/></interface>
      <serial type='pty'><target port='0'/></serial>
    </devices>
  </domain>
  <domain type='qemu'>
    <name>old-vm</name>
    <uuid>4b3f0a4e-1d1c-4c4e-9d6a-2f5b2f0c0d02</uuid>
    <metadata><podform:vm xmlns:podform='https://podform.dev/xmlns/1' name='old-vm' config='vms.yaml' hash='0'/></metadata>
    <memory unit='KiB'>262144</memory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices/>
  </domain>
</node>
EOF

plan changed 2 "$tmp/changed.xml" &&
        check changed 'by[("network", "lab")]["op"] == "change" and by[("network", "lab")]["adopted"]
                and by[("network", "lab")]["landing"] == "recreate" and by[("network", "lab")]["disruptive"]
                and change("network", "lab", "ip[10.77.0.1].dhcp.host[52:54:00:77:00:10]")["landing"] == "live"
                and change("volume", "vms/web1-root", "capacity")["old"] == str(4 << 30)
                and by[("vm", "web1")]["landing"] == "restart" and not by[("vm", "web1")]["restart"]
                and change("vm", "web1", "disk[vms/web1-old]")["new"] is None
                and {(o["kind"], o["name"]) for o in p["orphans"]} == {("vm", "old-vm")}
                and s["delete"] == 0'

# 3. The same with --prune and --allow-restart: a running VM deleted, a VM restarted now. The
# volumes are not podform's: on the test driver nothing records them (the ownership record of a
# test:// host lives in the process), so prune leaves them; test_plan_data covers volume deletions.
plan prune 2 "$tmp/changed.xml" --prune --allow-restart &&
        check prune 'by[("vm", "web1")]["restart"] and by[("vm", "old-vm")]["op"] == "delete"
                and by[("vm", "old-vm")]["disruptive"] and ("volume", "vms/web1-old") not in by
                and not p["orphans"] and [a["op"] for a in acts][-1:] == ["delete"]'

# 4. Nothing declared but the Host: podform's own VMs are deleted, and nothing else.
cat >"$tmp/host-only.yaml" <<'EOF'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
spec: {defaultStoragePool: vms}
EOF
files=(-f "$tmp/host-only.yaml")
plan host-only 2 "$tmp/changed.xml" --prune &&
        check host-only 'all(a["op"] == "delete" for a in acts) and {k for k in by} == {("vm", "web1"), ("vm", "old-vm")}'

# 5. An empty plan: exit 0 with --detailed-exitcode, empty lists.
plan empty 0 "$src/tests/data/hosts/kvm01.xml" &&
        check empty 'acts == [] and p["orphans"] == [] and p["pending_restart"] == [] and s == {"create": 0, "change": 0, "delete": 0, "disruptive": 0}'

# 6. Host links: a Bridge without ports, a Macvlan and a Macvtap on `lo`, and a libvirt network
# on the bridge. plan only reads the links of this network namespace (the names are ones no host
# has), so this runs unprivileged, and the kernel is never asked to put a macvlan on `lo`.
cat >"$tmp/links.yaml" <<'EOF'
apiVersion: podform/v1
kind: Host
metadata: {name: kvm01}
---
apiVersion: podform/v1
kind: Bridge
metadata: {name: pfschema-br0}
spec: {stp: true, addresses: [10.99.0.1/24]}
---
apiVersion: podform/v1
kind: Macvlan
metadata: {name: pfschema-mvl0}
spec: {parent: lo, mode: vepa}
---
apiVersion: podform/v1
kind: Macvtap
metadata: {name: pfschema-mvt0}
spec: {parent: lo}
---
apiVersion: podform/v1
kind: Network
metadata: {name: on-bridge}
spec: {forward: bridge, bridge: {name: pfschema-br0}}
EOF
files=(-f "$tmp/links.yaml")
plan links 2 "$src/tests/data/hosts/kvm01.xml" &&
        check links '[a["kind"] for a in acts] == ["bridge", "macvlan", "macvtap", "network"]
                and all(a["op"] == "create" for a in acts)
                and change("bridge", "pfschema-br0", "forwardDelay")["new"] == "15"
                and change("bridge", "pfschema-br0", "stp")["new"] == "true"
                and change("macvlan", "pfschema-mvl0", "mode")["new"] == "vepa"
                and change("macvtap", "pfschema-mvt0", "mode")["new"] == "bridge"
                and change("macvtap", "pfschema-mvt0", "parent")["new"] == "lo"
                and by[("network", "on-bridge")]["depends_on"] == [0]'

# 6b. A VM without domain.type: the test driver offers no kvm, so qemu, and the action says why.
cat >"$tmp/untyped.yaml" <<'EOF'
apiVersion: podform/v1
kind: VirtualMachine
metadata: {name: untyped}
spec:
  running: false
  domain:
    memory: 512Mi
    devices:
      autoattachPodInterface: false
EOF
files=(-f "$tmp/untyped.yaml")
plan untyped 2 "$src/tests/data/hosts/kvm01.xml" &&
        check untyped '[a["kind"] for a in acts] == ["vm"]
                and by[("vm", "untyped")]["note"] == "type qemu: this host offers no kvm for x86_64"'

# 7. The schema rejects what podform does not print.
if [ -s "$tmp/example.json" ]; then
        for what in op kind landing extra missing size version; do
                "$python" "$tmp/mutate.py" "$tmp/example.json" "$what" >"$tmp/mutated.json"
                if "$python" "$tmp/validate.py" "$schema" "$tmp/mutated.json" >/dev/null 2>&1; then
                        bad "the schema accepts a plan with a bad $what"
                else
                        ok "the schema rejects a plan with a bad $what"
                fi
        done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
