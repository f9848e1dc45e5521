"""A fresh Linux desktop that lacks a library Qt's window needs: the command names the library,
the package that provides it and the apt command, and exits 2 without a traceback; the demo
clinic it made is kept for the next run. The library search is injected, so this runs anywhere.
"""

from __future__ import annotations

import struct
import sys
from importlib.abc import MetaPathFinder
from pathlib import Path

import PySide6
import pytest

from clinicdesk import cli
from clinicdesk.demo.clinic import create_demo_clinic
from clinicdesk.services.access import FolderState, folder_state
from tests.conftest import FAST_KDF
from ui import launcher
from ui.system_libraries import X11_PACKAGES, check_window_libraries, uses_x11

X11_DESKTOP = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
QT = Path(PySide6.__file__).parent / "Qt"


def all_but(*missing: str):
    """A library search that finds everything except ``missing``; records what it was asked."""

    def loadable(soname: str) -> bool:
        loadable.asked.append(soname)
        return soname not in missing

    loadable.asked = []
    return loadable


def test_a_missing_x11_library_is_named_with_its_package_and_the_demo_clinic_is_kept(
    tmp_path, capsys
):
    folder = tmp_path / "demo"
    create_demo_clinic(folder, patients=0, kdf=FAST_KDF)
    lookup = all_but("libxcb-cursor.so.0")

    def open_app(app_folder, logins):
        return launcher.open_app(app_folder, logins, environ=X11_DESKTOP, loadable=lookup)

    code = cli.main(["demo", "--data-dir", str(folder)], open_app=open_app)

    out, err = capsys.readouterr()
    assert code == 2
    assert "Reusing the demo clinic" in out and "dr.okafor" in out  # the logins are printed
    assert "libxcb-cursor.so.0" in err and "is not installed" in err
    assert "'sudo apt install libxcb-cursor0'" in err
    assert "run the same command again" in err
    assert "Traceback" not in err and err.count("\n") == 1  # one sentence, no dump
    assert folder_state(folder) is FolderState.READY


def test_every_missing_library_is_named_once_with_one_install_command():
    lookup = all_but("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0")
    with pytest.raises(launcher.MissingLibraries) as refused:
        check_window_libraries(X11_DESKTOP, "linux", lookup)
    message = refused.value.message
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libxkbcommon-x11.so.0" in message
    assert "'sudo apt install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0'" in message


class QtWithoutLibGL(MetaPathFinder):
    """The app's Qt modules fail to import with the loader's message, as without libgl1."""

    def find_spec(self, name, path, target=None):
        if name == "ui.app":
            raise ImportError(
                "libGL.so.1: cannot open shared object file: No such file or directory"
            )
        return None


def test_a_library_that_stops_qt_importing_is_named_too(monkeypatch):
    """Even offscreen, Qt's GUI library needs libGL; a server install may lack it."""
    monkeypatch.delitem(sys.modules, "ui.app", raising=False)
    monkeypatch.setattr(sys, "meta_path", [QtWithoutLibGL(), *sys.meta_path])
    with pytest.raises(launcher.MissingLibraries) as refused:
        launcher.open_app(Path("unused"), environ={"QT_QPA_PLATFORM": "offscreen"})
    assert "libGL.so.1" in refused.value.message
    assert "'sudo apt install libgl1'" in refused.value.message


@pytest.mark.parametrize(
    ("environ", "platform", "checked"),
    [
        (X11_DESKTOP, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux", False),
        (X11_DESKTOP, "win32", False),
        (X11_DESKTOP, "darwin", False),
    ],
)
def test_x11_libraries_are_looked_for_only_where_qt_uses_x11(environ, platform, checked):
    lookup = all_but(*X11_PACKAGES)  # nothing there
    assert uses_x11(environ, platform) is checked
    if checked:
        with pytest.raises(launcher.MissingLibraries):
            check_window_libraries(environ, platform, lookup)
    else:
        check_window_libraries(environ, platform, lookup)
        assert lookup.asked == []


# The C and C++ runtimes and zlib, which every Debian or Ubuntu has.
ALWAYS_THERE = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"}


def needed(library: Path) -> list[str]:
    """The libraries an ELF64 little-endian file names as NEEDED in its dynamic section."""
    data = library.read_bytes()
    (section_table,) = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQII", data, section_table + n * entry_size) for n in range(count)
    ]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strings = sections[dynamic[6]][4]  # its sh_link: the string table's offset
    names = []
    for at in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 1:  # DT_NEEDED
            names.append(data[strings + value : data.index(b"\0", strings + value)].decode())
    return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt uses X11 only on Linux")
def test_the_list_covers_what_the_installed_x11_plugin_needs():
    parts = (
        QT / "plugins" / "platforms" / "libqxcb.so",
        QT / "lib" / "libQt6XcbQpa.so.6",
        QT / "lib" / "libQt6Gui.so.6",
    )
    system = {
        name
        for part in parts
        for name in needed(part)
        if not name.startswith(("libQt6", "libicu", "ld-linux")) and name not in ALWAYS_THERE
    }
    assert "libxcb-cursor.so.0" in system  # the one a minimal Debian lacks
    assert system <= set(X11_PACKAGES), system - set(X11_PACKAGES)
