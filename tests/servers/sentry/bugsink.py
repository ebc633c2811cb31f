#!/usr/bin/env python3
"""A Bugsink server on 127.0.0.1 for safe-report's tests: a real Sentry-compatible peer.

Run it with the Python of the environment that install.sh made (it holds Bugsink):

    bugsink.py template                      build the migrated template database (install.sh does)
    bugsink.py start --dir DIR [--quota N]   a fresh instance in DIR; prints one JSON line:
                                             {"dsn", "api", "token", "project", "pid", "port", "dir"}
    bugsink.py stop --dir DIR [--graceful]   stop it (its recorded process group only), wait until gone
    bugsink.py restart --dir DIR             stop if running, start again: same port, same data
    bugsink.py info --dir DIR                the JSON line again
    bugsink.py events --dir DIR              every stored event of the project, one JSON line each,
                                             in the order received (the event JSON as Bugsink keeps it)
    bugsink.py event --dir DIR --event-id ID one stored event, or exit 1 when it is not there
    bugsink.py errors --dir DIR              events dropped at digest by the strict schema, one line each

Each instance is configured for tests:
- SQLite in DIR, digest inside the ingest request (an event is stored, or dropped, by the time the
  HTTP answer arrives), no outgoing network (no phone-home, no mail);
- VALIDATE_ON_DIGEST = "strict": an event that fails Bugsink's copy of Sentry's event schema is
  still answered 200, then dropped, and a line is written to DIR/validation.log (`errors` prints it);
- quotas: `--quota N` lets N events per 5 minutes into the project, and the next are answered 429
  with X-Sentry-Rate-Limits; without it every quota is far out of reach;
- a full-access API token for the REST API (`events`).

Migrations take seconds, so they run once, into a template kept in the environment
(<venv>/template); `start` copies its two SQLite files. The template also holds the admin user
(admin@example.org / admin, for looking at the web pages), the team, the project and the token, so
every instance has the same DSN key and token; only the port differs.
"""

import argparse
import errno
import fcntl
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
TEMPLATE = Path(sys.prefix) / "template"
# Bump when the template's contents change, so an old template is rebuilt.
TEMPLATE_FORMAT = 1
DATABASES = ("db.sqlite3", "snappea.sqlite3")
STATE = "state.json"
READY_TIMEOUT = 90.0
PROJECT_NAME = "safe-report"
ADMIN = "admin@example.org"

# A quota far out of reach, for instances that are not about quotas.
UNLIMITED = 1_000_000_000


def fail(message):
    print(f"bugsink.py: {message}", file=sys.stderr)
    sys.exit(2)


def note(message):
    print(f"bugsink.py: {message}", file=sys.stderr)


def bugsink_version():
    from importlib.metadata import version

    return version("bugsink")


# ---------------------------------------------------------------------------------------------
# Configuration


CONF = '''\
# Bugsink settings for one test instance (written by bugsink.py).
import json
import logging
from pathlib import Path

from bugsink.settings.default import *  # noqa: F401,F403
from bugsink.settings.default import LOGGING

_DIR = Path({dir!r})
SECRET_KEY = {secret!r}
DATABASES["default"]["NAME"] = str(_DIR / "db.sqlite3")
DATABASES["default"]["TEST"]["NAME"] = str(_DIR / "test.sqlite3")
DATABASES["snappea"]["NAME"] = str(_DIR / "snappea.sqlite3")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SENTRY_DSN = None
TIME_ZONE = "UTC"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Digest inside the ingest request: no separate task runner, and the HTTP answer comes after it.
SNAPPEA = {{"TASK_ALWAYS_EAGER": True, "WAKEUP_CALLS_DIR": str(_DIR / "snappea.wakeup")}}

BUGSINK = {{
    "BASE_URL": "http://127.0.0.1:{port}",
    "SINGLE_USER": True,
    "SINGLE_TEAM": True,
    "USER_REGISTRATION": "CB_NOBODY",
    "PHONEHOME": False,
    "INGEST_STORE_BASE_DIR": str(_DIR / "ingestion"),
    "VALIDATE_ON_DIGEST": {validate!r},
    "KEEP_ENVELOPES": 0,
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": {quota},
    "MAX_EVENTS_PER_PROJECT_PER_HOUR": {unlimited},
    "MAX_EVENTS_PER_PROJECT_PER_MONTH": {unlimited},
    "MAX_EVENTS_PER_5_MINUTES": {unlimited},
    "MAX_EVENTS_PER_HOUR": {unlimited},
    "MAX_EVENTS_PER_MONTH": {unlimited},
}}


class ValidationRecords(logging.Filter):
    """Keeps the records of events that digest dropped because they failed the schema."""

    def filter(self, record):
        return record.getMessage().startswith("ValidationError")


class ValidationLine(logging.Formatter):
    """One JSON line per dropped event: its event_id (read from the digest function's frame,
    where the error was caught) and the schema errors."""

    def format(self, record):
        error = record.exc_info[1] if record.exc_info else None
        event_id = None
        trace = getattr(error, "__traceback__", None)
        if trace is not None:
            local = trace.tb_frame.f_locals
            data = local.get("event_data")
            event_id = data.get("event_id") if isinstance(data, dict) else local.get("event_id")
        messages = getattr(error, "messages", None) or [str(error)]
        return json.dumps({{"event_id": event_id, "errors": messages}})


LOGGING["filters"]["validation"] = {{"()": "bugsink_conf.ValidationRecords"}}
LOGGING["formatters"]["validation"] = {{"()": "bugsink_conf.ValidationLine"}}
LOGGING["handlers"]["validation"] = {{
    "class": "logging.FileHandler",
    "filename": str(_DIR / "validation.log"),
    "level": "WARNING",
    "filters": ["validation"],
    "formatter": "validation",
}}
LOGGING["loggers"]["bugsink.ingest"] = {{"level": "INFO", "handlers": ["validation"], "propagate": True}}
'''


