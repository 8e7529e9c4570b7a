#!/usr/bin/env python3
"""Checks a loa airlog CSV export by itself, without loa and without its database.

    python3 verify-export.py EXPORT.csv [--key FINGERPRINT]

Python standard library only (Ed25519 verification is RFC 8032's, in pure Python below).
It checks what `loa airlog verify --export FILE` checks without a database:

- the integrity block carries a valid Ed25519 signature by the public key it names (give
  the district key's fingerprint with --key to pin it; otherwise compare the printed one
  with the district's);
- every row's fields hash to its row_hash (the canonical form of docs/en/reporting.md);
- the SHA-256 over the row hashes and the row count are the block's;
- each station's rows and chain rows link into one chain that reaches the head the
  district key signed as they aired.

Exit code 0: the export holds; 1: it was altered (one sentence says where); 2: the file is
not a loa airlog export.
"""

import csv
import datetime
import hashlib
import io
import json
import sys

FORMAT = "loa-airlog-export/2"
HEAD_FORMAT = "loa-airlog-head/1"
COLUMNS = [
    "station_code", "station_name", "slot_start", "bulletin_id", "title", "kind", "topic",
    "producer", "planned_start", "actual_start", "actual_end", "played_ms", "status",
    "reason", "sha256", "row_hash", "seq", "prev_hash", "source", "gain_db", "who",
    "link_seq", "reason_stored",
]
US = "\x1f"

# --- Ed25519 verification (RFC 8032, section 6) -------------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    e1 = (a[1] - a[0]) * (b[1] - b[0]) % P
    e2 = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    dd = 2 * a[2] * b[2] % P
    e, f, g, h = e2 - e1, dd - c, dd + c, e2 + e1
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public, message, signature):
    """Whether `signature` (64 bytes) is `public`'s (32 bytes) signature of `message`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


def hex_bytes(s):
    try:
        return bytes.fromhex(s)
    except ValueError:
        return b""


# --- Safe cells (loa's src/report/safe.rs, undone) -----------------------------------------


def unescape(s):
    """Undoes rule 1: `\\\\` is a backslash, `\\uXXXX` a control character."""
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
        elif s[i + 1:i + 2] == "\\":
            out.append("\\")
            i += 2
        elif s[i + 1:i + 2] == "u" and len(s) >= i + 6:
            out.append(chr(int(s[i + 2:i + 6], 16)))
            i += 6
        else:
            raise Altered("a cell holds a backslash sequence loa never writes")
    return "".join(out)


def from_csv_cell(s):
    """Undoes rule 2 (one leading quote), then rule 1."""
    return unescape(s[1:] if s.startswith("'") else s)


# --- The row hash (loa's src/airlog/chain.rs) ----------------------------------------------


class Altered(Exception):
    pass


class NotAnExport(Exception):
    pass


def genesis(station):
    return hashlib.sha256(("loa airlog genesis" + US + station).encode()).hexdigest()


def stored_instant(text, name):
    """An exported instant (RFC 3339 with offset) back to its stored form (UTC, µs, Z)."""
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Altered(f"{name} '{text}' is not an instant")
    if t.tzinfo is None:
        raise Altered(f"{name} '{text}' has no offset")
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def number(text, name):
    try:
        return str(int(text))
    except ValueError:
        raise Altered(f"{name} '{text}' is not a whole number")


def row_hashes(r):
    """The row's hash in the current form (gain exact) and the legacy one (2 decimals)."""
    gain = r["gain_db"]

    def h(g):
        fields = [
            r["seq"], r["station"], r["slot_start"], r["bulletin_id"] or "", r["sha256"] or "",
            r["planned_start"], r["actual_start"] or "", r["actual_end"] or "",
            r["played_ms"], r["status"], r["source"], r["reason"], g, r["who"],
            r["link_seq"] or "", r["prev_hash"],
        ]
        if r["level"] != "item":
            fields.append(r["level"])
        return hashlib.sha256(US.join(fields).encode()).hexdigest()

    exact = h(gain or "")
    legacy = h("%.2f" % float(gain)) if gain else exact
    return exact, legacy


def holds(r):
    return r["row_hash"] in row_hashes(r)


def record_of(f):
    """The stored fields of a detail row (texts already unescaped)."""
    if len(f) < len(COLUMNS):
        raise Altered(f"it has {len(f)} fields, not {len(COLUMNS)}")
    opt_time = lambda i, n: stored_instant(f[i], n) if f[i] else ""
    return {
        "seq": number(f[16], "seq"), "level": "item", "station": f[0],
        "slot_start": stored_instant(f[2], "slot_start"), "bulletin_id": f[3], "sha256": f[14],
        "planned_start": stored_instant(f[8], "planned_start"),
        "actual_start": opt_time(9, "actual_start"), "actual_end": opt_time(10, "actual_end"),
        "played_ms": number(f[11], "played_ms"), "status": f[12], "source": f[18],
        "reason": f[22], "gain_db": f[19], "who": f[20],
        "link_seq": number(f[21], "link_seq") if f[21] else "",
        "prev_hash": f[17], "row_hash": f[15],
    }


def chain_record(text):
    v = json.loads(text)
    r = {k: v[k] for k in v}
    for k in ("seq", "played_ms"):
        r[k] = str(int(r[k]))
    r["link_seq"] = "" if r["link_seq"] is None else str(int(r["link_seq"]))
    return r


# --- The check -----------------------------------------------------------------------------


