#!/usr/bin/env python3
"""The recorded GitHub content (tests/fixtures/github) served on 127.0.0.1 as the daemon asks
for it: the REST API under /api, the raw file host under /raw. For scripts that run the
installed binary (tests/install.sh); the Rust suite has its own origin (src/testkit/origin.rs).

    tests/origin.py PORT_FILE [DELAY_MS]
        binds a free port, writes it to PORT_FILE, serves until killed; each answer waits
        DELAY_MS first (a real network's round trip, for bench/run.sh)
"""
import http.server
import json
import pathlib
import sys
import time
import urllib.parse

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "github"
ROUTES = {}
for entry in json.loads((FIXTURES / "index.json").read_text())["entries"]:
    url = urllib.parse.urlsplit(entry["url"])
    prefix = "/api" if url.netloc == "api.github.com" else "/raw"
    path = prefix + url.path + ("?" + url.query if url.query else "")
    ROUTES[path] = (entry["status"], FIXTURES / entry["file"])
DELAY = int(sys.argv[2]) / 1000.0 if len(sys.argv) > 2 else 0.0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(DELAY)
        status, file = ROUTES.get(self.path, (404, None))
        body = file.read_bytes() if file else b"404: Not Found"
        self.send_response(status)
        if self.path.startswith("/api/"):
            for name, value in [("limit", 5000), ("remaining", 4999), ("used", 1),
                                ("reset", 4102444800), ("resource", "core")]:
                self.send_header(f"x-ratelimit-{name}", str(value))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
pathlib.Path(sys.argv[1]).write_text(str(server.server_address[1]))
server.serve_forever()
