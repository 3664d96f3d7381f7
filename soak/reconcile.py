"""Reconciliation: the ledger of what clients were told against what the database holds.

Each check is a row of the closing table; the run passes only if every row does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Engine, text

from guarantee.statistics.disclosure import SUPPRESSED
from guarantee.statistics.releases import possible
from workflows import INITIAL_STATE, TRANSITIONS_BY_TRIGGER

REFUSED = (403, 409, 422)


@dataclass
class Check:
    name: str
    ok: bool
    figure: str
    details: list[str] = field(default_factory=list)


def read_ledger(path: Path) -> list[dict[str, Any]]:
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Ledger:
    entries: list[dict[str, Any]]

    def final(self, op: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e.get("op") == op and e.get("final")]

    def acknowledged(self) -> list[dict[str, Any]]:
        """Every submission a client was told succeeded (201), with its reference."""
        return [e for e in self.entries if e.get("op") == "submit" and e.get("status") == 201 and e.get("reference")]


# --- the checks -----------------------------------------------------------------------


def nothing_lost(ledger: Ledger, engine: Engine, run_id: str) -> tuple[Check, dict[str, Any]]:
    """Every acknowledged submission is in the database, once, as the claim the client filed,
    with its `submitted` event first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.id, c.reference, c.initiative_title, e.action, e.to_state FROM claims c "
                "LEFT JOIN audit_events e ON e.claim_id = c.id AND e.seq = 1 WHERE c.initiative_title LIKE :p"
            ),
            {"p": f"Soak {run_id}-%"},
        ).all()
    by_reference = {r.reference: r for r in rows}
    problems = []
    acknowledged = ledger.acknowledged()
    for entry in acknowledged:
        row = by_reference.get(entry["reference"])
        if row is None:
            problems.append(
                f"{entry['reference']} (sid {entry['sid']}, key {entry['key']}) was acknowledged but is not in the database"
            )
        elif row.initiative_title != f"Soak {entry['sid']}":
            problems.append(
                f"{entry['reference']} was acknowledged for {entry['sid']} but holds {row.initiative_title!r}"
            )
        elif row.action != "submitted" or row.to_state != INITIAL_STATE:
            problems.append(f"{entry['reference']} has no `submitted` event at seq 1")
    lost = {p.split(" ", 1)[0] for p in problems}
    sids = {e["sid"] for e in acknowledged}
    unacknowledged = [r for r in rows if r.initiative_title.removeprefix("Soak ") not in sids]
    figures = {
        "acknowledged": len({e["reference"] for e in acknowledged}),
        "claims_in_database": len(rows),
        "committed_but_never_acknowledged": len(unacknowledged),
        "lost": len(lost),
    }
    check = Check(
        "Zero lost: every 201 is in the database with its `submitted` event",
        not problems,
        f"{figures['acknowledged']} acknowledged, {len(lost)} lost",
        problems[:20],
    )
    return check, figures


def no_duplicates(ledger: Ledger, engine: Engine, run_id: str) -> tuple[Check, int]:
    """At most one claim per idempotency key (the ledger) and per filing (the database)."""
    per_key: dict[str, set[str]] = defaultdict(set)
    for entry in ledger.acknowledged():
        per_key[entry["key"]].add(entry["reference"])
    problems = [f"key {k} answered with {sorted(refs)}" for k, refs in per_key.items() if len(refs) > 1]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT initiative_title, count(*) AS n, min(reference) AS first, max(reference) AS last "
                "FROM claims WHERE initiative_title LIKE :p GROUP BY initiative_title HAVING count(*) > 1"
            ),
            {"p": f"Soak {run_id}-%"},
        ).all()
    problems += [f"{r.initiative_title!r} was filed {r.n} times ({r.first} … {r.last})" for r in rows]
    extra = sum(len(refs) - 1 for refs in per_key.values() if len(refs) > 1) + sum(r.n - 1 for r in rows)
    check = Check(
        "Zero duplicates: one claim per idempotency key and per filing",
        not problems,
        f"{len(per_key)} keys, {extra} duplicates",
        problems[:20],
    )
    return check, extra


