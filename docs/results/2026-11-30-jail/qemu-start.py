#!/usr/bin/env python3
"""QEMU's start, jailed and not, step by step: exec -> QMP greeting and both sockets accepted.

Starts a restore-shaped QEMU (paused, -incoming defer, the snapshot memory file mapped private)
the way thaw does, in several configurations, in turns, ROUNDS times, and prints medians and
paired ratios against `setpriv` (the unjailed start). Nothing is loaded and no guest runs: this is
the vmm_start phase alone. Run as root on a host with thaw's jailer and shim compiled
(/var/cache/thaw/jail, made by any jailed `thaw serve`) and a guest image in /var/cache/thaw/images.

  qemu-start.py [--rounds N] [--configs a,b,...] [--image DIR] [--jailer PATH] [--shim PATH]

configs: setpriv (unjailed, -sandbox on: issue 10 with --vmm-jail off), setpriv-nosandbox (f6378fb),
jail (thaw's jail as `thaw serve` uses it), jail-nosandbox, jail-noshim (memory file bound
writable, no preload), jail-nocg (no cgroups), jail-pool (cgroups made ahead, only joined), jail-weight (the VM's
cpu.shares 1024 x (vCPUs + 1) and thaw-vms' 1024 x 2 x cores instead of 1024 each),
true-setpriv / true-jail (the wrapper starting /bin/true: its own cost, to exit), jail2 (as jail
with the jailer given by --jailer2, to compare two builds), jail2-weight (both: this branch's jail).
With THAW_JAIL_TRACE the jailer's per-step lines are summarised too (median µs per step).
"""
import argparse, glob, os, re, shutil, socket, statistics, subprocess, sys, time

HERE = "/var/tmp/jailfast-qs"
CG = "/sys/fs/cgroup"
PERIOD = 100_000


def tsc_khz():
    m = re.search(r"cpu MHz\s*:\s*([0-9.]+)", open("/proc/cpuinfo").read())
    return round(float(m.group(1)) * 1000) if m else 2_000_000


def cgroup_parents():
    own = {}
    for line in open("/proc/self/cgroup"):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        for c in ctrls.split(","):
            own[c] = path
    # A parent of its own beside thaw-vms (same depth), so changing its weight touches no daemon's VMs.
    return {c: os.path.join(CG, c, own.get(c, "/").lstrip("/"), "thaw-vms-qs") for c in ("memory", "cpu", "pids")}


def cgroup_create(name, mem_bytes=(256 + 192) << 20, vcpus=1, shares=None):
    """As dev.thaw.vm.Cgroups.create on v1: a group per hierarchy, limits written; with
    shares=(parent, vm) also the CPU weights (cpu.shares) of thaw-vms and of the VM's group."""
    dirs = []
    for c, parent in cgroup_parents().items():
        os.makedirs(parent, exist_ok=True)
        d = os.path.join(parent, name)
        os.mkdir(d)
        dirs.append(d)
        if c == "memory":
            open(os.path.join(d, "memory.limit_in_bytes"), "w").write(str(mem_bytes))
        elif c == "cpu":
            open(os.path.join(d, "cpu.cfs_period_us"), "w").write(str(PERIOD))
            open(os.path.join(d, "cpu.cfs_quota_us"), "w").write(str((vcpus + 1) * PERIOD))
            if shares:
                open(os.path.join(parent, "cpu.shares"), "w").write(str(shares[0]))
                open(os.path.join(d, "cpu.shares"), "w").write(str(shares[1]))
        else:
            open(os.path.join(d, "pids.max"), "w").write(str(256 + 4 * vcpus))
    return dirs


def cgroup_remove(dirs):
    for d in dirs:
        for _ in range(200):
            try:
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.01)


