#!/usr/bin/env python3
"""Submits one message to Relay with Python's standard smtplib: a client we did not write.

usage: smtplib_client.py HOST PORT {starttls|ssl} USER SECRET FROM TO MESSAGE_FILE [AUTH_MECHANISM]

SECRET is the password, or for AUTH_MECHANISM OAUTHBEARER (RFC 7628) an access token, sent through smtplib's
generic SMTP.auth() with the GS2 header "n,a=USER," and "auth=Bearer TOKEN".

The message file holds the exact bytes to send (CRLF line endings, 8-bit allowed); they go out with
sendmail(..., mail_options=["BODY=8BITMIME"]) unchanged. The server's development certificate is self-signed,
so it is not verified. Without AUTH_MECHANISM, login() picks one from the server's AUTH list (PLAIN before
LOGIN); with it, only that mechanism is offered to login().

Exit codes: 0 sent, 2 usage, 3 authentication refused, 4 any other SMTP or connection error.
"""
import smtplib
import ssl
import sys


def main(argv):
    if len(argv) not in (9, 10):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, mode, user, password, sender, recipient, message_file = argv[1:9]
    mechanism = argv[9] if len(argv) == 10 else None
    with open(message_file, "rb") as f:
        message = f.read()

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    try:
        if mode == "starttls":
            client = smtplib.SMTP(host, int(port), local_hostname="smtplib.interop.test", timeout=30)
            client.ehlo()
            print("ehlo before TLS:", sorted(client.esmtp_features))
            if not client.has_extn("starttls"):
                print("server does not offer STARTTLS")
                return 4
            code, reply = client.starttls(context=context)
            print("starttls:", code, reply.decode(errors="replace"))
            client.ehlo()
        elif mode == "ssl":
            client = smtplib.SMTP_SSL(host, int(port), local_hostname="smtplib.interop.test", timeout=30,
                                      context=context)
            client.ehlo()
        else:
            print("mode must be starttls or ssl", file=sys.stderr)
            return 2
        with client:
            print("tls:", client.sock.version(), client.sock.cipher()[0])
            print("ehlo:", sorted(client.esmtp_features))
            print("auth offered:", client.esmtp_features.get("auth", "<none>"))
            if mechanism == "OAUTHBEARER":
                bearer = "n,a=%s,\x01auth=Bearer %s\x01\x01" % (user, password)
                code, reply = client.auth("OAUTHBEARER", lambda challenge=None: bearer)
            else:
                if mechanism:
                    client.esmtp_features["auth"] = mechanism
                code, reply = client.login(user, password)
            print("login:", code, reply.decode(errors="replace"))
            refused = client.sendmail(sender, [recipient], message, mail_options=["BODY=8BITMIME"])
            if refused:
                print("refused recipients:", refused)
                return 4
            print("sent", len(message), "bytes")
        return 0
    except smtplib.SMTPAuthenticationError as e:
        print("authentication refused:", e.smtp_code, e.smtp_error.decode(errors="replace"))
        return 3
    except (smtplib.SMTPException, OSError) as e:
        print("error:", type(e).__name__, e)
        return 4


if __name__ == "__main__":
    sys.exit(main(sys.argv))
