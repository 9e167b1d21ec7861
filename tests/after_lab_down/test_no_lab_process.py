"""Run after `make lab-down`: no process started from the lab's binaries may be left."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = Path(os.environ.get("MCC_LAB_DIR", ROOT / ".lab"))


def _lab_binaries():
    bindir = LAB / "bin"
    assert bindir.is_dir(), "no lab was ever brought up here ({0} missing)".format(bindir)
    return {os.path.realpath(p) for p in bindir.iterdir()}


def _of_this_lab(proc):
    """The lab starts every process in its state directory; the binaries are shared by every lab on the
    machine (one cache per user), so another checkout's running lab is not a leftover of this one."""
    try:
        if os.path.realpath(proc / "cwd") == str(LAB.resolve()):
            return True
        return str(LAB.resolve()).encode() in (proc / "cmdline").read_bytes()
    except OSError:
        return False


def test_no_process_runs_a_lab_binary():
    binaries = _lab_binaries()
    assert len(binaries) >= 10
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            exe = os.path.realpath(proc / "exe")
        except OSError:
            continue
        if exe in binaries and _of_this_lab(proc):
            left.append((proc.name, exe))
    assert left == []


def test_no_pid_file_left():
    assert sorted(p.name for p in (LAB / "pids").glob("*.pid")) == []