def qemu_argv(image, run, mem, vmstate, sandbox):
    a = ["qemu-system-x86_64", "-M", "microvm,pic=off,memory-backend=mem", "-accel", "tcg", "-cpu", "max", "-smp", "1",
         "-m", "256M", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
    if sandbox:
        a += ["-sandbox", "on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny,spawn=allow"]
    a += ["-object", "memory-backend-file,id=mem,size=256M,mem-path=%s,share=off" % mem,
          "-kernel", image + "/vmlinuz", "-initrd", image + "/initrd.img",
          "-append", "console=ttyS0 root=/dev/vda ro quiet panic=-1 tsc=reliable tsc_early_khz=%d" % tsc_khz(),
          "-serial", "file:" + run + "/console.log",
          "-drive", "id=root,file=%s/rootfs.ext4,format=raw,if=none,readonly=on" % image,
          "-device", "virtio-blk-device,drive=root", "-device", "virtio-serial-device",
          "-chardev", "socket,id=agent,path=" + run + "/agent.sock",
          "-device", "virtserialport,chardev=agent,name=thaw.agent",
          "-chardev", "socket,id=qmp,path=" + run + "/qmp.sock", "-mon", "chardev=qmp,mode=control",
          "-S", "-incoming", "defer"]
    return a


def jail_argv(args, image, run, mem, vmstate, cgroups, shim):
    uid, gid = 999, 995
    out = subprocess.run(["getent", "passwd", "thaw-vm"], capture_output=True, text=True).stdout.split(":")
    if len(out) > 3:
        uid, gid = int(out[2]), int(out[3])
    a = [args.jailer2 if args.config in ("jail2", "jail2-weight") else args.jailer, "--uid", str(uid), "--gid", str(gid)]
    for d in cgroups:
        a += ["--cgroup", d + "/cgroup.procs"]
    a += ["--root", "/var/cache/thaw/jail/root"]
    ro = ["/usr"] + [p for p in ("/bin", "/sbin", "/lib", "/lib64") if os.path.lexists(p)] + ["/etc/ld.so.cache",
          image + "/vmlinuz", image + "/initrd.img", image + "/rootfs.ext4"]
    if shim:
        ro += [mem]
    ro += [vmstate] + ([args.shim] if shim else [])
    for p in ro:
        a += ["--ro", p]
    for d in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        a += ["--dev", d]
    a += ["--rw", run] + ([] if shim else ["--rw", mem])
    a += ["--env", "LD_PRELOAD=" + (args.shim if shim else ""), "--env", "THAW_READONLY_FILES=" + (mem if shim else ""), "--"]
    return a, uid, gid


def one(args, config, k, pool):
    args.config = config
    run = "%s/run-%s-%d" % (HERE, config, k)
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    mem, vmstate = HERE + "/memory", HERE + "/vmstate"
    servers = {}
    for n in ("qmp", "agent"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(run + "/" + n + ".sock")
        s.listen(1)
        servers[n] = s
    t = {}
    t0 = time.monotonic()
    cgroups = []
    jailed = config.startswith("jail") or config == "true-jail"
    if jailed and config not in ("jail-nocg",):
        if config == "jail-pool":
            cgroups = pool.pop()
        elif config in ("jail-weight", "jail2-weight"):
            cgroups = cgroup_create("%d-qs-%s-%d" % (os.getpid(), config, k), shares=(1024 * 2 * os.cpu_count(), 2048))
        else:
            shares = os.path.join(cgroup_parents()["cpu"], "cpu.shares")
            if os.path.exists(shares):  # the other configs get the default weight back
                open(shares, "w").write("1024")
            cgroups = cgroup_create("%d-qs-%s-%d" % (os.getpid(), config, k))
    t["cgroups"] = time.monotonic() - t0
    sandbox = config not in ("setpriv-nosandbox", "jail-nosandbox")
    if config.startswith("true-"):
        qemu = ["/bin/true"]
    else:
        qemu = qemu_argv(args.image, run, mem, vmstate, sandbox)
    if jailed:
        pre, uid, gid = jail_argv(args, args.image, run, mem, vmstate, cgroups, config != "jail-noshim")
        for n in ("qmp.sock", "agent.sock"):
            os.chown(run + "/" + n, uid, gid)
        open(run + "/console.log", "w").close()
        os.chown(run + "/console.log", uid, gid)
        cmd = pre + qemu
    else:
        cmd = ["setpriv", "--pdeathsig", "KILL", "--"] + qemu
    log = open(run + "/qemu.log", "w")
    ts = time.monotonic()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    if config.startswith("true-"):
        p.wait()
        t["ready"] = time.monotonic() - ts
    else:
        servers["qmp"].settimeout(30)
        servers["agent"].settimeout(30)
        c, _ = servers["qmp"].accept()
        a, _ = servers["agent"].accept()
        c.recv(4096)  # the greeting
        t["ready"] = time.monotonic() - ts
        p.kill()
        if jailed:  # QEMU first (PID 1 of its namespace), so the jailer exits
            kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
            for kid in kids:
                try:
                    os.kill(int(kid), 9)
                except OSError:
                    pass
        p.wait()
        c.close()
        a.close()
    for s in servers.values():
        s.close()
    log.close()
    steps = {}
    tready = ts + t["ready"]
    for line in open(run + "/qemu.log"):
        f = line.split()
        if len(f) == 4 and f[0] == "thaw-jailer-trace:":
            if not steps:
                steps["spawn"] = int(f[2]) - ts * 1e6  # Popen to the jailer's first line
            steps[f[1]] = int(f[3])
            last = int(f[2])
    if steps:
        steps["exec-to-ready"] = tready * 1e6 - last  # QEMU's own start, from the jailer's exec
    tc = time.monotonic()
    cgroup_remove(cgroups)
    t["remove"] = time.monotonic() - tc
    shutil.rmtree(run, ignore_errors=True)
    return t, steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--configs", default="setpriv,setpriv-nosandbox,jail,jail-nosandbox,jail-noshim,jail-nocg,jail-pool")
    ap.add_argument("--image", default=max(glob.glob("/var/cache/thaw/images/*/"), key=os.path.getmtime).rstrip("/"))
    ap.add_argument("--jailer", default=max(glob.glob("/var/cache/thaw/jail/jailer-*"), key=os.path.getmtime))
    ap.add_argument("--jailer2", help="a second jailer build, run as the config jail2 (as jail otherwise)")
    ap.add_argument("--shim", default=max(glob.glob("/var/cache/thaw/jail/readonly-open-*.so"), key=os.path.getmtime))
    args = ap.parse_args()
    os.makedirs(HERE, exist_ok=True)
    if not os.path.exists(HERE + "/memory"):
        with open(HERE + "/memory", "wb") as f:
            f.truncate(256 << 20)
        open(HERE + "/vmstate", "wb").write(b"\0" * 4096)
    configs = args.configs.split(",")
    res = {c: [] for c in configs}
    traces = {c: [] for c in configs}
    pool = [cgroup_create("%d-qs-pool-%d" % (os.getpid(), i)) for i in range(args.rounds)] if "jail-pool" in configs else []
    print("load before: %s" % open("/proc/loadavg").read().split()[:3], file=sys.stderr)
    for r in range(args.rounds):
        order = configs if r % 2 == 0 else configs[::-1]  # alternate the order so drift hits every config alike
        for c in order:
            t, steps = one(args, c, r, pool)
            res[c].append(t)
            traces[c].append(steps)
    load = open("/proc/loadavg").read().split()[:3]
    base = "setpriv" if "setpriv" in configs else configs[0]
    print("image %s, %d rounds, load average after %s" % (args.image, args.rounds, " ".join(load)))
    print("%-18s %10s %10s %10s %12s" % ("config", "ready ms", "cgroup ms", "rmdir ms", "paired/" + base))
    for c in configs:
        ready = [t["ready"] * 1000 for t in res[c]]
        ratio = statistics.median(a["ready"] / b["ready"] for a, b in zip(res[c], res[base]))
        print("%-18s %10.1f %10.2f %10.2f %12.3f" % (c, statistics.median(ready), statistics.median(t["cgroups"] * 1000 for t in res[c]),
                                               statistics.median(t["remove"] * 1000 for t in res[c]), ratio))
    for c in configs:
        if traces[c] and traces[c][0]:
            names = list(traces[c][0].keys())
            print("jailer steps, %s (median µs since the previous step): " % c
                  + ", ".join("%s %d" % (n, statistics.median(s.get(n, 0) for s in traces[c])) for n in names))
    for group in pool:
        cgroup_remove(group)
    cgroup_remove(list(cgroup_parents().values()))


if __name__ == "__main__":
    main()
