"""The partner API simulator: an aiohttp server faithful to ``partner-api.md``.

``state`` holds the platform (users, bots, faults, request log), ``app`` serves it over HTTP,
``server`` runs it on a loopback port, ``seed`` creates the demo world. Run it with
``python -m copytrader.sim`` or ``copytrader sim``.
"""