def tracking_links(ledger: Ledger, base: str, workers: int = 6) -> Check:
    """Every acknowledged claim's tracking link: 303 to the page without the token, then 200."""
    links = {e["reference"]: e["tracking_url"] for e in ledger.acknowledged() if e.get("tracking_url")}

    def open_link(item: tuple[str, str]) -> str | None:
        reference, url = item
        link = urlsplit(url)
        browser = requests.Session()
        try:
            first = browser.get(f"{base}{link.path}?{link.query}", allow_redirects=False, timeout=30)
            if first.status_code != 303 or urlsplit(first.headers.get("Location", "")).path != f"/track/{reference}":
                return f"{reference}: the link answered {first.status_code}"
            page = browser.get(f"{base}/track/{reference}", allow_redirects=False, timeout=30)
            if page.status_code != 200 or reference not in page.text:
                return f"{reference}: the page answered {page.status_code}"
        except requests.RequestException as exc:
            return f"{reference}: {type(exc).__name__}"
        return None

    with ThreadPoolExecutor(workers) as pool:
        problems = [p for p in pool.map(open_link, sorted(links.items())) if p]
    return Check(
        "Every acknowledged claim's tracking link: 303, then the page 200",
        not problems,
        f"{len(links) - len(problems)} of {len(links)} work",
        problems[:20],
    )


def audit_verified(results: list[tuple[str, int, str]]) -> Check:
    """`flask guarantee audit verify --checkpoint` against each checkpoint taken during the run."""
    problems = [f"{name}: exit {code}: {out.strip()[-400:]}" for name, code, out in results if code != 0]
    passed = [out.strip().splitlines()[-1] for _, code, out in results if code == 0 and out.strip()]
    return Check(
        "`audit verify` passes and matches every checkpoint taken during the run",
        bool(results) and not problems,
        f"{len(results) - len(problems)} of {len(results)} checkpoints" + (f"; {passed[-1]}" if passed else ""),
        problems,
    )


def states_replay(engine: Engine) -> tuple[Check, int]:
    """Every claim's state is where its events' from_state/to_state chain leads (replayed here,
    independently of the service's own verify)."""
    problems = []
    with engine.connect() as conn:
        states: dict[int, str] = dict(conn.execute(text("SELECT id, state FROM claims")).all())
        references: dict[int, str] = dict(conn.execute(text("SELECT id, reference FROM claims")).all())
        events = conn.execute(
            text("SELECT claim_id, seq, action, from_state, to_state FROM audit_events ORDER BY claim_id, seq")
        ).all()
    replayed: dict[int, str | None] = {}
    seqs: dict[int, int] = {}
    for event in events:
        state = replayed.get(event.claim_id)
        if event.seq != seqs.get(event.claim_id, 0) + 1:
            problems.append(f"{references[event.claim_id]}: event {event.seq} out of sequence")
        seqs[event.claim_id] = event.seq
        if event.to_state is None:
            continue
        if state is None:
            ok = event.action == "submitted" and event.to_state == INITIAL_STATE
        else:
            transition = TRANSITIONS_BY_TRIGGER.get(event.action)
            ok = (
                transition is not None
                and event.from_state == state
                and state in transition.sources
                and transition.dest == event.to_state
            )
        if not ok:
            problems.append(
                f"{references[event.claim_id]}: event {event.seq} {event.action} {event.from_state}->{event.to_state} from {state}"
            )
        replayed[event.claim_id] = event.to_state
    for claim_id, state in states.items():
        if replayed.get(claim_id) != state:
            problems.append(f"{references[claim_id]} is {state} but its events lead to {replayed.get(claim_id)}")
    return (
        Check(
            "Every claim's state is the replay of its audit events",
            not problems,
            f"{len(states)} claims, {len(events)} events",
            problems[:20],
        ),
        len(states),
    )


def _events_by(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.reference, e.seq, e.action, e.actor_type, e.actor_id, e.from_state, e.to_state "
                "FROM audit_events e JOIN claims c ON c.id = e.claim_id WHERE e.to_state IS NOT NULL"
            )
        ).all()
    found: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        found[row.reference].append(row)
    return found


def _actor_matches(row: Any, actor: str) -> bool:
    if actor == "group":
        return bool(row.actor_type == "group")
    return bool(row.actor_type == "officer" and f"officer:{row.actor_id}" == actor)


