#!/usr/bin/python3
"""Fault injection and load checks for stdiolinkd, started by bench/fault-inject.

1. Saves under fire: project updates (PUT) and service file writes (PUT files/content)
   run back to back while the daemon is killed with SIGKILL at random moments. After every
   kill the files on disk must each be one whole version that was sent: never partial,
   never mixed. The daemon is restarted and the round repeats until enough saves were
   attempted.
2. Load: many concurrent clients send a fixed number of requests; every answer must be a
   200.

Every daemon runs on 127.0.0.1 with --port=0 in a temporary data root, is stopped by its
pid, and every loop is bounded in count and time.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SCHEMA = {"n": {"type": "int", "default": 0}, "text": {"type": "string", "default": ""}}
MANIFEST = {"manifestVersion": "1", "id": "svc", "name": "Fault target", "version": "1",
            "runtime": "exec", "entry": "run"}


def log(text):
    print("fault-inject: " + text, file=sys.stderr, flush=True)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_root():
    root = tempfile.mkdtemp(prefix="stdiolink-fault-")
    write(os.path.join(root, "services/svc/manifest.json"), json.dumps(MANIFEST))
    write(os.path.join(root, "services/svc/config.schema.json"), json.dumps(SCHEMA))
    write(os.path.join(root, "services/svc/run"), "#!/bin/sh\nexit 0\n", 0o755)
    write(os.path.join(root, "services/svc/data.txt"), file_version(0))
    write(os.path.join(root, "projects/p/config.json"),
          json.dumps({"id": "p", "name": "p", "serviceId": "svc"}))
    write(os.path.join(root, "projects/p/param.json"), json.dumps(project_config(0)))
    return root


def project_config(k):
    # sizes vary so that a torn write would show as a short or unparsable file
    return {"n": k, "text": "x" * (k * 7919 % 60000)}


def file_version(k):
    body = ("line %d of version %d\n" % (0, k)) * (k * 104729 % 4000)
    return "version %d\n%send %d\n" % (k, body, k)


class Daemon:
    def __init__(self, binary, root):
        self.proc = subprocess.Popen([binary, "--data-root=" + root, "--port=0",
                                      "--log-level=warn"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if "listening on http://" not in line:
            raise RuntimeError("daemon did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port, method, path, body=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def writer(port, kind, counter, stop, sent):
    """Saves as fast as answers come; records every version it sent."""
    while not stop.is_set():
        k = next(counter)
        sent.add(k)
        try:
            if kind == "project":
                request(port, "PUT", "/api/projects/p",
                        {"name": "p", "serviceId": "svc", "config": project_config(k)})
            else:
                request(port, "PUT", "/api/services/svc/files/content?path=data.txt",
                        {"content": file_version(k)})
        except (OSError, http.client.HTTPException):
            return  # the daemon was killed under us


def check_project(root, sent):
    path = os.path.join(root, "projects/p/param.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return "param.json unreadable: %s" % e
    k = data.get("n")
    if k not in sent or data != project_config(k):
        return "param.json is not a version that was sent (n=%r)" % k
    try:
        with open(os.path.join(root, "projects/p/config.json")) as f:
            json.load(f)
    except (OSError, ValueError) as e:
        return "config.json unreadable: %s" % e
    return None


def check_file(root, sent):
    with open(os.path.join(root, "services/svc/data.txt")) as f:
        text = f.read()
    first = text.split("\n", 1)[0]
    try:
        k = int(first.split(" ")[1])
    except (IndexError, ValueError):
        return "data.txt has no version header: %r" % first[:40]
    if k not in sent or text != file_version(k):
        return "data.txt is not a whole version (header says %d)" % k
    return None


def leftovers(root):
    found = []
    for base, _dirs, files in os.walk(root):
        for name in files:
            if ".tmp" in name or ".bak." in name or (name.startswith(".") and
                                                    not name.endswith(".lock")):
                found.append(os.path.join(base, name))
    return found


def saves_under_fire(binary, target, seconds):
    root = make_root()
    counter = iter(range(1, 10 ** 9))
    sent_projects = {0}
    sent_files = {0}
    kills = 0
    damaged = []
    deadline = time.monotonic() + seconds
    try:
        while len(sent_projects) + len(sent_files) < target and time.monotonic() < deadline:
            daemon = Daemon(binary, root)
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(daemon.port, kind, counter, stop,
                                                               sent))
                       for kind, sent in (("project", sent_projects), ("file", sent_files))]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.05, 0.4))
            daemon.kill()
            kills += 1
            stop.set()
            for t in threads:
                t.join(timeout=15)
            for problem in (check_project(root, sent_projects), check_file(root, sent_files)):
                if problem:
                    damaged.append("after kill %d: %s" % (kills, problem))
        return {"saves attempted": len(sent_projects) + len(sent_files) - 2,
                "kills": kills, "damaged files": damaged,
                "leftover temporary files": len(leftovers(root))}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def load(binary, clients, total, seconds):
    root = make_root()
    daemon = Daemon(binary, root)
    per_client = total // clients
    errors = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(i):
        paths = ["/api/server/status", "/api/projects", "/api/services/svc",
                 "/api/projects/p", "/api/instances"]
        for j in range(per_client):
            if time.monotonic() > deadline:
                with lock:
                    errors.append("time limit reached")
                return
            path = paths[(i + j) % len(paths)]
            try:
                status = request(daemon.port, "GET", path, timeout=30)
                if status != 200:
                    with lock:
                        errors.append("%s -> %d" % (path, status))
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append("%s -> %s" % (path, e))

    started = time.monotonic()
    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        return {"clients": clients, "requests": per_client * clients,
                "errors": len(errors), "first errors": errors[:5],
                "wall time s": round(elapsed, 2)}
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=10000)
    args = parser.parse_args()

    log("saves under SIGKILL: %d saves" % args.saves)
    fire = saves_under_fire(args.daemon, args.saves, seconds=240)
    log("load: %d clients, %d requests" % (args.clients, args.requests))
    loaded = load(args.daemon, args.clients, args.requests, seconds=240)

    print("saves under SIGKILL")
    print("  saves attempted              %d" % fire["saves attempted"])
    print("  daemon kills                 %d" % fire["kills"])
    print("  damaged files                %d" % len(fire["damaged files"]))
    for problem in fire["damaged files"][:10]:
        print("    " + problem)
    print("  leftover temporary files     %d" % fire["leftover temporary files"])
    print("concurrent load")
    print("  clients                      %d" % loaded["clients"])
    print("  requests                     %d" % loaded["requests"])
    print("  errors                       %d" % loaded["errors"])
    for problem in loaded["first errors"]:
        print("    " + problem)
    print("  wall time                    %.2f s" % loaded["wall time s"])
    return 1 if fire["damaged files"] or loaded["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
