"""The read-side tables (store.readside, light Core clauses) match the table models column
for column: same names, same types, so the queries built on them read what the models
write."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Boolean, Float, Integer, String

from copytrader.store import readside, tables
from copytrader.store.types import UTCDateTime

# a model's column type -> the type class the read side may name for it
SAME = {
    "AutoString": String,
    "String": String,
    "VARCHAR": String,
    "Integer": Integer,
    "BigInteger": BigInteger,
    "Float": Float,
    "Boolean": Boolean,
    "UTCDateTime": UTCDateTime,
    "JSON": type(tables.audit_events.c.changes.type),
}


@pytest.mark.parametrize(
    "name", ["snapshots", "audit_events", "runs", "standing_conditions", "risk_states", "trades"]
)
def test_each_read_side_table_is_its_model(name: str) -> None:
    light = getattr(readside, name)
    model = tables.metadata.tables[name]
    assert [c.name for c in light.c] == [c.name for c in model.c]
    for col in model.c:
        kind = type(col.type)
        if kind.__name__ == "BigInteger" or col.name == "id":
            assert isinstance(light.c[col.name].type, BigInteger | Integer), col.name
            continue
        expected = SAME[kind.__name__]
        assert isinstance(light.c[col.name].type, expected), (name, col.name, kind)


def test_the_hold_mode_of_a_stop_is_the_cores() -> None:
    from copytrader.core.policy import OnBreach

    assert OnBreach.STOP.value == readside.HOLD_STOP
