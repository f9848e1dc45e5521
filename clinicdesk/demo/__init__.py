"""A realistic demo clinic, reproducible from a seed, for `clinicdesk demo`, tests and benchmarks.

``clinic`` makes the clinic and its staff; ``people`` the patients; ``schedule``, ``today``,
``clinical``, ``encounters``, ``documents`` and ``pharmacy`` fill in bookings, today's queue,
charts and visits, scanned documents and the pharmacy's stock.
"""
