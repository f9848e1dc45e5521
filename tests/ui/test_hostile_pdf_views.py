"""The chart's document viewer and the print preview never draw a PDF beyond the pixel budget."""

from __future__ import annotations

import pytest

from clinicdesk.errors import ClinicDeskError
from tests.faults.hostile_pdf import hostile_pdf
from ui.doctor.documents_view import render_pdf_page
from ui.widgets.printing import render


def test_the_document_viewer_draws_a_long_page_smaller():
    strip = hostile_pdf(pages=3, width_in=1, height_in=200)
    image = render_pdf_page(strip, 1)
    assert image.width() * image.height() <= 40_000_000  # the budget: 120 MB of RGB
    assert image.height() > image.width() > 0  # still the page, only smaller


def test_the_document_viewer_draws_an_ordinary_page_at_its_width():
    image = render_pdf_page(hostile_pdf(pages=1, width_in=8.27, height_in=11.69), 0, width=900)
    assert image.width() == 900


def test_the_print_preview_refuses_huge_pages_before_drawing():
    with pytest.raises(ClinicDeskError) as refused:
        render(hostile_pdf())
    assert refused.value.message.endswith(".")
