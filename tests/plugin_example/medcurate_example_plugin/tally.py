"""Stage `tally`: counts current documents per source into tally_sources (a stage is one module too)."""

from __future__ import annotations

from typing import Any

from curation.config_base import StrictModel
from curation.stages import STAGES, Stage, StageContext
from curation.warehouse import ShardWriter, connect


class TallyConfig(StrictModel):
    min_docs: int = 0


def run(ctx: StageContext) -> dict[str, Any]:
    rows = (
        connect(ctx.warehouse)
        .execute(
            "select source, count(*) from documents_current group by 1 having count(*) >= ? order by 1",
            [ctx.config.min_docs],
        )
        .fetchall()
    )
    with ShardWriter(ctx.warehouse, "tally_sources", ctx.run.run_id) as w:
        for source, n in rows:
            w.write({"source": source, "n_docs": n, "run_id": ctx.run.run_id})
    ctx.run.add_output("tally_sources", ctx.run.run_id, len(rows))
    ctx.run.count("tally.sources", len(rows))
    return {"sources": len(rows)}


STAGES.register(
    Stage(
        name="tally",
        order=35,
        run=run,
        config=TallyConfig,
        description="count current documents per source",
        reads=("documents_current",),
        writes=("tally_sources",),
        summary=lambda s: f"{s['sources']} sources",
    )
)
