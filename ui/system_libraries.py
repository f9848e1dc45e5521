"""Libraries Qt loads from the system on Linux, named with the package that provides them.

A minimal Debian or Ubuntu lacks some of them, and Qt's own failure is a dump of plugin names
(or an ImportError naming a file). ClinicDesk checks first and says, in plain words, which
library is missing and the apt command that installs it. Nothing here imports Qt: the check runs
before Qt is loaded.
"""

from __future__ import annotations

import ctypes
import re
import sys
from collections.abc import Callable, Iterable, Mapping

from clinicdesk.errors import ClinicDeskError

# The system libraries that PySide6's X11 platform plugin (Qt/plugins/platforms/libqxcb.so and
# Qt/lib/libQt6XcbQpa.so.6) and Qt's GUI library need (their ELF "NEEDED" entries, less Qt's
# own libraries and the C and C++ runtimes every system has), with the Debian/Ubuntu package
# of each. tests/ui/test_system_libraries.py checks this list against the installed plugin.
X11_PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}
OTHER_PACKAGES = {
    "libpulse.so.0": "libpulse0",  # Qt Multimedia, for the camera at the pharmacy counter
    "libdbus-1.so.3": "libdbus-1-3",
}
PACKAGES = {**X11_PACKAGES, **OTHER_PACKAGES}
_LIBRARY_IN_ERROR = re.compile(r"(lib[\w.+-]+?\.so(?:\.\d+)*)\b")

Loadable = Callable[[str], bool]


def can_load(soname: str) -> bool:
    """Whether the dynamic loader finds and loads the library, as Qt's would."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def install_command(sonames: Iterable[str]) -> str:
    packages = dict.fromkeys(PACKAGES.get(name, name) for name in sonames)
    return "sudo apt install " + " ".join(packages)


def library_in_error(error: BaseException) -> str | None:
    """The library file an ImportError or OSError says it could not open, if it names one."""
    found = _LIBRARY_IN_ERROR.search(str(error))
    return found.group(1) if found else None


class MissingLibraries(ClinicDeskError):
    def __init__(self, sonames: list[str], needed_for: str) -> None:
        self.sonames = sonames
        names = ", ".join(sonames)
        these = "this library" if len(sonames) == 1 else "these libraries"
        super().__init__(
            f"ClinicDesk cannot open its window because {these} {needed_for} "
            f"{'is' if len(sonames) == 1 else 'are'} not installed: {names}. On Debian or "
            f"Ubuntu install {'it' if len(sonames) == 1 else 'them'} with "
            f"'{install_command(sonames)}', then run the same command again."
        )


def uses_x11(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will open its windows through X11 (xcb): Linux, unless another platform
    (Wayland, offscreen, ...) is asked for or the session is a Wayland one."""
    if not platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").split(";")[0].strip()
    if asked:
        return asked.startswith("xcb")
    return not (environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland")


def check_window_libraries(
    environ: Mapping[str, str], platform: str = sys.platform, loadable: Loadable = can_load
) -> None:
    """Raise MissingLibraries naming each X11 library Qt will need and cannot load."""
    if not uses_x11(environ, platform):
        return
    missing = [name for name in X11_PACKAGES if not loadable(name)]
    if missing:
        raise MissingLibraries(missing, "that Qt needs to draw windows on this Linux desktop")
