#!/usr/bin/env python3
"""python-contender.py: what a python3-libvirt script does for the bench workload, for
bench/compare.py to set beside podform.

    python-contender.py plan  --vms M [--nics K] [--networks N] --dir D [--uri URI]
    python-contender.py apply --vms M [--nics K] [--networks N] --dir D [--uri URI]
    python-contender.py xml OUTDIR --vms M [--nics K] [--networks N] --dir D

The workload is bench/workload.py's (the configuration podform reads from the YAML that
workload.generate() wrote into D): the same names, networks, leases, pool path, sizes.

plan   the no-change pass: the reads of bench/floor.c (list and XML of every domain, network,
       pool and volume, the ACTIVE and AUTOSTART filtered lists, one netlink link dump and one
       address dump), every XML document parsed (xml.etree), and the fields podform compares
       (src/libvirt/fields.c) compared with the workload: a network's forward mode, bridge, STP,
       delay, addresses, DHCP ranges and hosts, run state and autostart; the pool's type, path,
       state; a volume's capacity and format; a domain's type, arch, vCPUs, memory, boot order,
       each interface (named by podform's metadata) with its type, source, MAC and model, its
       disk (pool/volume, dev, bus, format), run state and autostart; nothing missing, nothing
       extra. Prints one line of JSON ({"objects": ..., "differences": N}); exits 0 when
       nothing differs, 2 when something does (the first differences on stderr), 1 on errors.
apply  the sequential apply from scratch, doing what `podform apply` does for it: define,
       build, start and autostart the pool; create every volume (qcow2, 1 GiB); define, start
       and autostart every network; define every domain. One connection, one call after the
       other, no verify pass. Exits 0, or 1 on the first error.
xml    writes the XML documents the apply defines, for bench/virsh-loop.sh: OUTDIR/pool.xml,
       OUTDIR/volumes/*.xml, OUTDIR/networks/*.xml, OUTDIR/domains/*.xml.

The XML is what this script writes, not podform's (same objects, same devices); podform's
own ignored elements (metadata, addresses) are no work for libvirt worth counting. Needs
python3-libvirt (Debian) for plan and apply; xml needs the standard library only.
"""
import argparse
import json
import os
import socket
import struct
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload as W  # noqa: E402

PODFORM_NS = "https://podform.dev/xmlns/1"


# ---- the workload as libvirt objects ----

def nic_mac(k, j, fixed):
    """VM k's interface j: its lease's MAC, else one of ours (never 52:54:00:fb:..., the leases')."""
    if j in fixed.get(k, {}):
        return fixed[k][j]
    return "52:54:00:%02x:%02x:%02x" % (0x80 | j, (k >> 8) & 0xFF, k & 0xFF)


def pool_xml(d):
    return ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (W.POOL, W.pool_path(d)))


def volume_xml(k):
    return ("<volume><name>%s</name><capacity unit='bytes'>%d</capacity>"
            "<target><format type='qcow2'/></target></volume>" % (W.volume_name(k), W.DISK_BYTES))


def network_xml(i, leases):
    s = W.subnet(i)
    dhcp = ""
    if W.has_dhcp(i):
        hosts = "".join("<host mac='%s' name='%s' ip='%s'/>" % (m, n, ip) for m, ip, n in leases.get(i, []))
        dhcp = "<dhcp><range start='%s.100' end='%s.199'/>%s</dhcp>" % (s, s, hosts)
    return ("<network><name>%s</name><forward mode='nat'/>"
            "<bridge name='%s' stp='off' delay='0'/>"
            "<ip address='%s.1' prefix='24'>%s</ip></network>" % (W.net_name(i), W.BRIDGE % i, s, dhcp))


def domain_xml(k, nics, networks, fixed):
    ifaces = "".join(
        "<interface type='network'><mac address='%s'/><source network='%s'/><model type='virtio'/></interface>"
        % (nic_mac(k, j, fixed), W.net_name(W.nic_network(k, j, nics, networks))) for j in range(nics))
    return ("<domain type='qemu'><name>%s</name><memory unit='KiB'>%d</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/><boot dev='hd'/></os>"
            "<devices><disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source pool='%s' volume='%s'/><target dev='vda' bus='virtio'/></disk>%s"
            "<serial type='pty'/><console type='pty'/></devices></domain>"
            % (W.vm_name(k), W.MEMORY_KIB, W.POOL, W.volume_name(k), ifaces))


