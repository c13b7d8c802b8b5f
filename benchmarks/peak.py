"""``python -m benchmarks.peak HWM_FILE MODULE ARGS...``: run ``python -m MODULE ARGS...`` in
this process, then write its peak RSS (VmHWM, kB, from /proc/self/status) to ``HWM_FILE``.

The kernel's figure for a finished child (``ru_maxrss``) counts the memory of the process
that forked it, when that is more: this reads the peak of the measured program alone (a new
program's VmHWM starts afresh at exec). Imports nothing more than the program does.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    hwm_file, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    code: int | str | None = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    finally:
        Path(hwm_file).write_text(str(vm_hwm_kb()))
    return code if isinstance(code, int) else (0 if code is None else 1)


if __name__ == "__main__":
    raise SystemExit(main())
