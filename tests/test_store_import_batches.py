"""Faster import paths write exactly what the row-at-a-time paths wrote, and keep every check.

The batched position writer (`book_write.insert_positions`, two prepared statements for all the
rows) is compared with the row-at-a-time writer it replaced (`insert_position` per row) on whole
table dumps; the CSV reader's one-strip-per-cell rows and the cached time parsers are compared
with the plain definitions they stand for.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.core import portfolio_fields
from workstation.core.errors import PortfolioError
from workstation.core.model import Position
from workstation.store import book_write, codec, from_csv, tabular
from workstation.store.db import open_db
from workstation.store.errors import ImportFileError
from workstation.store.imports import import_file

DATA = Path(__file__).parent / "data" / "store"
EXPIRY = "2027-03-26T08:00:00Z"


def _row_by_row(db, account_id: str, positions, first_seq: int = 0) -> None:
    """The writer before batching: one DELETE and one INSERT per position."""
    for seq, pos in enumerate(positions, first_seq):
        book_write.insert_position(db, account_id, pos, seq)


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (snapshot creation times blanked: they are the clock's)."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        out = {}
        for table in tables:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            rows = [tuple(None if c == "created_at" else v for c, v in zip(cols, r, strict=True))
                    for r in rows]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def _position(i: int) -> dict:
    """Perpetuals (some with leverage or a mark price: optional columns), futures, options."""
    u = ("BTC", "ETH", "SOL")[i % 3]
    price = {"BTC": 91000.0, "ETH": 3000.0, "SOL": 140.0}[u]
    q = ((i * 7) % 19) - 9 or 1
    kind = ("perpetual", "future", "option")[i % 3 if i % 5 else 0]
    pos: dict = {"id": f"p{i}", "kind": kind, "underlying": u, "settlement": "linear",
                 "quantity": q, "entry_price": round(price * (0.9 + (i % 7) * 0.03), 2)}
    if kind == "perpetual" and i % 4 == 1:
        pos["leverage"] = 5
    if kind == "perpetual" and i % 4 == 2:
        pos["mark_price"] = price * 1.001
    if kind in ("future", "option"):
        pos["expiry"] = EXPIRY
    if kind == "option":
        pos |= {"right": "call" if i % 2 else "put", "strike": round(price * (0.8 + (i % 9) * 0.05), 2),
                "vol": 0.6, "entry_price": round(price * 0.03, 2)}
    return pos


def _merge_file(tmp_path: Path, n: int) -> Path:
    """A portfolio file of the book's market with account `bulk` (n positions) and `main`
    replaced by a smaller one (for a merge)."""
    book = json.loads((DATA / "book.json").read_text())
    main = next(a for a in book["accounts"] if a["id"] == "main")
    main["positions"] = main["positions"][:1] + [_position(i) for i in range(n, n + 50)]
    bulk = {"id": "bulk", "margin_mode": "cross", "profile": "default",
            "collateral": {"USDT": 5e6}, "positions": [_position(i) for i in range(n)]}
    book["accounts"] = [main, bulk]
    book["pools"] = []
    path = tmp_path / "merge.json"
    path.write_text(json.dumps(book))
    return path


@pytest.mark.parametrize("options", [{"merge": True}, {"replace": True}])
def test_portfolio_import_of_5000_positions_writes_what_row_by_row_wrote(
    book_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict
) -> None:
    file = _merge_file(tmp_path, 5000)
    dumps = []
    for name, writer in (("batched", None), ("row-by-row", _row_by_row)):
        path = tmp_path / name / "book.db"
        path.parent.mkdir()
        shutil.copy(book_db_path, path)
        with monkeypatch.context() as patch:
            if writer is not None:
                patch.setattr(book_write, "insert_positions", writer)
            db = open_db(path)
            try:
                result = import_file(db, "portfolio", file, **options)
            finally:
                db.close()
        assert result.rows == 5000 + 51 + 3  # positions and collateral of the file's accounts
        dumps.append(_dump(path))
    batched, by_row = dumps
    assert len(batched["positions"]) == 5000 + 51 + 1 * ("merge" in options)  # iso kept on merge
    assert any(r is not None and r == 5 for row in batched["positions"] for r in row)  # leverage
    assert batched == by_row  # every table, the change counter included


def test_an_id_given_twice_is_written_row_by_row(db) -> None:
    """The later of two positions with one id replaces the earlier, as insert_position did."""
    first = Position("dup", "perpetual", "BTC", 1.0, 90000.0, leverage=3.0)
    second = Position("dup", "perpetual", "BTC", -2.0, 91000.0)
    other = Position("x", "perpetual", "ETH", 1.0, 3000.0)
    book_write.insert_positions(db, "main", [first, other, second], first_seq=10)
    got = db.conn.execute("SELECT id, seq, quantity, leverage FROM positions WHERE account_id = 'main' "
                          "AND id IN ('dup', 'x') ORDER BY seq").fetchall()
    assert got == [("x", 11, 1.0, None), ("dup", 12, -2.0, None)]


def test_no_positions_write_nothing(db) -> None:
    before = db.conn.execute("SELECT count(*), (SELECT counter FROM book_changes) FROM positions").fetchone()
    book_write.insert_positions(db, "main", [])
    assert db.conn.execute("SELECT count(*), (SELECT counter FROM book_changes) FROM positions").fetchone() == before


def test_batched_positions_replace_those_of_the_same_id_whole(db) -> None:
    """A position already stored under an id is replaced whole (its leverage cleared)."""
    book_write.insert_position(db, "main", Position("y", "perpetual", "BTC", 1.0, 90000.0,
                                                    leverage=4.0), 7)
    book_write.insert_positions(db, "main", [Position("y", "perpetual", "BTC", 2.0, 90500.0)], 3)
    assert db.conn.execute("SELECT seq, quantity, leverage FROM positions WHERE account_id = 'main' "
                           "AND id = 'y'").fetchall() == [(3, 2.0, None)]


# ---------------------------------------------------------------- the CSV reader's rows
_CELL = st.text(alphabet=st.sampled_from(list(" \t\u00a0\u2003ab1.-e#,\"")), max_size=6)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(_CELL, min_size=3, max_size=3))
def test_rows_hold_each_cell_stripped_once(tmp_path_factory, cells: list[str]) -> None:
    """`Row.get` is the stripped cell or None (empty / blank), as before the one-strip read;
    a row is skipped as blank exactly when no cell has text."""
    folder = tmp_path_factory.mktemp("rows")
    path = folder / "f.csv"
    quoted = ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    path.write_text("asset,price,vol\nBTC,1,0.5\n" + quoted + "\n", encoding="utf-8")
    rows = list(tabular.read_rows(path, from_csv.MARKET_COLUMNS, ("asset", "price")))
    blank = not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#")
    assert len(rows) == (1 if blank else 2)
    if not blank:
        row = rows[1]
        for column, cell in zip(("asset", "price", "vol"), cells, strict=True):
            assert row.get(column) == (cell.strip() or None)
            assert row.text(column) == (cell.strip() or None)


@pytest.mark.parametrize(("row", "field", "text"), [
    ("a, perpetual ,BTC,  ,90000,", "quantity", "a value is required"),
    ("f,future,BTC,1,90000, 2226-01-01 ", "expiry", "(got '2226-01-01')"),
])
def test_row_checks_name_the_cell_as_before(tmp_path: Path, row: str, field: str, text: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"id,kind,underlying,quantity,entry_price,expiry\n{row}\n")
    with pytest.raises(ImportFileError) as err:
        from_csv.positions_csv(path, "main", lambda _: None)
    assert (err.value.line, err.value.field) == (2, field)
    assert text in str(err.value)


# ---------------------------------------------------------------- cached time parsers
_TIME_TEXT = st.one_of(
    st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2210, 12, 31)).map(
        lambda t: t.isoformat()),
    st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2210, 12, 31)).map(
        lambda t: t.strftime("%Y-%m-%d")),
    st.sampled_from(["27MAR26", "1JAN27", " 2026-11-25T08:00:00Z ", "2026-13-01", "", "x",
                     "9999-12-31T23:59:59-01:00", "0226-03-27"]),
    st.text(max_size=12),
)


def _outcome(f, *args):
    try:
        return ("ok", f(*args))
    except (ValueError, PortfolioError) as err:
        return ("error", type(err).__name__, str(err))


def _reader_parse_time_uncached(value: str):
    return from_csv._parse_time.__wrapped__(value.strip())


@settings(max_examples=300, deadline=None)
@given(text=_TIME_TEXT)
def test_cached_time_parsers_answer_as_the_plain_ones(text: str) -> None:
    """Each cached parser gives what its uncached body gives, twice (from the cache too)."""
    for _ in range(2):
        assert _outcome(from_csv.parse_time, text) == _outcome(_reader_parse_time_uncached, text)
        cached = _outcome(portfolio_fields.parse_time, text, "p.expiry")
        t, problem = portfolio_fields._time.__wrapped__(text)
        assert cached == (("ok", t) if t is not None else
                          ("error", "PortfolioError", str(PortfolioError("p.expiry", problem, text))))


@settings(max_examples=200, deadline=None)
@given(t=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 30),
                      timezones=st.sampled_from([UTC, None])),
       shift=st.integers(-14, 14))
def test_cached_time_writers_answer_as_the_plain_ones(t: datetime, shift: int) -> None:
    from datetime import timezone

    other = t if t.tzinfo is None else t.astimezone(timezone(timedelta(hours=shift)))
    for value in (t, other):  # the same instant in two zones: one key, one text
        if value.tzinfo is not None:
            assert portfolio_fields.format_time(value) == portfolio_fields.format_time.__wrapped__(value)
        for fixed in (False, True):
            assert codec.iso(value, fixed=fixed) == codec.iso.__wrapped__(value, fixed=fixed)
        text = codec.iso(value)
        assert codec.parse_iso(text) == codec.parse_iso.__wrapped__(text)


def test_an_unknown_field_is_still_named_first_in_file_order() -> None:
    """The subset test before the per-key scan keeps the scan's first offending key."""
    d = {"id": "a", "zz": 1, "kind": "spot", "aa": 2}
    with pytest.raises(PortfolioError) as err:
        portfolio_fields.fields(d, "p", frozenset({"id", "kind"}), ("id",))
    assert err.value.path == "p.zz"
    with pytest.raises(PortfolioError) as err:
        portfolio_fields.fields({"id": "a"}, "p", frozenset({"id", "kind"}), ("id", "kind"))
    assert err.value.path == "p.kind"


