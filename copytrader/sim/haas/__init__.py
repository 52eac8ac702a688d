"""The simulator of the HaasOnline partner API: a real aiohttp server with in-memory state.

``server.SimServer`` runs it on a loopback port, ``state.SimState`` holds its bots and users,
``seed`` fills it with the demo world; ``app`` and ``handlers`` are the endpoints.
"""
