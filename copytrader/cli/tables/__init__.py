"""The tables of command results, printed when ``--json`` is not given.

Each ``render_*`` takes the plain dicts the queries and the planner produce (the ``--json``
shapes) and prints a :class:`~copytrader.cli.grid.Grid` fitted to the console: short ids
(``wide``: full ones), nothing split, values in the policy's own words (``true``, ``null``)
and numbers without float noise. :mod:`.cells` formats the values, :mod:`.records` holds the
status, audit and history tables, :mod:`.actions` those of plan, reconcile and drift. No
store or platform import here: these only format.
"""

from copytrader.cli.tables.actions import render_adopted, render_drift, render_plan
from copytrader.cli.tables.cells import format_changes, percent, when
from copytrader.cli.tables.records import render_audit, render_history, render_status

__all__ = [
    "format_changes",
    "percent",
    "render_adopted",
    "render_audit",
    "render_drift",
    "render_history",
    "render_plan",
    "render_status",
    "when",
]
