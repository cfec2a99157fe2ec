#!/usr/bin/env python3
"""Start-to-READY time and idle memory of the shadcache daemon, measured from outside.

Starts the daemon N times on a temporary socket and data dir with a NOTIFY_SOCKET of our own,
times spawn -> READY=1, then reads VmRSS and VmHWM from /proc after it has idled a second.
Usage: bench/startup.py [path/to/shadcache] [runs]
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp/shadcache-target/release/shadcache"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


ready_ms, rss_kib, hwm_kib = [], [], []
for _ in range(runs):
    with tempfile.TemporaryDirectory(prefix="shadcache-bench-") as tmp:
        notify_path = os.path.join(tmp, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(30)
        env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": os.environ["PATH"],
               "NOTIFY_SOCKET": notify_path}
        start = time.monotonic()
        daemon = subprocess.Popen(
            [binary, "--socket", os.path.join(tmp, "s.sock"), "--config",
             os.path.join(tmp, "none.toml"), "daemon", "--data-dir", os.path.join(tmp, "data")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            while b"READY=1" not in notify.recv(4096):
                pass
            ready_ms.append((time.monotonic() - start) * 1000)
            time.sleep(1)
            rss_kib.append(status_kib(daemon.pid, "VmRSS"))
            hwm_kib.append(status_kib(daemon.pid, "VmHWM"))
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            notify.close()

print(f"binary: {binary} ({os.path.getsize(binary) / 1e6:.1f} MB)")
print(f"runs: {runs}")
print(f"start -> READY=1 ms: median {statistics.median(ready_ms):.1f}  "
      f"min {min(ready_ms):.1f}  max {max(ready_ms):.1f}")
print(f"idle RSS MiB: median {statistics.median(rss_kib) / 1024:.1f}  "
      f"peak (VmHWM) {max(hwm_kib) / 1024:.1f}")
