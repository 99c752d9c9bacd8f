"""Test helper for AiosmtpdSmarthostAuthTest, run with Debian's python3 (python3-aiosmtpd).

  serve DIR CERT KEY USER PASSWORD   an aiosmtpd submission server on 127.0.0.1, free port (printed as "PORT n"):
                                     STARTTLS with the PEM certificate and key, AUTH (PLAIN, LOGIN) offered only
                                     after TLS and required before MAIL, one account USER/PASSWORD. Each message's
                                     DATA bytes (dot-unstuffed, nothing else changed) go to DIR/<n>.eml, the login
                                     that sent it to DIR/<n>.user
"""
import asyncio
import os
import ssl
import sys


def serve(directory, cert, key, user, password):
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    class Store:
        def __init__(self):
            self.count = 0

        async def handle_DATA(self, server, session, envelope):
            self.count += 1
            tmp = os.path.join(directory, "%d.tmp" % self.count)
            with open(tmp, "wb") as f:
                f.write(envelope.original_content)
            with open(os.path.join(directory, "%d.user" % self.count), "w") as f:
                f.write(str(session.auth_data, "utf-8") if isinstance(session.auth_data, bytes) else "")
            os.rename(tmp, os.path.join(directory, "%d.eml" % self.count))
            return "250 2.0.0 stored as %d" % self.count

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if auth_data.login == user.encode() and auth_data.password == password.encode():
            return AuthResult(success=True, auth_data=auth_data.login)
        return AuthResult(success=False, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Store()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="aiosmtpd.test", tls_context=context, require_starttls=True,
                     authenticator=authenticator, auth_required=True, auth_require_tls=True),
        "127.0.0.1", 0))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
