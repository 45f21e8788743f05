"""Hostile student files against the sandbox: each tries one escape and the test checks from outside that it failed.

They run where bubblewrap can create its namespaces (``make test`` installs it: scripts/install-bwrap.sh) and skip,
saying why, only where it cannot. The fallback modes and the in-process grade are checked to say what they are.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet._support import isolation as _isolation
from glassnet._support import sandbox as _sandbox

GALLERY = Path(__file__).parent / "grade_gallery"
SRC = str(Path(glassnet.__file__).parents[1])
MODE, WHY = _isolation.isolation_available()
needs_bwrap = pytest.mark.skipif(MODE != "bwrap", reason=f"bubblewrap cannot run here ({WHY}); "
                                                         "scripts/install-bwrap.sh installs it")


def _student(tmp_path: Path, source: str, name: str = "alice") -> Path:
    """A class folder: ``name``'s file, a sibling's submission and a teacher's file beside the class."""
    (tmp_path / "class" / "bob").mkdir(parents=True, exist_ok=True)
    (tmp_path / "class" / "bob" / "secret.py").write_text("ANSWER = 42\n", encoding="utf-8")
    (tmp_path / "teacher").mkdir(exist_ok=True)
    (tmp_path / "teacher" / "key.txt").write_text("the key\n", encoding="utf-8")
    folder = tmp_path / "class" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nn.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def _probe(path: Path, *args, timeout_s: float = 20, memory_mb: int = 512):
    run = _sandbox.run_file(path, [_sandbox.Call("probe", args)], timeout_s=timeout_s, memory_mb=memory_mb)
    return run, run.results[0]


