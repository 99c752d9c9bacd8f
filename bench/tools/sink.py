#!/usr/bin/env python3
"""Receiving SMTP server for bench/run.sh: accepts everything, keeps nothing, and appends one line per message to a
log: "<arrival epoch ns> <probe id or ->". The probe id is the value of an "X-Bench-Probe:" header (bench/tools/
probe.py), so that acceptance → delivery latency can be joined per message. --delay-ms holds every end-of-data reply
back by a fixed time (a latency-bound receiver, for the delivery scale-out run); sessions are served concurrently.

Used instead of Postfix's smtp-sink because smtp-sink cannot timestamp individual messages.

  sink.py --port 2600 --log arrivals.log [--delay-ms 250]
"""
import argparse
import asyncio
import re
import time

PROBE = re.compile(rb"^X-Bench-Probe: *(\S+)", re.MULTILINE | re.IGNORECASE)


class Sink:
    def __init__(self, log, delay):
        self.log = open(log, "a", buffering=1)
        self.delay = delay

    async def session(self, reader, writer):
        write = writer.write
        write(b"220 bench-sink ESMTP\r\n")
        try:
            while True:
                line = await reader.readuntil(b"\r\n")
                verb = line[:4].upper()
                if verb == b"EHLO":
                    write(b"250-bench-sink\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n250 SMTPUTF8\r\n")
                elif verb == b"DATA":
                    write(b"354 go ahead\r\n")
                    data = await reader.readuntil(b"\r\n.\r\n")
                    arrived = time.time_ns()
                    m = PROBE.search(data[:65536])
                    self.log.write("%d %s\n" % (arrived, m.group(1).decode() if m else "-"))
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    write(b"250 2.0.0 ok\r\n")
                elif verb == b"QUIT":
                    write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP, anything
                    write(b"250 2.0.0 ok\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--delay-ms", type=float, default=0)
    a = p.parse_args()
    sink = Sink(a.log, a.delay_ms / 1000.0)
    server = await asyncio.start_server(sink.session, "127.0.0.1", a.port, limit=64 * 1024 * 1024, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
