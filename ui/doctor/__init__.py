"""The doctor workspace: the day, the chart, the visit and prescriptions."""
