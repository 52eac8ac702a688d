"""A heavily commented policy file, as people keep them, for the follower-editing tests."""

from __future__ import annotations

from tests.policy.world import ETH_GRID, SPOT_USERS

F1, F2, F3, F4 = SPOT_USERS

COMMENTED = f"""\
# ETH/USDT spot grid.   Owner: the strategy desk (desk@example.com)
#
#   Review every quarter.  Last review: 2026-10-01.

master:   {ETH_GRID}     # the master bot (BITMEXSPOT)


defaults:                 # every follower starts here
  overrides:
    stopValue: 3500       # desk decision 2026-09
  scale:
    investmentAmount:   1.0

limits:
  # never below 50, never above 5000
  investmentAmount: {{ min: 50, max: 5000 }}

locked: [ symbol ]   # all on the master's market

followers:
  # --- VIP accounts ------------------------------------------------
  - user: {F1}   # Alice
    overrides:
      stopCondition: Price   # she wants a hard stop
      stopValue: 3200

    # half size since the margin call
  - user: '{F2}'
    scale:
      investmentAmount: 0.5
      # (was 0.75 until June)

  # - user: 00000000-0000-0000-0000-000000000000   # waiting for KYC
  -   user: {F3}
      paused: yes          # on holiday

# ------------------------------------------------------------------
on_follower_removed: stop   # stop | delete | keep
on_master_stopped: stop
on_immutable_change: recreate
# end of file
"""
