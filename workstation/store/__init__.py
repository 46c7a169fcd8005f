"""Local store: the trader's book, market snapshots, history and scenarios in SQLite.

`db` (connection, migrations, `transaction`), `repository` (load / save / edit the book),
`records` (margin history, scenarios), `imports` with its readers `from_ccxt`, `from_csv`,
`symbols`, `tabular`, `locate`, `staging`; `exports`, `paths` (file location, first-run
seeding), `commands` (the `db` CLI). See docs/store.md. Never imports Qt or the UI.
"""
