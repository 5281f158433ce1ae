"""The test factories produce rows the catalog accepts (so stage tests start from a valid warehouse)."""

from curation.warehouse import connect
from tests.factories import doc_row, item_row, write_documents, write_items


def test_factory_rows_land_in_views(wh):
    write_documents(wh, [doc_row("pmc:PMC1", "alpha beta"), doc_row("pubmed:2", "gamma", commercial_use=False)])
    write_items(wh, [item_row("medqa:test:1", "Which?")])
    con = connect(wh)
    assert con.execute("select count(*) from documents_enriched where is_current").fetchone() == (2,)
    assert con.execute("select answer from benchmark_items").fetchone() == ("A",)
