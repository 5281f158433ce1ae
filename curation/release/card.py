"""The dataset card: README.md with Hugging Face YAML front matter and a human summary.

Rendered from the same facts dict that becomes manifest.json, so the card's counts cannot drift from the files;
`release verify` re-checks the front matter's per-split counts against manifest.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml
from datasets import DatasetInfo, Features, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from curation.release import citations, lineage
from curation.warehouse.schemas import all_schemas

# Normalized licence ids (documents.license) -> Hugging Face license ids.
HF_LICENSES = {
    "CC0-1.0": "cc0-1.0",
    "CC-BY-4.0": "cc-by-4.0",
    "CC-BY-SA-4.0": "cc-by-sa-4.0",
    "CC-BY-ND-4.0": "cc-by-nd-4.0",
    "CC-BY-NC-4.0": "cc-by-nc-4.0",
    "CC-BY-NC-SA-4.0": "cc-by-nc-sa-4.0",
    "CC-BY-NC-ND-4.0": "cc-by-nc-nd-4.0",
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
}
_SIZES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]


MAX_FILES = 30


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZES if n < limit), "n>1B")


def hf_config_name(config: str, bucket: str) -> str:
    return f"{config}-{bucket}"


def features_of(first_shard: Path) -> dict[str, Any]:
    """The `datasets` Features of a config's shards, as a JSON-able dict (manifest.json keeps it for the card)."""
    return Features.from_arrow_schema(pq.read_schema(first_shard)).to_dict()


def _license(meta: dict[str, Any], licences: list[str]) -> None:
    if len(licences) == 1 and licences[0] in HF_LICENSES:
        meta["license"] = HF_LICENSES[licences[0]]
        return
    meta["license"] = "other"
    meta["license_name"] = "mixed" if len(licences) > 1 else licences[0].lower()
    meta["license_details"] = "per-row licence in the `license` column: " + ", ".join(licences)


def default_config(facts: dict[str, Any]) -> str:
    """The first config's commercial split when it has one (the most reusable), else its first licence class."""
    name, c = next(iter(facts["configs"].items()))
    bucket = "commercial" if "commercial" in c["splits"] else next(iter(c["splits"]))
    return hf_config_name(name, bucket)


