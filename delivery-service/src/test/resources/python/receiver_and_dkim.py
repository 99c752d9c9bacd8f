"""Test helper for DkimByteExactDeliveryTest, run with Debian's python3 (python3-aiosmtpd, python3-dkim).

  serve DIR                      an aiosmtpd SMTP server on 127.0.0.1, free port (printed as "PORT n"); each
                                 message's DATA bytes (dot-unstuffed, nothing else changed) go to DIR/<n>.eml
  sign KEY SELECTOR DOMAIN IN OUT  DKIM-sign IN (simple/simple, rsa-sha256) with the PEM private KEY into OUT
  verify DNSTXT MESSAGE          verify the DKIM signature of MESSAGE with the TXT record in file DNSTXT instead
                                 of real DNS; exit 0 when valid, 1 when not
"""
import asyncio
import os
import sys


def serve(directory):
    from aiosmtpd.smtp import SMTP

    class Store:
        def __init__(self):
            self.count = 0

        async def handle_DATA(self, server, session, envelope):
            self.count += 1
            tmp = os.path.join(directory, "%d.tmp" % self.count)
            with open(tmp, "wb") as f:
                f.write(envelope.original_content)
            with open(os.path.join(directory, "%d.rcpt" % self.count), "w") as f:
                f.write("\n".join(envelope.rcpt_tos))
            os.rename(tmp, os.path.join(directory, "%d.eml" % self.count))
            return "250 2.0.0 stored as %d" % self.count

    handler = Store()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="aiosmtpd.test", enable_SMTPUTF8=True), "127.0.0.1", 0))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


def sign(key, selector, domain, source, target):
    import dkim
    with open(key, "rb") as f:
        private = f.read()
    with open(source, "rb") as f:
        message = f.read()
    signature = dkim.sign(message, selector.encode(), domain.encode(), private,
                          canonicalize=(b"simple", b"simple"),
                          include_headers=[b"from", b"to", b"subject", b"content-type",
                                           b"content-transfer-encoding"])
    with open(target, "wb") as f:
        f.write(signature + message)


def verify(txt_file, message_file):
    import dkim
    with open(txt_file, "rb") as f:
        record = f.read().strip()
    with open(message_file, "rb") as f:
        message = f.read()

    def dnsfunc(name, timeout=5):
        return record

    ok = dkim.verify(message, dnsfunc=dnsfunc)
    print("DKIM %s" % ("pass" if ok else "fail"), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "serve":
        serve(sys.argv[2])
    elif command == "sign":
        sign(*sys.argv[2:7])
    elif command == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + command)
