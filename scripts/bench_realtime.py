"""Speed to lead benchmark: from the commit of an event to the contact's
stored score and tier, on a prefork Odoo server with default settings.

Run with `make bench-realtime` (20,000 contacts; CONTACTS=... for more). It
builds the benchmark's database (scripts/bench.py's contacts, page views and
rules), adds a rule scoring each page view and turns on email engagement,
starts a prefork server (2 workers, 2 cron workers, default time limits),
then sends through HTTP:

- a stream of 5 events a second for STREAM_SECONDS (page views of logged-in
  contacts and mailing link clicks, alternately);
- a burst of BURST events, as fast as a few clients can send them;

and measures, per event, the time from its request's response (its commit)
to its contact's stored score (polled every POLL seconds), then whether the
5-minute job finds anything left; the time the fast path adds to the
request that saves a click (with and without it, SAMPLE requests each,
alternately); and the server's CPU per thousand events scored.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests

import odoo
from odoo import SUPERUSER_ID, api

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's database)

STREAM_SECONDS = 60
STREAM_RATE = 5
BURST = 1000
BURST_CLIENTS = 8
SAMPLE = 200
POLL = 0.2
VISITORS = 40
PASSWORD = "bench-visitor"
RUN_DONE = r"Job 'Lead Scoring: apply scoring rules' \(\d+\) completed"


def percentile(values, fraction):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


class Events:
    """The events sent, and when each one was found scored."""

    def __init__(self, registry):
        self.registry = registry
        self.lock = threading.Lock()
        # key -> [sent (commit) time, scored time or None, kind, contact, source id]
        self.pending = {}
        self.done = {}

    def sent(self, key, kind, partner_id, source_id, at):
        with self.lock:
            self.pending[key] = [at, None, kind, partner_id, source_id]

    def poll(self, cr):
        """Mark scored the events whose line exists and whose contact's
        score was written after it (a line's create_date may be rounded to
        the second: within a second counts)."""
        with self.lock:
            items = list(self.pending.items())
        if not items:
            return
        views = [(k, v) for k, v in items if v[2] == "view"]
        clicks = [(k, v) for k, v in items if v[2] == "click"]
        now = time.time()
        found = set()
        if views:
            cr.execute(
                """SELECT o.res_id FROM lead_score_operation o
                     JOIN res_partner p ON p.id = o.partner_id
                    WHERE o.res_model = 'website.track' AND o.res_id = ANY(%s)
                      AND p.write_date + interval '1 second' > o.create_date""",
                [[v[4] for _k, v in views]],
            )
            scored = {row[0] for row in cr.fetchall()}
            found |= {k for k, v in views if v[4] in scored}
        if clicks:
            cr.execute(
                """SELECT o.partner_id FROM lead_score_operation o
                     JOIN res_partner p ON p.id = o.partner_id
                    WHERE o.idempotency_key = %s AND o.partner_id = ANY(%s)
                      AND p.write_date + interval '1 second' > o.create_date""",
                [CLICK_KEY[0], [v[3] for _k, v in clicks]],
            )
            scored = {row[0] for row in cr.fetchall()}
            found |= {k for k, v in clicks if v[3] in scored}
        cr.rollback()
        with self.lock:
            for key in found:
                event = self.pending.pop(key)
                event[1] = now
                self.done[key] = event

    def wait_scored(self, keys, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(k in self.done for k in keys):
                return True
            time.sleep(POLL)
        return False

    def latencies(self, keys):
        return [self.done[k][1] - self.done[k][0] for k in keys if k in self.done]


CLICK_KEY = [None]


def prepare(env, contacts):
    """The benchmark's database, a rule scoring each page view, visitors
    who log in, a mailing with a tracked link and a trace per contact."""
    cr = env.cr
    first, last = bench.populate(env, contacts)
    env["lead.score.rule"].create([values for values, _raw in bench.rules(env)])
    env["lead.score.rule"].create(
        {
            "name": "Bench realtime: each page view",
            "value": 1,
            "condition_type": "event",
            "model_id": env["ir.model"]._get_id("website.track"),
            "partner_field_id": env["ir.model.fields"]
            ._get("website.track", "partner_id")
            .id,
            "domain": "[('url', '!=', False)]",
        }
    )
    website = env["website"].search([], limit=1)
    page = env["website.page"].create(
        {
            "name": "Bench pricing",
            "url": "/bench-pricing",
            "website_id": website.id,
            "type": "qweb",
            "is_published": True,
            "track": True,
            "arch": '<t t-call="website.layout"><div id="wrap">Prices</div></t>',
        }
    )
    users = env["res.users"].create(
        [
            {
                "name": f"Bench visitor {i}",
                "login": f"bench-visitor-{i}",
                "password": PASSWORD,
                "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
            }
            for i in range(VISITORS)
        ]
    )
    mailing = env["mailing.mailing"].create(
        {
            "subject": "Bench news",
            "mailing_model_id": env.ref("base.model_res_partner").id,
            "mailing_domain": "[]",
        }
    )
    link = env["link.tracker"].create(
        {"url": "https://example.com/offer", "mass_mailing_id": mailing.id}
    )
    cr.execute(
        """INSERT INTO mailing_trace (model, res_id, partner_id, email, mass_mailing_id,
                                      trace_status, trace_type, sent_datetime,
                                      create_uid, create_date, write_uid, write_date)
           SELECT 'res.partner', p.id, p.id, p.email, %s, 'sent', 'mail',
                  now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC', 1,
                  now() AT TIME ZONE 'UTC'
             FROM res_partner p WHERE p.id BETWEEN %s AND %s
            ORDER BY p.id
           RETURNING id, res_id""",
        [mailing.id, first, last],
    )
    traces = cr.fetchall()
    params = env["ir.config_parameter"]
    params.set_param("lead_scoring_marketing.mailing_open_points", 0)
    params.set_param("lead_scoring_marketing.mailing_click_points", 3)
    CLICK_KEY[0] = f"mailing-trace:mailing-{mailing.id}:click"
    return {
        "page": page.url,
        "users": [(u.login, u.partner_id.id) for u in users],
        "code": link.code,
        "traces": traces,
        "mailing": mailing.id,
    }


class Server:
    """A prefork server with default settings (2 workers, 2 cron workers)."""

    def __init__(self, args):
        self.args = args
        self.log = "/tmp/lead-scoring-bench-realtime.log"

    def __enter__(self):
        command = [
            sys.executable,
            odoo.tools.config["root_path"] + "/../odoo-bin",
            "-c",
            self.args.config,
            "-d",
            self.args.database,
            f"--db-filter=^{self.args.database}$",
            "--workers=2",
            "--max-cron-threads=2",
            f"--http-port={self.args.port}",
            f"--gevent-port={self.args.port + 3}",
            "--log-level=info",
            f"--logfile={self.log}",
        ]
        self.log_start = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        self.process = subprocess.Popen(command)
        self.ps = psutil.Process(self.process.pid)
        self.url = f"http://127.0.0.1:{self.args.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/web/health", timeout=5).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(1)
        raise SystemExit("the server did not start")

    def cpu(self):
        """CPU seconds of the server and its workers so far (ended workers
        included through their parent's children times)."""
        total = 0.0
        for process in [self.ps, *self.ps.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
            if process is self.ps:
                total += times.children_user + times.children_system
        return total

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(60)


def setup_database(args, registry):
    """The benchmark's database, scored once; only the jobs of this
    benchmark active, far from their next time: what scores the events
    is their triggers."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        setup = prepare(env, args.contacts)
        cr.commit()
        bench.vacuum(cr)
        # The first run, inline: the events then meet incremental runs.
        env["lead.score.run"]._run_rules(env["lead.score.rule"].search([]), commit=True)
        env["lead.score.mailing.watermark"]  # noqa: B018 - installed
        env["mailing.trace"].sudo()._lead_score_engagement()
        cr.commit()
        # Only the jobs of this benchmark, far from their next time: what
        # scores the events is their triggers.
        cr.execute(
            """UPDATE ir_cron SET active = cron_name IN (
                      'Lead Scoring: apply scoring rules',
                      'Lead Scoring: score email marketing engagement'),
                      nextcall = now() AT TIME ZONE 'UTC' + interval '1 day'"""
        )
        cr.execute("DELETE FROM ir_cron_trigger")
        cr.commit()

    return setup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=18669)
    parser.add_argument("--stream-seconds", type=int, default=STREAM_SECONDS)
    parser.add_argument("--burst", type=int, default=BURST)
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.database)
    setup = setup_database(args, registry)

    events = Events(registry)
    traces = iter(setup["traces"])
    stop_polling = threading.Event()

    def poller():
        with registry.cursor() as cr:
            while not stop_polling.is_set():
                events.poll(cr)
                time.sleep(POLL)

    with Server(args) as server:
        sessions = []
        for login, partner_id in setup["users"]:
            session = requests.Session()
            response = session.post(
                server.url + "/web/session/authenticate",
                json={
                    "params": {
                        "db": args.database,
                        "login": login,
                        "password": PASSWORD,
                    }
                },
                timeout=30,
            )
            response.raise_for_status()
            sessions.append((session, partner_id))
        session_lock = threading.Lock()
        free_sessions = list(sessions)
        click_session = threading.local()

        def track_of(partner_id):
            with registry.cursor() as cr:
                cr.execute(
                    "SELECT max(id) FROM website_track WHERE partner_id = %s",
                    [partner_id],
                )
                return cr.fetchone()[0]

        def page_view(key):
            with session_lock:
                session, partner_id = free_sessions.pop()
            try:
                session.get(server.url + setup["page"], timeout=60).raise_for_status()
                done = time.time()
                events.sent(key, "view", partner_id, track_of(partner_id), done)
            finally:
                with session_lock:
                    free_sessions.append((session, partner_id))

        def click(key, record=True):
            if not hasattr(click_session, "s"):
                click_session.s = requests.Session()
            trace_id, partner_id = next(traces)
            started = time.perf_counter()
            response = click_session.s.get(
                f"{server.url}/r/{setup['code']}/m/{trace_id}",
                allow_redirects=False,
                timeout=60,
            )
            elapsed = time.perf_counter() - started
            assert response.status_code in (301, 302), response.status_code
            if record:
                events.sent(key, "click", partner_id, trace_id, time.time())
            return elapsed

        # Warm up the workers.
        for i in range(10):
            page_view(f"warm-view-{i}")
            click(f"warm-click-{i}")
        threading.Thread(target=poller, daemon=True).start()
        events.wait_scored([f"warm-view-{i}" for i in range(10)], 120)

        def set_realtime(on):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["ir.config_parameter"].set_param(
                    "lead_scoring.realtime", "1" if on else "0"
                )
            time.sleep(2)  # the workers see the change (registry signaling)

        # The request's cost, fast path off and on, alternately.
        costs = {False: [], True: [], "cpu_off": 0.0}
        for round_ in range(4):
            on = bool(round_ % 2)
            set_realtime(on)
            cpu_start = server.cpu()
            for _i in range(SAMPLE // 2):
                costs[on].append(click(None, record=False))
            if not on:
                # The requests alone: nothing is scored meanwhile.
                costs["cpu_off"] += server.cpu() - cpu_start
        set_realtime(True)
        time.sleep(5)  # what the "off" clicks left is scored now

        # The stream.
        figures = {}
        cpu_start = server.cpu()
        stream_keys = []
        started = time.monotonic()
        count = args.stream_seconds * STREAM_RATE
        with ThreadPoolExecutor(max_workers=4) as pool:
            for i in range(count):
                at = started + i / STREAM_RATE
                time.sleep(max(0, at - time.monotonic()))
                key = f"stream-{i}"
                stream_keys.append(key)
                pool.submit(page_view if i % 2 else click, key)
        figures["stream_done"] = events.wait_scored(stream_keys)
        figures["stream"] = events.latencies(stream_keys)
        stream_cpu = server.cpu() - cpu_start

        # The burst.
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM ir_cron_trigger")
            triggers_before = cr.fetchone()[0]
        cpu_start = server.cpu()
        burst_keys = [f"burst-{i}" for i in range(args.burst)]
        burst_start = time.monotonic()
        with ThreadPoolExecutor(max_workers=BURST_CLIENTS) as pool:
            list(
                pool.map(
                    lambda i: (page_view if i % 2 else click)(burst_keys[i]),
                    range(args.burst),
                )
            )
        figures["burst_send"] = time.monotonic() - burst_start
        figures["burst_done"] = events.wait_scored(burst_keys)
        figures["burst"] = events.latencies(burst_keys)
        burst_cpu = server.cpu() - cpu_start
        stop_polling.set()
        with registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM ir_cron_trigger")
            triggers_after = cr.fetchone()[0]
        with open(server.log) as log:
            log.seek(server.log_start)
            runs = len(re.findall(RUN_DONE, log.read()))
    # The 5-minute job, after the burst: anything left?
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("SELECT count(*) FROM lead_score_operation")
        lines_before = cr.fetchone()[0]
        changed = env["lead.score.run"]._run_rules(
            env["lead.score.rule"].search([]), commit=True
        )
        left = env["mailing.trace"].sudo()._lead_score_engagement()
        cr.execute("SELECT count(*) FROM lead_score_operation")
        lines_after = cr.fetchone()[0]
        cr.commit()

    figures["commit_cost"] = commit_cost(registry, setup)
    report(
        args,
        figures,
        costs,
        len(stream_keys),
        (stream_cpu, burst_cpu),
        (triggers_before, triggers_after, runs),
        (changed, left, lines_after - lines_before),
    )


def commit_cost(registry, setup):
    """In this process: a transaction that marks a trace clicked, its commit
    included, without and with the fast path (alternately); medians in
    seconds. Its triggers are left unconsumed (no server runs now)."""
    traces = [trace_id for trace_id, _partner in setup["traces"][-2 * SAMPLE :]]
    times = {False: [], True: []}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        for i, trace_id in enumerate(traces):
            on = bool(i % 2)
            env["ir.config_parameter"].set_param(
                "lead_scoring.realtime", "1" if on else "0"
            )
            cr.commit()
            # The caches that set_param cleared, warm again as in a worker.
            env["ir.config_parameter"].get_param("lead_scoring.realtime")
            env["lead.score.realtime"]._realtime_watched()
            started = time.perf_counter()
            env["mailing.trace"].browse(trace_id).set_clicked()
            cr.commit()
            times[on].append(time.perf_counter() - started)
    return statistics.median(times[False]), statistics.median(times[True])


def report(args, figures, costs, streamed, cpu, triggers, reconciler):
    stream_cpu, burst_cpu = cpu
    triggers_before, triggers_after, runs = triggers
    changed, left, new_lines = reconciler
    off, on = costs[False], costs[True]
    print(
        f"\nSpeed to lead, {args.contacts:,} contacts, prefork server (2 workers, 2 cron workers)"
    )
    for label, values, done in (
        (f"stream {STREAM_RATE}/s", figures["stream"], figures["stream_done"]),
        (f"burst of {args.burst:,}", figures["burst"], figures["burst_done"]),
    ):
        print(
            f"  {label:18} commit to score: p50 {percentile(values, 0.5):6.2f} s,"
            f" p95 {percentile(values, 0.95):6.2f} s, max {max(values or [0]):6.2f} s"
            f" ({len(values)} events{'' if done else ', NOT ALL SCORED'})"
        )
    print(f"  burst sent in {figures['burst_send']:.1f} s by {BURST_CLIENTS} clients")
    print(
        f"  request saving a click: {statistics.median(off) * 1000:6.1f} ms without the"
        f" fast path, {statistics.median(on) * 1000:6.1f} ms with it (medians of"
        f" {len(off)} each; added {1000 * (statistics.median(on) - statistics.median(off)):+.1f} ms)"
    )
    off_tx, on_tx = figures["commit_cost"]
    print(
        f"  a transaction marking a trace clicked, commit included: {off_tx * 1000:.2f} ms"
        f" without the fast path, {on_tx * 1000:.2f} ms with it"
        f" (added {1000 * (on_tx - off_tx):+.2f} ms; medians of {SAMPLE} each)"
    )
    request_cpu = costs["cpu_off"] / len(off)
    print(
        f"  server CPU of a click's request alone: {request_cpu * 1000:.1f} ms;"
        f" scoring per 1,000 events (CPU minus the requests'):"
        f" stream {stream_cpu / streamed * 1000 - request_cpu * 1000:.0f} s,"
        f" burst {burst_cpu / args.burst * 1000 - request_cpu * 1000:.0f} s"
    )
    print(
        f"  server CPU: stream {stream_cpu:.1f} s for {streamed} events"
        f" ({1000 * stream_cpu / streamed:.0f} s per 1,000), burst {burst_cpu:.1f} s"
        f" for {args.burst} ({1000 * burst_cpu / args.burst:.0f} s per 1,000),"
        " requests and scoring together"
    )
    print(
        f"  trigger rows: {triggers_before} before the burst, {triggers_after} after;"
        f" rules job pick-ups during the whole benchmark: {runs}"
    )
    print(
        f"  the 5-minute job afterwards: {len(changed or [])} contacts scored by rules,"
        f" {len(left or [])} by email engagement, {new_lines} lines"
    )


if __name__ == "__main__":
    main()
