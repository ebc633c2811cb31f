"""Writes tests/data/django-differential.json: random nested settings, each leaf value a
unique marker, with the markers Django 5.2's own SafeExceptionReporterFilter hides.

tests/django_differential.rs checks that safe-report hides every one of them. Names are
built from fragments of Django's hidden-name words, in any case, with the characters
Python's case-insensitive match folds onto ASCII (long s, Kelvin sign, dotted and dotless
i) and other non-ASCII letters.

    python3 -m venv target/django-venv && target/django-venv/bin/pip install django==5.2.19
    target/django-venv/bin/python tests/django/differential.py
"""

import json
import random
import sys
from pathlib import Path

import django
from django.conf import settings

settings.configure()
django.setup()

from django.views.debug import SafeExceptionReporterFilter  # noqa: E402

FRAGMENTS = [
    "API", "api", "Api", "AUTH", "auth", "TOKEN", "tok", "en", "KEY", "key", "kEy",
    "SECRET", "secr", "et", "PASS", "pass", "pa", "ss", "SIGNATURE", "sig", "nature",
    "HTTP_COOKIE", "http_", "cookie", "WORD", "NAME", "URL", "DEBUG", "HOST", "ID",
    "_", "-", ".", " ", "0", "7",
    # What Python's re.IGNORECASE folds onto ASCII letters.
    "\u017f", "\u212a", "\u0130", "\u0131", "pa\u017f\u017f", "\u212aEY", "\u0130D",
    "\u017fecret", "\u017fIGNATURE", "to\u212aen", "AP\u0130", "ap\u0131",
    # Other letters that fold to nothing ASCII.
    "\u00df", "\u00e9", "\u00c9", "\u0391", "\u03c3", "\u03c2", "\ufb00", "\u1e9e",
    "\u0410\u041f\u0418", "\u5bc6\u7801",
]


def name(rng):
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 4)))


def value(rng, depth, counter):
    kind = rng.random()
    if depth < 3 and kind < 0.3:
        return {name(rng): value(rng, depth + 1, counter) for _ in range(rng.randint(1, 4))}
    if depth < 3 and kind < 0.4:
        return [value(rng, depth + 1, counter) for _ in range(rng.randint(1, 3))]
    counter[0] += 1
    return f"mark{counter[0]:06d}q"


def markers(value):
    if isinstance(value, dict):
        return [m for v in value.values() for m in markers(v)]
    if isinstance(value, list):
        return [m for v in value for m in markers(v)]
    return [value] if isinstance(value, str) and value.startswith("mark") else []


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = random.Random(20261207)
    counter = [0]
    reporter_filter = SafeExceptionReporterFilter()
    out = []
    for _ in range(cases):
        setting_names = {name(rng).upper() for _ in range(rng.randint(1, 5))}
        case = {n: value(rng, 0, counter) for n in setting_names}
        cleansed = {n: reporter_filter.cleanse_setting(n, v) for n, v in case.items()}
        shown = set(markers(cleansed))
        hidden = sorted(m for m in markers(case) if m not in shown)
        out.append({"settings": case, "hidden": hidden})
    path = Path(__file__).resolve().parent.parent / "data" / "django-differential.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=None) + "\n", encoding="utf-8")
    total = sum(len(c["hidden"]) for c in out)
    print(f"{cases} cases, {counter[0]} values, {total} hidden by Django -> {path.name}")


if __name__ == "__main__":
    main()
