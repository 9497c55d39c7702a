#!/usr/bin/python3
"""Benchmark driver for stdiolinkd, started by bench/run (see bench/README.md).

Every figure is measured against a daemon this script starts itself on 127.0.0.1 with
--port=0 in a temporary data root, once per run; the report gives the median of the runs
and the range. Every loop here is bounded in count and in time, and every process started
here is stopped by its pid.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

WRK_SECONDS = 5
WRK_CONNECTIONS = 50
PROBE_RATE = 200  # requests per second of the paced latency probe
PROBE_SECONDS = 4
CHURN_RATE = 20  # starts per second, and as many stops
CHURN_PROJECTS = 20
CHURN_LIFETIME_TICKS = 10  # a churned instance is stopped this many ticks after its start
FAST_PROJECTS = 10
START_COUNT = 200
START_RATE = 50
FANOUT_SUBSCRIBERS = 100
FANOUT_STARTS = 100
MANY_PROJECTS = 1000
LAG_POLL_S = 0.02  # below the daemon's 100 ms lag probe period: no probe value is missed
SCAN_LOAD_DRIVERS = 50  # the scan the API probe runs against
SCAN_LOAD_EXPORT_MS = 2000
SCAN_SIZES = (10, 50, 200)  # the scans whose wall time is measured
SCAN_EXPORT_MS = 1000
JOB_POLL_S = 0.1  # how often a job is read while the bench waits for it to end
PROBE_MAX_SECONDS = 600  # a probe that runs until a job ends stops here at the latest


# ---- small helpers ------------------------------------------------------------------------


def percentile(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def log(text):
    print("bench: " + text, file=sys.stderr, flush=True)


def sleep_until(deadline):
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def parse_ts(text):
    """The event log's `ts` (UTC, milliseconds, truncated) as epoch seconds."""
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return when.replace(tzinfo=datetime.timezone.utc).timestamp()


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)


def tcp_ext(name):
    """A TcpExt counter of /proc/net/netstat (system-wide), or None."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as f:
            rows = [r.split() for r in f if r.startswith("TcpExt:")]
        return int(dict(zip(rows[0][1:], rows[1][1:]))[name])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class Api:
    """One keep-alive HTTP/1.1 connection to the daemon."""

    def __init__(self, port, timeout=10):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                           timeout=self.timeout)
                self.conn.request(method, path, body=data, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                # a keep-alive connection the server closed: one fresh try
                if attempt == 1:
                    raise
        return None, b""

    def json(self, method, path, body=None, headers=None):
        status, payload = self.request(method, path, body, headers)
        return status, json.loads(payload) if payload else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---- data roots ---------------------------------------------------------------------------


def make_service(root, fake_service):
    """A native service whose entry is the test suite's configurable fake service."""
    folder = os.path.join(root, "services", "fake")
    os.makedirs(folder)
    write_json(os.path.join(folder, "manifest.json"),
               {"manifestVersion": "1", "id": "fake", "name": "Fake", "version": "1.0.0",
                "runtime": "exec", "entry": "run"})
    write_json(os.path.join(folder, "config.schema.json"),
               {"sleepMs": {"type": "int", "default": 0},
                "exitCode": {"type": "int", "default": 0}})
    os.symlink(fake_service, os.path.join(folder, "run"))


def make_project(root, project_id, sleep_ms):
    folder = os.path.join(root, "projects", project_id)
    os.makedirs(folder)
    write_json(os.path.join(folder, "config.json"),
               {"id": project_id, "name": project_id, "serviceId": "fake", "enabled": True,
                "schedule": {"type": "manual"}})
    write_json(os.path.join(folder, "param.json"), {"sleepMs": sleep_ms})


def make_root(path, fake_service, projects, config=None):
    """projects: {id: sleepMs}. A short grace keeps the daemon's shutdown quick."""
    os.makedirs(path)
    write_json(os.path.join(path, "config.json"), dict({"stopGraceMs": 1000}, **(config or {})))
    make_service(path, fake_service)
    for project_id, sleep_ms in projects.items():
        make_project(path, project_id, sleep_ms)


def make_drivers(root, export_driver, count, export_ms):
    """drivers/ holds count fake drivers whose export sleeps export_ms; nothing else.

    Each folder links the test suite's fake export driver (tests/sl-test-export-driver.c),
    which reads what to do from `behaviour` and appends `start`/`end` lines to export.log.
    """
    drivers = os.path.join(root, "drivers")
    shutil.rmtree(drivers, ignore_errors=True)
    try:
        os.unlink(os.path.join(root, "export.log"))
    except FileNotFoundError:
        pass
    os.makedirs(drivers)
    for i in range(count):
        name = "d%03d" % i
        folder = os.path.join(drivers, name)
        os.makedirs(folder)
        os.symlink(export_driver, os.path.join(folder, "stdio.drv." + name))
        with open(os.path.join(folder, "behaviour"), "w", encoding="ascii") as f:
            f.write("ok bench.%s %d\n" % (name, export_ms))


