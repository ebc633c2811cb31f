#!/usr/bin/env python3
"""Runs events through Relay's store normalizer, the code Sentry runs on every event it ingests
(the `sentry-relay` package, `sentry_relay.processing.StoreNormalizer`), and reports what it
would reject, change or drop.

    relay_normalize.py EVENT.json [...]     one event (a JSON document) per file
    relay_normalize.py < events             stdin: one JSON document, or one event per line
    options: --no-trim       normalize without Relay's size limits
             --normalized    also print each normalized event

For each event it prints one JSON line:

    {"source": ..., "ok": bool,
     "errors":  Relay's `errors` (invalid data, unknown attributes, a future timestamp...),
     "changes": every `_meta` entry Relay wrote, by path: "err" (the value is invalid), "val"
                (the original of a replaced value), "rem" (a removal, substitution or cut) and
                "len" (the original length of something Relay trimmed),
     "dropped": paths of keys Relay removed without a `_meta` trace (it drops unknown keys of
                the interfaces it knows, such as a frame's, silently)}

Normalization never rejects an event: it repairs it and says so. An event is "ok" only when
Relay had nothing to say: no errors, no `_meta` entry the sender had not written itself, no
dropped key. The exit status is 1 when any event is not ok, 2 on unreadable input.
"""

import json
import sys

from sentry_relay.processing import StoreNormalizer

# Where Relay moves what it does not drop (so it is not reported as dropped): the legacy
# top-level `message` becomes `logentry`; `server_name` and `site` become tags; a Cookie header
# becomes `request.cookies`.
MOVED = {
    ("message",): ("logentry",),
    ("server_name",): ("tags",),
    ("site",): ("tags",),
    ("request", "headers", "cookie"): ("request", "cookies"),
}
# Lists that Relay wraps in {"values": [...]}.
WRAPPED = {"exception", "breadcrumbs", "threads"}


def normalizer(trim):
    return StoreNormalizer(
        project_id=1,
        client="safe-report-tests",
        protocol_version="7",
        is_renormalize=False,
        remove_other=True,
        enable_trimming=trim,
        max_secs_in_future=60,
        max_secs_in_past=30 * 86400,
    )


def meta_entries(meta, path=()):
    """Yields (path, entry) for each `""` entry of a Relay `_meta` tree."""
    if not isinstance(meta, dict):
        return
    for key, value in meta.items():
        if key == "" and isinstance(value, dict):
            yield path, value
        else:
            yield from meta_entries(value, path + (key,))


def as_mapping(value):
    """A pairs list ([[k, v], ...], Relay's form of headers, cookies, tags) as a dict keyed in
    lower case (Relay also normalizes the case of header names); other values unchanged."""
    if isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        return {str(k).lower(): v for k, v in value}
    return value


def lookup(value, path):
    for key in path:
        value = as_mapping(value)
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, dict) and key.lower() in value:
            value = value[key.lower()]
        else:
            return None
    return value


def dropped_keys(before, after, path=(), root=None):
    """Paths of `before` that are not in `after`, except where Relay moved them."""
    root = after if root is None else root
    if isinstance(before, list) and isinstance(after, dict) and path and path[-1] in WRAPPED:
        after = after.get("values")
    if isinstance(before, dict):
        if isinstance(after, list):
            after = as_mapping(after)
            before = {str(k).lower(): v for k, v in before.items()}
        if not isinstance(after, dict):
            return []
        found = []
        for key, value in before.items():
            if key == "_meta" and not path:
                continue
            here = path + (str(key),)
            if key in after:
                found += dropped_keys(value, after[key], here, root)
                continue
            moved = MOVED.get(tuple(p.lower() for p in here))
            if moved is not None and lookup(root, moved) is not None:
                continue
            found.append(".".join(here))
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for index, value in enumerate(before):
            here = path + (str(index),)
            if index < len(after):
                found += dropped_keys(value, after[index], here, root)
            else:
                found.append(".".join(here))
        return found
    return []


def check(event, source, norm, show):
    if not isinstance(event, dict):
        return {"source": source, "ok": False, "errors": ["the event is not a JSON object"]}
    out = norm.normalize_event(event)
    own = {(p, json.dumps(e, sort_keys=True)) for p, e in meta_entries(event.get("_meta") or {})}
    changes = []
    for path, entry in meta_entries(out.get("_meta") or {}):
        if (path, json.dumps(entry, sort_keys=True)) not in own:
            changes.append({"path": ".".join(path) or "$", **entry})
    report = {
        "source": source,
        "errors": out.get("errors") or [],
        "changes": changes,
        "dropped": dropped_keys(event, out),
    }
    report["ok"] = not (report["errors"] or report["changes"] or report["dropped"])
    if show:
        report["normalized"] = out
    return report


def read_events(args):
    if not args or args == ["-"]:
        text = sys.stdin.read()
        try:
            return [("<stdin>", json.loads(text))]
        except ValueError:
            lines = [line for line in text.splitlines() if line.strip()]
            return [(f"<stdin>:{n}", json.loads(line)) for n, line in enumerate(lines, 1)]
    events = []
    for name in args:
        with open(name, encoding="utf-8") as f:
            events.append((name, json.load(f)))
    return events


def main(argv):
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--no-trim", "--normalized"}
    if unknown:
        print(f"relay_normalize.py: unknown option {sorted(unknown)[0]}\n\n{__doc__}", file=sys.stderr)
        return 2
    try:
        events = read_events([a for a in argv if a not in flags])
    except (OSError, ValueError) as error:
        print(f"relay_normalize.py: {error}", file=sys.stderr)
        return 2
    norm = normalizer(trim="--no-trim" not in flags)
    status = 0
    for source, event in events:
        report = check(event, source, norm, "--normalized" in flags)
        print(json.dumps(report), flush=True)
        if not report["ok"]:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
