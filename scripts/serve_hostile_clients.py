#!/usr/bin/env python3
"""Hostile clients for `trainer serve` (dev-only; scripts/serve_load_test.sh runs them with HOSTILE=1, see its header).

    serve_hostile_clients.py CASE --port PORT --pid SERVER_PID --texts TEXTS.jsonl

CASE is one of:
  slow-upload  SLOW uploads (10) that announce 1 MB and trickle it at 2 KB/s, while one normal request after another
               is sent for 20 s: prints the normal requests' status codes and latencies, and what each upload got back.
  abandoned    ABANDONED clients (10) that each post 512 inputs and hang up at once; then one real 1-input request:
               prints its latency and the server's 499 / cancelled counters.
  big-body     16 concurrent requests of BIG_MB (28) MB, then 16 of FIT_MB (12) MB (under --max-request-bytes): their
               status codes, and the server's RSS before, at its peak during, and IDLE_S (8) s after each burst.
Standard library only.
"""
import json
import os
import select
import socket
import sys
import threading
import time
import urllib.request

case = sys.argv[1]
args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
port, pid = int(args["--port"]), int(args["--pid"])
texts = [json.loads(line)["text"] for line in open(args["--texts"], encoding="utf-8") if line.strip()]


def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) / 1024


def post(body, timeout=120):
    """One request on its own connection: (status, seconds, body)."""
    start = time.monotonic()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/embeddings", data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, time.monotonic() - start, response.read()
    except urllib.error.HTTPError as e:
        return e.code, time.monotonic() - start, e.read()
    except OSError as e:  # the server closed the connection before answering
        return f"closed ({e.__class__.__name__})", time.monotonic() - start, b""


def post_raw(body, timeout=600):
    """Like post, but as curl sends a big body: with Expect: 100-continue, so that an early answer (413, 429) comes before
    the body is sent; then the body in 64 KB pieces, reading an early answer as soon as it comes."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                  "Expect: 100-continue\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        try:
            if select.select([s], [], [], 1.0)[0]:
                interim = s.recv(1 << 16)
                if not interim.startswith(b"HTTP/1.1 100"):
                    return int(interim.split()[1]), time.monotonic() - start, interim
            for at in range(0, len(body), 1 << 16):
                if select.select([s], [], [], 0)[0]:
                    break  # the server answered before the body was all sent
                s.sendall(body[at:at + (1 << 16)])
            while chunk := s.recv(1 << 16):
                answer += chunk
        except OSError:
            pass
    line = answer.split(b"\r\n", 1)[0].split()
    return (int(line[1]) if len(line) > 1 else "closed without an answer"), time.monotonic() - start, answer


def metrics():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l and not l.startswith("#")}


def body_of(inputs):
    return json.dumps({"model": "m", "input": inputs}).encode()


def summary(statuses):
    counts = {}
    for s in statuses:
        counts[str(s)] = counts.get(str(s), 0) + 1
    return counts


def slow_upload():
    slow, announced, rate = int(os.environ.get("SLOW", 10)), 1 << 20, 2048
    answers = [None] * slow

    def upload(i):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n".encode())
            s.settimeout(0.001)
            sent, answer = 0, b""
            while sent < announced and time.monotonic() - started < 60:
                try:
                    s.sendall(b" " * (rate // 10))
                    sent += rate // 10
                except OSError:
                    break
                try:
                    answer = s.recv(4096)
                    if answer or answer == b"":
                        break
                except (socket.timeout, BlockingIOError):
                    pass
                time.sleep(0.1)
            s.settimeout(5)
            try:
                answer = answer or s.recv(4096)
            except OSError:
                pass
            line = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"
            answers[i] = f"{line} after {time.monotonic() - started:.1f} s ({sent} bytes sent)"

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(slow)]
    for t in threads:
        t.start()
    time.sleep(1)
    statuses, latencies, end = [], [], time.monotonic() + 20
    while time.monotonic() < end:
        status, seconds, _ = post(body_of([texts[len(statuses) % len(texts)]]))
        statuses.append(status)
        latencies.append(seconds * 1000)
        time.sleep(0.1)
    latencies.sort()
    print(f"slow-upload: {slow} uploads of {announced} bytes at {rate} bytes/s; meanwhile {len(statuses)} normal requests in 20 s: "
          f"status codes {summary(statuses)}, latency ms p50 {latencies[len(latencies) // 2]:.0f}, max {latencies[-1]:.0f}")
    for t in threads:
        t.join()
    for line in sorted(set(answers)):
        print(f"slow-upload: {answers.count(line)} upload(s): {line}")


def abandoned():
    clients = int(os.environ.get("ABANDONED", 10))
    before = metrics()
    for c in range(clients):
        body = body_of([texts[(c * 512 + i) % len(texts)] for i in range(512)])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(f"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            time.sleep(0.05)  # the server has the body; then the client is gone
    status, seconds, _ = post(body_of([texts[0]]))
    answered = lambda m: sum(v for k, v in m.items() if k.startswith("trainer_serve_responses_total"))
    deadline = time.monotonic() + 120
    while answered(after := metrics()) - answered(before) < clients + 1 and time.monotonic() < deadline:
        time.sleep(0.2)  # the abandoned requests are still being parsed and tokenized
    d = lambda k: after.get(k, 0) - before.get(k, 0)
    print(f"abandoned: {clients} clients posted 512 inputs each and hung up; the next real request: {status} in {seconds * 1000:.0f} ms")
    status_499 = 'trainer_serve_responses_total{endpoint="/v1/embeddings",status="499"}'
    print(f"abandoned: server counted {d(status_499):.0f} responses as 499, "
          f"{d('trainer_serve_request_cancelled_total'):.0f} requests cancelled with {d('trainer_serve_inputs_cancelled_total'):.0f} queued inputs dropped; "
          f"{d('trainer_serve_inputs_total'):.0f} inputs embedded in {d('trainer_serve_batches_total'):.0f} model calls, "
          f"model busy {d('trainer_serve_inference_seconds_total'):.1f} s")


def big_body():
    idle = float(os.environ.get("IDLE_S", 8))
    for mb in (int(os.environ.get("BIG_MB", 28)), int(os.environ.get("FIT_MB", 12))):
        text = (texts[0] + " ") * (mb * (1 << 20) // 512 // (len(texts[0]) + 1))
        body = body_of([text] * 512)
        before, peak, statuses, stop = rss_mb(), [0.0], [], threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.monotonic()
        workers = [threading.Thread(target=lambda: statuses.append(post_raw(body)[0])) for _ in range(16)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.monotonic() - start
        stop.set()
        sampler.join()
        time.sleep(idle)
        print(f"big-body: 16 concurrent requests of {len(body) / 1e6:.1f} MB (512 inputs each): status codes {summary(statuses)} in {seconds:.1f} s; "
              f"server RSS {before:.0f} MB before, {peak[0]:.0f} MB peak during, {rss_mb():.0f} MB {idle:.0f} s after "
              f"(.NET heap {metrics().get('trainer_serve_gc_committed_bytes', float('nan')) / 2**20:.0f} MB of it)")
        del body, text


{"slow-upload": slow_upload, "abandoned": abandoned, "big-body": big_body}[case]()
