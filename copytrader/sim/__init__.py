"""The simulators of the platforms copytrader drives: real aiohttp servers with in-memory
state, fault injection and a control API.

``haas`` simulates the HaasOnline partner API (``partner-api.md``), ``botprimex`` BotPrimeX
(``botprimex-api.md``); ``faults`` (fault rules and the request log), ``market`` (the
price walk), ``paging`` (opaque page tokens) and ``http`` (request bodies, dropped
connections, listening) are shared. Run one with ``copytrader sim [--platform botprimex]``.
"""
