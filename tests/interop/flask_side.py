# SPDX-License-Identifier: MIT
"""The Flask-SQLAlchemy half of the interoperability tests (the C++ half is interop.cpp).

Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy):

    flask_side.py write    DB   Flask creates `everything` and writes the reference rows
    flask_side.py check    DB   Flask reads `everything` and checks every value exactly, and
                                the stored form of each (typeof + text) byte for byte
    flask_side.py ddl      DB   db.create_all() for `accounts` and `everything`, nothing else
    flask_side.py tutorial DB   the tutorial's operations; prints a transcript

The reference rows below are written independently in interop.cpp: any change here must be
made there too. Exit status 0 when every check passed; 1 with one line per mismatch.
"""
import datetime
import math
import os
import secrets
import sys

# Account.query.get() is the tutorial's (legacy) API: no SQLAlchemy 2.0 migration banner.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import and_, not_, or_, text

app = Flask(__name__)
db = SQLAlchemy()


class Account(db.Model):
    """The tutorial's model (examples/tutorial.cpp)."""
    __tablename__ = "accounts"
    id = db.Column(db.Integer, primary_key=True)
    handle = db.Column(db.String(50), unique=True, nullable=False)
    secret_key = db.Column(db.String(128))

    def __init__(self, handle, secret):
        self.handle = handle
        self.secret_key = secrets.token_hex(16)  # the tutorial ignores `secret`, as in C++

    def __repr__(self):
        return f"<Account {self.handle}>"


class Everything(db.Model):
    """Every common column type once."""
    __tablename__ = "everything"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), unique=True, nullable=False)
    nickname = db.Column(db.String(80))
    active = db.Column(db.Boolean, nullable=False)
    score = db.Column(db.Float)
    created = db.Column(db.DateTime)
    born = db.Column(db.Date)
    data = db.Column(db.LargeBinary)
    notes = db.Column(db.Text)


COLUMNS = ["id", "name", "nickname", "active", "score", "created", "born", "data", "notes"]

# The reference rows: NULLs, Unicode (2-, 3- and 4-byte UTF-8), quotes, NUL bytes in a blob,
# an empty blob and an empty string (not NULL), microsecond timestamps at both ends of a
# second, dates before 1970 and in year 1, a key above 2**32, doubles that are not exact in
# binary.
ROWS = [
    dict(id=1, name="alice", nickname=None, active=True, score=0.1,
         created=datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
         born=datetime.date(2000, 2, 29),
         data=b"\x00\x01\x02\xff\x00tail\x00",
         notes="Ünïcødé ✓ 日本語 🎉\nsecond line\ttab"),
    dict(id=2, name="Ωmega ☃ 🐍", nickname="bob 'single' \"double\"", active=False,
         score=-1.5e300,
         created=datetime.datetime(1970, 1, 1, 0, 0, 0, 1),
         born=datetime.date(1969, 12, 31),
         data=b"",
         notes=""),
    dict(id=3, name="nulls", nickname=None, active=True, score=None, created=None, born=None,
         data=None, notes=None),
    dict(id=2**40, name="big key", nickname="x" * 80, active=False, score=1.0 / 3.0,
         created=datetime.datetime(9999, 12, 31, 23, 59, 59, 0),
         born=datetime.date(1, 1, 1),
         data=bytes(range(256)),
         notes="€"),
]

# How SQLAlchemy stores each value on SQLite: (typeof(column), the text SQLite prints for it).
# Dates and timestamps are text, always with six fraction digits; booleans are integers 0/1.
STORED = {
    1: dict(active=("integer", "1"), score=("real", None),
            created=("text", "2024-02-29 23:59:59.999999"), born=("text", "2000-02-29"),
            data=("blob", None), nickname=("null", None), notes=("text", None)),
    2: dict(active=("integer", "0"), score=("real", None),
            created=("text", "1970-01-01 00:00:00.000001"), born=("text", "1969-12-31"),
            data=("blob", None), nickname=("text", None), notes=("text", None)),
    3: dict(active=("integer", "1"), score=("null", None), created=("null", None),
            born=("null", None), data=("null", None), nickname=("null", None),
            notes=("null", None)),
    2**40: dict(active=("integer", "0"), score=("real", None),
                created=("text", "9999-12-31 23:59:59.000000"), born=("text", "0001-01-01"),
                data=("blob", None), nickname=("text", None), notes=("text", None)),
}

failures = []


