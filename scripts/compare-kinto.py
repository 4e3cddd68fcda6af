#!/usr/bin/env python3
"""Casebook beside Kinto on the same machine, in one run (issue 22; docs/performance.md, "Beside Kinto").

Kinto (https://kinto.readthedocs.io) is a JSON sync server of Mozilla's with the same job as
casebook-server: records that clients push and pull. This script runs it with its memory backend,
pushes N recommendation-shaped records (the 6 fields `casebook-bench --record-shapes-only` imports:
paragraph, a 130-character text, two states, a response, two themes, a cycle) in batch requests of
1,000, and pulls them back in pages of 1,000 with plain HTTP. Then it runs `casebook-bench
--record-shapes-only --records N` (a real casebook-server and two real replicas) and prints both
side by side. Not part of CI: it needs Kinto, which the tests do not.

    python3 -m venv /tmp/kinto && /tmp/kinto/bin/pip install kinto==26.5.0
    swift build -c release --static-swift-stdlib
    scripts/compare-kinto.py --kinto /tmp/kinto/bin/kinto --bin .build/release [--records 10000] [--runs 3]
"""
import argparse
import base64
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PAGE = 1000
AUTH = "Basic " + base64.b64encode(b"bench:a benchmark password").decode()

INI = """[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.memory
kinto.storage_url =
kinto.cache_backend = kinto.core.cache.memory
kinto.cache_url =
kinto.permission_backend = kinto.core.permission.memory
kinto.permission_url =
kinto.userid_hmac_secret = 0123456789abcdef0123456789abcdef
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated
kinto.batch_max_requests = {page}
kinto.storage_max_fetch_size = {page}

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = WARNING
formatter = generic

[formatter_generic]
format = %(message)s
"""

STATES = [["Maldives", "Portugal"], ["Iran (Islamic Republic of)", "Türkiye"], ["Viet Nam", "Spain"]]
THEMES = [["torture_and_ill_treatment", "justice_and_impunity"], ["international_instruments", "poverty_and_social_security"],
          ["womens_rights", "gender_based_violence"]]
RESPONSES = ["supported", "noted", "supported_in_part"]
WORDS = "the state should ensure that all persons deprived of liberty have access to a lawyer and to independent doctors".split()


def records(count):
    """The same shape and sizes as casebook-bench's recommendations (BenchData.recommendationRecord)."""
    rng = random.Random(7)
    for index in range(count):
        text = "Ratify " + " ".join(rng.choice(WORDS) for _ in range(20))[:120]
        yield "rec-%06d" % index, {
            "paragraph": "%d.%d" % (100 + index // 300, index % 300 + 1), "text": text,
            "recommending_state": STATES[index % 3], "response": RESPONSES[index % 3],
            "themes": THEMES[index % 3], "cycle": 4,
        }


def request(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as answer:
        return json.loads(answer.read() or b"{}"), answer.headers


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kinto_run(kinto, count):
    """One fresh Kinto: (push seconds, pull seconds, records pulled)."""
    folder = tempfile.mkdtemp(prefix="kinto-bench-")
    port = free_port()
    ini = os.path.join(folder, "kinto.ini")
    with open(ini, "w") as out:
        out.write(INI.format(page=PAGE, port=port))
    server = subprocess.Popen([kinto, "start", "--ini", ini], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d/v1" % port
    try:
        for _ in range(300):
            try:
                request(base + "/")
                break
            except OSError:
                time.sleep(0.1)
        request(base + "/buckets/bench", "PUT", {})
        request(base + "/buckets/bench/collections/recommendations", "PUT", {})
        path = "/buckets/bench/collections/recommendations/records"
        batch = []
        start = time.perf_counter()
        for ident, fields in records(count):
            batch.append({"method": "PUT", "path": path + "/" + ident, "body": {"data": fields}})
            if len(batch) == PAGE:
                request(base + "/batch", "POST", {"requests": batch})
                batch = []
        if batch:
            request(base + "/batch", "POST", {"requests": batch})
        push = time.perf_counter() - start
        start = time.perf_counter()
        pulled, url = 0, base + path + "?_limit=%d&_sort=last_modified" % PAGE
        while url:
            body, headers = request(url)
            pulled += len(body["data"])
            url = headers.get("Next-Page")
        pull = time.perf_counter() - start
        return push, pull, pulled
    finally:
        server.terminate()
        server.wait()


def casebook_run(bench_bin, count):
    """One `casebook-bench --record-shapes-only` run: (push seconds, pull seconds)."""
    result = subprocess.run([os.path.join(bench_bin, "casebook-bench"), "--record-shapes-only", "--records", str(count), "--bin", bench_bin],
                            capture_output=True, text=True, check=True)
    times = {}
    for phase in ("push, recommendations", "initial pull, recommendations"):
        line = next(line for line in result.stdout.splitlines() if line.startswith("| " + phase + " |"))
        cell = line.split("|")[3].strip()
        value = float(re.match(r"[\d.]+", cell).group())
        times[phase] = value / 1000 if cell.endswith("ms") else value
    return times["push, recommendations"], times["initial pull, recommendations"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinto", required=True, help="the kinto program (from `pip install kinto==26.5.0`)")
    parser.add_argument("--bin", required=True, help="the folder of a release build of casebook (casebook, casebook-server, casebook-bench)")
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    kinto, casebook = [], []
    for run in range(options.runs):
        push, pull, pulled = kinto_run(options.kinto, options.records)
        if pulled != options.records:
            sys.exit("Kinto gave back %d records of %d" % (pulled, options.records))
        kinto.append((push, pull))
        casebook.append(casebook_run(options.bin, options.records))
        print("run %d: Kinto push %.2f s, pull %.2f s; casebook push %.2f s, pull %.2f s" % ((run + 1,) + kinto[-1] + casebook[-1]), file=sys.stderr)
    n = options.records
    print("| system (%s records of 6 fields, medians of %d runs) | push | records/s | pull | records/s |" % (format(n, ","), options.runs))
    print("|---|---:|---:|---:|---:|")
    for name, runs in (("Kinto 26.5, memory backend, batches and pages of %d" % PAGE, kinto), ("casebook, embedded store, `casebook sync`", casebook)):
        push, pull = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print("| %s | %.2f s | %s | %.2f s | %s |" % (name, push, format(int(n / push), ","), pull, format(int(n / pull), ",")))
    ratios = [(k[0] / c[0], k[1] / c[1]) for k, c in zip(kinto, casebook)]
    print("\ncasebook / Kinto, per run: push %s; pull %s (target: pull at least 5 times Kinto's rate)" % (
        ", ".join("%.1f×" % r[0] for r in ratios), ", ".join("%.1f×" % r[1] for r in ratios)))


if __name__ == "__main__":
    main()
