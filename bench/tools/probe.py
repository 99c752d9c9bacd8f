#!/usr/bin/env python3
"""Latency probe for bench/run.sh: sends one message every --interval-ms (one connection each, like smtp-source)
with a unique "X-Bench-Probe:" header and appends "<id> <epoch ns when the 250 to end-of-data arrived>" to --log,
until --count messages are sent or --until-file exists. bench/tools/sink.py logs when each id arrives; the
difference is the time from acceptance to delivery.

  probe.py --port 2525 --log accepted.log --count 200 --interval-ms 50 --size 10240 --tag relay
"""
import argparse
import os
import smtplib
import time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--log", required=True)
p.add_argument("--count", type=int, default=200)
p.add_argument("--interval-ms", type=float, default=50)
p.add_argument("--size", type=int, default=10240)
p.add_argument("--tag", default="probe")
p.add_argument("--until-file")
a = p.parse_args()

body = ("x" * 76 + "\r\n") * max(1, a.size // 78)
sent = 0
with open(a.log, "a", buffering=1) as log:
    next_at = time.monotonic()
    while sent < a.count and not (a.until_file and os.path.exists(a.until_file)):
        pid = "%s-%d-%d" % (a.tag, os.getpid(), sent)
        msg = ("From: bench@example.test\r\nTo: bench@bench.example\r\nSubject: probe\r\nX-Bench-Probe: %s\r\n\r\n%s"
               % (pid, body))
        try:
            with smtplib.SMTP("127.0.0.1", a.port, timeout=30) as s:
                s.sendmail("bench@example.test", ["bench@bench.example"], msg)
                log.write("%s %d\n" % (pid, time.time_ns()))
        except (smtplib.SMTPException, OSError) as e:
            log.write("%s failed %s\n" % (pid, type(e).__name__))
        sent += 1
        next_at += a.interval_ms / 1000.0
        time.sleep(max(0.0, next_at - time.monotonic()))
