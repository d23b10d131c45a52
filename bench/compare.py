#!/usr/bin/env python3
"""compare.py: podform beside every alternative, on a real libvirtd, in one run.

    python3 bench/compare.py [PODFORM] [--vms 500,1000] [--rounds 3] [--quick] [--parallel N]
                             [--nics 3] [--networks 20] [--skip-extras] [--keep DIR]

As root (make && make bench/floor first; Debian's python3-libvirt). The workload is
bench/workload.py's, as bench/libvirt-scale.py runs it: M VMs x 3 NICs, a 1 GiB qcow2 disk each,
running: false, on 20 NAT networks (half with DHCP and fixed leases), one dir pool. Contenders:

  no-change plan (after podform's apply)
    floor          bench/floor: only the reads (list + XML of every domain, network, pool,
                   volume; the ACTIVE and AUTOSTART filtered lists; one link dump, one address
                   dump), nothing parsed
    python pass    bench/python-contender.py plan: the same reads, every document parsed and
                   the fields podform compares compared with the workload
    podform plan   PODFORM plan --detailed-exitcode (must exit 0)
  apply from scratch
    python apply   bench/python-contender.py apply: the same objects, one call after the other
    virsh loop     bench/virsh-loop.sh: one virsh process per object
    podform apply  PODFORM apply --yes (with --parallel N when `podform apply --help` has it)

Each round is, for each size, a fresh private libvirtd (tests/integration/with-libvirtd.sh,
whose /dev/kvm lets QEMU in, so no capability probe per define): a warm-up (one domain and one
NAT network defined and removed, so no contender pays the daemon's first-use work), then the
three applies in an order that turns with the round, each from scratch: the host is torn down
before each (domains, volumes and their files, pool and its directory, networks and their
dnsmasq, podform's state records) and checked empty; after each apply the objects are counted;
after podform's, the three plans run three times over, their order turning. Each process is
timed alone (wall clock), with its own CPU time and peak RSS (os.wait4). After the timed
rounds, one more session per size runs every contender once with libvirt's client log on
(LIBVIRT_LOG_FILTERS=2:rpc.netclient: one RPC_CLIENT_MSG_TX_QUEUE line per call sent) to count
its RPCs; those runs are not timed (the log costs time per call).

Printed: per size and contender the median and min seconds, CPU, peak RSS, RPCs and RPCs per VM;
ratios; the slope between the smallest and the largest size (seconds and RSS per VM); the goals
of the issue, each `met` or `MISSED`; then, unless --skip-extras, the output of
bench/links-scale.py and bench/load-vms.py (5,000 VMs, validate) and the size of `podform plan
-o json` of load-vms's configuration on test:///default. MB are 10^6 bytes, KB 10^3.

--quick is --vms 50 --rounds 1 (a check that everything runs; its ratios mean little). Exit
status: 0 when every run succeeded and every goal is met, 1 when a run failed or a goal is
missed, 2 on usage errors, 77 when not root or no libvirtd can run here. Python 3 standard
library only; the python contender and the inner half need python3-libvirt (found for
sys.executable, else /usr/bin/python3).
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import workload as W  # noqa: E402

URI = "qemu:///system"
GNU_TIME = "/usr/bin/time"      # Debian's `time`
INNER = "--inner-session"
PLANS = ("floor", "python pass", "podform plan")
APPLIES = ("python apply", "virsh loop", "podform apply")
PLAN_REPS = 3
# libvirt's remote program (REMOTE_PROGRAM 0x20008086): keepalive pings are another program
REMOTE_PROG = "prog=536903814"
# remote_protocol.x: the procedures these contenders call
PROCS = {
    1: "CONNECT_OPEN", 2: "CONNECT_CLOSE", 6: "NODE_GET_INFO", 7: "CONNECT_GET_CAPABILITIES",
    9: "DOMAIN_CREATE", 11: "DOMAIN_DEFINE_XML", 14: "DOMAIN_GET_XML_DESC", 15: "DOMAIN_GET_AUTOSTART",
    23: "DOMAIN_LOOKUP_BY_NAME", 29: "DOMAIN_SET_AUTOSTART", 35: "DOMAIN_UNDEFINE", 39: "NETWORK_CREATE",
    41: "NETWORK_DEFINE_XML", 43: "NETWORK_GET_XML_DESC", 44: "NETWORK_GET_AUTOSTART",
    46: "NETWORK_LOOKUP_BY_NAME", 48: "NETWORK_SET_AUTOSTART", 60: "CONNECT_SUPPORTS_FEATURE",
    66: "AUTH_LIST", 77: "STORAGE_POOL_DEFINE_XML", 78: "STORAGE_POOL_CREATE", 79: "STORAGE_POOL_BUILD",
    84: "STORAGE_POOL_LOOKUP_BY_NAME", 88: "STORAGE_POOL_GET_XML_DESC", 89: "STORAGE_POOL_GET_AUTOSTART",
    90: "STORAGE_POOL_SET_AUTOSTART", 93: "STORAGE_VOL_CREATE_XML", 95: "STORAGE_VOL_LOOKUP_BY_NAME",
    98: "STORAGE_VOL_GET_INFO", 99: "STORAGE_VOL_GET_XML_DESC", 110: "CONNECT_GET_URI",
    150: "DOMAIN_IS_ACTIVE", 152: "NETWORK_IS_ACTIVE", 154: "STORAGE_POOL_IS_ACTIVE",
    157: "CONNECT_GET_LIB_VERSION", 273: "CONNECT_LIST_ALL_DOMAINS", 281: "CONNECT_LIST_ALL_STORAGE_POOLS",
    282: "STORAGE_POOL_LIST_ALL_VOLUMES", 283: "CONNECT_LIST_ALL_NETWORKS", 350: "DOMAIN_DEFINE_XML_FLAGS",
    360: "CONNECT_REGISTER_CLOSE_CALLBACK", 361: "CONNECT_UNREGISTER_CLOSE_CALLBACK",
    378: "STORAGE_VOL_GET_INFO_FLAGS",
}

# the goals of the issue
GOAL_PLAN_FLOOR = 1.3       # no-change plan / floor, at every size
GOAL_PLAN_PYTHON = 0.5      # no-change plan / python pass (faster by >= 2x), at every size
GOAL_RSS_MB = 40.0          # peak RSS of plan and apply at 1,000 VMs
GOAL_RSS_VMS = 1000
GOAL_SLOPE_KB = 10.0        # RSS growth per VM, plan and apply
GOAL_APPLY_PYTHON = 0.5     # apply from scratch / sequential python (>= 2x faster), at 500 VMs
GOAL_APPLY_VIRSH = 0.2      # apply from scratch / virsh loop (>= 5x faster), at 500 VMs
GOAL_APPLY_VMS = 500


class Failed(Exception):
    pass


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def run(argv, log, env, stdout=None, wrap=()):
    """Runs argv alone, its output to the file log (stdout to the file stdout if given):
    {seconds, cpu, rss (bytes), rc}. Wall time from here; CPU time and peak RSS from GNU time,
    which forks the command itself: a child forked from this python would start its peak RSS
    at this process's size (the kernel keeps the larger of the two across exec). With wrap
    (a command that execs its arguments, e.g. unshare), GNU time runs inside it, and the
    seconds are GNU time's (1/100 s), without the wrapper's own."""
    rus = log + ".rusage"
    with open(log, "w") as out, open(stdout or os.devnull, "w") as so:
        t0 = time.perf_counter()
        p = subprocess.Popen(list(wrap) + [GNU_TIME, "-f", "%M %U %S %e", "-o", rus] + argv,
                             stdin=subprocess.DEVNULL, stdout=so if stdout else out, stderr=out, env=env)
        p.wait()
        t1 = time.perf_counter()
    try:
        with open(rus) as f:
            # "Command exited with non-zero status N" comes first when it did
            kib, user, system, wall = f.read().strip().splitlines()[-1].split()
        os.unlink(rus)
    except (OSError, ValueError, IndexError):
        raise Failed("%s wrote no usage of `%s`:\n%s" % (GNU_TIME, " ".join(argv), tail(log)))
    return {"seconds": float(wall) if wrap else t1 - t0, "cpu": float(user) + float(system),
            "rss": int(kib) * 1024, "rc": p.returncode}


def count_rpcs(log):
    """(calls, {procedure: calls}) of a libvirt client log (rpc.netclient at level info)."""
    calls, procs = 0, {}
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if "RPC_CLIENT_MSG_TX_QUEUE" in line and REMOTE_PROG in line and " type=0 " in line:
                    calls += 1
                    m = re.search(r" proc=(\d+)", line)
                    p = int(m.group(1)) if m else -1
                    procs[p] = procs.get(p, 0) + 1
    except OSError:
        return None, {}
    return calls, procs


# ---- the inner half: one session inside with-libvirtd.sh ----

def contender_argv(name, s):
    py = [s["libpy"], os.path.join(HERE, "python-contender.py")]
    size = ["--vms", str(s["vms"]), "--nics", str(s["nics"]), "--networks", str(s["networks"]),
            "--dir", s["dir"], "--uri", URI]
    return {
        "floor": [s["floor"], URI],
        "python pass": py + ["plan"] + size,
        "podform plan": [s["podform"], "plan", "--detailed-exitcode", "-f", s["conf"], "--connect", URI],
        "python apply": py + ["apply"] + size,
        "virsh loop": ["bash", os.path.join(HERE, "virsh-loop.sh"), s["xmldir"], URI],
        "podform apply": [s["podform"], "apply", "--yes", "-f", s["conf"], "--connect", URI] + s["parallel_args"],
    }[name]


def rotate(seq, k):
    k %= len(seq)
    return list(seq[k:]) + list(seq[:k])


def dnsmasqs():
    """The dnsmasq processes of this PID namespace (with-libvirtd.sh mounts its own /proc)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == "dnsmasq":
                        found.append(int(pid))
            except OSError:
                pass
    return found


