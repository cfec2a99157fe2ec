#!/usr/bin/env python3
"""A static file server that waits before every answer: a registry across a real network.

    delayed_origin.py DIR DELAY_MS   serves DIR on 127.0.0.1 (a free port, printed on stdout)

Each request waits DELAY_MS, then gets the file at its path (query dropped), or a 404 with a
JSON body as the shadcn CLI expects. Threads, so concurrent requests wait side by side. With
ORIGIN_LOG=FILE set, each request appends "<arrival ms> <path>" to FILE.
"""
import http.server
import os
import sys
import time


def main():
    root, delay = sys.argv[1], int(sys.argv[2]) / 1000.0
    log = os.environ.get("ORIGIN_LOG")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def do_GET(self):
            if log:
                with open(log, "a") as f:
                    f.write(f"{time.time() * 1000:.0f} {self.path}\n")
            time.sleep(delay)
            path = self.translate_path(self.path.split("?", 1)[0])
            if not os.path.isfile(path):
                body = b'{"error":"Not Found","detail":"not in the recorded set"}'
                self.send_response(404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        # socketserver's default backlog is 5: a burst of prefetches overflowed it, and the
        # dropped connection's retried SYN came a second later.
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
