#!/bin/bash
# Smoke test of the real-libvirtd harness, with virsh only: a NAT network, a
# dir pool, a qcow2 volume and a running TCG domain on them, then teardown.
# Proves the private daemon can do everything podform will ask of it, and that
# the bridge stays inside the private netns.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Re-exec inside a private libvirtd (exit 77 = skip comes from there).
if [ -z "${WITH_LIBVIRTD-}" ]; then
	exec "$here/with-libvirtd.sh" "$BASH" "$0" "$@"
fi

start=$SECONDS
n=0 pass=0 fail=0
name=pfsmoke bridge=pfsmoke0
dir=$WITH_LIBVIRTD_DIR/smoke # 0755 parents: qemu runs as libvirt-qemu
mkdir -p "$dir"
out=$dir/step.out

# step DESCRIPTION COMMAND...: one numbered ok/not ok line; output on failure.
step() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$out" 2>&1; then
		echo "ok $n - $what"
		pass=$((pass + 1))
	else
		echo "not ok $n - $what"
		sed 's/^/#   /' "$out"
		fail=$((fail + 1))
		return 1
	fi
}
# expect_eq WANT COMMAND...: COMMAND's trimmed stdout must be WANT.
expect_eq() {
	local want=$1 got
	shift
	got=$("$@" | tr -d '[:space:]')
	[ "$got" = "$want" ] || { echo "got '$got', want '$want'"; return 1; }
}
not() { ! "$@"; }
# has TEXT ERE: grep on a string, not a pipe (grep -q + pipefail = SIGPIPE).
has() { grep -Eq -- "$2" <<<"$1" || { printf 'no /%s/ in:\n%s\n' "$2" "$1"; return 1; }; }
net_active() { has "$(virsh net-info "$name")" '^Active:[[:space:]]+yes'; }
vol_ok() {
	local x
	x=$(virsh vol-dumpxml --pool "$name" disk.qcow2)
	has "$x" "<format type='qcow2'/>" && has "$x" "<capacity unit='bytes'>67108864<"
}
all_names() { virsh list --all --name; virsh net-list --all --name; virsh pool-list --all --name; }
tap_on_bridge() { has "$(ip -o link show master "$bridge")" 'vnet[0-9]+'; }
on_host() { nsenter --net="$WITH_LIBVIRTD_HOST_NETNS" "$@"; }

cat >"$dir/net.xml" <<EOF
<network>
  <name>$name</name>
  <forward mode='nat'/>
  <bridge name='$bridge' stp='on' delay='0'/>
  <!-- TEST-NET-1, no <dhcp>: only reachable inside the private netns -->
  <ip address='192.0.2.1' netmask='255.255.255.0'/>
</network>
EOF

setup() {
	step "net-define" virsh net-define "$dir/net.xml" &&
	step "net-start" virsh net-start "$name" &&
	step "network is active" net_active &&
	step "pool-define-as dir" virsh pool-define-as "$name" dir --target "$dir/pool" &&
	step "pool-build" virsh pool-build "$name" &&
	step "pool-start" virsh pool-start "$name" &&
	step "vol-create-as 64 MiB qcow2" virsh vol-create-as "$name" disk.qcow2 64M --format qcow2 &&
	step "volume is qcow2, 64 MiB" vol_ok &&
	define_domain &&
	step "start domain" virsh start "$name" &&
	sleep 3 &&
	step "domain is running after 3 s" expect_eq running virsh domstate "$name" &&
	step "bridge $bridge exists in the private netns" ip link show "$bridge" &&
	step "bridge $bridge does not exist on the host" not on_host ip link show "$bridge" &&
	step "tap of the domain is on $bridge" tap_on_bridge
}

define_domain() {
	local vol
	vol=$(virsh vol-path --pool "$name" disk.qcow2)
	cat >"$dir/dom.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='network'/>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$vol'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='$name'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
EOF
	step "define domain (qemu/TCG, 512 MiB, 1 vCPU)" virsh define "$dir/dom.xml"
}

# Teardown runs whatever setup got to; every step is checked.
teardown() {
	if virsh domstate "$name" >/dev/null 2>&1; then
		[ "$(virsh domstate "$name")" != running ] || step "destroy domain" virsh destroy "$name" || true
		step "undefine domain" virsh undefine "$name" || true
	fi
	if virsh pool-info "$name" >/dev/null 2>&1; then
		virsh vol-info --pool "$name" disk.qcow2 >/dev/null 2>&1 &&
			{ step "vol-delete" virsh vol-delete --pool "$name" disk.qcow2 || true; }
		step "pool-destroy" virsh pool-destroy "$name" || true
		step "pool-delete" virsh pool-delete "$name" || true
		step "pool-undefine" virsh pool-undefine "$name" || true
	fi
	if virsh net-info "$name" >/dev/null 2>&1; then
		step "net-destroy" virsh net-destroy "$name" || true
		step "net-undefine" virsh net-undefine "$name" || true
	fi
	step "nothing left defined" expect_eq "" all_names || true
	step "bridge $bridge is gone" not ip link show "$bridge" || true
}

setup || true
teardown
echo "smoke: $pass passed, $fail failed ($((SECONDS - start)) s inside the harness)"
[ "$fail" -eq 0 ]
