"""Cold start: from launching the process to the sign-in window on screen.

Each run spawns a new Python process (the project's interpreter, as the installed ``clinicdesk``
script does) that calls ``ui.launcher.main(["--data-dir", FOLDER])`` on a ready demo clinic,
so it goes through the real entry point, ``ui.app.run`` and the Controller to the LoginWindow.
The clock starts in this process just before the spawn, so the interpreter's own start-up
counts; it stops when the first window has painted: an application event filter sees the window's
first Paint event and, on the next turn of the event loop (the frame is complete by then), prints
``time.perf_counter()`` and quits. ``perf_counter`` is CLOCK_MONOTONIC on Linux, one clock for
both processes.

The only difference from a real launch: the driver constructs the QApplication itself before
calling ``main`` so that it can install the event filter; ``run`` then takes that instance
(``QApplication.instance() or QApplication(...)``), so the same work is done, in another order.

Baseline: the same interpreter showing a bare PySide6 QApplication + QWidget of the same size.
Runs alternate between the two; QT_QPA_PLATFORM=offscreen. The disk cache is warm (one untimed
run of each first), as for a user who has opened the app before.

    uv run python tests/bench/bench_cold_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KDF,
    REPO,
    bench_root,
    cached_build,
    code_fingerprint,
    machine_note,
    median,
    percentile,
    ratio,
    summary,
    table,
    verdict,
)

TARGET_MEDIAN_S = 1.5
DEMO_PATIENTS = 2000  # what `clinicdesk demo` creates by default

MARKER = """
import time as _time
_T0 = _time.perf_counter()
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv)


class _Shown(QObject):
    seen = False

    def eventFilter(self, obj, event):
        if (
            not self.seen
            and event.type() == QEvent.Type.Paint
            and obj.isWidgetType()
            and obj.isWindow()
        ):
            self.seen = True
            name = type(obj).__name__
            QTimer.singleShot(0, lambda: self.report(name))
        return False

    def report(self, name):
        print(f"SHOWN {_time.perf_counter():.6f} {_T0:.6f} {name}", flush=True)
        QApplication.instance().quit()


_shown = _Shown()
app.installEventFilter(_shown)
"""

APP = (
    MARKER
    + """
from ui.launcher import main

sys.exit(main(["--data-dir", sys.argv[1]]))
"""
)

BARE = (
    MARKER
    + """
from PySide6.QtWidgets import QWidget

window = QWidget()
window.resize(960, 680)
window.show()
sys.exit(app.exec())
"""
)


def demo_folder() -> Path:
    from clinicdesk.demo.clinic import create_demo_clinic

    def build(folder: Path) -> dict:
        create_demo_clinic(folder / "clinic", patients=DEMO_PATIENTS, kdf=BENCH_KDF)
        return {"patients": DEMO_PATIENTS}

    key = f"coldstart-demo-n{DEMO_PATIENTS}-{code_fingerprint()}"
    return cached_build(key, build).folder / "clinic"


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("CLINICDESK_QUIT_WHEN_SHOWN", None)
    # Settings of this run only, not the user's: the window reads them at start-up.
    env["XDG_CONFIG_HOME"] = str(bench_root() / "coldstart-config")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def launch(code: str, folder: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds from spawn to shown, seconds from spawn to the first line of the program."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)],
        env=env,
        cwd=bench_root(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    for line in out.splitlines():
        if line.startswith("SHOWN "):
            _, shown, first_line, name = line.split()
            return float(shown) - start, float(first_line) - start, name
    raise RuntimeError(f"no window was shown (exit {proc.returncode}):\n{out}\n{err[-3000:]}")


def launch_uv(env: dict[str, str], with_uv: bool) -> float:
    command = ["uv", "run", "python", "-c", "pass"] if with_uv else [sys.executable, "-c", "pass"]
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    print(f"Cold-start benchmark: {args.runs} launches of each, alternating")
    print(machine_note())
    folder = demo_folder()
    env = environment()
    print(f"Clinic: {folder} ({DEMO_PATIENTS:,} patients); interpreter: {sys.executable}")
    launch(APP, folder, env)  # warm the disk cache and Qt's font cache, untimed
    launch(BARE, folder, env)
    results: dict[str, list[tuple[float, float]]] = {"app": [], "bare": []}
    shown_as = set()
    for i in range(args.runs):
        order = ("app", "bare") if i % 2 == 0 else ("bare", "app")
        for which in order:
            shown, interpreter, name = launch(APP if which == "app" else BARE, folder, env)
            results[which].append((shown, interpreter))
            if which == "app":
                shown_as.add(name)
        print(
            f"  run {i + 1:>2}: app {results['app'][-1][0]:.3f} s, "
            f"bare {results['bare'][-1][0]:.3f} s",
            flush=True,
        )
    uv = {"uv run": [], "python": []}
    for _ in range(args.runs):
        uv["uv run"].append(launch_uv(env, True))
        uv["python"].append(launch_uv(env, False))

    app = [s for s, _ in results["app"]]
    bare = [s for s, _ in results["bare"]]
    app_py = [p for _, p in results["app"]]
    bare_py = [p for _, p in results["bare"]]
    print()
    print(f"First window painted by the app: {', '.join(sorted(shown_as))}")
    print(
        table(
            ("seconds", "app", "bare PySide6", "ratio"),
            [
                (
                    "median",
                    f"{median(app):.3f}",
                    f"{median(bare):.3f}",
                    ratio(median(app), median(bare)),
                ),
                ("min", f"{min(app):.3f}", f"{min(bare):.3f}", ratio(min(app), min(bare))),
                (
                    "p90",
                    f"{percentile(app, 90):.3f}",
                    f"{percentile(bare, 90):.3f}",
                    ratio(percentile(app, 90), percentile(bare, 90)),
                ),
                ("max", f"{max(app):.3f}", f"{max(bare):.3f}", ratio(max(app), max(bare))),
                (
                    "of which interpreter start (median)",
                    f"{median(app_py):.3f}",
                    f"{median(bare_py):.3f}",
                    "",
                ),
                (
                    "after the interpreter (median)",
                    f"{median([s - p for s, p in results['app']]):.3f}",
                    f"{median([s - p for s, p in results['bare']]):.3f}",
                    ratio(
                        median([s - p for s, p in results["app"]]),
                        median([s - p for s, p in results["bare"]]),
                    ),
                ),
            ],
            "Spawn to painted sign-in window",
        )
    )
    uv_extra = median(uv["uv run"]) - median(uv["python"])
    print(
        f"`uv run` adds about {uv_extra * 1000:.0f} ms before the interpreter starts "
        f"(median `uv run python -c pass` {median(uv['uv run']):.3f} s against "
        f"{median(uv['python']):.3f} s); not included above."
    )
    print()
    print(
        summary(
            [
                (
                    "cold start to sign-in window, median s",
                    f"{median(app):.3f}",
                    f"{median(bare):.3f}",
                    ratio(median(app), median(bare)),
                    f"<= {TARGET_MEDIAN_S} s",
                    verdict(median(app) <= TARGET_MEDIAN_S),
                ),
                (
                    "cold start, p90 s",
                    f"{percentile(app, 90):.3f}",
                    f"{percentile(bare, 90):.3f}",
                    ratio(percentile(app, 90), percentile(bare, 90)),
                    "",
                    "",
                ),
            ],
            "SUMMARY: cold start (value = ClinicDesk, baseline = bare PySide6 window)",
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed launches of each")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
