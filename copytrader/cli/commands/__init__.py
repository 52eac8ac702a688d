"""The sub-commands, one module per group, each registering its own parsers.

A command module has ``register(sub)``, which adds its parser(s) to the ``copytrader``
sub-parsers and sets, with ``parser.set_defaults``:

- ``handler``: ``async def (args, settings) -> exit code``, run with the settings loaded
  (``needs_platform``: whether the partner API must be configured), or
- ``sync_handler``: ``def (args) -> exit code`` for a command that runs its own event loop
  and settings (``sim``, ``demo``).

Heavy imports (the platform client, the store, the daemon) stay inside the handlers, so
``--help`` and the database-only commands start fast. :data:`copytrader.cli.main.COMMANDS`
lists the modules in the order ``--help`` shows them.
"""