# ---------------------------------------------------------------- leverage brackets at once
_PRICES = {"BTC": 91245.5, "ETH": 3018.4, "SOL": 139.82}


@st.composite
def _levered(draw) -> Position:
    und = draw(st.sampled_from(sorted(_PRICES)))
    kind = draw(st.sampled_from(["perpetual", "future"]))
    q = draw(st.floats(1e-6, 1e6, allow_nan=False)) * draw(st.sampled_from([1.0, -1.0]))
    expiry = datetime(2027, 3, 26, 8, tzinfo=UTC) if kind == "future" else None
    mark = draw(st.one_of(st.none(), st.floats(0.5, 1.5))) if kind == "perpetual" else None
    return Position(f"x{draw(st.integers(0, 10**6))}", kind, und, q, _PRICES[und],
                    settlement=draw(st.sampled_from(["linear", "inverse"])), expiry=expiry,
                    mark_price=None if mark is None else mark * _PRICES[und], leverage=2.0)


@settings(max_examples=60, deadline=None)
@given(positions=st.lists(_levered(), min_size=1, max_size=12),
       profile=st.sampled_from(["default", "binance-usdm", "bybit-rm"]))
def test_leverage_maxima_at_once_are_those_one_at_a_time(positions, profile) -> None:
    """`max_leverages` (one book for an account's leveraged positions) gives each position's
    `max_leverage` (a book of that position alone) to a couple of ulp: the bracket check that
    refuses a leverage above it answers the same."""
    from workstation.core.methods.per_position import max_leverage, max_leverages
    from workstation.core.profiles import shipped_profiles

    prof = shipped_profiles()[profile]
    together = max_leverages(prof, positions, _PRICES)
    for pos, top in zip(positions, together.tolist(), strict=True):
        alone = max_leverage(prof, pos, _PRICES[pos.underlying])
        assert math.isclose(top, alone, rel_tol=4e-16), (pos, top, alone)


