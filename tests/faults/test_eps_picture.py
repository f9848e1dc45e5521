"""A PostScript file renamed .jpg is refused at the counter as not a picture, and Ghostscript
never starts: Pillow would hand EPS to Ghostscript inside the process that holds the clinic's
key. The pharmacy opens only the picture formats it accepts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 40 40
%%EndComments
newpath 4 4 moveto 36 36 lineto stroke
showpage
%%EOF
"""


def fake_ghostscript(folder: Path, marker: Path) -> Path:
    """A ``gs`` first on PATH that only leaves a mark that it ran."""
    folder.mkdir()
    gs = folder / "gs"
    gs.write_text(
        f"#!/bin/sh\ntouch {str(marker)!r}\n"
        '[ "$1" = --version ] && { echo 10.02.1; exit 0; }\nexit 1\n'
    )
    gs.chmod(0o755)
    return folder


def read_in_child(picture: Path, path_dirs: Path, code: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PATH": f"{path_dirs}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = textwrap.dedent(code).replace("PICTURE", repr(str(picture)))
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )


def test_an_eps_renamed_jpg_is_refused_and_ghostscript_never_runs(tmp_path: Path):
    marker = tmp_path / "ghostscript-ran"
    bin_dir = fake_ghostscript(tmp_path / "bin", marker)
    picture = tmp_path / "prescription.jpg"
    picture.write_bytes(EPS)

    # the fake is real enough: Pillow left to itself starts it
    plain = read_in_child(
        picture,
        bin_dir,
        """
        from PIL import Image
        try:
            Image.open(PICTURE).load()
        except Exception:
            pass
        """,
    )
    assert plain.returncode == 0, plain.stderr
    assert marker.exists()
    marker.unlink()

    child = read_in_child(
        picture,
        bin_dir,
        """
        from pathlib import Path
        from clinicdesk.rx.scan import UnreadablePicture, codes_in_file
        try:
            codes_in_file(Path(PICTURE).read_bytes())
        except UnreadablePicture as refused:
            print(refused.message)
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == (
        "This file cannot be read as a picture or PDF: it is not a picture of a known kind."
    )
    assert not marker.exists(), "Ghostscript was started"
