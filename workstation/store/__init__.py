"""Local store: the trader's book, market snapshots, history and scenarios in SQLite.

Layers: `db` (connection, migrations, transactions), `repository` (the book and its edits),
`records` (history, scenarios), `imports` / `exports` (files), `commands` (the `db` CLI).
The store imports the engine (`workstation.core`), never Qt or the UI.
"""