# ---- apply ----

def apply(conn, a):
    import libvirt
    leases, fixed = W.model(a.vms, a.nics, a.networks)
    pool = conn.storagePoolDefineXML(pool_xml(a.dir), 0)
    pool.build(libvirt.VIR_STORAGE_POOL_BUILD_NEW)
    pool.create(0)
    pool.setAutostart(1)
    for k in range(a.vms):
        pool.createXML(volume_xml(k), 0)
    for i in range(a.networks):
        net = conn.networkDefineXML(network_xml(i, leases))
        net.create()
        net.setAutostart(1)
    for k in range(a.vms):
        conn.defineXML(domain_xml(k, a.nics, a.networks, fixed))
    print(json.dumps({"pools": 1, "volumes": a.vms, "networks": a.networks, "domains": a.vms}))
    return 0


def write_xml(a):
    leases, fixed = W.model(a.vms, a.nics, a.networks)
    for sub in ("volumes", "networks", "domains"):
        os.makedirs(os.path.join(a.outdir, sub), exist_ok=True)

    def put(rel, text):
        with open(os.path.join(a.outdir, rel), "w") as f:
            f.write(text + "\n")
    put("pool.xml", pool_xml(a.dir))
    for k in range(a.vms):
        put("volumes/%s.xml" % W.volume_name(k), volume_xml(k))
        put("domains/%s.xml" % W.vm_name(k), domain_xml(k, a.nics, a.networks, fixed))
    for i in range(a.networks):
        put("networks/%s.xml" % W.net_name(i), network_xml(i, leases))
    return 0


# ---- the no-change pass ----