def expect(what, got, want):
    # type() as well as ==: True == 1 and 1.0 == 1 in Python, but a bool must come back a bool.
    if type(got) is not type(want) or got != want:
        failures.append(f"{what}: got {got!r} ({type(got).__name__}), "
                        f"want {want!r} ({type(want).__name__})")


def cmd_write():
    db.create_all()
    db.session.add_all([Everything(**row) for row in ROWS])
    db.session.commit()
    print(f"flask: wrote {len(ROWS)} rows to everything")


def cmd_check():
    got = Everything.query.order_by(Everything.id).all()
    expect("row count", len(got), len(ROWS))
    for obj, row in zip(got, ROWS):
        for col in COLUMNS:
            expect(f"row {row['id']} {col}", getattr(obj, col), row[col])
        if row["score"] is not None:  # == on doubles is exact, but say it: every bit
            expect(f"row {row['id']} score bits", math.copysign(1, obj.score).hex() +
                   obj.score.hex(), math.copysign(1, row["score"]).hex() + row["score"].hex())
    # The stored form, read past SQLAlchemy's type processing.
    for key, cols in STORED.items():
        for col, (kind, value) in cols.items():
            t, v = db.session.execute(text(
                f"SELECT typeof({col}), CASE typeof({col}) WHEN 'blob' THEN NULL "
                f"ELSE CAST({col} AS TEXT) END FROM everything WHERE id = :id"), {"id": key}).one()
            expect(f"row {key} typeof({col})", t, kind)
            if value is not None:
                expect(f"row {key} stored {col}", v, value)
    for row in ROWS:  # strings as UTF-8 bytes, blobs as the bytes themselves
        for col in ("name", "nickname", "notes", "data"):
            if row[col] is None:
                continue
            raw = row[col] if isinstance(row[col], bytes) else row[col].encode("utf-8")
            stored = db.session.execute(
                text(f"SELECT hex({col}) FROM everything WHERE id = :id"), {"id": row["id"]}).scalar()
            expect(f"row {row['id']} hex({col})", stored, raw.hex().upper())
    print(f"flask: checked {len(got)} rows, {len(COLUMNS)} columns each, and their stored form")


def cmd_ddl():
    db.create_all()
    print("flask: create_all done")


def listing(rows):
    return "[" + ", ".join(repr(r) for r in rows) + "]"


def cmd_tutorial():
    # The transcript lines are compared with interop.cpp's: keep the two in step. (create_all
    # makes `everything` too; only `accounts` is compared.)
    db.create_all()
    new_user = Account("jdoe", "supersecret")
    db.session.add(new_user)
    db.session.commit()
    print(f"new_user.id = {new_user.id}")
    user = Account.query.get(1)
    print(f"get(1) -> {user!r} (same object: {user is new_user})")
    user = Account.query.filter_by(handle="jdoe").first()
    print(f"filter_by(handle='jdoe').first() -> {user!r}")
    print("like('%doe%') -> " + listing(Account.query.filter(Account.handle.like("%doe%")).all()))
    print("or_ -> " + listing(Account.query.filter(
        or_(Account.handle == "alice", Account.handle == "bob")).all()))
    print("and_ -> " + listing(Account.query.filter(
        and_(Account.handle != "admin", Account.id > 10)).all()))
    print("not_ -> " + listing(Account.query.filter(not_(Account.handle == "admin")).all()))

    db.session.add_all([Account("alice", "a"), Account("bob", "b"), Account("carol", "c")])
    db.session.commit()
    target = Account.query.filter_by(handle="jdoe").first()
    target.handle = "jane_doe"
    db.session.commit()
    bob = Account.query.filter_by(handle="bob").first()
    db.session.delete(bob)
    db.session.commit()
    n = Account.query.filter(Account.id > 3).update({"secret_key": None})
    db.session.commit()
    print(f"bulk update matched {n}")
    db.session.add(Account("bob", "b2"))
    db.session.commit()
    print("final -> " + listing(Account.query.order_by(Account.id).all()))
    print(f"count = {Account.query.count()}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check", "ddl", "tutorial"):
        sys.exit("usage: flask_side.py write|check|ddl|tutorial DB")
    path = os.path.abspath(sys.argv[2])
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + path
    db.init_app(app)
    with app.app_context():
        globals()["cmd_" + sys.argv[1]]()
    for f in failures:
        print("MISMATCH " + f)
    if failures:
        print(f"flask: {len(failures)} mismatches")
        sys.exit(1)


if __name__ == "__main__":
    main()