def transitions(ledger: Ledger, engine: Engine) -> list[Check]:
    """Refusals changed nothing; successes are in the database; at most one success per
    (claim, version) anywhere, hot claims included."""
    events = _events_by(engine)
    fired = ledger.final("transition")
    successes = [e for e in fired if e.get("status") == 200]
    refused = [e for e in fired if e.get("status") in REFUSED]
    # A success is the event its key made: dedupe replays of one key.
    by_key = {e["key"]: e for e in successes}
    explained = Counter((e["reference"], e["trigger"], e["actor"], e["state_seen"]) for e in by_key.values())
    changed = []
    for entry in refused:
        same = [
            r
            for r in events.get(entry["reference"], [])
            if r.action == entry["trigger"]
            and r.from_state == entry["state_seen"]
            and _actor_matches(r, entry["actor"])
        ]
        if len(same) > explained[(entry["reference"], entry["trigger"], entry["actor"], entry["state_seen"])]:
            changed.append(
                f"{entry['reference']}: refused {entry['trigger']} ({entry['status']}) by {entry['actor']} is in the audit trail"
            )
    illegal = [e for e in refused if not e.get("legal")]
    refusal = Check(
        "Refused transitions (403/409/422) changed nothing",
        not changed,
        f"{len(refused)} refused ({len(illegal)} deliberately illegal), {len(changed)} applied",
        changed[:20],
    )
    per_version: dict[tuple[str, int], set[str]] = defaultdict(set)
    for entry in by_key.values():
        per_version[(entry["reference"], entry["if_match"])].add(entry["key"])
    twice = [f"{ref} v{v}: {len(keys)} successes" for (ref, v), keys in per_version.items() if len(keys) > 1]
    hot = [e for e in by_key.values() if e.get("hot")]
    hot_fired = [e for e in fired if e.get("hot")]
    lost = []
    for entry in by_key.values():
        matching = [
            r
            for r in events.get(entry["reference"], [])
            if r.action == entry["trigger"]
            and r.to_state == entry.get("state_after")
            and _actor_matches(r, entry["actor"])
        ]
        if not matching:
            lost.append(f"{entry['reference']}: {entry['trigger']} answered 200 but is not in the audit trail")
    races = Counter(e.get("status") for e in hot_fired)
    once = Check(
        "At most one successful transition per claim and version (hot claims raced)",
        not twice,
        f"{len(hot)} hot wins of {len(hot_fired)} hot attempts ({_statuses(races)}); {len(by_key)} successes in all",
        twice[:20],
    )
    kept = Check(
        "Every successful transition is in the audit trail",
        not lost,
        f"{len(by_key) - len(lost)} of {len(by_key)}",
        lost[:20],
    )
    return [refusal, once, kept]


def evidence(ledger: Ledger, engine: Engine, store: Path, started: float) -> tuple[Check, dict[str, Any]]:
    """Every 201 upload is an attachment of its claim, and its file is in the store, intact."""
    uploads = [e for e in ledger.final("evidence") if e.get("status") == 201]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.reference, a.sha256, a.size, a.stored_name FROM attachments a JOIN claims c ON c.id = a.claim_id"
            )
        ).all()
    by_claim: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_claim[row.reference].append(row)
    problems = []
    for entry in uploads:
        if not any(r.sha256 == entry["sha256"] for r in by_claim.get(entry["reference"], [])):
            problems.append(f"{entry['reference']}: evidence {entry['sha256'][:12]} answered 201 but is not attached")
    damaged = 0
    for row in rows:
        path = store / row.stored_name[:2] / row.stored_name
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
            damaged += 1
            problems.append(f"{row.reference}: the file of evidence {row.sha256[:12]} is missing or damaged")
    referenced = {r.stored_name for r in rows}
    orphaned = sorted(p.stat().st_mtime for p in store.glob("*/*") if p.name not in referenced)
    orphans = len(orphaned)
    twice = sum(n - 1 for n in Counter((r.reference, r.sha256) for r in rows).values() if n > 1)
    if twice:  # each upload carries an Idempotency-Key, kept across its retries
        problems.append(f"{twice} upload(s) stored more than once: a retry with the same key added a second copy")
    figures = {
        "uploads_acknowledged": len(uploads),
        "attachments": len(rows),
        "orphan_files": orphans,
        "orphans_written_at_s": [round(t - started, 1) for t in orphaned],
        "stored_twice": twice,
    }
    return (
        Check(
            "Every 201 upload is attached once, and every attachment's file is intact",
            not problems,
            f"{len(uploads)} acknowledged, {len(rows)} attachments, {damaged} damaged; "
            f"{orphans} unreferenced files, {twice} stored twice by retries",
            problems[:20],
        ),
        figures,
    )


