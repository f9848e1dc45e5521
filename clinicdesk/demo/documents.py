"""Files for the demo clinic's charts: lab reports (PDF with a table of results, or a scanned
slip as PNG), hospital letters (PDF) and ECG rhythm strips (PNG), with values that fit the
patient (a diabetic's HbA1c is high). Names print in any script (the embedded DejaVu Sans).
"""

from __future__ import annotations

import io
import math
import random
from datetime import date
from typing import TYPE_CHECKING

from clinicdesk.paths import RESOURCES

if TYPE_CHECKING:
    from clinicdesk.demo.clinical import Person

LAB = "South Thames Pathology · Blood Sciences, St Olave's Wing, London SE1 7EH"

# (test, unit, low, high, typical, decimals)
PANELS: dict[str, list[tuple[str, str, float, float, float, int]]] = {
    "Full blood count": [
        ("Haemoglobin", "g/L", 120, 160, 138, 0),
        ("White cell count", "×10⁹/L", 4.0, 11.0, 6.8, 1),
        ("Platelets", "×10⁹/L", 150, 400, 260, 0),
        ("Neutrophils", "×10⁹/L", 2.0, 7.5, 4.1, 1),
        ("Lymphocytes", "×10⁹/L", 1.0, 4.0, 2.0, 1),
        ("MCV", "fL", 80, 100, 89, 0),
    ],
    "Urea and electrolytes": [
        ("Sodium", "mmol/L", 133, 146, 139, 0),
        ("Potassium", "mmol/L", 3.5, 5.3, 4.3, 1),
        ("Urea", "mmol/L", 2.5, 7.8, 5.1, 1),
        ("Creatinine", "µmol/L", 59, 104, 82, 0),
        ("eGFR", "mL/min/1.73m²", 60, 120, 84, 0),
    ],
    "HbA1c": [("HbA1c", "mmol/mol", 20, 41, 38, 0)],
    "Lipid profile": [
        ("Total cholesterol", "mmol/L", 0, 5.0, 5.4, 1),
        ("HDL cholesterol", "mmol/L", 1.0, 3.0, 1.3, 1),
        ("LDL cholesterol", "mmol/L", 0, 3.0, 3.3, 1),
        ("Triglycerides", "mmol/L", 0, 1.7, 1.6, 1),
    ],
    "Thyroid function": [
        ("TSH", "mU/L", 0.27, 4.2, 2.1, 2),
        ("Free T4", "pmol/L", 12, 22, 16, 1),
    ],
}


def _results(rng: random.Random, p: Person, panel: str) -> list[tuple[str, str, str, str, str]]:
    out = []
    for test, unit, low, high, typical, decimals in PANELS[panel]:
        value = typical * rng.gauss(1, 0.08)
        if test == "HbA1c" and "Type 2 diabetes mellitus" in p.conditions:
            value = rng.gauss(58, 8)
        if test == "TSH" and "Hypothyroidism" in p.conditions:
            value = rng.uniform(3.0, 7.5)
        flag = "H" if value > high else "L" if value < low else ""
        limits = f"< {high:g}" if low == 0 else f"{low:g} – {high:g}"
        out.append((test, f"{value:.{decimals}f}", unit, limits, flag))
    return out


def _panel_for(rng: random.Random, p: Person) -> str:
    if "Type 2 diabetes mellitus" in p.conditions and rng.random() < 0.6:
        return "HbA1c"
    if "Hypothyroidism" in p.conditions and rng.random() < 0.6:
        return "Thyroid function"
    return rng.choice(("Full blood count", "Urea and electrolytes", "Lipid profile"))


def document(rng: random.Random, p: Person, dated: date) -> tuple[str, str, str, bytes]:
    """(kind, title, file name, content) of one generated document."""
    roll = rng.random()
    panel = _panel_for(rng, p)
    stamp = f"{dated:%Y-%m-%d}"
    if roll < 0.55:
        content = _lab_pdf(rng, p, panel, dated)
        return "lab", panel, f"{panel.lower().replace(' ', '-')}-{stamp}.pdf", content
    if roll < 0.8:
        content = _lab_png(rng, p, panel, dated)
        return "lab", f"{panel} (scanned)", f"scan-{stamp}.png", content
    if p.age >= 40 and roll < 0.92:
        return "image", "ECG rhythm strip", f"ecg-{stamp}.png", _ecg_png(rng, dated)
    content = _letter_pdf(rng, p, dated)
    return "letter", "Hospital clinic letter", f"letter-{stamp}.pdf", content


def _lab_pdf(rng: random.Random, p: Person, panel: str, dated: date) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from clinicdesk.printing import fonts

    fonts.register()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    y = height - 20 * mm
    c.setFont(fonts.BOLD, 14)
    c.drawString(20 * mm, y, "South Thames Pathology")
    c.setFont(fonts.REGULAR, 8)
    c.drawString(20 * mm, y - 12, LAB)
    y -= 32
    c.setFont(fonts.REGULAR, 10)
    for label, value in (
        ("Patient", p.name),
        ("Born", f"{p.born:%d/%m/%Y}"),
        ("NHS number", p.national_id or "not given"),
        ("Collected", f"{dated:%d/%m/%Y} 09:{rng.randint(0, 59):02d}"),
        ("Requested by", "Riverside Family Practice"),
    ):
        c.drawString(20 * mm, y, f"{label}:")
        c.drawString(55 * mm, y, value)
        y -= 14
    y -= 10
    c.setFont(fonts.BOLD, 12)
    c.drawString(20 * mm, y, panel)
    y -= 18
    columns = (20 * mm, 75 * mm, 100 * mm, 135 * mm, 175 * mm)
    c.setFont(fonts.BOLD, 9)
    for x, head in zip(
        columns, ("Test", "Result", "Units", "Reference range", "Flag"), strict=True
    ):
        c.drawString(x, y, head)
    c.line(20 * mm, y - 4, width - 20 * mm, y - 4)
    c.setFont(fonts.REGULAR, 9)
    for row in _results(rng, p, panel):
        y -= 15
        for x, text in zip(columns, row, strict=True):
            c.drawString(x, y, text)
    c.setFont(fonts.REGULAR, 8)
    c.drawString(20 * mm, 20 * mm, "Authorised by Dr R. Mensah, Consultant Chemical Pathologist")
    c.showPage()
    c.save()
    return out.getvalue()


