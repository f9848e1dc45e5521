"""Printed documents, drawn with reportlab: the prescription (labels and receipts to come)."""
