"""A real SMTP server for cairn's tests: aiosmtpd on 127.0.0.1, delivering into a
Maildir. Run with Debian's /usr/bin/python3 (package python3-aiosmtpd) by
server/src/test_smtp.rs, which passes the options below and waits for "ready".

  --port N             the port to listen on (127.0.0.1)
  --maildir DIR        where delivered mails go (tmp/, new/, cur/)
  --security MODE      "none", "starttls" (required) or "tls" (implicit)
  --cert F --key F     the certificate and key, PEM, for starttls and tls
  --login USER:PASS    require this login (AUTH PLAIN/LOGIN, over TLS only)

Each delivered mail is written as it was received, after four lines a real
delivery agent would add, and which the tests read: Return-Path, Delivered-To,
X-Test-TLS (yes/no) and X-Test-Login (the login used, or "-").
"""

import argparse
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class MaildirHandler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = "%d.%d_%d.cairn-test" % (time.time_ns(), os.getpid(), self.count)
        login = "-"
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        added = (
            "Return-Path: <%s>\r\n" % envelope.mail_from
            + "Delivered-To: %s\r\n" % ", ".join(envelope.rcpt_tos)
            + "X-Test-TLS: %s\r\n" % ("yes" if is_tls(server, session) else "no")
            + "X-Test-Login: %s\r\n" % login
        ).encode("utf-8")
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(added + envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        return "250 OK delivered"


def is_tls(server, session):
    # STARTTLS sets session.ssl; implicit TLS shows on the transport only.
    if session.ssl is not None:
        return True
    return server.transport.get_extra_info("ssl_object") is not None


def authenticator(expected):
    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        given = (auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8"))
        # handled=False: aiosmtpd answers a refusal with 535 itself (its default,
        # True, would leave the client waiting for an answer nobody sends).
        return AuthResult(success=given == expected, handled=False, auth_data=auth_data)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--security", choices=["none", "starttls", "tls"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--login")
    args = parser.parse_args()

    context = None
    if args.security != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    options = {"hostname": "127.0.0.1", "port": args.port, "ready_timeout": 30.0}
    if args.security == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif args.security == "tls":
        options.update(ssl_context=context)
    if args.login:
        user, _, password = args.login.partition(":")
        options.update(
            authenticator=authenticator((user, password)),
            auth_required=True,
            # Implicit TLS is TLS too, but aiosmtpd only knows STARTTLS's.
            auth_require_tls=args.security == "starttls",
        )
    elif args.security == "none":
        options.update(auth_require_tls=False)

    controller = Controller(MaildirHandler(args.maildir), **options)
    controller.start()
    print("ready", flush=True)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    # The test process holds our stdin: when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
