"""`python -m bench.peak MODULE ARGS…`: run a module as __main__ and report its own peak memory.

The peak is VmHWM from /proc/self/status: it belongs to this program image only. ru_maxrss would
also count the parent's memory the child inherited at fork, before exec (the bench process holds
a model and an index, so it reported 1 GiB for a build that peaks near 550 MiB).
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    atexit.register(lambda: print(f"peak_rss_mib={peak_mib():.0f}", file=sys.stderr, flush=True))
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