def netlink_dump(kind):
    """One RTM_GETLINK or RTM_GETADDR dump: [(type, header bytes, {attribute: bytes})]."""
    RTM_GETLINK, RTM_GETADDR, NLM_F_REQUEST, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR = 18, 22, 1, 0x300, 3, 2
    msg_type, body = (RTM_GETLINK, struct.pack("BxHiII", 0, 0, 0, 0, 0)) if kind == "link" else \
        (RTM_GETADDR, struct.pack("BBBBI", 0, 0, 0, 0, 0))
    head = len(body)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        s.sendall(struct.pack("=IHHII", 16 + head, msg_type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        out = []
        while True:
            data = s.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, t, _, _, _ = struct.unpack_from("=IHHII", data, off)
                if t == NLMSG_DONE:
                    return out
                if t == NLMSG_ERROR:
                    raise OSError("netlink %s dump refused" % kind)
                attrs = {}
                a = off + 16 + head
                while a + 4 <= off + length:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    attrs[atype & 0x3FFF] = data[a + 4:a + alen]
                    a += (alen + 3) & ~3
                out.append((t, data[off + 16:off + 16 + head], attrs))
                off += (length + 3) & ~3
    finally:
        s.close()


class Diff:
    def __init__(self):
        self.items = []

    def want(self, what, field, have, want):
        if have != want:
            self.items.append("%s: %s is %r, want %r" % (what, field, have, want))


def attr(el, path, name, default=""):
    e = el.find(path) if path else el
    return e.get(name, default) if e is not None else default


def scale(unit):
    return {"": 1, "b": 1, "bytes": 1, "KB": 1000, "k": 1024, "KiB": 1024, "MB": 10 ** 6, "M": 1 << 20,
            "MiB": 1 << 20, "GB": 10 ** 9, "G": 1 << 30, "GiB": 1 << 30}.get(unit, 1)


def compare_network(d, i, root, active, autostart, leases):
    what = "network " + W.net_name(i)
    s = W.subnet(i)
    fwd = root.find("forward")
    d.want(what, "forward", fwd.get("mode", "nat") if fwd is not None else "none", "nat")
    br = root.find("bridge")
    d.want(what, "bridge", attr(root, "bridge", "name"), W.BRIDGE % i)
    d.want(what, "bridge.stp", br.get("stp", "on") if br is not None else "", "off")
    d.want(what, "bridge.delay", br.get("delay", "0") if br is not None else "", "0")
    ips = root.findall("ip")
    d.want(what, "addresses", [(ip.get("address"), ip.get("prefix")) for ip in ips], [(s + ".1", "24")])
    dhcp = ips[0].find("dhcp") if ips else None
    if W.has_dhcp(i):
        ranges = [(r.get("start"), r.get("end")) for r in dhcp.findall("range")] if dhcp is not None else []
        d.want(what, "dhcp.ranges", ranges, [(s + ".100", s + ".199")])
        hosts = sorted((h.get("mac", "").lower(), h.get("ip"), h.get("name")) for h in dhcp.findall("host")) \
            if dhcp is not None else []
        d.want(what, "dhcp.hosts", hosts, sorted(leases.get(i, [])))
    else:
        d.want(what, "dhcp", dhcp is not None, False)
    d.want(what, "active", active, True)
    d.want(what, "autostart", autostart, True)


def compare_pool(d, root, active, autostart, path):
    d.want("pool", "type", root.get("type"), "dir")
    d.want("pool", "path", os.path.normpath(root.findtext("target/path", "")), os.path.normpath(path))
    d.want("pool", "active", active, True)
    d.want("pool", "autostart", autostart, True)


def compare_volume(d, name, root):
    cap = root.find("capacity")
    d.want("volume " + name, "capacity", int(cap.text) * scale(cap.get("unit", "")) if cap is not None else 0,
           W.DISK_BYTES)
    d.want("volume " + name, "format", attr(root, "target/format", "type", "raw"), "qcow2")


def compare_domain(d, k, root, active, autostart, a, fixed):
    name = W.vm_name(k)
    what = "vm " + name
    d.want(what, "type", root.get("type"), "qemu")
    d.want(what, "arch", attr(root, "os/type", "arch"), "x86_64")
    d.want(what, "vcpus", root.findtext("vcpu", "").strip(), "1")
    mem = root.find("memory")
    d.want(what, "memory KiB", int(mem.text) * scale(mem.get("unit", "KiB")) // 1024 if mem is not None else 0,
           W.MEMORY_KIB)
    d.want(what, "boot", [b.get("dev") for b in root.findall("os/boot")], ["network", "hd"])
    # interfaces are named by podform's record in the metadata, as podform names them
    names = {}
    for rec in root.iterfind("metadata/{%s}vm/{%s}interface" % (PODFORM_NS, PODFORM_NS)):
        names[rec.get("mac", "").lower()] = rec.get("name")
    seen = {}
    for n, nic in enumerate(root.iterfind("devices/interface")):
        m = attr(nic, "mac", "address").lower()
        seen[names.get(m, "nic%d" % n)] = (nic.get("type"), attr(nic, "source", "network"), m,
                                            attr(nic, "model", "type"))
    for j in range(a.nics):
        nic = "nic%d" % j
        have = seen.pop(nic, None)
        if have is None:
            d.items.append("%s: interface %s is missing" % (what, nic))
            continue
        d.want(what, nic + ".type", have[0], "network")
        d.want(what, nic + ".source", have[1], W.net_name(W.nic_network(k, j, a.nics, a.networks)))
        if j in fixed.get(k, {}):
            d.want(what, nic + ".mac", have[2], fixed[k][j])
        d.want(what, nic + ".model", have[3], "virtio")
    for extra in seen:
        d.items.append("%s: interface %s is not declared" % (what, extra))
    disks = [(attr(x, "source", "pool"), attr(x, "source", "volume"), attr(x, "target", "dev"),
              attr(x, "target", "bus"), attr(x, "driver", "type"))
             for x in root.iterfind("devices/disk") if x.get("device") == "disk"]
    d.want(what, "disks", disks, [(W.POOL, W.volume_name(k), "vda", "virtio", "qcow2")])
    d.want(what, "active", active, False)
    d.want(what, "autostart", autostart, False)


def plan(conn, a):
    import libvirt
    leases, fixed = W.model(a.vms, a.nics, a.networks)
    d = Diff()
    # the reads: the same calls as bench/floor.c, in its order
    doms = {dom.name(): ET.fromstring(dom.XMLDesc(0)) for dom in conn.listAllDomains(0)}
    dom_active = {x.name() for x in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
    dom_auto = {x.name() for x in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)}
    nets = {n.name(): ET.fromstring(n.XMLDesc(0)) for n in conn.listAllNetworks(0)}
    net_active = {x.name() for x in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)}
    net_auto = {x.name() for x in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)}
    pools = {p.name(): ET.fromstring(p.XMLDesc(0)) for p in conn.listAllStoragePools(0)}
    vols = {}
    pool_active = set()
    for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        pool_active.add(p.name())
        for v in p.listAllVolumes(0):
            vols[p.name() + "/" + v.name()] = ET.fromstring(v.XMLDesc(0))
    pool_auto = {x.name() for x in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)}
    links = {attrs.get(3, b"").rstrip(b"\0").decode(): struct.unpack_from("=BxHiII", hdr)[2]
             for _, hdr, attrs in netlink_dump("link")}
    addrs = [(struct.unpack_from("=BBBBI", hdr)[4], attrs.get(1) or attrs.get(2))
             for _, hdr, attrs in netlink_dump("addr")]

    # the comparisons
    for i in range(a.networks):
        n = W.net_name(i)
        if n not in nets:
            d.items.append("network %s is missing" % n)
            continue
        compare_network(d, i, nets.pop(n), n in net_active, n in net_auto, leases)
        # libvirt made the bridge: the host has it
        d.want("network " + n, "bridge link", W.BRIDGE % i in links, True)
    if W.POOL not in pools:
        d.items.append("pool %s is missing" % W.POOL)
    else:
        compare_pool(d, pools.pop(W.POOL), W.POOL in pool_active, W.POOL in pool_auto, W.pool_path(a.dir))
    for k in range(a.vms):
        vid = W.POOL + "/" + W.volume_name(k)
        if vid not in vols:
            d.items.append("volume %s is missing" % vid)
        else:
            compare_volume(d, vid, vols.pop(vid))
        name = W.vm_name(k)
        if name not in doms:
            d.items.append("vm %s is missing" % name)
        else:
            compare_domain(d, k, doms.pop(name), name in dom_active, name in dom_auto, a, fixed)
    for kind, left in (("network", nets), ("pool", pools), ("volume", vols), ("vm", doms)):
        d.items += ["%s %s is not declared" % (kind, x) for x in sorted(left)]

    print(json.dumps({"objects": 1 + a.networks + 2 * a.vms, "links": len(links), "addresses": len(addrs),
                      "differences": len(d.items)}))
    for line in d.items[:20]:
        print("python-contender plan: " + line, file=sys.stderr)
    return 2 if d.items else 0


def main():
    ap = argparse.ArgumentParser(description="The python3-libvirt contender of bench/compare.py.")
    ap.add_argument("mode", choices=("plan", "apply", "xml"))
    ap.add_argument("outdir", nargs="?", help="xml: where to write the documents")
    ap.add_argument("--vms", type=int, required=True)
    ap.add_argument("--nics", type=int, default=3)
    ap.add_argument("--networks", type=int, default=20)
    ap.add_argument("--dir", required=True, help="the directory workload.generate() wrote (the pool is DIR/pool)")
    ap.add_argument("--uri", default="qemu:///system")
    a = ap.parse_args()
    if a.mode == "xml":
        if not a.outdir:
            ap.error("xml needs OUTDIR")
        return write_xml(a)
    import libvirt
    try:
        conn = libvirt.open(a.uri)
        try:
            return apply(conn, a) if a.mode == "apply" else plan(conn, a)
        finally:
            conn.close()
    except libvirt.libvirtError as e:
        print("python-contender %s: %s" % (a.mode, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
