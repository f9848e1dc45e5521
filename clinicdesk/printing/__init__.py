"""Printed documents, drawn with reportlab: the prescription, dispensing labels and receipts."""

import threading

PDFIUM_LOCK = threading.Lock()
"""pdfium keeps global state: whoever renders or reads a PDF with pypdfium2 holds this lock."""
