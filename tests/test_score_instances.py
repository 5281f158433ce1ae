"""Two configurations of one scorer coexist (dolma's experiment__tagger__key idea): `clean@strict` writes
annotations_clean__strict; documents_enriched keeps the short names for the default instance and shows the other
as clean__strict__<column>."""

from __future__ import annotations

from curation.manifest import load_manifest
from curation.orchestrate.runner import run_stage
from curation.warehouse import connect
from tests.factories import doc_row, write_documents


def test_a_second_clean_configuration_writes_its_own_columns(wh, tmp_path):
    words = " ".join(f"word{i}" for i in range(30))
    write_documents(wh, [doc_row("pmc:PMC1", f"Aspirin and {words}."), doc_row("pmc:PMC2", "Too short to pass.")])
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "name: inst\nstages: [score]\n"
        "score:\n  perplexity: {enabled: false}\n"
        "  clean: {thresholds: {min_words: 3}}\n"
        "  clean@strict: {thresholds: {min_words: 50}}\n"
    )
    res = run_stage("score", wh, load_manifest(manifest))
    assert res.summary["clean"]["scored"] == 2 and res.summary["clean__strict"]["scored"] == 2
    assert res.record["counts"]["clean__strict.scored"] == 2
    con = connect(wh)
    rows = con.execute(
        "select doc_id, list_contains(failed_rules, 'too_few_words'), "
        "list_contains(clean__strict__failed_rules, 'too_few_words'), clean__strict__word_count = word_count "
        "from documents_enriched order by 1"
    ).fetchall()
    assert rows == [("pmc:PMC1", False, True, True), ("pmc:PMC2", False, True, True)]
    assert con.execute("select count(*) from annotations_clean__strict").fetchone()[0] == 2


def test_an_instance_of_an_unknown_scorer_is_an_unknown_key(tmp_path):
    import pytest

    from curation.manifest import ManifestError

    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: inst\nstages: [score]\nscore:\n  nope@x: {}\n  clean@Bad-Name: {}\n")
    with pytest.raises(ManifestError) as e:
        load_manifest(manifest)
    assert "score.nope@x: unknown key" in str(e.value) and "score.clean@Bad-Name: unknown key" in str(e.value)
