#!/usr/bin/env python3
"""Stand-ins for apt-get, dpkg-query and another process holding apt's locks, for the tests of
system packages (__tests__/integration/system-packages.test.ts). They never touch the machine's
apt: every lock and list lives in the folder APT_STANDIN_STATE names (set by the test, baked into
the wrappers it writes). The locks are fcntl (POSIX record) locks, as apt and dpkg take them, so
they conflict as the real ones do: `apt-get update` fails at once on a taken lists lock, naming
its holder; `apt-get install` waits for dpkg's frontend lock up to `-o DPkg::Lock::Timeout=S`,
printing apt's `Waiting for cache lock` lines, then fails with apt's words.

  apt-standin.py apt-get ARGS...     records ARGS in calls, then acts as above; with a barrier
                                     file holding N, first waits until N calls have arrived, so
                                     that N jobs meet apt at the same moment
  apt-standin.py dpkg-query ARGS...  `-W -f=...` answer from the installed file
  apt-standin.py hold SECONDS        takes the three locks, says so in held, holds, says released
"""
import fcntl
import os
import struct
import sys
import time

STATE = os.environ["APT_STANDIN_STATE"]
LISTS_LOCK = os.path.join(STATE, "lists", "lock")
FRONTEND_LOCK = os.path.join(STATE, "dpkg", "lock-frontend")
DPKG_LOCK = os.path.join(STATE, "dpkg", "lock")


def append(name, line):
    with open(os.path.join(STATE, name), "a") as f:
        f.write(line + "\n")


def holder(fd):
    """Who holds a conflicting lock on fd, as apt asks: fcntl F_GETLK."""
    probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0)
    kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
    if kind == fcntl.F_UNLCK:
        return None
    try:
        with open("/proc/%d/comm" % pid) as f:
            name = f.read().strip()
    except OSError:
        name = "?"
    return "process %d (%s)" % (pid, name)


def try_lock(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, None
    except OSError:
        who = holder(fd)
        os.close(fd)
        return None, who


def installed():
    try:
        with open(os.path.join(STATE, "installed")) as f:
            return set(f.read().split())
    except FileNotFoundError:
        return set()


def barrier():
    path = os.path.join(STATE, "barrier")
    if not os.path.exists(path):
        return
    with open(path) as f:
        count = int(f.read())
    append("arrivals", str(os.getpid()))
    until = time.time() + 240
    while time.time() < until:
        with open(os.path.join(STATE, "arrivals")) as f:
            if len(f.read().split()) >= count:
                return
        time.sleep(0.1)


def apt_get(args):
    append("calls", " ".join(args))
    barrier()
    options, words = {}, []
    i = 0
    while i < len(args):
        if args[i] == "-o":
            key, _, value = args[i + 1].partition("=")
            options[key] = value
            i += 2
        else:
            words.append(args[i])
            i += 1
    quiet = "-qq" in words
    command = [w for w in words if not w.startswith("-")]
    if command[0] == "update":
        fd, who = try_lock(LISTS_LOCK)
        if fd is None:
            print("E: Could not get lock %s. It is held by %s" % (LISTS_LOCK, who), file=sys.stderr)
            print("E: Unable to lock directory %s/" % os.path.dirname(LISTS_LOCK), file=sys.stderr)
            return 100
        time.sleep(0.3)
        append("updated", str(time.time()))
        return 0
    if command[0] == "install":
        return install(command[1:], int(options.get("DPkg::Lock::Timeout", "0")), quiet)
    print("E: stand-in: unexpected apt-get %s" % " ".join(args), file=sys.stderr)
    return 100


def install(packages, timeout, quiet):
    until = time.time() + timeout
    while True:
        fd, who = try_lock(FRONTEND_LOCK)
        if fd is not None:
            break
        line = "Could not get lock %s. It is held by %s" % (FRONTEND_LOCK, who)
        if time.time() >= until:
            if timeout == 0:
                print("E: " + line, file=sys.stderr)
            print("E: Unable to acquire the dpkg frontend lock (%s), is another process using it?" % FRONTEND_LOCK,
                  file=sys.stderr)
            return 100
        if not quiet:
            print("Waiting for cache lock: %s..." % line, file=sys.stderr)
        time.sleep(0.5)
    dpkg, who = try_lock(DPKG_LOCK)
    if dpkg is None:
        print("E: Could not get lock %s. It is held by %s" % (DPKG_LOCK, who), file=sys.stderr)
        return 100
    if not os.path.exists(os.path.join(STATE, "updated")):
        print("E: Unable to locate package %s" % packages[0], file=sys.stderr)
        return 100
    time.sleep(0.5)
    append("installed", " ".join(packages))
    append("installs", "%s %s" % (time.time(), " ".join(packages)))
    return 0


def dpkg_query(args):
    append("dpkg-calls", " ".join(args))
    have = installed()
    names = [a for a in args if not a.startswith("-")]
    missing = [n for n in names if n not in have]
    for n in names:
        if n in have:
            print("%s install ok installed" % n)
    for n in missing:
        print("dpkg-query: no packages found matching %s" % n, file=sys.stderr)
    trigger = os.path.join(STATE, "hold-on-query")
    if os.path.exists(trigger):
        # Another process takes apt's locks the moment the action has looked: it finds them held.
        with open(trigger) as f:
            seconds = float(f.read())
        os.remove(trigger)
        hold_in_background(seconds)
    return 1 if missing else 0


def hold_in_background(seconds):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "hold", str(seconds)])
        os._exit(0)
    os.wait()
    while not os.path.exists(os.path.join(STATE, "held")):
        time.sleep(0.05)


def hold(seconds):
    fds = []
    for path in (LISTS_LOCK, FRONTEND_LOCK, DPKG_LOCK):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        fcntl.lockf(fd, fcntl.LOCK_EX)
        fds.append(fd)
    append("held", "%s %d" % (time.time(), os.getpid()))
    time.sleep(seconds)
    append("released", str(time.time()))
    return 0


def main():
    tool, args = sys.argv[1], sys.argv[2:]
    if tool == "apt-get":
        return apt_get(args)
    if tool == "dpkg-query":
        return dpkg_query(args)
    if tool == "hold":
        return hold(float(args[0]))
    return 2


if __name__ == "__main__":
    sys.exit(main())
