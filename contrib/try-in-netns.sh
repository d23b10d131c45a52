#!/bin/bash
# try-in-netns.sh: try podform on host links without touching this machine's network.
#
# As root, in a private network namespace (unshare --net) where two veth pairs stand in for the
# host's NICs (eno1 and eno2, with peers eno1-peer and eno2-peer), it runs
#
#   podform apply --yes -f examples/maas-network.yaml -f examples/libvirt-host \
#       -f examples/host-links --connect test://REPO/tests/data/hosts/kvm01.xml
#
# (libvirt objects on libvirt's in-process test driver, links for real in the namespace), shows
# the links with `ip -br link` and `ip -br addr`, then plans again, which finds no changes. The
# test driver's host lives only as long as one podform process, so the second plan covers the
# links alone (examples/host-links/links.yaml, with the Host of examples/libvirt-host): they
# outlive the first process, in the namespace.
#
# Nothing leaks: the namespace, its links and addresses go when the script ends, and podform's
# record of the bridge ports it enslaved goes to a temporary PODFORM_STATE_DIR, removed at the
# end, never to /var/lib/podform. The exit status is podform's: apply's when it fails, else
# that of the second plan (0: no changes; 2: changes remain; 1: errors).
#
# Usage: contrib/try-in-netns.sh            (PODFORM=PATH picks the binary; default ./podform)
# Installed (make install, the Debian package), it runs from the examples directory, with the
# examples and the test host beside it and the podform on PATH:
#        /usr/share/doc/podform/examples/try-in-netns.sh
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/../tests/data/hosts/kvm01.xml" ]; then   # in a checkout, as contrib/try-in-netns.sh
        base=$(cd "$here/.." && pwd)
        examples=examples host_xml=$base/tests/data/hosts/kvm01.xml
        podform=${PODFORM:-$base/podform}
else                                                    # installed beside the examples
        base=$here
        examples=. host_xml=$here/kvm01.xml
        podform=${PODFORM:-$(command -v podform || echo podform)}
fi

if [ "${PODFORM_TRY_INNER:-}" != 1 ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "try-in-netns: run as root (unshare --net and netlink changes need CAP_SYS_ADMIN and CAP_NET_ADMIN)" >&2
                exit 1
        fi
        if [ ! -x "$podform" ]; then
                echo "try-in-netns: $podform is not executable: build podform first (make -j2), or set PODFORM" >&2
                exit 1
        fi
        for tool in unshare ip; do
                if ! command -v "$tool" >/dev/null; then
                        echo "try-in-netns: $tool is missing (apt-get install util-linux iproute2)" >&2
                        exit 1
                fi
        done
        state=$(mktemp -d "${TMPDIR:-/tmp}/podform-try.XXXXXX") || exit 1
        trap 'rm -rf "$state"' EXIT
        # A new network namespace for the child alone: it ends, with all its links, when the
        # child exits.
        PODFORM_TRY_INNER=1 PODFORM_STATE_DIR=$state PODFORM=$podform \
                unshare --net -- "$BASH" "${BASH_SOURCE[0]}"
        exit $?
fi

# ---- inside the private network namespace ----
set -e
cd "$base"
testhost="test://$host_xml"
run() {        # shows the command (paths below the base directory relative to it), then runs it
        local shown=" $*"
        shown=${shown//" $base/"/" ./"}
        printf '\n$ %s\n' "${shown# }"
        "$@"
}

ip link set lo up
for nic in eno1 eno2; do
        ip link add "$nic" type veth peer name "$nic-peer"
        ip link set "$nic-peer" up
        ip link set "$nic" up
done
echo "try-in-netns: a private network namespace with the NICs eno1 and eno2 (veths);"
echo "try-in-netns: PODFORM_STATE_DIR=$PODFORM_STATE_DIR"
run ip -br link
set +e

run "$podform" apply --yes -f "$examples/maas-network.yaml" -f "$examples/libvirt-host" -f "$examples/host-links" \
        --connect "$testhost"
rc=$?
if [ "$rc" -ne 0 ]; then
        echo "try-in-netns: podform apply exited $rc" >&2
        exit "$rc"
fi

run ip -br link
run ip -br addr
# the bridge's STP settings and the alias that marks it as podform's, out of the details
printf '\n$ ip -d link show br-boot\n'
ip -d link show br-boot | sed -nE -e '1p' -e 's/^ +bridge (forward_delay [0-9]+) .* (stp_state [0-9]+) .*/    bridge \1 ... \2 .../p' \
        -e '/^ +alias /p'
run cat "$PODFORM_STATE_DIR"/links-net*.ports

run "$podform" plan -v --detailed-exitcode -f "$examples/libvirt-host/host.yaml" -f "$examples/host-links/links.yaml" \
        --connect "$testhost"
rc=$?
[ "$rc" -eq 0 ] || echo "try-in-netns: podform plan exited $rc (0 means no changes)" >&2
exit "$rc"