def test_the_first_leverage_above_its_bracket_is_named(db) -> None:
    """Many leveraged positions checked at once still name the first one above its maximum."""
    from workstation.core.portfolio_io import loads_portfolio

    book = json.loads((DATA / "book.json").read_text())
    book["accounts"] = [{"id": "lev", "margin_mode": "cross", "collateral": {"USDT": 1e9},
                         "positions": [{"id": f"p{i}", "kind": "perpetual", "underlying": "BTC",
                                        "settlement": "linear", "quantity": 0.5 + i,
                                        "entry_price": 90000, "leverage": 150 if i in (7, 9) else 5}
                                       for i in range(12)]}]
    book["pools"] = []
    with pytest.raises(PortfolioError) as err:
        loads_portfolio(json.dumps(book))
    assert err.value.path == "accounts[0].positions[7].leverage"


def test_positions_read_by_column_number_are_those_read_by_name(book_db_path: Path, tmp_path: Path) -> None:
    """The whole-book check's reader (`positions_from_cursor`) gives `position_from_row` of
    each row, optional columns (leverage, marks, venue figures) included."""
    path = tmp_path / "book.db"
    shutil.copy(book_db_path, path)
    db = open_db(path)
    try:
        import_file(db, "portfolio", _merge_file(tmp_path, 300), merge=True)
        import_file(db, "ccxt-positions", DATA / "ccxt-positions.json", account="main", replace=True)
        cur = db.conn.execute("SELECT * FROM positions ORDER BY account_id, seq")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        by_name = [(r[names.index("account_id")], codec.position_from_row(dict(zip(names, r, strict=True))))
                   for r in rows]
        by_number = list(codec.positions_from_cursor(
            db.conn.execute("SELECT * FROM positions ORDER BY account_id, seq")))
    finally:
        db.close()
    assert len(by_number) == len(rows) > 300
    assert any(p.venue_figures is not None for _, p in by_number)
    assert any(p.leverage is not None for _, p in by_number)
    assert by_number == by_name
