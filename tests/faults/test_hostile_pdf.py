"""A small PDF of huge pages is refused (or drawn smaller) before anything is drawn, wherever
ClinicDesk draws PDFs: codes read from a file, the chart's document viewer, the print preview."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clinicdesk.rx.scan import UnreadablePicture, codes_in_file
from tests.faults.hostile_pdf import hostile_pdf

A4 = (595.0, 842.0)


def test_the_hostile_pdf_is_small():
    assert len(hostile_pdf()) < 300 * 1024


def test_a_pdf_of_huge_pages_is_refused_at_the_counter_in_words():
    with pytest.raises(UnreadablePicture) as refused:
        codes_in_file(hostile_pdf())
    assert refused.value.message.endswith(".") and "too large" in refused.value.message


def test_reading_the_hostile_pdf_stays_within_a_bounded_memory(tmp_path: Path):
    """In a child process, whose own peak resident memory is what is measured."""
    sample = tmp_path / "hostile.pdf"
    sample.write_bytes(hostile_pdf())
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from clinicdesk.rx.scan import UnreadablePicture, codes_in_file
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            codes_in_file(Path({str(sample)!r}).read_bytes())
        except UnreadablePicture:
            pass
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after)
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    before_kib, after_kib = (int(x) for x in child.stdout.split())
    assert after_kib - before_kib < 100 * 1024, "reading the PDF took over 100 MB"


def test_scales_are_planned_from_page_sizes_before_drawing():
    from clinicdesk.printing.raster import MAX_PAGE_PIXELS, PdfTooLarge, page_scales

    # an A4 page at 300 dpi is drawn as asked
    assert page_scales([A4], 300 / 72, shrink=True) == [300 / 72]
    # one huge page is drawn smaller, within the per-page budget
    (scale,) = page_scales([(14400.0, 14400.0)], 300 / 72, shrink=True)
    assert (14400 * scale) ** 2 <= MAX_PAGE_PIXELS
    # a long strip is drawn smaller too, its longest side bounded
    (scale,) = page_scales([(72.0, 14400.0 * 5)], 900 / 72, shrink=True)
    assert 14400 * 5 * scale <= 32_000
    # refused where drawing smaller is not wanted, and when the pages add up beyond the total
    with pytest.raises(PdfTooLarge, match="page 2 is too large"):
        page_scales([A4, (14400.0, 14400.0)], 300 / 72, shrink=False)
    with pytest.raises(PdfTooLarge, match="all together"):
        page_scales([(14400.0, 14400.0)] * 10, 300 / 72, shrink=True)
    with pytest.raises(PdfTooLarge, match="no usable size"):
        page_scales([(0.0, 842.0)], 1.0, shrink=True)
