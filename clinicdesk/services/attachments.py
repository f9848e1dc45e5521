"""What a file for the chart really is, judged from its first bytes, not its name."""

from __future__ import annotations

import math
from pathlib import PurePath

from clinicdesk.errors import ValidationError

MAX_BYTES = 25 * 1024 * 1024

# media type -> (name, extensions, how its content starts)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[bytes, ...]]] = {
    "application/pdf": ("a PDF", (".pdf",), (b"%PDF-",)),
    "image/png": ("a PNG image", (".png",), (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": ("a JPEG image", (".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "image/gif": ("a GIF image", (".gif",), (b"GIF87a", b"GIF89a")),
    "image/webp": ("a WebP image", (".webp",), ()),  # RIFF....WEBP, checked below
}


def _megabytes(size: int) -> str:
    """Rounded up, so a file just over the limit does not read as exactly 25.0 MB."""
    return f"{math.ceil(size * 10 / 2**20) / 10:.1f}"


def sniff(content: bytes) -> str | None:
    """The media type the content shows, or None for anything we do not accept."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    for media_type, (_name, _ext, magics) in KINDS.items():
        if any(content.startswith(m) for m in magics):
            return media_type
    return None


def check_size(file_name: str, size: int) -> None:
    """Also asked before a file is read, so a huge one is refused without loading it."""
    if not size:
        raise ValidationError({"file": f"{file_name} is empty"})
    if size > MAX_BYTES:
        raise ValidationError(
            {"file": f"{file_name} is {_megabytes(size)} MB; the largest file is 25 MB"}
        )


def check_file(file_name: str, content: bytes) -> str:
    """The media type of an acceptable attachment; otherwise ValidationError saying why."""
    ext = PurePath(file_name).suffix.lower()
    expected = next((t for t, (_n, exts, _m) in KINDS.items() if ext in exts), None)
    if expected is None:
        raise ValidationError(
            {
                "file": f"{file_name} cannot be attached: attach a PDF or an image "
                "(PNG, JPEG, GIF, WebP)"
            }
        )
    check_size(file_name, len(content))
    actual = sniff(content)
    if actual != expected:
        what = KINDS[actual][0] if actual else "not a file type we accept"
        raise ValidationError(
            {"file": f"{file_name} is not {KINDS[expected][0]}: its content is {what}"}
        )
    return actual