def write_conf(directory, port, quota, validate):
    (directory / "ingestion").mkdir(parents=True, exist_ok=True)
    text = CONF.format(
        dir=str(directory),
        secret=secrets.token_urlsafe(50),
        port=port,
        validate=validate,
        quota=quota if quota is not None else UNLIMITED,
        unlimited=UNLIMITED,
    )
    (directory / "bugsink_conf.py").write_text(text)


def django_env(directory):
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bugsink_conf"
    env["PYTHONPATH"] = str(directory)
    env.pop("SECRET_KEY", None)
    return env


# ---------------------------------------------------------------------------------------------
# The template database


SETUP_RECORDS = '''
import json
from django.contrib.auth import get_user_model
from teams.models import Team, TeamMembership, TeamRole
from projects.models import Project, ProjectMembership, ProjectRole
from bsmain.models import AuthToken

user = get_user_model().objects.create_superuser(username={admin!r}, email={admin!r}, password="admin")
team = Team.objects.create(name={name!r})
TeamMembership.objects.create(team=team, user=user, role=TeamRole.ADMIN, accepted=True)
project = Project.objects.create(name={name!r}, team=team)
ProjectMembership.objects.create(project=project, user=user, role=ProjectRole.ADMIN, accepted=True)
token = AuthToken.create_full_access()
with open("records.json", "w") as f:
    json.dump({{"project": project.id, "key": project.sentry_key.hex, "token": token.token}}, f)
'''


def template_stamp():
    return {"bugsink": bugsink_version(), "format": TEMPLATE_FORMAT}


def template_ready():
    try:
        stamp = json.loads((TEMPLATE / "stamp.json").read_text())
    except (OSError, ValueError):
        return False
    return stamp == template_stamp() and all((TEMPLATE / db).is_file() for db in DATABASES)


