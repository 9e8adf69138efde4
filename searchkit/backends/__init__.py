"""Search backends beside the Whoosh directory (see `searchkit.searcher`).

``bm25`` holds the BM25F formula as pure functions any backend can call;
``sphinx`` runs the same engine on a Sphinx/Manticore cluster.
"""