def _letter_pdf(rng: random.Random, p: Person, dated: date) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    from clinicdesk.printing import fonts

    fonts.register()
    clinic, doctor, text = rng.choice(
        (
            (
                "Cardiology Outpatients",
                "Dr A. Fernandes, Consultant Cardiologist",
                "Thank you for referring this patient with palpitations. The 24-hour tape showed "
                "sinus rhythm with occasional ectopic beats and no arrhythmia. Echocardiogram was "
                "normal. I have reassured them and discharged them back to your care.",
            ),
            (
                "Orthopaedic Clinic",
                "Mr J. Okoro, Consultant Orthopaedic Surgeon",
                "Seen for knee pain. X-rays show moderate medial compartment osteoarthritis. We "
                "discussed weight loss, physiotherapy and simple analgesia; they are not keen on "
                "surgery at present. Happy to see again if symptoms worsen.",
            ),
            (
                "Dermatology Department",
                "Dr L. Haddad, Consultant Dermatologist",
                "The lesion on the left forearm was excised and histology confirms a benign "
                "dermatofibroma. No further follow-up is needed.",
            ),
        )
    )
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    width, height = A4
    c.setFont(fonts.BOLD, 13)
    c.drawString(20 * mm, height - 22 * mm, f"Guy's and St Thomas' Hospital · {clinic}")
    c.setFont(fonts.REGULAR, 10)
    y = height - 40 * mm
    for line in (
        f"{dated:%d %B %Y}",
        "",
        "Dr C. Okafor, Riverside Family Practice",
        "",
        f"Re: {p.name}, born {p.born:%d/%m/%Y}",
        "",
    ):
        c.drawString(20 * mm, y, line)
        y -= 14
    for line in simpleSplit(text, fonts.REGULAR, 10, width - 40 * mm):
        c.drawString(20 * mm, y, line)
        y -= 14
    c.drawString(20 * mm, y - 20, "Yours sincerely,")
    c.drawString(20 * mm, y - 48, doctor)
    c.showPage()
    c.save()
    return out.getvalue()


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(RESOURCES / "fonts" / "DejaVuSans.ttf"), size)


def _lab_png(rng: random.Random, p: Person, panel: str, dated: date) -> bytes:
    """A scanned result slip: off-white paper, a little tilted, grey text."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (900, 560), 246)
    draw = ImageDraw.Draw(image)
    big, small = _font(26), _font(18)
    draw.text((40, 30), "South Thames Pathology", fill=40, font=big)
    draw.text(
        (40, 70),
        f"{p.name}   born {p.born:%d/%m/%Y}   collected {dated:%d/%m/%Y}",
        fill=60,
        font=small,
    )
    draw.text((40, 115), panel, fill=30, font=big)
    y = 165
    for x, head in zip(
        (40, 330, 450, 620, 820), ("Test", "Result", "Units", "Range", "Flag"), strict=True
    ):
        draw.text((x, y), head, fill=30, font=small)
    draw.line((40, y + 28, 860, y + 28), fill=90, width=2)
    for row in _results(rng, p, panel):
        y += 40
        for x, text in zip((40, 330, 450, 620, 820), row, strict=True):
            draw.text((x, y), text, fill=50, font=small)
    image = image.rotate(rng.uniform(-1.2, 1.2), fillcolor=235, resample=Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _ecg_png(rng: random.Random, dated: date) -> bytes:
    """A 10-second lead II rhythm strip on ECG paper (25 mm/s, 10 mm/mV, 4 px a mm)."""
    from PIL import Image, ImageDraw

    px, width, height = 4, 1000, 200
    image = Image.new("RGB", (width, height), (255, 244, 244))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, px):
        draw.line((x, 0, x, height), fill=(250, 210, 210) if x % (5 * px) else (238, 150, 150))
    for y in range(0, height, px):
        draw.line((0, y, width, y), fill=(250, 210, 210) if y % (5 * px) else (238, 150, 150))
    rate = rng.randint(58, 96)
    beat = 60 / rate
    points = []
    for x in range(width):
        t = (x / px / 25) % beat  # seconds since the last beat
        mv = (
            0.15 * math.exp(-(((t - 0.12) / 0.03) ** 2))
            - 0.1 * math.exp(-(((t - 0.2) / 0.01) ** 2))
            + 1.2 * math.exp(-(((t - 0.22) / 0.012) ** 2))
            - 0.25 * math.exp(-(((t - 0.245) / 0.012) ** 2))
            + 0.3 * math.exp(-(((t - 0.45) / 0.05) ** 2))
        )
        points.append((x, height * 0.65 - mv * 10 * px))
    draw.line(points, fill=(20, 20, 20), width=2)
    draw.text(
        (8, 6),
        f"II  25 mm/s  10 mm/mV  {dated:%d/%m/%Y}  sinus rhythm {rate}/min",
        fill=(60, 60, 60),
        font=_font(14),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