def ensure_template():
    """Builds the template once; concurrent callers wait on a lock instead of building twice."""
    if template_ready():
        return False
    with open(str(TEMPLATE) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if template_ready():
            return False
        build = Path(f"{TEMPLATE}.build-{os.getpid()}")
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        write_conf(build, 8000, None, "strict")
        env = django_env(build)
        manage = str(BIN / "bugsink-manage")

        def run(*args):
            result = subprocess.run(
                [manage, *args], cwd=build, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            if result.returncode != 0:
                sys.stderr.write(result.stdout.decode(errors="replace"))
                fail(f"bugsink-manage {' '.join(args)} failed while building the template")

        run("migrate", "--noinput", "-v0")
        run("migrate", "snappea", "--database=snappea", "--noinput", "-v0")
        run("shell", "-c", SETUP_RECORDS.format(admin=ADMIN, name=PROJECT_NAME))
        (build / "stamp.json").write_text(json.dumps(template_stamp()))
        shutil.rmtree(TEMPLATE, ignore_errors=True)
        os.rename(build, TEMPLATE)
        return True


def cmd_template(args):
    started = time.monotonic()
    if ensure_template():
        note(f"template built in {TEMPLATE} in {time.monotonic() - started:.1f} s")
    else:
        note(f"template present in {TEMPLATE}")


# ---------------------------------------------------------------------------------------------
# Ports
#
# The port is chosen here, bound here and handed to gunicorn as an open listening socket
# (`--bind fd://N`), so nothing can take it between the choice and gunicorn's start: there is no
# bind-close-rebind window, and the port is known before the configuration (BASE_URL, the DSN) is
# written. Gunicorn also accepts `--bind 127.0.0.1:0`, but then the port is only known from its
# log and the configured BASE_URL could not match it.
#
# A restart must come back on the same port, because the client under test keeps the DSN. The
# listening socket dies with the server (a test of an outage wants refused connections, not a
# backlog that silently queues them), so `restart` binds the recorded port again. SO_REUSEADDR
# lets that bind succeed although closed connections of the old server linger in TIME_WAIT on
# it. To make it unlikely that anything else takes the port while the server is down, the port
# is drawn below the kernel's ephemeral range: outgoing connections never get a local port
# there, so only another program that deliberately listens on that very port could take it.


def ephemeral_range():
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def listen_on(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def new_listener():
    low, _ = ephemeral_range()
    first = 20000 if low > 21000 else 1024
    if low - first > 100:
        for _ in range(200):
            try:
                return listen_on(random.randrange(first, low))
            except OSError as error:
                if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
    return listen_on(0)


def listener_again(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return listen_on(port)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                fail(f"cannot listen on 127.0.0.1:{port} again: {error}")
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# The server process


def load_state(directory):
    try:
        return json.loads((directory / STATE).read_text())
    except OSError:
        fail(f"no instance in {directory} (no {STATE})")


def save_state(directory, state):
    tmp = directory / (STATE + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, directory / STATE)


def public(state):
    keys = ("dsn", "api", "token", "project", "pid", "port", "dir")
    return json.dumps({k: state[k] for k in keys})


def is_ours(pid, directory):
    """True while `pid` is a live gunicorn master started for `directory` (never a reused pid)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
        return False
    return os.fsencode(str(directory)) in cmdline


GUNICORN_CONF = '''\
# Gunicorn hooks for one test instance (written by bugsink.py).


def post_worker_init(worker):
    # Bugsink parses the User-Agent of every event it digests with ua_parser, which compiles
    # about 1,300 regular expressions on first import: about a second, paid by the first event.
    # The worker pays it before it takes requests, so the first event is as quick as the next.
    try:
        import user_agents  # noqa: F401
    except ImportError:
        pass
'''


def launch(directory, listener, state):
    """Starts gunicorn on the listening socket and waits until /health/ready answers."""
    fd = listener.fileno()
    (directory / "gunicorn_conf.py").write_text(GUNICORN_CONF)
    with open(directory / "server.log", "ab") as log:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind", f"fd://{fd}",
                "--workers", "1",
                "--chdir", str(directory),
                "--graceful-timeout", "5",
                "--no-control-socket",
                "--access-logfile", str(directory / "access.log"),
                "--config", str(directory / "gunicorn_conf.py"),
                "bugsink.wsgi",
            ],
            cwd=directory,
            env=django_env(directory),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(fd,),
            # Its own process group: a stop that must force it kills master and worker together,
            # and a Ctrl-C meant for the tests does not reach it.
            start_new_session=True,
        )
    listener.close()
    state["pid"] = process.pid
    save_state(directory, state)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            tail = (directory / "server.log").read_text(errors="replace")[-3000:]
            fail(f"gunicorn exited with {process.returncode} before it was ready:\n{tail}")
        try:
            status, _, _ = http("GET", state["api"] + "/health/ready", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_process(process.pid, directory)
            fail(f"not ready after {READY_TIMEOUT:.0f} s; see {directory / 'server.log'}")
        time.sleep(0.02)


def group_alive(pgid):
    """True while a process of the group `pgid` still runs (zombies do not count: they hold no
    socket, and their reaping is up to whoever inherited them)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def stop_process(pid, directory, graceful=False, timeout=15.0):
    """Stops the gunicorn master `pid` and its worker; returns once both are gone.

    The default is SIGKILL to the process group that `launch` gave the server (master and worker,
    nothing else): to a client it is a server that went away, as in a crash, and it takes
    milliseconds. Gunicorn's own shutdown (SIGTERM, `graceful`) waits for the master's
    one-second signal poll and its worker, about 1.5 s here. SQLite keeps every committed event
    either way (a digest cut in the middle is rolled back), so `restart` finds the same data.
    """
    if not is_ours(pid, directory):
        return
    if graceful:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    if group_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while group_alive(pid):
            if time.monotonic() > deadline:
                fail(f"gunicorn (process group {pid}) did not end after SIGKILL")
            time.sleep(0.005)


def cmd_start(args):
    directory = Path(args.dir).resolve()
    if (directory / STATE).exists():
        state = load_state(directory)
        if is_ours(state.get("pid"), directory):
            fail(f"an instance already runs in {directory} (pid {state['pid']})")
    ensure_template()
    directory.mkdir(parents=True, exist_ok=True)
    for db in DATABASES:
        shutil.copyfile(TEMPLATE / db, directory / db)
    records = json.loads((TEMPLATE / "records.json").read_text())
    listener = new_listener()
    port = listener.getsockname()[1]
    write_conf(directory, port, args.quota, args.validate)
    (directory / "validation.log").touch()
    api = f"http://127.0.0.1:{port}"
    state = {
        "dsn": f"http://{records['key']}@127.0.0.1:{port}/{records['project']}",
        "api": api,
        "token": records["token"],
        "project": records["project"],
        "pid": None,
        "port": port,
        "dir": str(directory),
    }
    launch(directory, listener, state)
    print(public(state), flush=True)


def cmd_stop(args):
    directory = Path(args.dir).resolve()
    state = load_state(directory)
    stop_process(state.get("pid"), directory, graceful=args.graceful)
    state["pid"] = None
    save_state(directory, state)


def cmd_restart(args):
    directory = Path(args.dir).resolve()
    state = load_state(directory)
    stop_process(state.get("pid"), directory)
    state["pid"] = None
    launch(directory, listener_again(state["port"]), state)
    print(public(state), flush=True)


def cmd_info(args):
    print(public(load_state(Path(args.dir).resolve())))


# ---------------------------------------------------------------------------------------------
# Reading back through the REST API


def http(method, url, token=None, timeout=30):
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def api_get(state, path, **params):
    url = path if path.startswith("http") else f"{state['api']}/api/canonical/0/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    status, _, body = http("GET", url, token=state["token"])
    if status != 200:
        fail(f"GET {url}: {status} {body[:300]!r}")
    return json.loads(body)


def pages(state, path, **params):
    page = api_get(state, path, **params)
    while True:
        yield from page["results"]
        if not page.get("next"):
            return
        page = api_get(state, page["next"])


def cmd_events(args):
    state = load_state(Path(args.dir).resolve())
    listed = []
    for issue in pages(state, "issues/", project=state["project"]):
        listed.extend(pages(state, "events/", issue=issue["id"]))
    listed.sort(key=lambda e: (e.get("ingested_at") or "", e.get("digested_at") or ""))
    for event in listed:
        detail = api_get(state, f"events/{event['id']}/")
        print(json.dumps(detail["data"]), flush=True)


def cmd_event(args):
    state = load_state(Path(args.dir).resolve())
    url = f"{state['api']}/api/canonical/0/events/lookup/?" + urllib.parse.urlencode(
        {"project": state["project"], "event_id": args.event_id}
    )
    status, _, body = http("GET", url, token=state["token"])
    if status == 404:
        sys.exit(1)
    if status != 200:
        fail(f"GET {url}: {status} {body[:300]!r}")
    print(json.dumps(json.loads(body)["data"]))


def cmd_errors(args):
    directory = Path(args.dir).resolve()
    try:
        lines = (directory / "validation.log").read_text().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        print(f"event {record.get('event_id')}: {'; '.join(map(str, record.get('errors') or []))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("template").set_defaults(run=cmd_template)
    for name, run in [
        ("start", cmd_start),
        ("stop", cmd_stop),
        ("restart", cmd_restart),
        ("info", cmd_info),
        ("events", cmd_events),
        ("event", cmd_event),
        ("errors", cmd_errors),
    ]:
        command = commands.add_parser(name)
        command.add_argument("--dir", required=True)
        command.set_defaults(run=run)
        if name == "start":
            command.add_argument("--quota", type=int, help="events per project per 5 minutes")
            command.add_argument("--validate", choices=["strict", "warn", "none"], default="strict")
        if name == "stop":
            command.add_argument(
                "--graceful", action="store_true", help="gunicorn's own shutdown instead of a kill"
            )
        if name == "event":
            command.add_argument("--event-id", required=True)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