def teardown(conn, s):
    import libvirt
    for d in conn.listAllDomains(0):
        if d.isActive():
            d.destroy()
        d.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    for p in conn.listAllStoragePools(0):
        if p.isActive():
            for v in p.listAllVolumes(0):
                v.delete(0)
            p.destroy()
        p.undefine()
    for n in conn.listAllNetworks(0):
        if n.isActive():
            n.destroy()       # libvirtd stops the network's dnsmasq
        n.undefine()
    pool = W.pool_path(s["dir"])
    if os.path.isdir(pool):
        for f in os.listdir(pool):
            os.unlink(os.path.join(pool, f))
        os.rmdir(pool)
    state = os.environ.get("PODFORM_STATE_DIR")
    if state and os.path.isdir(state):
        for f in os.listdir(state):
            p = os.path.join(state, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)


def check_clean(conn, s):
    left = ["domain " + d.name() for d in conn.listAllDomains(0)]
    left += ["network " + n.name() for n in conn.listAllNetworks(0)]
    left += ["pool " + p.name() for p in conn.listAllStoragePools(0)]
    if os.path.exists(W.pool_path(s["dir"])):
        left.append("the pool directory %s" % W.pool_path(s["dir"]))
    # a destroyed network's dnsmasq may take a moment to exit
    for _ in range(50):
        if not dnsmasqs():
            break
        time.sleep(0.1)
    left += ["dnsmasq pid %d" % p for p in dnsmasqs()]
    if left:
        raise Failed("teardown left %s" % ", ".join(left[:10]))