def most_exports_at_once(root):
    """The most exports running at once, from the order of export.log's lines."""
    running = 0
    most = 0
    try:
        with open(os.path.join(root, "export.log"), encoding="utf-8") as f:
            for row in f:
                running += 1 if row.startswith("start ") else -1
                most = max(most, running)
    except FileNotFoundError:
        return None
    return most


def churn_ids():
    return ["churn-%02d" % i for i in range(CHURN_PROJECTS)]


def fast_ids():
    return ["fast-%02d" % i for i in range(FAST_PROJECTS)]


def read_event_log(root):
    """{(type, instanceId): publish time} from logs/events.jsonl."""
    events = {}
    path = os.path.join(root, "logs", "events.jsonl")
    if not os.path.exists(path):
        return events
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
                key = (event["type"], event["data"].get("instanceId"))
                events.setdefault(key, parse_ts(event["ts"]))
            except (ValueError, KeyError, AttributeError):
                continue
    return events


# ---- the daemon ---------------------------------------------------------------------------


class Daemon:
    """stdiolinkd on a free loopback port; stopped by its pid."""

    def __init__(self, exe, root, log_path):
        self.exe = exe
        self.root = root
        self.log_path = log_path
        self.proc = None
        self.port = None
        self.startup_s = None
        self.began_wall = None
        self.drain = None

    def start(self, timeout=30):
        stderr = open(self.log_path, "ab")
        self.began_wall = time.time()
        began = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.exe, "--data-root=" + self.root, "--port=0", "--log-level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        stderr.close()
        line = self._read_line(began + timeout)
        self.startup_s = time.perf_counter() - began
        match = re.search(rb"listening on http://[^\s:]+:(\d+)", line)
        if match is None:
            self.stop()
            raise RuntimeError("unexpected first line from stdiolinkd: %r" % line)
        self.port = int(match.group(1))
        # a full stdout pipe would block the daemon: keep reading it
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        return self

    def _read_line(self, deadline):
        fd = self.proc.stdout.fileno()
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    self.stop()
                    raise RuntimeError("stdiolinkd did not say it was listening in time")
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.stop()
                    raise RuntimeError("stdiolinkd exited at start; see " + self.log_path)
                buf += chunk
        return buf.split(b"\n", 1)[0]

    def _drain(self):
        while self.proc.stdout.read(4096):
            pass

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log("stdiolinkd pid %d did not stop in 20 s: SIGKILL" % self.proc.pid)
            self.proc.kill()
            self.proc.wait(timeout=10)

    def status(self):
        api = Api(self.port)
        try:
            return api.json("GET", "/api/server/status")[1]
        finally:
            api.close()

    def metrics(self):
        api = Api(self.port)
        try:
            text = api.request("GET", "/metrics")[1].decode()
        finally:
            api.close()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def wait_idle(self, timeout=15):
        """Until no instance is running or starting (bounded)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.status()["counts"]["instances"]["total"] == 0:
                return True
            time.sleep(0.1)
        return False


def scan_async(api):
    """POST /api/drivers/scan in async mode: the job id."""
    status, body = api.json("POST", "/api/drivers/scan", headers={"Prefer": "respond-async"})
    if status != 202:
        raise RuntimeError("POST /api/drivers/scan answered %s: %r" % (status, body))
    return body["jobId"]


def job_ended(job):
    return job is not None and job["status"] not in ("queued", "running")


def wait_job(api, job_id, timeout):
    """GET /api/jobs/<id> every JOB_POLL_S until it has ended: the job, and when it was seen
    ended (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while True:
        job = api.json("GET", "/api/jobs/" + job_id)[1]
        now = time.perf_counter()
        if job_ended(job):
            return job, now
        if now > deadline:
            raise RuntimeError("job %s did not end in %.0f s" % (job_id, timeout))
        time.sleep(JOB_POLL_S)


def job_seconds(job):
    """finishedAt - startedAt of a job (millisecond resolution), or None."""
    if not job.get("startedAt") or not job.get("finishedAt"):
        return None
    return parse_ts(job["finishedAt"]) - parse_ts(job["startedAt"])


def scan_failures(job, count):
    """Drivers of a scan job that were not loaded: failures listed or not counted updated."""
    listed = len(job.get("failures") or [])
    updated = (job.get("result") or {}).get("updated", 0)
    return max(listed, count - updated)


class LagWatch:
    """The worst main-loop lag during a `with` block.

    maxLagMs is the worst since the daemon started, so a phase's own worst is read from the
    last probe value (lagMs), polled faster than the daemon probes; if maxLagMs rose during
    the phase, the new maximum belongs to the phase.
    """

    def __init__(self, port):
        self.port = port
        self.stop_event = threading.Event()
        self.sampled = 0.0
        self.max_before = 0.0
        self.max_ms = None
        self.thread = None

    def __enter__(self):
        api = Api(self.port)
        self.max_before = api.json("GET", "/api/server/status")[1]["mainLoop"]["maxLagMs"]
        api.close()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        api = Api(self.port)
        while not self.stop_event.wait(LAG_POLL_S):
            try:
                body = api.json("GET", "/api/server/status")[1]
            except (OSError, http.client.HTTPException, ValueError):
                continue
            self.sampled = max(self.sampled, body["mainLoop"]["lagMs"])
        api.close()

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=15)
        api = Api(self.port)
        loop = api.json("GET", "/api/server/status")[1]["mainLoop"]
        api.close()
        self.sampled = max(self.sampled, loop["lagMs"])
        risen = loop["maxLagMs"] if loop["maxLagMs"] > self.max_before else 0.0
        self.max_ms = max(self.sampled, risen)
        return False