def statistics(document: dict[str, Any], engine: Engine, period: tuple[str, str]) -> Check:
    """The release published after the run against plain SQL counts of the same claims: every
    number shown is the true count rounded as the rules say, and every hidden one is small or
    hidden to protect another."""
    rules = document["rules"]
    start, end = period
    columns = {"category": "coalesce(category, barrier_category)", "region": "region", "sector": "sector"}
    tables = {t["id"]: t for t in document["tables"]}
    problems, compared, hidden = [], 0, 0
    with engine.connect() as conn:
        # The release counts claims by their UK submission date; the run is well inside its period.
        total = conn.execute(text("SELECT count(*) FROM claims")).scalar_one()
        for dimension, column in columns.items():
            table = next(t for t in tables.values() if t.get("kind") == "counts" and t.get("dimension") == dimension)
            counts: dict[str, int] = dict(conn.execute(text(f"SELECT {column}, count(*) FROM claims GROUP BY 1")).all())  # noqa: S608
            cells = [(row["key"], row["count"]) for row in table["rows"]] + [("total", table["total"])]
            for key, published in cells:
                true = total if key == "total" else counts.get(key, 0)
                if published == SUPPRESSED:
                    hidden += 1
                    continue
                compared += 1
                low, high = possible(published, rules)
                if not low <= true <= high:
                    problems.append(f"{table['id']} {key}: published {published}, the database has {true}")
            unknown = set(counts) - {row["key"] for row in table["rows"]}
            if unknown:
                problems.append(f"{table['id']}: the database has {sorted(unknown)} that the release does not list")
    return Check(
        "Statistics equal the database (a release published after the run)",
        not problems,
        f"release {document['release']} ({start} to {end}): {compared} numbers match, {hidden} hidden; {total} claims",
        problems[:20],
    )


_TOKEN_SHAPED = re.compile(r"[A-Za-z0-9_\-]{20,}")


def logs_clean(files: Iterable[Path], markers: list[str], secrets: set[str]) -> Check:
    """No planted marker (personal data the groups sent) and no token or password in any log."""
    lengths = sorted({len(s) for s in secrets})
    problems = []
    scanned = 0
    for path in files:
        if not path.exists():
            continue
        data = path.read_text(errors="replace")
        scanned += len(data)
        for marker in markers:
            if marker in data:
                problems.append(f"{path.name}: contains the planted marker {marker!r} ({data.count(marker)} times)")
        found = 0
        for match in _TOKEN_SHAPED.finditer(data):
            word = match.group()
            for size in lengths:
                if any(word[i : i + size] in secrets for i in range(len(word) - size + 1)):
                    found += 1
                    break
        if found:
            problems.append(f"{path.name}: {found} tokens or passwords")
    return Check(
        "No planted marker, token or password in any log",
        not problems,
        f"{scanned / 2**20:.1f} MiB of logs, {len(markers)} markers and {len(secrets)} secrets looked for",
        problems,
    )


def no_server_errors(ledger: Ledger) -> Check:
    """No answer is a 500: a database or storage outage is a 503 the client can retry."""
    errors = Counter((e.get("op"), e.get("status")) for e in ledger.entries if e.get("status") == 500)
    details = [f"{op}: {n} x 500" for (op, _), n in errors.most_common()]
    return Check("No 500 answers (an outage is a 503 to retry)", not errors, f"{sum(errors.values())} x 500", details)


def _statuses(counter: Counter[Any]) -> str:
    return ", ".join(
        f"{k if k is not None else 'no answer'}: {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))
    )


def status_table(ledger: Ledger) -> dict[str, dict[str, int]]:
    """Attempts by operation and status (``none`` for no answer: a reset or a timeout)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in ledger.entries:
        if "op" in entry and entry["op"] != "client_crash":
            table[entry["op"]][str(entry.get("status") or "none")] += 1
    return {op: dict(sorted(c.items())) for op, c in sorted(table.items())}


def print_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'check'.ljust(width)}  result  figures", f"{'-' * width}  ------  -------"]
    for check in checks:
        lines.append(f"{check.name.ljust(width)}  {'PASS' if check.ok else 'FAIL':6}  {check.figure}")
        lines += [f"{'':{width}}          - {d}" for d in check.details[:8]]
    return "\n".join(lines)