def check_applied(conn, s, name):
    """The objects an apply must have made, all of them, as they must be."""
    import libvirt
    want_doms = {W.vm_name(k) for k in range(s["vms"])}
    doms = {d.name() for d in conn.listAllDomains(0)}
    nets = {n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE |
                                                   libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)}
    pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE |
                                     libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)
    vols = {v.name() for p in pools for v in p.listAllVolumes(0)}
    files = set(os.listdir(W.pool_path(s["dir"]))) if os.path.isdir(W.pool_path(s["dir"])) else set()
    want_vols = {W.volume_name(k) for k in range(s["vms"])}
    bad = []
    if doms != want_doms:
        bad.append("%d domains, not %d" % (len(doms), len(want_doms)))
    if nets != {W.net_name(i) for i in range(s["networks"])}:
        bad.append("%d active autostarted networks, not %d" % (len(nets), s["networks"]))
    if [p.name() for p in pools] != [W.POOL]:
        bad.append("pools %s active and autostarted, not [%s]" % ([p.name() for p in pools], W.POOL))
    if vols != want_vols or files != want_vols:
        bad.append("%d volumes and %d files in the pool, not %d" % (len(vols), len(files), len(want_vols)))
    if bad:
        raise Failed("after %s: %s" % (name, "; ".join(bad)))


