#!/bin/bash
# virsh-loop.sh XMLDIR [URI]: the bench workload applied from scratch the way a shell script
# does it, one virsh process per object, for bench/compare.py: the pool (define, build, start,
# autostart), every volume, every network (define, start, autostart), every domain, in
# podform's order. XMLDIR is what `python-contender.py xml` wrote. Exits at the first failure.
set -euo pipefail
dir=$1 uri=${2:-qemu:///system}
v() { virsh -q -c "$uri" "$@" >/dev/null; }

pool=$(sed -n 's|.*<name>\([^<]*\)</name>.*|\1|p' "$dir/pool.xml")
v "pool-define $dir/pool.xml; pool-build $pool; pool-start $pool; pool-autostart $pool"
for f in "$dir"/volumes/*.xml; do
	v vol-create "$pool" "$f"
done
for f in "$dir"/networks/*.xml; do
	n=$(basename "$f" .xml)
	v "net-define $f; net-start $n; net-autostart $n"
done
for f in "$dir"/domains/*.xml; do
	v define "$f"
done
