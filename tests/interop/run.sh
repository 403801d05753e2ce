#!/bin/sh
# SPDX-License-Identifier: MIT
# One interoperability scenario between Flask-SQLAlchemy and alchemy on one SQLite file.
# Registered by tests/interop/CMakeLists.txt; see docs/interop.md.
#
# Usage: run.sh SCENARIO PYTHON SQLITE3 INTEROP_EXE SCRATCH_DIR
#   flask-to-alchemy   Flask creates and writes `everything`; alchemy reads and checks
#   alchemy-to-flask   alchemy creates and writes `everything`; Flask reads and checks; the rows
#                      are byte for byte the rows Flask writes for the same values
#   ddl                sqlite_master after create_all: the same for `accounts`, and for
#                      `everything` the one documented difference (Float: FLOAT vs DOUBLE)
#   tutorial           the tutorial's operations through both: the same transcript, schema
#                      and rows (secret_key is random: only its length and type are compared)
#
# Exit 0 pass, 1 fail, 77 skip (Flask-SQLAlchemy or sqlite3 missing, and
# ALCHEMY_TEST_REQUIRE_SERVERS not set; when it is set, as under CI, they fail instead).
set -eu

scenario="$1" python="$2" sqlite="$3" exe="$4" scratch="$5"
here="$(cd "$(dirname "$0")" && pwd)"
flask="$here/flask_side.py"

missing() {
  if [ -n "${ALCHEMY_TEST_REQUIRE_SERVERS:-}" ]; then
    echo "interop: FAIL: $1 (ALCHEMY_TEST_REQUIRE_SERVERS is set, so this is not skipped)"
    exit 1
  fi
  echo "interop: SKIPPED: $1"
  exit 77
}
if ! err="$("$python" -c 'import flask_sqlalchemy' 2>&1)"; then
  missing "$python cannot import flask_sqlalchemy — install Debian's python3-flask-sqlalchemy (scripts/install-deps.sh); python said: $(printf '%s' "$err" | tail -n 1)"
fi
command -v "$sqlite" >/dev/null 2>&1 || missing "no sqlite3 command-line shell ('$sqlite'); install the sqlite3 package"

rm -rf "$scratch"
mkdir -p "$scratch"
cd "$scratch"

fail() { echo "interop: FAIL: $*"; exit 1; }

# same WHAT FILE1 FILE2: the two files are identical, or fail showing the difference.
same() {
  if ! diff -u "$2" "$3"; then fail "$1 differ ($2 vs $3)"; fi
  echo "interop: same $1"
}

# Every row of `everything` with the type and exact text of each value (quote() shows reals to
# 17 significant digits and blobs as X'..').
dump_everything() {
  "$sqlite" -batch "$1" "SELECT id, quote(name), quote(nickname), typeof(active), active,
      typeof(score), quote(score), typeof(created), quote(created), typeof(born), quote(born),
      typeof(data), quote(data), typeof(notes), quote(notes) FROM everything ORDER BY id"
}

case "$scenario" in
  flask-to-alchemy)
    "$python" "$flask" write shared.db
    "$python" "$flask" check shared.db   # pins how Flask itself stores each value
    "$exe" read shared.db
    ;;
  alchemy-to-flask)
    "$exe" write shared.db
    "$python" "$flask" check shared.db
    "$python" "$flask" write flask.db
    dump_everything shared.db >alchemy-rows.txt
    dump_everything flask.db >flask-rows.txt
    same "stored rows (alchemy's vs Flask's)" flask-rows.txt alchemy-rows.txt
    ;;
  ddl)
    "$python" "$flask" ddl flask.db
    "$exe" ddl alchemy.db
    for db in flask alchemy; do
      "$sqlite" -batch "$db.db" "SELECT type, name, tbl_name, sql FROM sqlite_master
          WHERE tbl_name = 'accounts' ORDER BY name" >"$db-accounts.sql"
      "$sqlite" -batch "$db.db" "SELECT type, name, tbl_name, sql FROM sqlite_master
          WHERE tbl_name = 'everything' ORDER BY name" >"$db-everything.sql"
    done
    same "accounts DDL" flask-accounts.sql alchemy-accounts.sql
    # The documented difference (docs/interop.md): SQLAlchemy's Float is FLOAT, alchemy's
    # double is DOUBLE. Both have REAL affinity in SQLite; the stored values are the same.
    grep -q '^	score FLOAT, $' flask-everything.sql || fail "Flask's everything.score is not 'FLOAT'"
    grep -q '^	score DOUBLE, $' alchemy-everything.sql || fail "alchemy's everything.score is not 'DOUBLE'"
    sed 's/^	score DOUBLE, $/	score FLOAT, /' alchemy-everything.sql >alchemy-everything-float.sql
    same "everything DDL (but for FLOAT/DOUBLE)" flask-everything.sql alchemy-everything-float.sql
    cat alchemy-accounts.sql alchemy-everything.sql
    ;;
  tutorial)
    "$python" "$flask" tutorial flask.db >flask-transcript.txt
    "$exe" tutorial alchemy.db >alchemy-transcript.txt
    cat alchemy-transcript.txt
    same "tutorial transcript" flask-transcript.txt alchemy-transcript.txt
    for db in flask alchemy; do
      "$sqlite" -batch "$db.db" ".schema accounts" >"$db-schema.sql"
      "$sqlite" -batch "$db.db" "SELECT id, handle, typeof(secret_key), length(secret_key)
          FROM accounts ORDER BY id" >"$db-rows.txt"
    done
    same "accounts schema" flask-schema.sql alchemy-schema.sql
    same "accounts rows (secret_key by type and length)" flask-rows.txt alchemy-rows.txt
    [ -s alchemy-rows.txt ] || fail "no rows left to compare"
    ;;
  *)
    echo "run.sh: unknown scenario '$scenario'" >&2
    exit 2
    ;;
esac
echo "interop: $scenario passed"
