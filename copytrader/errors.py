"""The one error tree of copytrader.

Every error copytrader raises on purpose is a :class:`CopytraderError`::

    CopytraderError
    ├── ConfigError                 bad setting value; CLI exit 2, one line naming the variable
    ├── UsageError                  a bad command-line argument; CLI exit 2, one line naming it
    ├── PolicyError                 a policy file is invalid (carries every Problem found)
    ├── EventError                  an inbound webhook body is not a valid event (HTTP 400)
    ├── PolicyEditError             ``copytrader follower`` could not finish an edit safely
    ├── StoreError                  the database could not be reached or written
    ├── LeaseError                  the writer lease (one writer at a time)
    │   ├── LeaseHeldError          another process holds it; CLI exit 3
    │   └── LeaseLostError          this process no longer holds it: no write may be sent
    └── PlatformError               anything that went wrong talking to the partner API
        ├── TransientError          may succeed if tried again later
        │   ├── RateLimitedError    HTTP 429; ``retry_after`` seconds
        │   ├── ServerError         HTTP 5xx
        │   └── NetworkError        timeout, connection refused or reset
        ├── AuthError               HTTP 401/403 or the envelope says the key is refused
        ├── PermanentError          the request was refused (``isSuccess: false``, a 4xx);
        │                           ``code`` and ``message`` from the platform
        └── MalformedResponseError  not JSON, no envelope, or data of the wrong shape

A failed platform *write* says whether it may still have been carried out:
``maybe_applied`` is True when a request of it reached the platform and no answer said what
became of it (a timeout or a connection dropped after sending, a 5xx, an answer that cannot
be read), also when a resend after such an attempt was then refused (the writer lease lost, a
4xx). Its outcome is then ``unknown``, never ``failed``; the transport sets it, since only it
knows every attempt of a call.

Platform errors are mapped once, at the HTTP boundary (``copytrader.platform.transport`` and
each platform's dialect: ``platform.haas.envelope``, ``platform.botprimex.answers``), and
re-raised ``from`` the library's exception. No message ever contains the API key or a user's
exchange secret: messages are built from the method, path, status and the platform's own
message only.
"""

from __future__ import annotations


class CopytraderError(Exception):
    """Base of every error copytrader raises on purpose."""

    #: Raised for a platform write: a request of it may have been carried out (see the
    #: module docstring). False: nothing of the write took effect, as far as can be known.
    maybe_applied: bool = False


class ConfigError(CopytraderError):
    """A configuration value is missing or invalid. The message names the variable."""


class EventError(CopytraderError):
    """An inbound webhook body is not a valid event. The message names the field and the
    problem, never the value (the daemon answers it with HTTP 400)."""


class UsageError(CopytraderError):
    """A command-line argument is wrong (a bad time, an unknown action, an ambiguous id
    prefix). The message names the option."""


class PolicyEditError(CopytraderError):
    """A policy file edit was abandoned with nothing written: the file changed during it, or
    the result did not say exactly what was asked (a bug guard). CLI exit 1."""


class StoreError(CopytraderError):
    """The database could not be reached, migrated or written."""


class LeaseError(CopytraderError):
    """About the writer lease, which lets one process at a time write to the platform."""


class LeaseHeldError(LeaseError):
    """Another copytrader process holds the writer lease (``reconcile`` exits 3)."""


class LeaseLostError(LeaseError):
    """This process does not hold the writer lease (any more): the write is not sent."""


class PolicyError(CopytraderError):
    """One or more policy files are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: list[object]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PlatformError(CopytraderError):
    """Something went wrong talking to the partner platform.

    ``endpoint`` is the route name (e.g. ``bots.clone``), never a URL with credentials.
    """

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(f"{endpoint}: {message}" if endpoint else message)


class TransientError(PlatformError):
    """May succeed later: rate limiting, server errors, timeouts, broken connections."""


class RateLimitedError(TransientError):
    """HTTP 429. ``retry_after`` is the wait in seconds the platform asked for (or a default)."""

    def __init__(self, message: str, *, endpoint: str = "", retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        super().__init__(message, endpoint=endpoint, status=429)


class ServerError(TransientError):
    """HTTP 5xx."""


class NetworkError(TransientError):
    """A timeout, a refused or reset connection: no answer was read."""


class AuthError(PlatformError):
    """The API key was refused (HTTP 401/403)."""


class PermanentError(PlatformError):
    """The platform refused the request itself (``isSuccess: false`` on HaasOnline, a 4xx
    error body on BotPrimeX). ``code`` is the platform's: a number (HaasOnline) or a word
    (BotPrimeX: ``bot_running``, ``immutable_field``...)."""

    def __init__(
        self, message: str, *, endpoint: str = "", status: int | None = None, code: int | str = 0
    ) -> None:
        self.code = code
        self.platform_message = message
        super().__init__(f"{message} (code {code})", endpoint=endpoint, status=status)


class MalformedResponseError(PlatformError):
    """The answer was not JSON, had no envelope, or its data had the wrong shape. An answer
    that cannot be read says nothing of what the platform did (``maybe_applied``)."""

    maybe_applied = True
