"""The HaasOnline partner API adapter (``partner-api.md``).

``client.PlatformClient`` is the entry point; ``routes`` holds the route table and ``parse``
the JSON mapping. The shared HTTP machinery (``transport``, ``ratelimit``, ``backoff``) is
one level up, in :mod:`copytrader.platform`.
"""