def inner(spec_path):
    import libvirt
    with open(spec_path) as f:
        s = json.load(f)
    logdir = s["logdir"]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LIBVIRT_LOG_")}
    records = []
    out = {"records": records}

    def one(name, kind, seq):
        tag = "%s-%d" % (name.replace(" ", "-"), seq)
        log = os.path.join(logdir, "r%d-%d-%s.log" % (s["round"], s["vms"], tag))
        env = dict(base_env)
        if s["count"]:
            rpclog = log + ".rpc"
            env.update(LIBVIRT_LOG_FILTERS="2:rpc.netclient", LIBVIRT_LOG_OUTPUTS="2:file:" + rpclog)
        r = run(contender_argv(name, s), log, env)
        r.update(contender=name, kind=kind, vms=s["vms"], round=s["round"], count=s["count"])
        if s["count"]:
            r["rpcs"], r["procs"] = count_rpcs(rpclog)
            os.unlink(rpclog)
        records.append(r)
        if r["rc"] != 0:
            why = {("podform plan", 2): " (changes remain after podform's apply)",
                   ("python pass", 2): " (the python pass sees differences after podform's apply)"}
            raise Failed("%s exited %d%s:\n%s" % (name, r["rc"], why.get((name, r["rc"]), ""), tail(log)))
        if name == "floor":
            with open(log) as f:
                got = json.loads(f.read().strip().splitlines()[-1])
            want = {"domains": s["vms"], "networks": s["networks"], "pools": 1, "volumes": s["vms"]}
            if any(got[k] != v for k, v in want.items()):
                raise Failed("floor read %s, not %s" % (got, want))

    conn = libvirt.open(URI)
    try:
        # warm-up: the daemon's first define and first NAT network start, paid by no contender
        d = conn.defineXML("<domain type='qemu'><name>compare-warm-up</name><memory>65536</memory>"
                           "<os><type arch='x86_64'>hvm</type></os></domain>")
        d.undefine()
        n = conn.networkDefineXML("<network><name>compare-warm-up</name><forward mode='nat'/>"
                                  "<bridge name='pfbwarm'/><ip address='10.99.0.1' prefix='24'/></network>")
        n.create()
        n.destroy()
        n.undefine()
        teardown(conn, s)
        check_clean(conn, s)
        for name in rotate(APPLIES, s["round"]):
            teardown(conn, s)
            check_clean(conn, s)
            one(name, "apply", 0)
            check_applied(conn, s, name)
            if name == "podform apply":
                for rep in range(s["plan_reps"]):
                    for p in rotate(PLANS, s["round"] + rep):
                        one(p, "plan", rep)
        teardown(conn, s)
        check_clean(conn, s)
    except (Failed, libvirt.libvirtError, OSError) as e:
        out["error"] = str(e)
        try:
            teardown(conn, s)
        except (libvirt.libvirtError, OSError):
            pass
    finally:
        conn.close()
        with open(s["result"], "w") as f:
            json.dump(out, f)
    return 0 if "error" not in out else 1


# ---- the outer half ----

