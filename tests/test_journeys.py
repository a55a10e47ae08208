"""Journeys (``funnelsim trace``): the journal agrees with the state and costs the run nothing."""

from __future__ import annotations

import json

import numpy as np

from simulation import FunnelModel
from tests.conftest import FLAGSHIP, cli


def test_journal_agrees_with_the_state_and_does_not_change_the_run(small_flagship):
    traced = FunnelModel(small_flagship)
    ids = np.flatnonzero(np.arange(small_flagship.audience.size) % 97 == 0)
    traced.trace(ids)
    traced.run()
    plain = FunnelModel(small_flagship).run()
    a = traced.datacollector.get_model_vars_dataframe()
    b = plain.datacollector.get_model_vars_dataframe()
    assert a.equals(b)
    table = traced.journeys()
    st = traced.state
    assert set(table["consumer"]) <= set(ids.tolist())
    touches = table[table["event"] == "touch"].groupby("consumer").size()
    for i in ids:
        assert touches.get(i, 0) == st.touches[i]
        buys = table[(table["consumer"] == i) & (table["purchase"] != "")]
        assert len(buys) == st.purchases[i]
        first = buys[buys["purchase"] == "first"]
        if st.first_purchase_day[i] >= 0:
            assert first["day"].tolist() == [st.first_purchase_day[i] + 1]
        else:
            assert first.empty
        rows = table[table["consumer"] == i]
        if len(rows):
            # The last row's stage is the consumer's stage at the end.
            assert rows["stage_after"].iloc[-1] == ["unaware", "aware", "engaged", "trusting",
                                                    "customer", "advocate"][st.stage[i]]
    assert traced.journal.truncated_days == []


def test_trace_command_prints_json_and_refuses_bad_ids(tmp_path):
    proc = cli("trace", FLAGSHIP, "--set", "audience.size=2000", "--days", "20", "--sample", "3",
               "--consumer", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["journeys"]) == 4 and "5" in out["journeys"]
    for rows in out["journeys"].values():
        assert all(r["event"] in ("touch", "repeat purchase", "stage decay") for r in rows)
    bad = cli("trace", FLAGSHIP, "--set", "audience.size=2000", "--consumer", "2000")
    assert bad.returncode == 2 and "ids run from 0 to 1999" in bad.stderr
    none = cli("trace", FLAGSHIP)
    assert none.returncode == 2 and "--consumer" in none.stderr
