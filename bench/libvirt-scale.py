#!/usr/bin/env python3
"""libvirt-scale.py: how fast are `plan` (no changes) and `apply` (from scratch) at scale?

    bench/libvirt-scale.py [PODFORM] [--vms 500] [--nics 3] [--networks 20] [--keep DIR]
                           [--skip-libvirtd]

Generates into a temporary directory a Host (generous overcommit, defaultStoragePool: bench), a
dir StoragePool `bench` (its path under the temporary directory), N libvirt Networks (NAT, bridges
pfb0..pfbN-1, subnets 10.100.0.0/24, 10.100.1.0/24, ...; every other one with a libvirt DHCP range
and a few fixed leases), and M VirtualMachines (type qemu, running: false so no QEMU starts, 1
core, 256Mi, one 1Gi qcow2 disk, K `bridge: {}` interfaces on `network:` backends spread
round-robin over the networks). Then it times, on two targets:

  test driver  bench/bench_engine CONFIG_DIR test:///ABS/tests/data/hosts/kvm01.xml
               (the test driver's host lives inside one process, so apply and plan run in one
               process; build it with `make bench/bench_engine`)
  libvirtd     tests/integration/with-libvirtd.sh (root: a throw-away libvirtd in private
               namespaces), inside it `PODFORM apply --yes` then `PODFORM plan --detailed-exitcode`
               as separate processes, each timed with its own rusage (os.wait4)

and prints seconds and peak RSS per target and step. The plan after apply must be empty (exit 0
with --detailed-exitcode), else the run fails.

GOALS. These are ours to set (the project's acceptance criterion asks for the figures, not for
numbers), chosen as what an operator should not have to wait for on a 500-VM host; they apply to
the test driver at the default size and are scaled linearly with --vms:

    plan, no changes     < 5 s     (test driver, 500 VMs x 3 NICs + 20 networks)
    apply, from scratch  < 60 s    (test driver, same)

The libvirtd figures are printed for information (they depend on the daemon and the machine).
MB are 10^6 bytes. Exit status: 0 when every step succeeded and the goals are met; 1 when a step
fails or a goal is missed; 2 on usage errors. Python 3 standard library only.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workload import generate  # noqa: E402  (bench/workload.py: the configuration)

GOAL_PLAN_S = 5.0       # plan with no changes, test driver, 500 VMs
GOAL_APPLY_S = 60.0     # apply from scratch, test driver, 500 VMs
GOAL_VMS = 500

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- running ----

class Failed(Exception):
    pass


def timed(argv, log, env=None):
    """Runs argv with output to the file log: (wall seconds, peak RSS bytes, exit status, CPU
    seconds: user + system of the child alone)."""
    with open(log, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    return t1 - t0, ru.ru_maxrss * 1024, p.returncode, ru.ru_utime + ru.ru_stime


def tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def bench_test_driver(engine, conf, tmp):
    uri = "test://%s/tests/data/hosts/kvm01.xml" % TOP
    log = os.path.join(tmp, "bench_engine.log")
    with open(log, "w") as err:
        p = subprocess.run([engine, conf, uri], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=err, text=True)
    if p.returncode != 0:
        raise Failed("bench_engine exited %d:\n%s" % (p.returncode, tail(log)))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return [
        ("test driver", "apply from scratch", r["apply_s"], r["rss_after_apply_kib"] * 1024,
         "%d mutating calls" % r["apply_calls"]),
        ("test driver", "plan no changes", r["plan_s"], r["peak_rss_kib"] * 1024,
         "0 mutating calls; RSS is the process peak, incl. the test driver's host"),
    ]


INNER = "--inner-libvirtd"


def rpc_calls(log):
    """The libvirt RPC calls a client made, from its debug log (LIBVIRT_LOG_FILTERS=1:rpc): one
    RPC_CLIENT_MSG_TX_QUEUE line of type 0 (a call) each; and how many of each procedure."""
    calls, procs = 0, {}
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if "RPC_CLIENT_MSG_TX_QUEUE" in line and " type=0 " in line:
                    calls += 1
                    proc = line.split(" proc=")[1].split()[0] if " proc=" in line else "?"
                    procs[proc] = procs.get(proc, 0) + 1
    except OSError:
        pass
    return calls, procs


def inner_libvirtd(podform, conf, result, opts="{}"):
    """Runs inside with-libvirtd.sh: apply then plan, each timed; writes JSON to result."""
    opts = json.loads(opts)
    env = dict(os.environ)
    rows = {}
    steps = [("apply", [podform, "apply", "--yes", "-f", conf, "--connect", "qemu:///system"] + opts.get("apply_args", [])),
             ("plan", [podform, "plan", "--detailed-exitcode", "-f", conf, "--connect", "qemu:///system"])]
    for name, argv in steps:
        log = result + "." + name + ".log"
        step_env = env
        rpc_log = result + "." + name + ".rpc.log"
        if opts.get("rpc"):
            step_env = dict(env, LIBVIRT_LOG_FILTERS="1:rpc", LIBVIRT_LOG_OUTPUTS="1:file:" + rpc_log)
        secs, rss, rc, cpu = timed(argv, log, step_env)
        rows[name] = {"seconds": secs, "rss": rss, "rc": rc, "cpu": cpu, "argv": argv, "log": tail(log)}
        if opts.get("rpc"):
            rows[name]["rpc"], rows[name]["procs"] = rpc_calls(rpc_log)
            os.unlink(rpc_log)
        if rc != 0:
            break
    with open(result, "w") as f:
        json.dump(rows, f)
    return 0


def bench_libvirtd(podform, conf, tmp, opts):
    """Rows, or a string saying why the libvirtd figures are skipped."""
    harness = os.path.join(TOP, "tests", "integration", "with-libvirtd.sh")
    if os.geteuid() != 0:
        return "not root (with-libvirtd.sh runs a system libvirtd in private namespaces)"
    if not os.access(harness, os.X_OK):
        return "%s is missing" % harness
    result = os.path.join(tmp, "libvirtd.json")
    log = os.path.join(tmp, "with-libvirtd.log")
    argv = [harness, sys.executable, os.path.abspath(__file__), INNER, podform, conf, result, json.dumps(opts)]
    with open(log, "w") as out:
        rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out).returncode
    if rc == 77:
        why = [l for l in tail(log).splitlines() if "SKIP" in l]
        return "with-libvirtd.sh exited 77: " + (why[-1] if why else "cannot run a libvirtd here")
    try:
        with open(result) as f:
            r = json.load(f)
    except (OSError, ValueError):
        raise Failed("with-libvirtd.sh exited %d without results:\n%s" % (rc, tail(log)))
    a, p = r.get("apply"), r.get("plan")
    if a["rc"] != 0:
        raise Failed("libvirtd: `%s` exited %d:\n%s" % (" ".join(a["argv"]), a["rc"], a["log"]))
    if p["rc"] != 0:
        what = "changes remain after apply" if p["rc"] == 2 else "failed"
        raise Failed("libvirtd: `%s` exited %d (%s):\n%s" % (" ".join(p["argv"]), p["rc"], what, p["log"]))
    if rc != 0:
        raise Failed("with-libvirtd.sh exited %d:\n%s" % (rc, tail(log)))
    def rpcs(step):
        if "rpc" not in step:
            return ""
        top = sorted(step["procs"].items(), key=lambda kv: -kv[1])[:6]
        return "; %d RPCs (%.2f per VM; by procedure: %s)" % (
            step["rpc"], step["rpc"] / opts["vms"], ", ".join("%s: %d" % kv for kv in top))
    return [
        ("libvirtd", "apply from scratch", a["seconds"], a["rss"],
         "podform apply --yes%s: its own CPU %.2f s, the rest is libvirtd%s"
         % ("".join(" " + x for x in opts.get("apply_args", [])), a["cpu"], rpcs(a))),
        ("libvirtd", "plan no changes", p["seconds"], p["rss"],
         "podform plan --detailed-exitcode: its own CPU %.2f s%s" % (p["cpu"], rpcs(p))),
    ]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == INNER:
        return inner_libvirtd(*sys.argv[2:6])

    ap = argparse.ArgumentParser(description="Time podform plan/apply on a large host (test driver and libvirtd).")
    ap.add_argument("podform", nargs="?", default=os.path.join(TOP, "podform"),
                    help="the podform binary (default: the one in the build tree)")
    ap.add_argument("--engine", default=os.path.join(TOP, "bench", "bench_engine"),
                    help="the bench_engine binary (default bench/bench_engine; `make bench/bench_engine`)")
    ap.add_argument("--vms", type=int, default=500, help="VirtualMachines (default 500)")
    ap.add_argument("--nics", type=int, default=3, help="interfaces per VM (default 3)")
    ap.add_argument("--networks", type=int, default=20, help="libvirt Networks (default 20)")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (default: a temporary directory)")
    ap.add_argument("--skip-libvirtd", action="store_true", help="only the test driver")
    ap.add_argument("--parallel", type=int, metavar="N", help="podform apply --parallel N on libvirtd (default: its default)")
    ap.add_argument("--rpc", action="store_true",
                    help="count the libvirt RPCs of each libvirtd run from the client's debug log (slower)")
    args = ap.parse_args()
    if args.vms < 1 or args.nics < 1 or args.networks < 1:
        ap.error("--vms, --nics and --networks must be at least 1")
    if args.networks > 200:
        ap.error("--networks: at most 200 (bridge names and subnets are numbered)")
    if args.nics > 32:
        ap.error("--nics: at most 32")
    podform = os.path.abspath(args.podform)
    engine = os.path.abspath(args.engine)
    for path, hint in ((podform, "make"), (engine, "make bench/bench_engine")):
        if not os.access(path, os.X_OK):
            print("libvirt-scale: %s is not executable (build it: %s)" % (path, hint), file=sys.stderr)
            return 1

    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        tmp_ctx = None
        tmp = os.path.abspath(args.keep)
    else:
        # 0755: inside with-libvirtd.sh the daemon reaches the pool through it.
        tmp_ctx = tempfile.TemporaryDirectory(prefix="podform-scale-")
        tmp = tmp_ctx.name
        os.chmod(tmp, 0o755)
    try:
        conf = generate(tmp, args.vms, args.nics, args.networks)
        size = sum(os.path.getsize(os.path.join(conf, f)) for f in os.listdir(conf))
        print("libvirt-scale: %d VMs x %d NICs + %d networks (%.1f MB of YAML in %s)"
              % (args.vms, args.nics, args.networks, size / 1e6, conf), flush=True)
        rows = bench_test_driver(engine, conf, tmp)
        skipped = "--skip-libvirtd given" if args.skip_libvirtd else bench_libvirtd(
            podform, conf, tmp, {"vms": args.vms, "rpc": args.rpc,
                                 "apply_args": ["--parallel", str(args.parallel)] if args.parallel else []})
        if isinstance(skipped, list):
            rows += skipped
            skipped = None
    except Failed as e:
        print("libvirt-scale: FAILED: %s" % e, file=sys.stderr)
        return 1
    finally:
        if tmp_ctx:
            tmp_ctx.cleanup()

    print("%-12s %-19s %9s %13s  %s" % ("target", "step", "seconds", "peak RSS MB", "note"))
    for target, step, secs, rss, note in rows:
        print("%-12s %-19s %9.3f %13.1f  %s" % (target, step, secs, rss / 1e6, note))
    if skipped:
        print("%-12s real-libvirtd figures skipped: %s" % ("libvirtd", skipped))

    scale = args.vms / GOAL_VMS
    missed = False
    for step, goal in (("plan no changes", GOAL_PLAN_S), ("apply from scratch", GOAL_APPLY_S)):
        secs = next(r[2] for r in rows if r[0] == "test driver" and r[1] == step)
        g = goal * scale
        ratio = secs / g
        missed |= ratio > 1
        print("goal: test driver %s < %.3g s: %.3f s, ratio %.3f%s"
              % (step, g, secs, ratio, "" if ratio <= 1 else "  MISSED"))
    if missed:
        print("libvirt-scale: goal missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
