"""The dataset card: README.md with Hugging Face YAML front matter and a human summary.

Rendered from the same facts dict that becomes manifest.json, so the card's counts cannot drift from the files;
`release verify` re-checks the front matter's per-split counts against manifest.json.
"""

from __future__ import annotations

from typing import Any

import yaml

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


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZES if n < limit), "n>1B")


def hf_config_name(config: str, bucket: str) -> str:
    return f"{config}-{bucket}"


def front_matter(facts: dict[str, Any]) -> dict[str, Any]:
    licences = sorted(facts["licenses"])
    meta: dict[str, Any] = {"pretty_name": facts["pretty_name"]}
    if len(licences) == 1 and licences[0] in HF_LICENSES:
        meta["license"] = HF_LICENSES[licences[0]]
    else:
        meta["license"] = "other"
        meta["license_name"] = "mixed" if len(licences) > 1 else licences[0].lower()
        meta["license_details"] = "per-row licence in the `license` column: " + ", ".join(licences)
    meta["language"] = ["en"]
    meta["tags"] = ["medical", "biomedical"]
    meta["task_categories"] = sorted({c["task_category"] for c in facts["configs"].values()})
    meta["size_categories"] = [size_category(facts["total_rows"])]
    configs, info = [], []
    for name, c in facts["configs"].items():
        for bucket, splits in c["splits"].items():
            files = [{"split": s, "path": f"data/{name}/{bucket}/{s}-*.parquet"} for s in splits]
            configs.append({"config_name": hf_config_name(name, bucket), "data_files": files})
            info.append(
                {
                    "config_name": hf_config_name(name, bucket),
                    "splits": [{"name": s, "num_examples": n} for s, n in splits.items()],
                }
            )
    meta["configs"] = configs
    meta["dataset_info"] = info
    return meta


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _counts(title: str, counts: dict[str, int]) -> str:
    rows = [[k, v] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    return f"### {title}\n\n" + _table([title.split()[-1], "rows"], rows)


def body(facts: dict[str, Any]) -> str:
    f = facts
    parts = [
        f"# {f['pretty_name']}",
        f"Version **{f['version']}** of release `{f['name']}`, built by medcurate "
        f"{f['code_version']} (run `{f['run_id']}`) from manifest sha256 `{f['manifest_sha256'][:16]}…`.",
    ]
    if f.get("description"):
        parts.append(f["description"])
    split_rows = [
        [name, b, s, n] for name, c in f["configs"].items() for b, ss in c["splits"].items() for s, n in ss.items()
    ]
    parts += [
        "## Contents",
        "Commercial splits hold only rows whose licence allows commercial use; everything else "
        "(including unknown licence status) is in the non-commercial splits. Train/validation is a stable hash "
        "of `doc_id`.",
        _table(["config", "licence class", "split", "rows"], split_rows),
        f"Total: {f['total_rows']} rows.",
    ]
    parts.append("## Counts")
    parts.append(_counts("By task", {n: c["rows_out"] for n, c in f["configs"].items()}))
    for key, title in (("by_source", "By source"), ("by_license", "By licence")):
        merged: dict[str, int] = {}
        for c in f["configs"].values():
            for k, v in c[key].items():
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
    lin = f["lineage"]
    parts.append(
        f"## Lineage\n\n{len(lin['runs'])} stage runs, {len(lin['source_files'])} source files "
        f"(sha256 in manifest.json). Models: "
        + (", ".join(f"{s}: {m}" for s, m in lin["models"].items()) or "none")
        + "."
    )
    lims = [
        "Selection rules and annotations are automatic (classifiers, heuristics, n-gram overlap); they have "
        "false positives and negatives.",
        "Decontamination covers only the benchmarks indexed at build time.",
        "Licences come from source metadata; check the per-row `license` before reuse.",
        *f["limitations"],
    ]
    parts.append("## Known limitations\n\n" + "\n".join(f"- {x}" for x in lims))
    parts.append(
        "## Verifying\n\n`medcurate release verify <this directory>` re-checks every file's sha256 and row "
        "count against manifest.json, and this card's counts."
    )
    return "\n\n".join(parts) + "\n"


def render(facts: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(front_matter(facts), sort_keys=False, allow_unicode=True) + "---\n\n" + body(facts)


def read_front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---\n"):
        raise ValueError("README.md has no YAML front matter")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {}