def card_data(facts: dict[str, Any]) -> DatasetCardData:
    """Hub metadata: licence, tags, configs with data_files (one marked default) and dataset_info with features and
    byte sizes, so `datasets.load_dataset(release_dir, config)` needs no guessing and emits no warning."""
    meta: dict[str, Any] = {}
    _license(meta, sorted(facts["licenses"]))
    default = default_config(facts)
    configs, infos = [], {}
    for name, c in facts["configs"].items():
        features = Features.from_dict(facts["features"][name])
        for bucket, splits in c["splits"].items():
            hf_name = hf_config_name(name, bucket)
            files = [{"split": s, "path": f"data/{name}/{bucket}/{s}-*.parquet"} for s in splits]
            configs.append(
                {"config_name": hf_name, "data_files": files, **({"default": True} if hf_name == default else {})}
            )
            sizes = c["sizes"][bucket]
            split_dict = SplitDict()
            for s, n in splits.items():
                split_dict.add(SplitInfo(name=s, num_bytes=sizes[s]["num_bytes"], num_examples=n))
            infos[hf_name] = DatasetInfo(
                config_name=hf_name,
                features=features,
                splits=split_dict,
                download_size=sum(x["download_size"] for x in sizes.values()),
                dataset_size=sum(x["num_bytes"] for x in sizes.values()),
            )
    data = DatasetCardData(
        pretty_name=facts["pretty_name"],
        language=["en"],
        tags=["medical", "biomedical", "medcurate"],
        task_categories=sorted({c["task_category"] for c in facts["configs"].values()}),
        size_categories=[size_category(facts["total_rows"])],
        configs=configs,
        **meta,
    )
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def front_matter(facts: dict[str, Any]) -> dict[str, Any]:
    return card_data(facts).to_dict()


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _counts(title: str, counts: dict[str, int]) -> str:
    rows = [[k, v] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return f"### {title}\n\n" + _table([title.split()[-1], "rows"], rows)


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def field_descriptions(table: str, columns: list[str]) -> dict[str, str]:
    """Each column's description from schemas/tables: the config's own table first, then the tables a release joins
    in (documents for licences, annotation tables for documents_enriched)."""
    schemas = all_schemas()
    tables = [schemas[t] for t in (table, "documents") if t in schemas]
    tables += [s for s in schemas.values() if s.annotation]
    out = {}
    for col in columns:
        found = [c.description for s in tables for c in s.columns if c.name == col and c.description]
        out[col] = found[0] if found else ""
    return out


def _type_name(feature: dict[str, Any]) -> str:
    """A short type for a datasets feature dict: string, int32, list<struct<label, text>>, ..."""
    t = feature.get("_type")
    if t == "Value":
        return feature["dtype"]
    if t in ("List", "Sequence", "LargeList"):
        inner = feature.get("feature", {})
        return f"list<{_type_name(inner) if '_type' in inner else _struct(inner)}>"
    if t is None:
        return _struct(feature)
    return t


def _struct(fields: dict[str, Any]) -> str:
    return "struct<" + ", ".join(fields) + ">"


def _fields(facts: dict[str, Any]) -> str:
    parts = ["## Fields"]
    for name, c in facts["configs"].items():
        feats = facts["features"][name]
        desc = field_descriptions(c.get("table", c["source"]), list(feats))
        rows = [[f"`{col}`", f"`{_type_name(f)}`", desc[col]] for col, f in feats.items()]
        mix = _mixture(c.get("mixture") or {})
        parts.append(
            f"### {name}\n\nKey `{c['key']}`; rows sharing `{c['split_key']}` share a split.{mix}\n\n"
            + _table(["field", "type", "description"], rows)
        )
    return "\n\n".join(parts)


def _mixture(m: dict[str, Any]) -> str:
    parts = []
    if m.get("weight", 1.0) != 1.0:
        parts.append(f"weight {m['weight']} (rows exported per selected row)")
    if m.get("balance_by"):
        parts.append(f"at most {m['balance_per_value']} rows per `{m['balance_by']}`")
    if m.get("order_by"):
        parts.append(f"ordered by `{m['order_by']}`")
    if m.get("format"):
        parts.append(f"`{m['format']}` training columns")
    return (" Mixture: " + "; ".join(parts) + ".") if parts else ""


def _lineage(lin: dict[str, Any]) -> str:
    parts = ["## Lineage"]
    runs = {r["run_id"]: r for r in lin["runs"]}
    if lin["row_run_ids"]:
        missing = {"stage": "", "status": "no run record", "code_version": ""}
        rows = [
            [
                runs.get(r, missing)["stage"],
                f"`{r}`",
                runs.get(r, missing)["status"],
                runs.get(r, missing)["code_version"],
            ]
            for r in lin["row_run_ids"]
        ]
        parts.append(
            "### Runs that wrote the released rows\n\n" + _table(["stage", "run", "status", "code version"], rows)
        )
    files = lin["source_files"]
    if files:
        shown = [[f"`{f['file']}`", f"`{f['sha256'][:16]}…`"] for f in files[:MAX_FILES]]
        more = (
            f"\n\n…and {len(files) - MAX_FILES} more; all with full sha256 in manifest.json."
            if len(files) > MAX_FILES
            else ""
        )
        parts.append("### Source files\n\n" + _table(["file", "sha256"], shown) + more)
    models = lineage.model_rows(lin["models"])
    if models:
        parts.append("### Models\n\n" + _table(["stage", "role", "model", "details"], models))
    if lin["prompts"]:
        cols = list(lin["prompts"][0])
        parts.append("### Generation\n\n" + _table(cols, [[p.get(c, "") for c in cols] for p in lin["prompts"]]))
    if len(parts) == 1:
        parts.append("No run records were found for the released rows.")
    return "\n\n".join(parts)


def _citation(facts: dict[str, Any]) -> str:
    names: list[str] = []
    for c in facts["configs"].values():
        for key in ("by_source", "by_benchmark"):
            names += [n for n in c.get(key, {}) if n not in names and n != "unknown"]
    found, missing = citations.citations_for(sorted(names), facts.get("citations") or {})
    parts = ["## Citation", "Please cite the sources of the rows you use:"]
    parts += [f"### {n}\n\n```bibtex\n{b.strip()}\n```" for n, b in found.items()]
    if missing:
        parts.append(
            "No citation on record for: "
            + ", ".join(f"`{m}`" for m in missing)
            + " (add one under `release.citations`)."
        )
    return "\n\n".join(parts)


def _loading(facts: dict[str, Any]) -> str:
    where = facts.get("hf_repo") or "path/to/this/release"
    names = [hf_config_name(n, b) for n, c in facts["configs"].items() for b in c["splits"]]
    return (
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        f'ds = load_dataset("{where}", "{default_config(facts)}")  # the default config\n```\n\n'
        "Configs: " + ", ".join(f"`{n}`" for n in names) + "."
    )


def body(facts: dict[str, Any]) -> str:
    f = facts
    parts = [
        f"# {f['pretty_name']}",
        f"Version **{f['version']}** of release `{f['name']}`, built by medcurate "
        f"{f['code_version']} (run `{f['run_id']}`) from manifest sha256 `{f['manifest_sha256'][:16]}…`.",
    ]
    if f.get("description"):
        parts.append(f["description"])
    parts.append(_loading(f))
    split_rows = [
        [name, b, s, n, _fmt_bytes(c["sizes"][b][s]["download_size"])]
        for name, c in f["configs"].items()
        for b, ss in c["splits"].items()
        for s, n in ss.items()
    ]
    parts += [
        "## Contents",
        "Commercial splits hold only rows whose licence allows commercial use; everything else "
        "(including unknown licence status) is in the non-commercial splits. Train/validation is a stable hash "
        "of each config's split key (below), so every row of one document or benchmark item is in one split.",
        _table(["config", "licence class", "split", "rows", "parquet"], split_rows),
        f"Total: {f['total_rows']} rows.",
        _fields(f),
        "## Counts",
        _counts("By task", {n: c["rows_out"] for n, c in f["configs"].items()}),
    ]
    for key, title in (("by_source", "By source"), ("by_benchmark", "By benchmark"), ("by_license", "By licence")):
        merged: dict[str, int] = {}
        for c in f["configs"].values():
            for k, v in c.get(key, {}).items():
                merged[k] = merged.get(k, 0) + v
        if merged:
            parts.append(_counts(title, merged))
    parts.append(
        "## Filters and their effects\n\nRules apply in order; each removes the rows that passed the rules "
        "before it and fail it. Built-in guards come first."
    )
    for name, c in f["configs"].items():
        rows = [
            [r["name"] + (" (built in)" if r["builtin"] else ""), f"`{r['where']}`", r["removed"]] for r in c["rules"]
        ]
        parts.append(
            f"### {name} (from `{c['source']}`: {c['rows_in']} candidates → {c['rows_out']} released)\n\n"
            + _table(["rule", "keep when", "rows removed"], rows)
        )
    if f["plots"]:
        parts.append("## Distributions\n\n" + "\n\n".join(f"![{p['title']}]({p['path']})" for p in f["plots"]))
    parts.append("## Validation")
    if f["validation"]:
        parts.append(
            _table(
                ["config", "suite", "passed", "expectations", "failed"],
                [[n, v["table"], v["success"], v["expectations"], v["failed"]] for n, v in f["validation"].items()],
            )
        )
    else:
        parts.append("Validation was disabled for this release (`release.validate: false`).")
    d = f["diff"]
    parts.append("## Changes since the previous release")
    if d["previous_version"]:
        parts.append(
            f"Compared with {d['previous_version']}:\n\n"
            + _table(["config", "added", "removed"], [[n, c["added"], c["removed"]] for n, c in d["configs"].items()])
        )
    else:
        parts.append("This is the first release of this name.")
    parts.append(_lineage(f["lineage"]))
    lims = [
        "Selection rules and annotations are automatic (classifiers, heuristics, n-gram overlap); they have "
        "false positives and negatives.",
        "Decontamination covers only the benchmarks indexed at build time.",
        "Licences come from source metadata; check the per-row `license` before reuse.",
        *f["limitations"],
    ]
    parts.append("## Known limitations\n\n" + "\n".join(f"- {x}" for x in lims))
    parts.append(_citation(f))
    parts.append(
        "## Verifying\n\n`medcurate release verify <this directory>` re-checks every file's sha256 and row "
        "count against manifest.json, and this card's counts."
    )
    return "\n\n".join(parts) + "\n"


def render(facts: dict[str, Any]) -> str:
    """README.md: huggingface_hub's DatasetCard from the card data and the body."""
    return str(DatasetCard(f"---\n{card_data(facts).to_yaml()}\n---\n\n{body(facts)}"))


def read_front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---\n"):
        raise ValueError("README.md has no YAML front matter")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {}
