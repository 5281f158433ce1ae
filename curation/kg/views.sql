-- Knowledge-graph views and macros over kg_nodes / kg_edges (installed by curation.kg.views.install_kg_views).

-- Both directions of every edge, for undirected exploration; `forward` is false when walked against the edge.
CREATE OR REPLACE VIEW kg_adjacency AS
SELECT src AS node_id, dst AS neighbor, rel, metaedge, true AS forward, source FROM kg_edges
UNION ALL
SELECT dst AS node_id, src AS neighbor, rel, metaedge, false AS forward, source FROM kg_edges WHERE src <> dst;

-- Edges with their endpoints' names and kinds (null for a dangling endpoint) and a one-column key (edge_id) for release.
CREATE OR REPLACE VIEW kg_edges_named AS
SELECT e.*, concat_ws('|', e.source, e.src, e.rel, e.dst) AS edge_id, s.name AS src_name, s.kind AS src_kind, d.name AS dst_name, d.kind AS dst_kind
FROM kg_edges e
LEFT JOIN (SELECT DISTINCT ON (node_id) node_id, name, kind FROM kg_nodes ORDER BY node_id, run_id DESC) s ON s.node_id = e.src
LEFT JOIN (SELECT DISTINCT ON (node_id) node_id, name, kind FROM kg_nodes ORDER BY node_id, run_id DESC) d ON d.node_id = e.dst;

-- Degree per node (self-loops count once).
CREATE OR REPLACE VIEW kg_degree AS
SELECT n.node_id, any_value(n.name) AS name, any_value(n.kind) AS kind, count(a.neighbor) AS degree
FROM kg_nodes n LEFT JOIN kg_adjacency a USING (node_id)
GROUP BY n.node_id;

-- Edge counts per source, metaedge and licence: what a release of the KG may carry.
CREATE OR REPLACE VIEW kg_edge_licenses AS
SELECT source, metaedge, rel, license, commercial_use, array_to_string(any_value(license_sources), '; ') AS resources,
       count(*) AS edges, count(*) FILTER (WHERE dangling) AS dangling, count(*) FILTER (WHERE self_loop) AS self_loops
FROM kg_edges GROUP BY ALL ORDER BY source, metaedge;

-- Node counts per source and kind.
CREATE OR REPLACE VIEW kg_node_kinds AS
SELECT source, kind, license, count(*) AS nodes FROM kg_nodes GROUP BY ALL ORDER BY source, kind;

-- Nodes within `hops` hops of `node` (undirected), with the fewest hops at which each is reached.
CREATE OR REPLACE MACRO kg_neighbors(node, hops) AS TABLE
WITH RECURSIVE walk(node_id, depth) USING KEY (node_id) AS (
    SELECT node, 0
    UNION
    SELECT a.neighbor, w.depth + 1
    FROM walk w JOIN kg_adjacency a ON a.node_id = w.node_id
    LEFT JOIN recurring.walk seen ON seen.node_id = a.neighbor
    WHERE w.depth < hops AND seen.node_id IS NULL
)
SELECT w.node_id, w.depth AS hops, n.name, n.kind
FROM walk w LEFT JOIN (SELECT DISTINCT ON (node_id) node_id, name, kind FROM kg_nodes ORDER BY node_id, run_id DESC) n
USING (node_id)
WHERE w.node_id <> node
ORDER BY hops, w.node_id;
