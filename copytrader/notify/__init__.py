"""Notifications: the outbox sender and its sinks (the signed JSON webhook, Apprise).

A notification is written to the outbox in the same transaction as the audit event it comes
from (:mod:`copytrader.store.outbox_rows`); :class:`~copytrader.notify.sender.Sender`
delivers it to every sink, each tracked on its own, at least once, retried with capped and
jittered backoff. Only the process that holds the writer lease sends. URLs and the webhook
secret never appear in a log line, a database row, a metric or an error message.
"""