def _marked(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_gone(marker: str, rounds: int = 100) -> list[int]:
    """The processes still marked after waiting up to ``rounds`` × 0.1 s for them to go (they die asynchronously)."""
    import time

    for _ in range(rounds):
        left = [pid for pid in _marked(marker) if not _zombie(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return left


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@needs_bwrap
def test_reads_nothing_outside_its_folder(tmp_path):
    path = _student(tmp_path, """
        import os
        def probe(sibling, teacher):
            seen = []
            for p in (sibling, teacher, "/etc/shadow", "/root/.bashrc", os.path.expanduser("~/.bashrc"), "own.txt"):
                try:
                    open(os.path.join(os.path.dirname(__file__), p) if p == "own.txt" else p).read()
                    seen.append(1)
                except OSError:
                    seen.append(0)
            return seen, len(os.environ), len(os.listdir(os.path.dirname(os.path.dirname(__file__))))
    """)
    (path.parent / "own.txt").write_text("mine", encoding="utf-8")
    run, r = _probe(path, str(tmp_path / "class" / "bob" / "secret.py"), str(tmp_path / "teacher" / "key.txt"))
    assert r.ok, r.message
    assert r.values[0].tolist() == [0, 0, 0, 0, 0, 1]  # only its own folder
    assert "bubblewrap" in run.isolation and "no network" in run.isolation
    assert int(r.values[1]) < 15  # a minimal environment, not the grader's
    assert int(r.values[2]) == 1  # the class folder shows its own submission only


@needs_bwrap
def test_cannot_reach_a_listener_on_the_hosts_loopback(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    path = _student(tmp_path, """
        import socket
        def probe(port):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", int(port)))
                s.sendall(b"leak")
                return 1.0
            except OSError:
                return 0.0
    """)
    try:
        run, r = _probe(path, port)
        assert r.ok and float(r.values[0]) == 0.0
        with pytest.raises(OSError):  # nothing ever connected
            listener.accept()
    finally:
        listener.close()


@needs_bwrap
def test_writes_only_its_temp_folder(tmp_path):
    outside = [tmp_path / "teacher" / "planted.txt", tmp_path / "class" / "alice" / "planted.txt",
               Path("/tmp") / f"glassnet-planted-{uuid.uuid4().hex}"]
    path = _student(tmp_path, """
        import os
        def probe(*paths):
            wrote = []
            for p in list(paths) + ["here.txt"]:
                try:
                    with open(p, "w") as f:
                        f.write("x")
                    wrote.append(1)
                except OSError:
                    wrote.append(0)
            return wrote
    """)
    run, r = _probe(path, *map(str, outside))
    assert r.ok and r.values[0].tolist() == [0, 0, 0, 1]  # its working folder only
    assert not any(p.exists() for p in outside)


@needs_bwrap
def test_leaves_no_process_behind(tmp_path):
    marker = f"glassnet-left-{uuid.uuid4().hex}"
    path = _student(tmp_path, f"""
        import os, subprocess, sys
        def probe():
            # A daemon in its own session (double fork) and a plain child, both told to outlive the grade.
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"],
                             start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", "{marker}"])
                os._exit(0)
            return 1.0
    """)
    run, r = _probe(path)
    assert r.ok
    assert _wait_gone(marker) == []
    # the same from a grade that times out while its children run
    hang = _student(tmp_path, f"""
        import subprocess, sys, time
        def probe():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"],
                             start_new_session=True)
            time.sleep(120)
    """, name="carol")
    run, r = _probe(hang, timeout_s=3)
    assert run.status == "timeout"
    assert _wait_gone(marker) == []


@needs_bwrap
def test_cannot_raise_its_limits_and_runs_out_of_memory(tmp_path):
    path = _student(tmp_path, """
        import resource
        def probe():
            out = []
            for which in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU, resource.RLIMIT_NOFILE,
                          resource.RLIMIT_FSIZE):
                soft, hard = resource.getrlimit(which)
                out.append(soft == hard != resource.RLIM_INFINITY)
                try:
                    resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                    out.append(1)
                except (ValueError, OSError):
                    out.append(0)
            return out
        def hog():
            return bytearray(2 << 30)
    """)
    run = _sandbox.run_file(path, [_sandbox.Call("probe"), _sandbox.Call("hog")], timeout_s=20, memory_mb=256)
    limits, hog = run.results
    assert limits.ok and limits.values[0].tolist() == [1, 0] * 5  # hard limits, none raised
    assert hog.status == "error" and "ran out of memory (limit 256 MB)" in hog.message


@needs_bwrap
def test_a_fork_bomb_stops_at_the_process_limit(tmp_path):
    path = _student(tmp_path, """
        import os, time
        def probe():
            n = 0
            for _ in range(300):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            return n
    """)
    run, r = _probe(path)
    assert r.ok and 0 < float(r.values[0]) < 100


@needs_bwrap
def test_cannot_stop_or_signal_the_grader(tmp_path):
    path = _student(tmp_path, """
        import os, signal
        def probe(grader):
            done = 0
            for pid in (os.getppid(), int(grader)):
                try:
                    os.kill(pid, signal.SIGSTOP)
                    done += 1
                except OSError:
                    pass
            os.system(f"kill -STOP {int(grader)} 2>/dev/null; kill -TERM {int(grader)} 2>/dev/null")
            return done
    """)
    # The grader is a process of its own, so that a failure stops it and not this test.
    grader = subprocess.Popen(
        [sys.executable, "-c", "import os, sys; sys.path.insert(0, sys.argv[1]); "
                               "from glassnet._support import sandbox as s; "
                               "r = s.run_file(sys.argv[2], [s.Call('probe', (os.getpid(),))], timeout_s=20); "
                               "print(r.status, r.results[0].status, r.results[0].values[0] if r.results[0].ok "
                               "else r.results[0].message)", SRC, str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        out, _ = grader.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        grader.send_signal(signal.SIGCONT)
        grader.kill()
        pytest.fail("the graded file stopped the grader")
    assert grader.returncode == 0, out
    assert out.split()[:3] == ["ok", "ok", "0.0"], out


@needs_bwrap
def test_cannot_change_a_later_grade(tmp_path):
    import site

    # Everywhere a .pth file would run in a later Python: the installation, the user's site, this source tree.
    targets = sorted({*site.getsitepackages(), site.getusersitepackages(), sys.prefix, SRC,
                      *(p for p in sys.path if p and os.path.isdir(p))})
    path = _student(tmp_path, """
        import os, site, sys
        PTH = "import builtins; builtins.GLASSNET_PLANTED = 1\\n"
        def probe(*targets):
            wrote = 0
            for d in set(targets) | {p for p in sys.path if p} | set(site.getsitepackages()):
                try:
                    with open(os.path.join(d, "zz_glassnet_planted.pth"), "x") as f:
                        f.write(PTH)
                    wrote += 1
                except OSError:
                    pass
            return wrote
    """)
    planted = [Path(d, "zz_glassnet_planted.pth") for d in targets]
    try:
        run, r = _probe(path, *targets)
        assert r.ok and float(r.values[0]) == 0.0
        assert not any(p.exists() for p in planted)
        report = glassnet.grade(GALLERY / "wrong_sign.py")  # a wrong file graded afterwards still fails
        assert not report.passed and report.mistakes == ("wrong-sign",)
    finally:  # a sandbox that failed must not leave the file for every later Python here
        for p in planted:
            p.unlink(missing_ok=True)


FORGERIES = {
    "a huge array": """
        import json, os
        def probe():
            with open("results.jsonl", "w") as f:
                f.write(json.dumps({"loaded": True}) + "\\n")
                f.write(json.dumps({"status": "ok", "tuple": False,
                                    "values": [{"shape": [1 << 20, 1 << 20], "offset": 0}]}) + "\\n")
            os._exit(0)
    """,
    "a huge results file": """
        import os
        def probe():
            with open("results.jsonl", "w") as f:
                f.write("[" * (8 << 20))
            os._exit(0)
    """,
    "a negative offset": """
        import json, os
        def probe():
            with open("results.jsonl", "w") as f:
                f.write(json.dumps({"loaded": True}) + "\\n")
                f.write(json.dumps({"status": "ok", "tuple": False, "values": [{"shape": [2], "offset": -8}]}) + "\\n")
            os._exit(0)
    """,
    "more results than calls": """
        import json, os
        def probe():
            with open("results.jsonl", "w") as f:
                f.write(json.dumps({"loaded": True}) + "\\n")
                f.write((json.dumps({"status": "missing", "message": "x", "traceback": ""}) + "\\n") * 5)
            os._exit(0)
    """,
    "not JSON": """
        import os
        def probe():
            with open("results.jsonl", "wb") as f:
                f.write(b"\\x00\\xff{]\\n")
            os._exit(0)
    """,
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_results_file_is_one_clear_error(tmp_path, forgery):
    path = _student(tmp_path, FORGERIES[forgery])
    run, r = _probe(path)
    assert run.status == "bad results" and r.status == "not run"
    assert run.message.startswith("the results the child wrote are not valid (")
    assert "may have written over them" in run.message


def test_a_forged_results_file_fails_the_grade_with_that_error(tmp_path):
    path = _student(tmp_path, FORGERIES["a huge array"].replace("def probe", "def nnCostFunction")
                    .replace("():", "(*args):"))
    report = glassnet.grade(path)
    assert not report.passed and "results the child wrote are not valid" in (report.error or "")
    assert "results the child wrote are not valid" in report.text()


def _grader_of(path: Path, marker: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from glassnet._support import "
                               "sandbox as s; s.run_file(sys.argv[2], [s.Call('probe')], timeout_s=100)",
         SRC, str(path)])


@needs_bwrap
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_the_child_tree_dies_with_the_grader(tmp_path, how):
    import time

    marker = f"glassnet-orphan-{uuid.uuid4().hex}"
    path = _student(tmp_path, f"""
        import subprocess, sys, time
        def probe():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"],
                             start_new_session=True)
            time.sleep(120)
    """)
    grader = _grader_of(path, marker)
    try:
        for _ in range(600):  # until the child's child runs
            if _marked(marker):
                break
            time.sleep(0.1)
        assert _marked(marker), "the graded file never started its child"
        grader.send_signal(how)
        grader.wait(timeout=60)
        assert _wait_gone(marker) == []
    finally:
        grader.kill()
        grader.wait()


def test_the_fallback_says_what_is_not_isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_SANDBOX", "none")
    report = glassnet.grade(GALLERY / "correct.py")
    assert report.passed
    assert report.isolation.startswith("rlimits only: NOT isolated: the file system, the network")
    assert "GLASSNET_SANDBOX=none" in report.isolation
    assert f"isolation: {report.isolation[:40]}" in report.text()
    assert report.to_dict()["isolation"] == report.isolation


def test_in_process_grading_says_it_trusts_the_code():
    def nnCostFunction(nn_params, n_in, n_hidden, K, X, y, lambda_):
        return 0.0, np.zeros_like(nn_params)

    report = glassnet.grade(nnCostFunction)
    assert report.isolation.startswith("none: the function runs inside this Python process")
    assert "trusted" in report.isolation


@needs_bwrap
def test_a_graded_file_says_it_ran_under_bubblewrap():
    report = glassnet.grade(GALLERY / "correct.py")
    assert report.passed and report.isolation.startswith("bubblewrap: sees only the system, Python and its own folder")
    assert "isolation: bubblewrap" in report.text()


def test_run_limited_runs_a_program_and_reports_its_end(tmp_path):
    done = _isolation.run_limited([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"], folder=tmp_path,
                                  timeout_s=20, memory_mb=512)
    assert done.status == "crashed" and done.returncode == 3 and "hi" in done.output and done.isolation
    done = _isolation.run_limited([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                                  folder=tmp_path, timeout_s=20, memory_mb=512)
    assert done.status == "crashed" and done.returncode == -signal.SIGSEGV
    done = _isolation.run_limited([sys.executable, "-c", "print('x' * 100000)"], folder=tmp_path, timeout_s=20,
                                  memory_mb=512, output_limit=1000)
    assert done.ok and len(done.output) == 1000
    done = _isolation.run_limited([sys.executable, "-c", "import time; time.sleep(60)"], folder=tmp_path,
                                  timeout_s=1, memory_mb=512)
    assert done.status == "timeout" and done.returncode is None
    with pytest.raises(FileNotFoundError, match="no such folder"):
        _isolation.run_limited(["/bin/true"], folder=tmp_path / "nope", timeout_s=1, memory_mb=512)


@pytest.mark.parametrize("how", ["bytes", "entries"])
def test_a_program_that_fills_its_folder_is_stopped_and_says_why(tmp_path, monkeypatch, how):
    # RLIMIT_FSIZE bounds each file; many files (or millions of empty ones) would still fill the grader's disk: the
    # folder is measured while the program runs and the whole tree is killed past its bounds (small ones here)
    monkeypatch.setattr(_isolation, "_MAX_FOLDER_MB", 8)
    monkeypatch.setattr(_isolation, "_MAX_FOLDER_ENTRIES", 300)
    monkeypatch.setattr(_isolation, "_WATCH_S", 0.05)
    if how == "bytes":
        writer = "import os, time\nfor i in range(10**6):\n    open(f'f{i}', 'wb').write(os.urandom(1 << 20))\n"
    else:
        writer = ("import os, time\nfor i in range(10**7):\n"
                  "    os.makedirs(f'd{i % 7}', exist_ok=True); open(f'd{i % 7}/e{i}', 'w').close()\n")
    program = tmp_path / "w.py"
    program.write_text(writer + "time.sleep(60)\n")
    folder = tmp_path / "work"
    folder.mkdir()
    done = _isolation.run_limited([sys.executable, str(program)], folder=folder, read_only=[program], timeout_s=30,
                                  memory_mb=512)
    bound = "more than 8 MB" if how == "bytes" else "more than 300 files and folders"
    assert done.status == "disk" and done.message == f"its folder held {bound} (the sandbox's bound)"
    assert done.returncode is not None and done.returncode < 0  # killed, well before the 30 s
    assert _isolation.folder_over_bounds(folder, max_bytes=1 << 40, max_entries=10**9) is None


def test_a_graded_file_that_fills_its_folder_fails_with_that_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(_isolation, "_MAX_FOLDER_ENTRIES", 200)
    monkeypatch.setattr(_isolation, "_WATCH_S", 0.05)
    path = _student(tmp_path, """
        import time
        def probe():
            for i in range(100000):
                open(f"junk{i}", "w").close()
            time.sleep(60)
    """)
    run, r = _probe(path)
    assert run.status == "crashed" and not r.ok
    assert run.message.startswith("the Python process was stopped: its folder held more than 200 files and folders "
                                  "(the sandbox's bound)")
    assert "while running probe" in run.message
