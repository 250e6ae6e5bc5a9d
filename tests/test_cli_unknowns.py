"""A create whose outcome is unknown: named, never recreated, resolved by a person (end to end)."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.faults import lead_recipe
from testing.sandbox import running_sandbox

ADVICE = """\
{n} record(s) may or may not have been created in Kayse; no apply creates them again until \
you say which:
{records}
Look each one up in Kayse. If it is there, record its ID:
  kayse-pipeline state set {manifest}{flags} SYMBOL ID [SYMBOL ID ...]
If it is not, release it so that the next apply creates it:
  kayse-pipeline state forget {manifest}{flags} SYMBOL [SYMBOL ...]
  (once none of them is there: kayse-pipeline state forget {manifest}{flags} --unknown)
"""


def test_a_lost_create_stays_unknown_until_state_set(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with running_sandbox(tmp_path, faults="lost=1") as server:
        first = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert first.code == 1
        assert actions(first) == {
            "maria": "unknown",
            "garcia_auto": "skipped",
            "q2_pi": "skipped",
            "q2_outreach": "skipped",
        }
        advice = ADVICE.format(
            n=1,
            records="  contact maria (external_source_id crm_contact_901)",
            manifest="seed.yaml",
            flags="",
        )
        assert first.stderr.endswith(advice)
        server.set_faults("off")
        (contact,) = server.dump()["clients"]  # Kayse made it; only the answer was lost

        for _ in range(2):  # nothing recreates it, however often it is planned or applied
            plan = kayse(["plan", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
            assert actions(plan)["maria"] == "unknown"
            assert plan.stderr.endswith(advice)
            again = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
            assert again.code == 1
            assert actions(again)["maria"] == "unknown"
            assert actions(again)["garcia_auto"] == "skipped"
            assert len(server.dump()["clients"]) == 1

        # The person found it in Kayse: offline, no key, no server needed.
        done = kayse(
            ["state", "set", "seed.yaml", "maria", str(contact["id"])],
            cwd=tmp_path,
            url=server.url,
            key=None,
        )
        assert done.code == 0, done.stderr
        assert done.stdout == f"maria: saved ID {contact['id']}\n"
        final = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert final.code == 0, final.stderr
        assert actions(final)["maria"] == "unchanged"
        dump = server.dump()
        assert len(dump["clients"]) == 1 and len(dump["cases"]) == 1
        assert dump["cases"][0]["client_ids"] == [contact["id"]]


def test_a_500_on_create_is_unknown_and_forget_lets_apply_create_it(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with running_sandbox(tmp_path, faults="500=1") as server:
        first = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert first.code == 1
        assert actions(first)["maria"] == "unknown"
        assert "HTTP 500" in first.json()["stopped"]
        assert server.stats()["by_status"] == {"500": 1}  # not repeated
        server.set_faults("off")
        assert server.dump()["clients"] == []  # the person looks: it is not there
        done = kayse(["state", "forget", "seed.yaml", "maria"], cwd=tmp_path, url=server.url)
        assert done.code == 0, done.stderr
        assert done.stdout == "forgotten: maria (the next apply creates them)\n"
        final = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert final.code == 0, final.stderr
        assert actions(final)["maria"] == "created"
        assert len(server.dump()["clients"]) == 1


def test_every_record_of_a_lost_batch_is_named_with_the_exact_commands(tmp_path: Path) -> None:
    (tmp_path / "leads.yaml").write_text(lead_recipe(12, "u"))
    with running_sandbox(tmp_path, faults="lost=1") as server:
        run = kayse(
            ["apply", "leads.yaml", "--state", "states/leads state.json", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
        )
        assert run.code == 1
        doc = run.json()
        unknown = [r["symbol"] for r in doc["records"] if r["action"] == "unknown"]
        assert unknown == [f"lead_{i:04d}" for i in range(12)]
        stopped = doc["stopped"]
        assert "(lead_0000, lead_0001, lead_0002, lead_0003, lead_0004 and 7 more)" in stopped
        records = "\n".join(
            f"  contact lead_{i:04d} (external_source_id u_contact_{i})" for i in range(12)
        )
        flags = " --state 'states/leads state.json'"
        assert run.stderr.endswith(
            ADVICE.format(n=12, records=records, manifest="leads.yaml", flags=flags)
        )
        state = json.loads((tmp_path / "states" / "leads state.json").read_text())
        assert {s: r["status"] for s, r in state["records"].items()} == {
            s: "unknown" for s in unknown
        }
        # The exact commands work as printed: the person finds six of them and not the rest.
        server.set_faults("off")
        ids = {row["external_source_id"]: row["id"] for row in server.dump()["clients"]}
        pairs = [w for i in range(6) for w in (f"lead_{i:04d}", str(ids[f"u_contact_{i}"]))]
        state_args = ["--state", "states/leads state.json"]
        found = kayse(
            ["state", "set", "leads.yaml", *state_args, *pairs], cwd=tmp_path, url=server.url
        )
        assert found.code == 0, found.stderr
        forget = kayse(
            ["state", "forget", "leads.yaml", *state_args, "--unknown"],
            cwd=tmp_path,
            url=server.url,
        )
        assert forget.code == 0, forget.stderr
        assert forget.stdout == (
            "forgotten: "
            + ", ".join(f"lead_{i:04d}" for i in range(6, 12))
            + " (the next apply creates them)\n"
        )


def test_unknown_advice_names_the_sandbox_options(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    state = tmp_path / "seed.sandbox.state.json"
    state.write_text(
        json.dumps(
            {
                "format": "kayse-pipeline-state",
                "version": 1,
                "target": "sandbox",
                "salt": "abc",
                "records": {"maria": {"kind": "contact", "status": "unknown", "fingerprint": "f"}},
            }
        )
    )
    plan = kayse(["plan", "seed.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert plan.code == 0, plan.stderr
    assert "  ? contact maria: outcome of an earlier create is unknown" in plan.stdout
    assert (
        "Look each one up in the sandbox "
        "(`kayse-pipeline sandbox dump --dir .kayse-sandbox` shows its records)"
    ) in plan.stderr
    assert "  kayse-pipeline state set seed.yaml --sandbox SYMBOL ID [SYMBOL ID ...]" in (
        plan.stderr
    )
