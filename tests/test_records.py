"""Patient records (SimSUM / SynLLM): schema checks (contradictory rules refused), row validation naming the
column or rule, the seeded Bayesian-network sampler, and fidelity / rule / privacy evaluation."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
import yaml

from curation.manifest import ManifestError, load_manifest
from curation.orchestrate.runner import run_stage
from curation.records.evaluate import evaluate
from curation.records.jsonschema import record_json_schema, with_record_schemas
from curation.records.schema import RecordSchema
from curation.records.store import record_schema_of
from curation.records.validate import check_rows
from curation.synth.recipe.task import load_json_schema
from curation.warehouse import Warehouse, connect
from curation.warehouse import schemas as schemas_mod
from tests.cli_helpers import invoke_cli

FIXTURES = Path(__file__).parent / "fixtures" / "records"
SCHEMA = yaml.safe_load((FIXTURES / "respiratory.yaml").read_text())


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("records") / "wh")
    run_stage("records", wh, load_manifest(FIXTURES / "manifest.yaml"))
    return wh


GOOD = {
    "age": 30,
    "sex": "F",
    "pregnant": True,
    "asthma": False,
    "pneumonia": False,
    "fever": False,
    "dyspnea": "none",
    "temp": 36.9,
    "visit": "2024-05-01",
    "note": None,
}


def _schema(*rules: tuple[str, str]) -> dict:
    return {**SCHEMA, "rules": [{"name": n, "where": w} for n, w in rules]}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            (("male_pregnant", "pregnant AND sex = 'M'"), ("pregnant_is_female", "NOT pregnant OR sex = 'F'")),
            "rules male_pregnant, pregnant_is_female hold together for no combination",
        ),
        ((("other", "sex = 'X'"),), "rule other holds for no value of (sex)"),
        ((("too_old", "age > 200"),), "rule too_old holds for no value of (age)"),
        ((("hot", "temp > 40"), ("cold", "temp < 35")), "rule hot and rule cold leave no non-null value for temp"),
        ((("range", "temp > 44"),), "rule range and temp's max leave no non-null value for temp"),
        ((("typo", "agee > 2"),), "rule typo: Binder Error"),
        ((("number", "age + 1"),), "rule number: is BIGINT, not a boolean"),
        ((("two", "true; DROP TABLE x"),), "one expression"),
    ],
)
def test_bad_schemas_are_refused_naming_the_rule(rules: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RecordSchema.model_validate(_schema(*rules))


def test_contradictory_schema_file_fails_the_manifest_check(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "manifest.yaml", tmp_path / "manifest.yaml")
    bad = _schema(("a", "pregnant"), ("b", "NOT pregnant"))
    (tmp_path / "respiratory.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(
        ManifestError, match=r"records\.tables\.0: respiratory\.yaml: contradictory rules: rules a, b hold together"
    ):
        load_manifest(tmp_path / "manifest.yaml")


def test_rows_are_checked_and_each_problem_named() -> None:
    schema = RecordSchema.model_validate(SCHEMA)
    good = GOOD
    rows = [
        good,
        {**good, "age": "thirty"},
        {**good, "age": 130},
        {**good, "dyspnea": "awful"},
        {**good, "smoker": True},
        {k: v for k, v in good.items() if k != "temp"},
        {**good, "sex": "M"},
        {**good, "fever": True, "age": 8},
        {**good, "sex": None},
    ]
    checked = check_rows(schema, rows)
    assert checked.index == [0]
    got = {i: [(p.reason, p.name) for p in ps] for i, ps in checked.problems.items()}
    assert got == {
        1: [("wrong_type", "age")],
        2: [("out_of_range", "age")],
        3: [("unknown_category", "dyspnea")],
        4: [("extra_column", "smoker")],
        5: [("missing_column", "temp")],
        6: [("rule_violation", "pregnant_is_female")],
        7: [("rule_violation", "no_child_pregnancy"), ("rule_violation", "fever_means_hot")],
        8: [("null_value", "sex")],
    }


def test_json_schema_refuses_what_the_column_checks_refuse() -> None:
    """The derived JSON schema (for constrained decoding) refuses a wrong type, a value out of range, an unknown
    category, an extra or a missing column and a null in a non-nullable column; rules are left to `record_row`."""
    out = load_json_schema({"type": "object", "properties": {"row": {"record_schema": "respiratory.yaml"}}}, FIXTURES)
    row_schema = out["properties"]["row"]
    assert row_schema == record_json_schema(RecordSchema.model_validate(SCHEMA))
    assert row_schema["required"] == [c["name"] for c in SCHEMA["columns"]] and not row_schema["additionalProperties"]
    assert row_schema["properties"]["age"] == {"type": "integer", "minimum": 0, "maximum": 110}
    assert row_schema["properties"]["temp"] == {"type": "number", "minimum": 34.0, "maximum": 43.0}
    assert row_schema["properties"]["dyspnea"] == {"type": "string", "enum": ["none", "mild", "severe"]}
    assert row_schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    validator = jsonschema.Draft202012Validator(row_schema)
    validator.check_schema(row_schema)
    refused = [
        {**GOOD, "pregnant": "yes"},
        {**GOOD, "age": 107.5},
        {**GOOD, "age": 111},
        {**GOOD, "temp": 33.9},
        {**GOOD, "dyspnea": "awful"},
        {**GOOD, "smoker": True},
        {k: v for k, v in GOOD.items() if k != "temp"},
        {**GOOD, "sex": None},
    ]
    assert [validator.is_valid(r) for r in [GOOD, *refused]] == [True] + [False] * len(refused)
    assert all(check_rows(RecordSchema.model_validate(SCHEMA), [r]).problems for r in refused)
    assert validator.is_valid({**GOOD, "sex": "M"})  # pregnant_is_female: a rule, checked after parsing


def test_record_schema_reference_stands_alone() -> None:
    with pytest.raises(ValueError, match="stands alone"):
        with_record_schemas({"row": {"record_schema": SCHEMA, "type": "object"}}, FIXTURES)


def test_sampled_marginals_follow_the_network(sampled: Warehouse) -> None:
    con = connect(sampled)
    n, female, preg_f, preg_m, pneu = con.execute(
        "SELECT count(*), avg((sex = 'F')::int), avg(pregnant::int) FILTER (sex = 'F'), "
        "avg(pregnant::int) FILTER (sex = 'M'), avg(pneumonia::int) FROM records_resp"
    ).fetchone()
    assert 4950 <= n <= 5000  # rows breaking a rule are quarantined, not kept
    assert female == pytest.approx(0.5, abs=0.02) and preg_m == 0
    assert preg_f == pytest.approx(0.1, abs=0.02) and pneu == pytest.approx(0.2, abs=0.02)
    fever = dict(con.execute("SELECT pneumonia, avg(fever::int) FROM records_resp GROUP BY 1").fetchall())
    assert fever[True] == pytest.approx(0.8, abs=0.04) and fever[False] == pytest.approx(0.1, abs=0.02)
    severe = con.execute(
        "SELECT avg((dyspnea = 'severe')::int) FROM records_resp WHERE asthma AND pneumonia"
    ).fetchone()
    assert severe[0] == pytest.approx(0.6, abs=0.1)
    temps = dict(con.execute("SELECT fever, avg(temp) FROM records_resp GROUP BY 1").fetchall())
    assert temps[True] == pytest.approx(38.6, abs=0.1) and temps[False] == pytest.approx(36.8, abs=0.05)
    assert con.execute("SELECT min(visit), max(visit) FROM records_resp").fetchone()[0].year == 2024
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())
    assert set(reasons) == {"rule_violation"} and sum(reasons.values()) == 5000 - n


def test_same_seed_same_records(sampled: Warehouse, tmp_path: Path) -> None:
    again = Warehouse(tmp_path / "wh")
    run_stage("records", again, load_manifest(FIXTURES / "manifest.yaml"))
    q = "SELECT * EXCLUDE (run_id) FROM records_resp ORDER BY record_id"
    assert connect(again).execute(q).fetchall() == connect(sampled).execute(q).fetchall()


def test_table_schema_lives_in_the_warehouse(sampled: Warehouse) -> None:
    path = sampled.root / "schemas" / "tables" / "records_resp.yaml"
    spec = yaml.safe_load(path.read_text())
    assert [c["name"] for c in spec["columns"]][:3] == ["record_id", "age", "sex"]
    schemas_mod._DECLARED.clear()  # a new process: the catalog finds the table from the warehouse alone
    assert connect(sampled).execute("SELECT count(*) FROM records_resp").fetchone()[0] > 0
    assert record_schema_of(sampled, "records_resp").rules[0].name == "pregnant_is_female"


def _write_csv(path: Path, table: pa.Table) -> None:
    rows = table.drop_columns(["record_id", "run_id"]).to_pylist()
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_eval_against_a_copy_is_an_exact_copy(sampled: Warehouse, tmp_path: Path) -> None:
    table = connect(sampled).sql("SELECT * FROM records_resp").to_arrow_table()
    _write_csv(tmp_path / "ref.csv", table)
    res = invoke_cli(
        "--warehouse",
        str(sampled.root),
        "records",
        "eval",
        "--table",
        "records_resp",
        "--reference",
        str(tmp_path / "ref.csv"),
        "--json",
    )
    assert res.exit_code == 0, res.output
    import json

    r = json.loads(res.output)
    assert r["privacy"]["exact_copy_rate"] == 1.0 and r["privacy"]["dcr_min"] == 0 and r["privacy"]["dcr_median"] == 0
    assert all(
        m["distance"] == pytest.approx(0, abs=1e-9)
        for m in r["fidelity"]["columns"].values()
        if m["distance"] is not None
    )
    assert r["fidelity"]["correlations"]["mean_abs_diff"] == pytest.approx(0, abs=1e-9)
    assert r["rules"]["violation_rate"] == 0


def test_eval_measures_distance_and_names_violations(sampled: Warehouse) -> None:
    schema = record_schema_of(sampled, "records_resp")
    ref = connect(sampled).sql("SELECT * FROM records_resp").to_arrow_table()
    shifted = (
        connect(sampled)
        .sql(
            "SELECT * REPLACE (age + 10 AS age, CASE WHEN record_id < '4' THEN 'M' ELSE sex END AS sex) FROM records_resp"
        )
        .to_arrow_table()
    )
    r = evaluate(schema, shifted, ref)
    cols = r["fidelity"]["columns"]
    assert cols["age"]["metric"] == "ks" and cols["age"]["distance"] > 0.1
    assert cols["sex"]["metric"] == "tv" and cols["sex"]["distance"] > 0.05
    assert cols["asthma"]["distance"] == 0
    assert r["privacy"]["exact_copy_rate"] < 0.01 and r["privacy"]["dcr_min"] > 0
    assert r["rules"]["violation_rate"] > 0
    assert set(r["rules"]["violations"]) >= {"rule_violation:pregnant_is_female", "out_of_range:age"}
