"""The partner platform adapter: the only home of aiohttp on the client side.

``client.PlatformClient`` is the entry point; ``routes`` holds the route table, ``parse``
the JSON mapping, ``transport`` the error mapping and retries, ``ratelimit`` and ``backoff``
the pacing.
"""