def libvirt_python():
    """A python3 that imports libvirt: this one, else Debian's."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.access(py, os.X_OK) and subprocess.run(
                [py, "-c", "import libvirt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return py
    return None


def session(s, tmp, harness):
    """One fresh libvirtd; the records of its runs."""
    tag = "r%d-%d%s" % (s["round"], s["vms"], "-count" if s["count"] else "")
    s = dict(s, result=os.path.join(tmp, tag + ".json"))
    spec = os.path.join(tmp, tag + ".spec.json")
    with open(spec, "w") as f:
        json.dump(s, f)
    log = os.path.join(tmp, tag + ".with-libvirtd.log")
    t0 = time.perf_counter()
    with open(log, "w") as out:
        rc = subprocess.run([harness, s["libpy"], os.path.abspath(__file__), INNER, spec],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out).returncode
    if rc == 77:
        raise SystemExit("compare: SKIP: with-libvirtd.sh cannot run a libvirtd here:\n" + tail(log, 10))
    try:
        with open(s["result"]) as f:
            res = json.load(f)
    except (OSError, ValueError):
        raise Failed("%s: with-libvirtd.sh exited %d without results:\n%s" % (tag, rc, tail(log)))
    # the pool's files live outside the private namespaces: the teardown must have removed them
    pool = W.pool_path(s["dir"])
    if os.path.isdir(pool):
        left = os.listdir(pool)
        shutil.rmtree(pool)
        if left:
            raise Failed("%s: the teardown left %d files in %s" % (tag, len(left), pool))
    if "error" in res:
        raise Failed("%s: %s\n%s" % (tag, res["error"], tail(log, 15)))
    if rc != 0:
        raise Failed("%s: with-libvirtd.sh exited %d:\n%s" % (tag, rc, tail(log)))
    print("compare: %-16s %6.1f s  (%s)" % (tag, time.perf_counter() - t0, ", ".join(
        "%s %.2f s" % (r["contender"], r["seconds"]) for r in res["records"] if r["kind"] == "apply")), flush=True)
    return res["records"]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def summarise(records, sizes):
    """{(vms, contender): {...}} from the timed runs, RPC counts from the counting runs."""
    table = {}
    for v in sizes:
        for c in PLANS + APPLIES:
            timed = [r for r in records if r["vms"] == v and r["contender"] == c and not r["count"]]
            counted = [r for r in records if r["vms"] == v and r["contender"] == c and r["count"]]
            if not timed:
                continue
            rpcs = counted[0]["rpcs"] if counted else None
            table[(v, c)] = {
                "runs": len(timed), "median": median([r["seconds"] for r in timed]),
                "min": min(r["seconds"] for r in timed), "cpu": median([r["cpu"] for r in timed]),
                "rss": median([r["rss"] for r in timed]), "rss_max": max(r["rss"] for r in timed),
                "rpcs": rpcs, "procs": counted[0]["procs"] if counted else {},
            }
    return table


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        lv = subprocess.run(["libvirtd", "--version"], stdout=subprocess.PIPE, text=True).stdout.split()[-1]
    except (OSError, IndexError):
        lv = "?"
    return "%d CPUs (%s), Linux %s, libvirt %s" % (os.cpu_count() or 0, model or "?", platform.release(), lv)


def report(table, sizes, args, parallel):
    ok = True
    print()
    print("%5s  %-13s %-5s %4s %9s %9s %7s %10s %10s %7s %8s" % (
        "VMs", "contender", "step", "runs", "median s", "min s", "CPU s", "RSS MB", "max RSS", "RPCs", "RPCs/VM"))
    for v in sizes:
        for c in PLANS + APPLIES:
            t = table.get((v, c))
            if not t:
                continue
            rp = "%7d %8.2f" % (t["rpcs"], t["rpcs"] / v) if t["rpcs"] is not None else "%7s %8s" % ("-", "-")
            print("%5d  %-13s %-5s %4d %9.3f %9.3f %7.2f %10.1f %10.1f %s" % (
                v, c, "plan" if c in PLANS else "apply", t["runs"], t["median"], t["min"], t["cpu"],
                t["rss"] / 1e6, t["rss_max"] / 1e6, rp))

    def m(v, c):
        return table[(v, c)]["median"]

    print()
    print("ratios (medians):")
    for v in sizes:
        print("  %5d VMs: podform plan / floor %.2fx, / python pass %.2fx; podform apply / python apply %.2fx, "
              "/ virsh loop %.2fx" % (v, m(v, "podform plan") / m(v, "floor"), m(v, "podform plan") / m(v, "python pass"),
                                      m(v, "podform apply") / m(v, "python apply"), m(v, "podform apply") / m(v, "virsh loop")))
    lo, hi = min(sizes), max(sizes)
    if lo != hi:
        print()
        print("slope %d -> %d VMs (median per added VM):" % (lo, hi))
        for c in PLANS + APPLIES:
            a, b = table[(lo, c)], table[(hi, c)]
            print("  %-13s %8.3f ms/VM %8.1f KB/VM RSS" % (
                c, (b["median"] - a["median"]) / (hi - lo) * 1e3, (b["rss"] - a["rss"]) / (hi - lo) / 1e3))

    print()
    print("RPCs by procedure, per VM, at %d VMs:" % hi)
    for c in PLANS + APPLIES:
        procs = table[(hi, c)]["procs"]
        if procs:
            top = sorted(procs.items(), key=lambda kv: -kv[1])[:6]
            print("  %-13s %s" % (c, ", ".join("%s %.2f" % (PROCS.get(int(p), "proc %s" % p), n / hi) for p, n in top)))

    print()
    note = "" if not args.quick else "  (--quick: at %d VMs the ratios are indicative only)" % lo
    print("goals (issue: plan at the floor, apply in parallel, memory flat)%s:" % note)

    def goal(text, value, limit, fmt="%.2f"):
        nonlocal ok
        met = value is not None and value <= limit
        ok &= met
        shown = "n/a" if value is None else fmt % value
        print("  %-6s  %s: %s (goal <= %s)" % ("met" if met else "MISSED", text, shown, fmt % limit))

    for v in sizes:
        goal("no-change plan / C floor at %d VMs" % v, m(v, "podform plan") / m(v, "floor"), GOAL_PLAN_FLOOR, "%.2fx")
        goal("no-change plan / python pass at %d VMs" % v, m(v, "podform plan") / m(v, "python pass"),
             GOAL_PLAN_PYTHON, "%.2fx")
    at = GOAL_RSS_VMS if GOAL_RSS_VMS in sizes else hi
    where = "" if at == GOAL_RSS_VMS else " (the goal is for %d)" % GOAL_RSS_VMS
    for c in ("podform plan", "podform apply"):
        goal("peak RSS of %s at %d VMs%s" % (c, at, where), table[(at, c)]["rss_max"] / 1e6, GOAL_RSS_MB, "%.1f MB")
    for c in ("podform plan", "podform apply"):
        slope = (table[(hi, c)]["rss"] - table[(lo, c)]["rss"]) / (hi - lo) / 1e3 if hi != lo else None
        goal("RSS slope of %s, %d -> %d VMs" % (c, lo, hi) if hi != lo else "RSS slope of %s (needs two sizes)" % c,
             slope, GOAL_SLOPE_KB, "%.1f KB/VM")
    at = GOAL_APPLY_VMS if GOAL_APPLY_VMS in sizes else lo
    where = "" if at == GOAL_APPLY_VMS else " (the goal is for %d)" % GOAL_APPLY_VMS
    par = " --parallel %d" % args.parallel if parallel else ""
    goal("apply%s / sequential python apply at %d VMs%s" % (par, at, where),
         m(at, "podform apply") / m(at, "python apply"), GOAL_APPLY_PYTHON, "%.2fx")
    goal("apply%s / virsh loop at %d VMs%s" % (par, at, where),
         m(at, "podform apply") / m(at, "virsh loop"), GOAL_APPLY_VIRSH, "%.2fx")
    # verify re-observes what apply touched, which from scratch is everything: the floor's reads
    for v in sizes:
        a, p, f = (table[(v, c)]["rpcs"] for c in ("podform apply", "python apply", "floor"))
        if None in (a, p, f):
            goal("apply RPCs per VM at %d VMs (not counted)" % v, None, 0)
            continue
        print("          apply RPCs per VM at %d VMs: podform %.2f, python %.2f, verify's reads (the floor's) %.2f"
              % (v, a / v, p / v, f / v))
        goal("apply RPCs per VM - (python's + verify's) at %d VMs" % v, (a - p - f) / v, 0.0, "%+.2f")
    return ok


def extras(podform, tmp, quick):
    """links-scale.py, load-vms.py at 5,000 VMs and the JSON plan of that configuration, as they print."""
    runs = ["--runs", "1"] if quick else []
    for title, argv in (("links (bench/links-scale.py)", [sys.executable, os.path.join(HERE, "links-scale.py"), podform] + runs),
                        ("validate 5,000 VMs (bench/load-vms.py)",
                         [sys.executable, os.path.join(HERE, "load-vms.py"), podform, "--vms", "5000",
                          "--keep", os.path.join(tmp, "load-vms.yaml")] + runs)):
        print()
        print("%s:" % title, flush=True)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in p.stdout.splitlines():
            print("  " + line)
        print("  (exit %d)" % p.returncode)
    print()
    print("JSON plan at 5,000 VMs (load-vms.py's configuration, `podform plan -o json`, on the test driver):")
    conf = os.path.join(tmp, "load-vms.yaml")
    if not os.path.exists(conf):
        print("  not measured: load-vms.py wrote no configuration")
        return
    # kvm01.xml grown to hold the 4,500 running VMs (4,096 CPUs, 32 TiB), and the NIC eno2 that
    # the configuration's storage Subnet names, in a network namespace of its own
    with open(os.path.join(TOP, "tests", "data", "hosts", "kvm01.xml")) as f:
        host = f.read()
    for old, new in (("<cores>8</cores>", "<cores>2048</cores>"), ("<active>16</active>", "<active>4096</active>"),
                     ("<memory>67108864</memory>", "<memory>34359738368</memory>")):
        if old not in host:
            print("  not measured: tests/data/hosts/kvm01.xml has no %s to grow" % old)
            return
        host = host.replace(old, new)
    host_xml = os.path.join(tmp, "host-5000.xml")
    with open(host_xml, "w") as f:
        f.write(host)
    state = os.path.join(tmp, "json-state")
    os.makedirs(state, exist_ok=True)
    out = os.path.join(tmp, "plan.json")
    log = os.path.join(tmp, "plan-json.log")
    links = "ip link set lo up && ip link add eno2 type veth peer name eno2-p && ip link set eno2 up && exec \"$@\""
    r = run([podform, "plan", "-o", "json", "-f", conf, "--connect", "test://" + host_xml], log,
            dict(os.environ, PODFORM_STATE_DIR=state), stdout=out,
            wrap=["unshare", "--net", "--", "bash", "-c", links, "bash"])
    size = os.path.getsize(out)
    parts = ""
    try:
        with open(out) as f:
            doc = json.load(f)
        if isinstance(doc, dict):
            sizes = sorted(((len(json.dumps(v, separators=(",", ":"))), k) for k, v in doc.items()), reverse=True)
            parts = "; compact, by key: " + ", ".join("%s %.1f MB" % (k, n / 1e6) for n, k in sizes[:3])
    except ValueError:
        parts = "; NOT valid JSON"
    print("  %.1f MB (%d bytes%s), %.3f s, peak RSS %.1f MB, exit %d" % (
        size / 1e6, size, parts, r["seconds"], r["rss"] / 1e6, r["rc"]))
    if r["rc"] != 0:
        print("  " + tail(log, 20).strip().replace("\n", "\n  "))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == INNER:
        return inner(sys.argv[2])
    ap = argparse.ArgumentParser(description="podform beside the C floor, python3-libvirt and virsh, on a real libvirtd.")
    ap.add_argument("podform", nargs="?", default=os.path.join(TOP, "podform"), help="default: the build tree's")
    ap.add_argument("--floor", default=os.path.join(HERE, "floor"), help="default bench/floor (make bench/floor)")
    ap.add_argument("--vms", help="sizes, comma-separated (default 500,1000; --quick: 50)")
    ap.add_argument("--rounds", type=int, help="timed rounds (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="50 VMs, 1 round: does it all run?")
    ap.add_argument("--parallel", type=int, default=4,
                    help="podform apply --parallel N, when podform has the option (default 4)")
    ap.add_argument("--nics", type=int, default=3)
    ap.add_argument("--networks", type=int, default=20)
    ap.add_argument("--skip-extras", action="store_true", help="no links, validate or JSON plan bench")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (logs of every run)")
    args = ap.parse_args()
    try:
        sizes = sorted({int(x) for x in (args.vms or ("50" if args.quick else "500,1000")).split(",")})
    except ValueError:
        ap.error("--vms: comma-separated numbers")
    rounds = args.rounds or (1 if args.quick else 3)
    if min(sizes) < 1 or rounds < 1 or args.nics < 1 or args.networks < 1 or args.parallel < 1:
        ap.error("sizes, --rounds, --nics, --networks and --parallel must be at least 1")
    if args.networks > 200 or args.nics > 32 or max(sizes) > 9999:
        ap.error("at most 200 networks, 32 NICs, 9999 VMs (names are numbered)")
    podform, floor = os.path.abspath(args.podform), os.path.abspath(args.floor)
    for path, hint in ((podform, "make"), (floor, "make bench/floor")):
        if not os.access(path, os.X_OK):
            print("compare: %s is not executable (build it: %s)" % (path, hint), file=sys.stderr)
            return 1
    if not os.access(GNU_TIME, os.X_OK):
        print("compare: %s is missing (apt-get install time)" % GNU_TIME, file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("compare: SKIP: not root (a private libvirtd, a network namespace)", file=sys.stderr)
        return 77
    libpy = libvirt_python()
    if not libpy:
        print("compare: no python3 here imports libvirt (apt-get install python3-libvirt)", file=sys.stderr)
        return 1
    harness = os.path.join(TOP, "tests", "integration", "with-libvirtd.sh")
    helptext = subprocess.run([podform, "apply", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True).stdout
    parallel = "--parallel" in helptext
    version = subprocess.run([podform, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        tmp_ctx, tmp = None, os.path.abspath(args.keep)
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="podform-compare-")
        tmp = tmp_ctx.name
    os.chmod(tmp, 0o755)            # libvirtd's qemu user reaches the pool through it
    t_start = time.perf_counter()
    ok = True
    try:
        print("compare: %s (%s; apply %s), on %s" % (
            podform, version, "--parallel %d" % args.parallel if parallel else "has no --parallel", machine()))
        print("compare: %s VMs x %d NICs, 1 GiB qcow2 each, %d NAT networks, 1 pool; %d timed round%s, "
              "%d plans each per round, then 1 counting round" % (
                  ",".join(map(str, sizes)), args.nics, args.networks, rounds, "s" * (rounds > 1), PLAN_REPS), flush=True)
        specs = {}
        for v in sizes:
            d = os.path.join(tmp, "w%d" % v)
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
            conf = W.generate(d, v, args.nics, args.networks)
            os.rmdir(W.pool_path(d))    # from scratch: the pool's apply builds it
            xmldir = os.path.join(d, "xml")
            subprocess.run([sys.executable, os.path.join(HERE, "python-contender.py"), "xml", xmldir, "--vms", str(v),
                            "--nics", str(args.nics), "--networks", str(args.networks), "--dir", d], check=True)
            logdir = os.path.join(d, "logs")
            os.makedirs(logdir, exist_ok=True)
            specs[v] = {"vms": v, "nics": args.nics, "networks": args.networks, "dir": d, "conf": conf,
                        "xmldir": xmldir, "logdir": logdir, "podform": podform, "floor": floor, "libpy": libpy,
                        "parallel_args": ["--parallel", str(args.parallel)] if parallel else [],
                        "plan_reps": PLAN_REPS}
        records = []
        for r in range(rounds):
            for v in rotate(sizes, r):
                records += session(dict(specs[v], round=r, count=False), tmp, harness)
        for v in sizes:
            records += session(dict(specs[v], round=rounds, count=True, plan_reps=1), tmp, harness)
        with open(os.path.join(tmp, "records.json"), "w") as f:
            json.dump(records, f)
        ok = report(summarise(records, sizes), sizes, args, parallel)
        if not args.skip_extras:
            extras(podform, tmp, args.quick)
    except (Failed, subprocess.CalledProcessError) as e:
        print("compare: FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if tmp_ctx:
            tmp_ctx.cleanup()
        elif args.keep:
            print("compare: kept %s" % tmp)
    print()
    print("compare: %.0f s in all; %s" % (time.perf_counter() - t_start, "every goal met" if ok else "a goal is MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
