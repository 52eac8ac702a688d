"""``copytrader policy backtest``: a policy file's followers' settings backtested on the
platform beside the master's own.

``prepare`` reads the policy and the platform and says what to run (the distinct desired
settings, :mod:`copytrader.core.backtest`); ``runner`` runs them under a concurrency bound,
polls them, and cancels them on the platform when told to stop; ``ports`` is what the
platform adapter must offer (HaasOnline: ``copytrader.platform.haas.backtests``).
"""