# ---- load generators ----------------------------------------------------------------------


def run_wrk(port):
    url = "http://127.0.0.1:%d/api/server/status" % port
    out = subprocess.run(
        ["wrk", "-t2", "-c%d" % WRK_CONNECTIONS, "-d%ds" % WRK_SECONDS, "--latency", url],
        capture_output=True, text=True, timeout=WRK_SECONDS + 30, check=True).stdout
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(label):
        match = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        return float(match.group(1)) * units[match.group(2)] if match else None

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)",
                    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"):
        match = re.search(pattern, out)
        if match:
            errors += sum(int(g) for g in match.groups())
    return {"rps": float(rps.group(1)) if rps else None, "p50": latency("50%"),
            "p99": latency("99%"), "errors": errors}


def probe_main(port, rate, seconds, until_eof=False):
    """Child process: GET /api/server/status at a fixed rate on one connection.

    A request that could not leave on time because the previous one was late is timed from
    when it should have left, so a stall is not hidden (no coordinated omission). With
    until_eof it also stops when its stdin ends: the parent closes it when the work being
    measured is over.
    """
    api = Api(port)
    interval = 1.0 / rate
    latencies = []
    errors = 0
    stop = None
    if until_eof:
        stop = selectors.DefaultSelector()
        stop.register(sys.stdin.fileno(), selectors.EVENT_READ)
    began = time.perf_counter()
    previous_done = began
    for i in range(int(rate * seconds)):
        scheduled = began + i * interval
        if stop is None:
            sleep_until(scheduled)
        elif stop.select(max(0.0, scheduled - time.perf_counter())):
            break
        sent = time.perf_counter()
        try:
            status, _ = api.request("GET", "/api/server/status")
        except (OSError, http.client.HTTPException):
            errors += 1
            continue
        done = time.perf_counter()
        if status != 200:
            errors += 1
        origin = scheduled if previous_done > scheduled else sent
        latencies.append((done - origin) * 1000.0)
        previous_done = done
    api.close()
    json.dump({"latencies": latencies, "errors": errors}, sys.stdout)


