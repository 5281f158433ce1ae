"""Mixture controls of a release config (issue 12 item 3), applied as SQL when a partition is exported.

- `weight`: each selected row is exported `weight` times on average: 2.0 doubles a config (upsampling), 0.5 keeps
  half of it; the fractional part is decided by a stable hash of (key, copy), so a rebuild exports the same rows.
- `order_by`: SQL ordering of the rows inside each split (e.g. `pass_rate DESC` for easy → hard), the key breaks ties.
- `format`: adds training columns: `messages` (chat turns), `alpaca` (instruction / input / output) or
  `think_answer` (prompt / completion as `<think>…</think><answer>…</answer>`), from SQL expressions over the row.
Balanced sampling (`balance_by`) removes rows, so it is applied in the selection and reported as a rule effect.
"""

from __future__ import annotations

from curation.release.config import DatasetConfig, ExportFormat

_HASH_SPACE = 1_000_000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(expr: str) -> str:
    return f"CAST(({expr}) AS VARCHAR)"


def format_columns(fmt: ExportFormat) -> list[tuple[str, str]]:
    """(column name, SQL expression) pairs the export format adds."""
    if fmt.kind == "messages":
        turns = [f"struct_pack(role := 'user', content := {_text(fmt.prompt)})"]
        turns.append(f"struct_pack(role := 'assistant', content := {_text(fmt.response)})")
        if fmt.system:
            system = "'" + fmt.system.replace("'", "''") + "'"
            turns.insert(0, f"struct_pack(role := 'system', content := {system})")
        return [("messages", f"[{', '.join(turns)}]")]
    if fmt.kind == "alpaca":
        return [
            ("instruction", _text(fmt.prompt)),
            ("input", f"coalesce({_text(fmt.input)}, '')" if fmt.input else "''"),
            ("output", _text(fmt.response)),
        ]
    return [
        ("prompt", _text(fmt.prompt)),
        (
            "completion",
            f"'<think>' || {_text(fmt.reasoning)} || '</think><answer>' || {_text(fmt.answer)} || '</answer>'",
        ),
    ]


def _weighted(rows_sql: str, key: str, weight: float) -> str:
    whole, frac = int(weight), weight - int(weight)
    threshold = round(frac * _HASH_SPACE)
    h = f"md5_number(CAST({_q(key)} AS VARCHAR) || '#' || _copy) % {_HASH_SPACE}"
    return (
        f"SELECT * FROM ({rows_sql}) _r, range({whole + 1}) _c(_copy) "
        f"WHERE _copy < {whole} OR (_copy = {whole} AND {h} < {threshold})"
    )


def export_sql(rows_sql: str, cfg: DatasetConfig, columns: list[str]) -> str:
    """The exported rows of one partition: weighted, with the format's columns, in the configured order."""
    if cfg.weight != 1.0:
        rows_sql = _weighted(rows_sql, cfg.key, cfg.weight)
    fmt = [] if cfg.format is None else format_columns(cfg.format)
    keep = columns if (cfg.format is None or cfg.format.keep_columns) else [cfg.key]
    select = [_q(c) for c in keep] + [f"{expr} AS {_q(name)}" for name, expr in fmt]
    order = ", ".join([*([cfg.order_by] if cfg.order_by else []), _q(cfg.key)])
    copy = ", _copy" if cfg.weight != 1.0 else ""
    return f"SELECT {', '.join(select)} FROM ({rows_sql}) ORDER BY {order}{copy}"


def balanced_sql(kept_sql: str, cfg: DatasetConfig) -> str:
    """At most `balance_per_value` rows per value of `balance_by` (a stable hash of the key picks them)."""
    if cfg.balance_by is None:
        raise ValueError(f"config {cfg.name}: balanced_sql needs balance_by")
    return (
        f"SELECT * FROM ({kept_sql}) QUALIFY row_number() OVER (PARTITION BY {_q(cfg.balance_by)} "
        f"ORDER BY md5(CAST({_q(cfg.key)} AS VARCHAR))) <= {cfg.balance_per_value}"
    )
