"""The platform adapters: the only home of aiohttp on the client side.

What every platform shares lives here: ``routes`` (the route type), ``transport`` (one HTTP
exchange, its error mapping and retries, with a per-platform dialect), ``ratelimit`` and
``backoff`` (the pacing), ``adapters`` (which adapter a deployment uses). Each platform is a
package of its own: ``haas`` (the HaasOnline partner API) and ``botprimex`` (BotPrimeX).
"""