def run_probe(port, until=None):
    """The paced probe for PROBE_SECONDS or, with until, for as long as until() (called here
    while the probe runs) takes, at most PROBE_MAX_SECONDS."""
    command = [sys.executable, os.path.abspath(__file__), "probe", str(port), str(PROBE_RATE)]
    if until is None:
        out = subprocess.run(command + [str(PROBE_SECONDS)], capture_output=True, text=True,
                             timeout=PROBE_SECONDS + 60, check=True).stdout
    else:
        proc = subprocess.Popen(command + [str(PROBE_MAX_SECONDS), "until-eof"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            until()
        finally:
            # closing its stdin tells the probe to stop
            try:
                out = proc.communicate(timeout=60)[0]
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
        if proc.returncode != 0:
            raise RuntimeError("the latency probe exited with %d" % proc.returncode)
    result = json.loads(out)
    return {"p50": percentile(result["latencies"], 50),
            "p99": percentile(result["latencies"], 99), "errors": result["errors"],
            "count": len(result["latencies"])}


class Churn(threading.Thread):
    """CHURN_RATE starts and as many stops per second over CHURN_PROJECTS projects."""

    def __init__(self, port, seconds):
        super().__init__(daemon=True)
        self.port = port
        self.seconds = seconds
        self.starts = 0
        self.stops = 0
        self.refused = 0
        self.elapsed = 0.0

    def run(self):
        api = Api(self.port)
        ids = churn_ids()
        tick = 1.0 / CHURN_RATE
        began = time.perf_counter()
        for k in range(int(self.seconds * CHURN_RATE)):
            sleep_until(began + k * tick)
            if k >= CHURN_LIFETIME_TICKS:
                self._call(api, "stop", ids[(k - CHURN_LIFETIME_TICKS) % len(ids)])
            self._call(api, "start", ids[k % len(ids)])
        self.elapsed = time.perf_counter() - began
        for project_id in ids:
            api.request("POST", "/api/projects/%s/stop" % project_id)
        api.close()

    def _call(self, api, verb, project_id):
        try:
            status, _ = api.request("POST", "/api/projects/%s/%s" % (project_id, verb))
        except (OSError, http.client.HTTPException):
            status = None
        if status in (200, 202):
            if verb == "start":
                self.starts += 1
            else:
                self.stops += 1
        else:
            self.refused += 1


# ---- server-sent events -------------------------------------------------------------------


class Subscriber:
    def __init__(self, sock, chunked, leftover):
        self.sock = sock
        self.chunked = chunked
        self.raw = b""
        self.need = None  # bytes left in the current chunk, None while reading a size line
        self.text = b""
        self.closed_at = None
        self.events = {}  # (type, instanceId) -> receive time (epoch seconds)
        self.feed(leftover, time.time())

    def feed(self, data, now):
        if self.chunked:
            self.raw += data
            self._dechunk()
        else:
            self.text += data
        while b"\n\n" in self.text:
            block, self.text = self.text.split(b"\n\n", 1)
            self._event(block, now)

    def _dechunk(self):
        while True:
            if self.need is None:
                end = self.raw.find(b"\r\n")
                if end < 0:
                    return
                self.need = int(self.raw[:end].split(b";")[0], 16)
                self.raw = self.raw[end + 2:]
            if len(self.raw) < self.need + 2:
                return
            self.text += self.raw[:self.need]
            self.raw = self.raw[self.need + 2:]
            self.need = None

    def _event(self, block, now):
        kind = None
        data = None
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                kind = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data = json.loads(line[5:].strip())
        if kind is not None and isinstance(data, dict):
            self.events.setdefault((kind, data.get("instanceId")), now)


class SseHub(threading.Thread):
    """Subscribers of GET /api/events/stream, all read by one selector thread."""

    def __init__(self, port, count, event_filter="instance"):
        super().__init__(daemon=True)
        self.port = port
        self.subscribers = []
        self.available = True
        self.stop_event = threading.Event()
        self.selector = selectors.DefaultSelector()
        for _ in range(count):
            sub = self._subscribe(event_filter)
            if sub is None:
                self.available = False
                break
            self.subscribers.append(sub)
            self.selector.register(sub.sock, selectors.EVENT_READ, sub)

    def _subscribe(self, event_filter):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(("GET /api/events/stream?filter=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                      "Accept: text/event-stream\r\n\r\n" % (event_filter, self.port)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, leftover = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.0 200"):
            sock.close()
            return None
        sock.setblocking(False)
        chunked = re.search(rb"(?im)^transfer-encoding:\s*chunked", head) is not None
        return Subscriber(sock, chunked, leftover)

    def run(self):
        while not self.stop_event.is_set():
            for key, _ in self.selector.select(0.05):
                sub = key.data
                try:
                    data = sub.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                now = time.time()
                if not data:
                    sub.closed_at = now
                    self.selector.unregister(sub.sock)
                    continue
                sub.feed(data, now)

    def open_subscribers(self):
        return [s for s in self.subscribers if s.closed_at is None]

    def close(self):
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
        for sub in self.subscribers:
            sub.sock.close()
        self.selector.close()


def fire_starts(api, count, rate):
    """count starts of the fast projects at a fixed rate: {instanceId: send time}."""
    ids = fast_ids()
    sent = {}
    refused = 0
    began = time.perf_counter()
    for i in range(count):
        sleep_until(began + i / rate)
        when = time.time()
        try:
            status, body = api.json("POST", "/api/projects/%s/start" % ids[i % len(ids)])
        except (OSError, http.client.HTTPException, ValueError):
            status = None
        if status == 202:
            sent[body["instanceId"]] = when
        else:
            refused += 1
    return sent, refused


def wait_for(predicate, timeout):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---- phases -------------------------------------------------------------------------------


def phase_status_throughput(daemon, result):
    overflows = tcp_ext("ListenOverflows")
    with LagWatch(daemon.port) as lag:
        wrk = run_wrk(daemon.port)
    if overflows is not None:
        result["wrk_overflows"] = tcp_ext("ListenOverflows") - overflows
    result["wrk_rps"] = wrk["rps"]
    result["wrk_p50"] = wrk["p50"]
    result["wrk_p99"] = wrk["p99"]
    result["wrk_errors"] = wrk["errors"]
    result["lag_wrk"] = lag.max_ms


def phase_idle_and_churn(daemon, result):
    with LagWatch(daemon.port) as lag:
        idle = run_probe(daemon.port)
    result["idle_p50"] = idle["p50"]
    result["idle_p99"] = idle["p99"]
    result["lag_idle"] = lag.max_ms

    churn = Churn(daemon.port, PROBE_SECONDS + 1)
    with LagWatch(daemon.port) as lag:
        churn.start()
        # the probe starts once the churn has reached its steady state (instances alive)
        time.sleep(CHURN_LIFETIME_TICKS / CHURN_RATE)
        busy = run_probe(daemon.port)
        churn.join(timeout=60)
    result["churn_p50"] = busy["p50"]
    result["churn_p99"] = busy["p99"]
    result["probe_errors"] = idle["errors"] + busy["errors"]
    result["churn_starts_per_s"] = churn.starts / churn.elapsed if churn.elapsed else None
    # stops begin CHURN_LIFETIME_TICKS after the first start
    steady = churn.elapsed - CHURN_LIFETIME_TICKS / CHURN_RATE
    result["churn_stops_per_s"] = churn.stops / steady if steady > 0 else None
    result["churn_refused"] = churn.refused
    result["lag_churn"] = lag.max_ms
    daemon.wait_idle()


def phase_scan_latency(daemon, args, result):
    """The paced probe from the submission of a scan of SCAN_LOAD_DRIVERS slow drivers until
    the job has ended."""
    make_drivers(daemon.root, args.export_driver, SCAN_LOAD_DRIVERS, SCAN_LOAD_EXPORT_MS)
    api = Api(daemon.port)
    ended = {}

    def until_scanned():
        job_id = scan_async(api)
        timeout = SCAN_LOAD_DRIVERS * SCAN_LOAD_EXPORT_MS / 1000.0 + 60
        ended["job"] = wait_job(api, job_id, timeout)[0]

    with LagWatch(daemon.port) as lag:
        probe = run_probe(daemon.port, until_scanned)
    api.close()
    job = ended["job"]
    result["scan_p50"] = probe["p50"]
    result["scan_p99"] = probe["p99"]
    result["scan_probe_requests"] = probe["count"]
    result["probe_errors"] = result.get("probe_errors", 0) + probe["errors"]
    result["scan_load_wall_s"] = job_seconds(job)
    result["scan_load_serial_s"] = SCAN_LOAD_DRIVERS * SCAN_LOAD_EXPORT_MS / 1000.0
    result["scan_load_failures"] = scan_failures(job, SCAN_LOAD_DRIVERS)
    result["scan_load_at_once"] = most_exports_at_once(daemon.root)
    result["lag_scan"] = lag.max_ms
    result["lag_scan_load"] = lag.max_ms


def phase_scan_wall(daemon, args, result):
    """Wall time of a scan of each of SCAN_SIZES drivers, one at a time."""
    api = Api(daemon.port)
    for count in SCAN_SIZES:
        make_drivers(daemon.root, args.export_driver, count, SCAN_EXPORT_MS)
        with LagWatch(daemon.port) as lag:
            began = time.perf_counter()
            job_id = scan_async(api)
            job, seen = wait_job(api, job_id, count * SCAN_EXPORT_MS / 1000.0 + 60)
        wall = job_seconds(job)
        result["scan%d_wall_s" % count] = wall if wall is not None else seen - began
        result["scan%d_serial_s" % count] = count * SCAN_EXPORT_MS / 1000.0
        result["scan%d_failures" % count] = scan_failures(job, count)
        result["scan%d_at_once" % count] = most_exports_at_once(daemon.root)
        result["lag_scan%d" % count] = lag.max_ms
    api.close()


def phase_start_latency(daemon, result):
    api = Api(daemon.port)
    hub = SseHub(daemon.port, 1)
    with LagWatch(daemon.port) as lag:
        if hub.available:
            hub.start()
        sent, refused = fire_starts(api, START_COUNT, START_RATE)
        sub = hub.subscribers[0] if hub.available else None

        def all_seen():
            if sub is not None:
                return all(("instance.started", i) in sub.events for i in sent)
            logged = read_event_log(daemon.root)
            return all(("instance.started", i) in logged for i in sent)

        wait_for(all_seen, 5)
    hub.close()
    api.close()
    if sub is not None:
        seen = sub.events
        result["start_via"] = "SSE"
    else:
        # no stream: the event log's publish time (1 ms resolution) stands in for delivery
        seen = read_event_log(daemon.root)
        result["start_via"] = "events.jsonl"
    latencies = [(seen[("instance.started", i)] - t) * 1000.0
                 for i, t in sent.items() if ("instance.started", i) in seen]
    result["start_p50"] = percentile(latencies, 50)
    result["start_p99"] = percentile(latencies, 99)
    result["start_missing"] = len(sent) - len(latencies) + refused
    result["lag_start"] = lag.max_ms
    daemon.wait_idle()


def phase_fanout(daemon, result):
    api = Api(daemon.port)
    hub = SseHub(daemon.port, FANOUT_SUBSCRIBERS)
    if not hub.available:
        hub.close()
        api.close()
        result["sse"] = False
        return
    result["sse"] = True
    with LagWatch(daemon.port) as lag:
        hub.start()
        # let evictions (if the daemon caps the streams) be seen before the events
        time.sleep(0.5)
        kept = hub.open_subscribers()
        sent, _ = fire_starts(api, FANOUT_STARTS, START_RATE)
        wait_for(lambda: daemon.status()["counts"]["instances"]["total"] == 0, 10)
        logged = {k: t for k, t in read_event_log(daemon.root).items() if k[1] in sent}
        wait_for(lambda: all(k in s.events for s in kept for k in logged), 3)
    hub.close()
    metrics = daemon.metrics()
    api.close()

    latencies = []
    spreads = {}
    lost = 0
    for sub in kept:
        for key, published in logged.items():
            received = sub.events.get(key)
            if received is None:
                lost += 1
                continue
            latencies.append((received - published) * 1000.0)
            spreads.setdefault(key, []).append(received)
    spread = [(max(v) - min(v)) * 1000.0 for v in spreads.values()]
    result["fan_kept"] = len(kept)
    result["fan_evicted"] = FANOUT_SUBSCRIBERS - len(kept)
    result["fan_events"] = len(logged)
    result["fan_p50"] = percentile(latencies, 50)
    result["fan_p99"] = percentile(latencies, 99)
    result["fan_spread_p99"] = percentile(spread, 99)
    result["fan_lost"] = lost
    result["fan_dropped_metric"] = metrics.get("stdiolinkd_events_dropped_total")
    result["lag_fanout"] = lag.max_ms
    daemon.wait_idle()


def startup_services_scan(api, timeout):
    """The start-up services.scan job (it loads the data root) once it has ended, or None.

    The figure is the job's finishedAt, so the polling can be slow: requests every few ms
    slowed the load on 2 cores (1,000 projects: ~90 ms instead of ~30 ms).
    """
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        time.sleep(JOB_POLL_S)
        jobs = api.json("GET", "/api/jobs?kind=services.scan")[1]["jobs"]
        if jobs and job_ended(jobs[0]):
            return jobs[0]
    return None


def phase_startup(exe, root, work, label, result):
    daemon = Daemon(exe, root, os.path.join(work, "stdiolinkd-%s.log" % label)).start()
    try:
        api = Api(daemon.port)
        job = startup_services_scan(api, 30)
        api.close()
        if job is not None and job["status"] == "succeeded":
            # finishedAt is truncated to the millisecond: up to 1 ms low
            loaded_s = parse_ts(job["finishedAt"]) - daemon.began_wall
            result["loaded_%s_ms" % label] = loaded_s * 1000.0
        else:
            log("%s: the start-up services scan did not succeed in 30 s: %r" % (label, job))
        expected = len(os.listdir(os.path.join(root, "projects")))
        loaded = wait_for(
            lambda: daemon.status()["counts"]["projects"]["total"] >= expected, 30)
        # let the start-up work settle before reading the memory
        time.sleep(0.5)
        result["startup_%s_ms" % label] = daemon.startup_s * 1000.0
        result["rss_%s_mib" % label] = vm_rss_kib(daemon.proc.pid) / 1024.0
        result["lag_startup_%s" % label] = daemon.status()["mainLoop"]["maxLagMs"]
        if not loaded:
            log("%s: not every project was loaded in 30 s" % label)
    finally:
        daemon.stop()


def one_run(args, work, n):
    root = os.path.join(work, "run-%d" % n)
    projects = {p: 60000 for p in churn_ids()}
    projects.update({p: 20 for p in fast_ids()})
    config = {}
    if args.scan_parallelism is not None:
        config["scanParallelism"] = args.scan_parallelism
    make_root(root, args.fake_service, projects, config)
    result = {}
    daemon = Daemon(args.daemon, root, os.path.join(work, "stdiolinkd-run-%d.log" % n)).start()
    try:
        time.sleep(0.5)
        log("run %d: status throughput (wrk)" % n)
        phase_status_throughput(daemon, result)
        log("run %d: API latency idle and during churn" % n)
        phase_idle_and_churn(daemon, result)
        log("run %d: API latency during a scan of %d drivers (%d ms export)"
            % (n, SCAN_LOAD_DRIVERS, SCAN_LOAD_EXPORT_MS))
        phase_scan_latency(daemon, args, result)
        log("run %d: start to instance.started" % n)
        phase_start_latency(daemon, result)
        log("run %d: SSE fan-out" % n)
        phase_fanout(daemon, result)
        log("run %d: driver scans of %s drivers (%d ms export)"
            % (n, ", ".join(str(c) for c in SCAN_SIZES), SCAN_EXPORT_MS))
        phase_scan_wall(daemon, args, result)
    finally:
        daemon.stop()
    log("run %d: start-up, empty and %d projects" % (n, MANY_PROJECTS))
    phase_startup(args.daemon, args.empty_root, work, "empty", result)
    phase_startup(args.daemon, args.many_root, work, "many", result)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return result


# ---- report -------------------------------------------------------------------------------


def median_of(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def fmt(value, unit, digits):
    if value is None:
        return "n/a"
    return ("%.*f %s" % (digits, value, unit)).rstrip()


def line(label, runs, key, unit, digits=2):
    med, lo, hi = median_of(runs, key)
    if med is None:
        print("  %-48s %s" % (label, "n/a"))
        return
    spread = "" if len(runs) < 2 else "   [%s .. %s]" % (fmt(lo, "", digits), fmt(hi, "", digits))
    print("  %-48s %s%s" % (label, fmt(med, unit, digits), spread))


def ratio(label, runs, top_key, bottom_key):
    top = median_of(runs, top_key)[0]
    bottom = median_of(runs, bottom_key)[0]
    if top is None or not bottom:
        print("  %-48s n/a" % label)
        return
    print("  %-48s %.2f x" % (label, top / bottom))


def text_line(label, text):
    print("  %-48s %s" % (label, text))


def machine_header(args, runs_wanted):
    cores = os.cpu_count()
    model = ""
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        for row in f:
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as f:
        mem_kib = int(f.readline().split()[1])
    try:
        with open("/etc/debian_version", encoding="ascii") as f:
            distro = "Debian " + f.read().strip()
    except OSError:
        distro = platform.system()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    wrk = wrk.split("[")[0].strip() or "wrk"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print("stdiolinkd benchmark, %s" % now)
    print("cores: %d" % cores)
    print("machine: %s, %.1f GiB RAM, %s, Linux %s" % (model, mem_kib / 1048576.0, distro,
                                                       platform.release()))
    print("daemon: %s (%s); tools: %s, Python %s" % (args.daemon, args.buildtype, wrk,
                                                     platform.python_version()))
    print("load average before the run: %s" % " ".join(args.load))
    print("runs: %d; each figure is the median of the runs, [min .. max] after it"
          % runs_wanted)


def scan_parallelism(args):
    """The exports a scan runs at once, and where that number comes from."""
    if args.scan_parallelism:
        return args.scan_parallelism, "scanParallelism in config.json"
    # g_get_num_processors() counts the processors this process may run on
    processors = len(os.sched_getaffinity(0))
    return 2 * processors, "the daemon's default, twice its %d processors" % processors


def report_scan(runs, key, count, export_s, parallelism):
    head = "%d drivers (%g s): " % (count, export_s)
    line(head + "wall time", runs, key + "_wall_s", "s")
    text_line(head + "serial sum (%d x %g s)" % (count, export_s), fmt(count * export_s, "s", 2))
    ratio(head + "ratio wall time / serial sum", runs, key + "_wall_s", key + "_serial_s")
    text_line(head + "lower bound at parallelism %d" % parallelism,
              fmt(math.ceil(count / parallelism) * export_s, "s", 2))
    line(head + "exports at once, most seen", runs, key + "_at_once", "", 0)
    line(head + "drivers not loaded, per run", runs, key + "_failures", "", 0)
    line(head + "max main-loop lag", runs, "lag_" + key, "ms")


def report_scans(runs, args):
    parallelism, why = scan_parallelism(args)
    print("Driver scans: POST /api/drivers/scan (Prefer: respond-async), export of N s per "
          "driver; wall time is the job's startedAt to finishedAt")
    text_line("parallelism", "%d (%s)" % (parallelism, why))
    for count in SCAN_SIZES:
        report_scan(runs, "scan%d" % count, count, SCAN_EXPORT_MS / 1000.0, parallelism)
    # the scan the API p99 above was measured against
    report_scan(runs, "scan_load", SCAN_LOAD_DRIVERS, SCAN_LOAD_EXPORT_MS / 1000.0,
                parallelism)


def report(runs, args, runs_wanted, seconds):
    machine_header(args, runs_wanted)
    print()
    print("GET /api/server/status at %d connections (wrk -t2 -c%d -d%ds)"
          % (WRK_CONNECTIONS, WRK_CONNECTIONS, WRK_SECONDS))
    line("throughput", runs, "wrk_rps", "req/s", 0)
    line("latency p50", runs, "wrk_p50", "ms")
    line("latency p99", runs, "wrk_p99", "ms")
    line("errors (non-2xx and socket), per run", runs, "wrk_errors", "", 0)
    line("kernel listen-queue overflows, per run", runs, "wrk_overflows", "", 0)
    line("max main-loop lag", runs, "lag_wrk", "ms")
    print()
    print("API p99: GET /api/server/status, %d req/s paced on one connection, %d s "
          "(during the scan: until its job ended)" % (PROBE_RATE, PROBE_SECONDS))
    line("idle p50", runs, "idle_p50", "ms")
    line("idle p99", runs, "idle_p99", "ms")
    line("during churn p50", runs, "churn_p50", "ms")
    line("during churn p99", runs, "churn_p99", "ms")
    ratio("ratio churn p99 / idle p99", runs, "churn_p99", "idle_p99")
    line("churn achieved: starts", runs, "churn_starts_per_s", "/s", 1)
    line("churn achieved: stops", runs, "churn_stops_per_s", "/s", 1)
    line("churn requests refused, per run", runs, "churn_refused", "", 0)
    line("probe errors, per run", runs, "probe_errors", "", 0)
    scan_label = "during a scan of %d drivers (%g s export)" % (SCAN_LOAD_DRIVERS,
                                                                 SCAN_LOAD_EXPORT_MS / 1000.0)
    line(scan_label + " p50", runs, "scan_p50", "ms")
    line(scan_label + " p99", runs, "scan_p99", "ms")
    ratio("ratio scan p99 / idle p99", runs, "scan_p99", "idle_p99")
    line("requests probed during the scan, per run", runs, "scan_probe_requests", "", 0)
    line("max main-loop lag, idle", runs, "lag_idle", "ms")
    line("max main-loop lag, churn", runs, "lag_churn", "ms")
    line("max main-loop lag, scan", runs, "lag_scan", "ms")
    print()
    via = runs[0].get("start_via", "SSE") if runs else "SSE"
    print("POST /api/projects/<id>/start to instance.started (via %s), %d starts at %d/s"
          % (via, START_COUNT, START_RATE))
    line("p50", runs, "start_p50", "ms")
    line("p99", runs, "start_p99", "ms")
    line("starts refused or never started, per run", runs, "start_missing", "", 0)
    line("max main-loop lag", runs, "lag_start", "ms")
    print()
    print("Start-up (process start to the \"listening\" line, and to the start-up services "
          "scan job's finishedAt: data root loaded) and resident memory")
    line("to listening, empty data root", runs, "startup_empty_ms", "ms", 1)
    line("to listening, %d projects" % MANY_PROJECTS, runs, "startup_many_ms", "ms", 1)
    ratio("ratio %d projects / empty" % MANY_PROJECTS, runs, "startup_many_ms",
          "startup_empty_ms")
    line("to data root loaded, empty data root", runs, "loaded_empty_ms", "ms", 1)
    line("to data root loaded, %d projects" % MANY_PROJECTS, runs, "loaded_many_ms", "ms", 1)
    ratio("ratio %d projects / empty" % MANY_PROJECTS, runs, "loaded_many_ms",
          "loaded_empty_ms")
    line("VmRSS, empty data root", runs, "rss_empty_mib", "MiB", 1)
    line("VmRSS, %d projects" % MANY_PROJECTS, runs, "rss_many_mib", "MiB", 1)
    ratio("ratio %d projects / empty" % MANY_PROJECTS, runs, "rss_many_mib", "rss_empty_mib")
    line("max main-loop lag since start, empty", runs, "lag_startup_empty", "ms")
    line("max main-loop lag since start, %d projects" % MANY_PROJECTS, runs,
         "lag_startup_many", "ms")
    print()
    print("SSE fan-out: %d subscribers, %d starts at %d/s" % (FANOUT_SUBSCRIBERS,
                                                               FANOUT_STARTS, START_RATE))
    if runs and not runs[0].get("sse"):
        text_line("all figures", "n/a (GET /api/events/stream answered 404)")
    else:
        line("subscribers kept open by the daemon", runs, "fan_kept", "", 0)
        line("subscribers closed by the daemon", runs, "fan_evicted", "", 0)
        line("events published per run", runs, "fan_events", "", 0)
        line("delivery latency p50 (publish ts to read)", runs, "fan_p50", "ms")
        line("delivery latency p99 (publish ts to read)", runs, "fan_p99", "ms")
        line("spread first to last subscriber p99", runs, "fan_spread_p99", "ms")
        line("events lost by kept subscribers, per run", runs, "fan_lost", "", 0)
        line("daemon's events_dropped_total, per run", runs, "fan_dropped_metric", "", 0)
        line("max main-loop lag", runs, "lag_fanout", "ms")
    print()
    report_scans(runs, args)
    print()
    print("total run time: %.0f s" % seconds)


# ---- main ---------------------------------------------------------------------------------


def buildtype(build_dir):
    try:
        out = subprocess.run(["meson", "introspect", "--buildoptions", build_dir],
                             capture_output=True, text=True, timeout=60).stdout
        for option in json.loads(out):
            if option["name"] == "buildtype":
                return "buildtype " + option["value"]
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return "buildtype unknown"


def main():
    if len(sys.argv) in (5, 6) and sys.argv[1] == "probe":
        probe_main(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]),
                   sys.argv[5:] == ["until-eof"])
        return 0

    parser = argparse.ArgumentParser(description="Benchmark stdiolinkd (use bench/run).")
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data roots")
    parser.add_argument("--scan-parallelism", type=int, metavar="N",
                        help="scanParallelism in the daemon's config.json (default: unset, "
                             "the daemon then runs twice its processor count)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    if args.scan_parallelism is not None and not 0 <= args.scan_parallelism <= 1024:
        parser.error("--scan-parallelism must be between 0 and 1024")
    args.daemon = os.path.join(args.build_dir, "stdiolinkd", "stdiolinkd")
    args.fake_service = os.path.join(args.build_dir, "tests", "sl-test-service")
    args.export_driver = os.path.join(args.build_dir, "tests", "sl-test-export-driver")
    args.buildtype = buildtype(args.build_dir)
    for path in (args.daemon, args.fake_service, args.export_driver):
        if not os.access(path, os.X_OK):
            parser.error("not built: " + path)

    with open("/proc/loadavg", encoding="ascii") as f:
        args.load = f.read().split()[:3]
    began = time.perf_counter()
    work = tempfile.mkdtemp(prefix="stdiolink-bench-")
    args.empty_root = os.path.join(work, "empty")
    args.many_root = os.path.join(work, "many")
    make_root(args.empty_root, args.fake_service, {})
    make_root(args.many_root, args.fake_service,
              {"p%04d" % i: 0 for i in range(MANY_PROJECTS)})
    runs = []
    try:
        for n in range(1, args.runs + 1):
            runs.append(one_run(args, work, n))
    finally:
        if args.keep:
            log("data roots and daemon logs kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(runs, args, args.runs, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
