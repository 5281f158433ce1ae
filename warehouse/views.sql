-- Derived views, applied after the catalog has created one view per table in schemas/tables.
-- documents holds every occurrence of every record; these views decide which one counts.

-- One row per doc_id: its latest occurrence (by source file name, then position in the file), with
--   is_current    the latest version of its work (pubmed:PMID.2 supersedes pubmed:PMID)
--   is_deleted    a DeleteCitation for the work in the same or a later source file
--   superseded_by the doc_id that is current for the work
CREATE OR REPLACE VIEW documents_latest AS
WITH occ AS (
    SELECT d.*,
           regexp_extract(d.source_file, '[^/]+$') AS _file_key,
           row_number() OVER (PARTITION BY d.doc_id ORDER BY regexp_extract(d.source_file, '[^/]+$') DESC,
                                                            d.record_index DESC) AS _occ,
           count(*) OVER (PARTITION BY d.doc_id) AS n_occurrences
    FROM documents d
),
latest AS (
    SELECT *, row_number() OVER (PARTITION BY work_id ORDER BY version DESC, _file_key DESC, record_index DESC) AS _w,
           first_value(doc_id) OVER (PARTITION BY work_id ORDER BY version DESC, _file_key DESC, record_index DESC)
               AS _current_id
    FROM occ WHERE _occ = 1
)
SELECT l.* EXCLUDE (_occ, _w, _current_id, _file_key),
       (l._w = 1) AS is_current,
       EXISTS (SELECT 1 FROM deletions x
               WHERE x.work_id = l.work_id AND regexp_extract(x.source_file, '[^/]+$') >= l._file_key) AS is_deleted,
       CASE WHEN l._w = 1 THEN NULL ELSE l._current_id END AS superseded_by
FROM latest l;

-- The documents later stages work on by default: current and not deleted.
CREATE OR REPLACE VIEW documents_current AS
SELECT * FROM documents_latest WHERE is_current AND NOT is_deleted;

-- Paragraph units (pmc format option `paragraphs`) of the current documents, from the occurrence documents_latest
-- picked, so an article ingested from two files or revised in a later one yields its paragraphs once.
CREATE OR REPLACE VIEW paragraphs_current AS
SELECT p.* FROM paragraphs p
JOIN documents_current d ON d.doc_id = p.doc_id AND d.source_file = p.source_file AND d.record_index = p.record_index;

-- Quarantine counts by stage and reason, for a quick health check.
CREATE OR REPLACE VIEW quarantine_summary AS
SELECT stage, reason, count(*) AS n, min(source_ref) AS example_ref
FROM quarantine GROUP BY ALL ORDER BY n DESC;


-- NER entity spans, one row per span (offsets into ner_sentences.text, end exclusive).
CREATE OR REPLACE VIEW ner_spans AS
SELECT sentence_id, sp.start AS start, sp."end" AS "end", sp.token_start AS token_start,
       sp.token_end AS token_end, sp.label AS label, sp.text AS text, run_id
FROM (SELECT sentence_id, run_id, unnest(spans) AS sp FROM ner_sentences);