def links(station, nodes, head, key):
    """One chain through the station's rows, reaching its signed head when it has one."""
    by_hash = {n[2]: i for i, n in enumerate(nodes)}
    nxt = {}
    for i, n in enumerate(nodes):
        if n[1] in nxt:
            raise Altered(f"station {station}: two rows (one is row {n[0]}) follow the same row: the chain forks")
        nxt[n[1]] = i
    if head is not None:
        seq, row_hash, signed_at, signature = head
        message = US.join([HEAD_FORMAT, station, seq, row_hash, signed_at]).encode()
        if not ed25519_verify(key, message, hex_bytes(signature)):
            raise Altered(f"station {station}: the signed head of row {seq} does not carry the district key's signature")
        start = by_hash.get(row_hash)
        if start is None or nodes[start][0] != seq:
            raise Altered(f"station {station}: row {seq} was signed by the district key as the chain's head with another hash than the export's: the history was rewritten before the export")
    else:
        firsts = [i for i, n in enumerate(nodes) if n[1] not in by_hash]
        if not nodes:
            return
        if len(firsts) != 1:
            seq = nodes[firsts[1]][0] if len(firsts) > 1 else "?"
            raise Altered(f"station {station}: row {seq} does not follow the row before it in the export")
        start = firsts[0]
    seen = [False] * len(nodes)
    at = start
    while at is not None and not seen[at]:
        seen[at] = True
        at = by_hash.get(nodes[at][1])
    at = nxt.get(nodes[start][2])
    while at is not None and not seen[at]:
        seen[at] = True
        at = nxt.get(nodes[at][2])
    for i, s in enumerate(seen):
        if not s:
            raise Altered(f"station {station}: row {nodes[i][0]} does not link into the station's chain in the export")


def check(path, expected=None):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        raise NotAnExport("it does not start with the UTF-8 byte-order mark")
    reader = csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""))
    if next(reader, None) != COLUMNS:
        raise NotAnExport("its header is not the airlog export's columns")
    rows, pairs = [], []
    for line, rec in enumerate(reader, start=2):
        if rec and rec[0] == "#integrity":
            pairs.append((from_csv_cell(rec[1]), from_csv_cell(rec[2])))
        elif rec and rec != [""]:
            rows.append((line, [from_csv_cell(c) for c in rec]))
    block = dict(pairs)
    if block.get("format") != FORMAT:
        raise NotAnExport(f"its integrity block is not {FORMAT}")
    key = hex_bytes(block.get("public_key", ""))
    message = FORMAT + " integrity\n" + "".join(k + US + v + "\n" for k, v in pairs if k != "signature")
    if not ed25519_verify(key, message.encode(), hex_bytes(block.get("signature", ""))):
        raise Altered("the integrity block's signature does not hold: the block was edited after the export")
    fingerprint = hashlib.sha256(key).hexdigest()
    if expected and expected != fingerprint:
        raise Altered(f"the export is signed by key {fingerprint} but the district's key is {expected}")
    stations = block.get("stations", "").split()
    nodes = {}
    for k, v in pairs:
        if k == "chain_row":
            r = chain_record(v)
            if not holds(r):
                raise Altered(f"a chain row of the integrity block does not match its hash: {v}")
            nodes.setdefault(r["station"], []).append((r["seq"], r["prev_hash"], r["row_hash"]))
    digest, order = hashlib.sha256(), []
    for n, (line, f) in enumerate(rows, start=1):
        r = record_of(f)
        if not holds(r):
            raise Altered(f"row {n} of the export (line {line}, station {r['station']}, seq {r['seq']}): its fields do not match its row hash (a cell was edited)")
        if r["station"] not in stations:
            raise Altered(f"row {n} of the export (line {line}): station {r['station']} is not in the integrity block")
        if order and order[-1] != r["station"] and r["station"] in order:
            raise Altered(f"row {n} of the export (line {line}): the rows of station {r['station']} are not together")
        if not order or order[-1] != r["station"]:
            order.append(r["station"])
        digest.update((r["row_hash"] + "\n").encode())
        nodes.setdefault(r["station"], []).append((r["seq"], r["prev_hash"], r["row_hash"]))
    heads = {k.split(" ", 1)[1]: v.split(" ") for k, v in pairs if k.startswith("signed_head ")}
    signed = 0
    for station, ns in nodes.items():
        head = heads.get(station)
        if head is not None and len(head) != 4:
            raise NotAnExport(f"signed_head {station} is not 'seq hash instant signature'")
        links(station, ns, head, key)
        signed += head is not None
    sha = digest.hexdigest()
    if sha != block.get("sha256") or str(len(rows)) != block.get("rows"):
        raise Altered(f"the export holds {len(rows)} row(s) with SHA-256 {sha}, but its integrity block says {block.get('rows')} row(s) with SHA-256 {block.get('sha256')}")
    return len(rows), len(nodes), signed, fingerprint, sha


def main(argv):
    args = argv[1:]
    expected = None
    if "--key" in args:
        i = args.index("--key")
        expected = args[i + 1] if i + 1 < len(args) else ""
        del args[i:i + 2]
    if len(args) != 1:
        print("usage: verify-export.py EXPORT.csv [--key FINGERPRINT]", file=sys.stderr)
        return 2
    try:
        rows, stations, signed, fingerprint, sha = check(args[0], expected)
    except NotAnExport as e:
        print(f"{args[0]} is not a loa airlog export: {e}", file=sys.stderr)
        return 2
    except (Altered, ValueError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as e:
        print(f"{args[0]}: export altered: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{args[0]}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"{args[0]}: export unaltered: {rows} row(s) at {stations} station(s), {signed} reaching a head signed as they aired, SHA-256 {sha}, signed by key {fingerprint}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
