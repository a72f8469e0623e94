"""A relay in front of the hub's API on its own loopback address, that the test can take
down and bring back: the hub "unreachable" (connection refused, as when its host is
down) for the Tasks page's In progress table, without stopping the idhub that serves
both orgs.

Every request is forwarded to the hub with the hub's Host, so idhub finds the hub org;
the answer comes back as the hub gave it.
"""

import http.server
import threading

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-authenticate", "content-length", "host", "content-encoding"}


class HubRelay:
    def __init__(self, host, hub_base):
        self.host, self.hub_base = host, hub_base.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False
        self.server = self._serve(0)
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"

    def _serve(self, port):
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                r = relay.http.request(self.command, relay.hub_base + self.path, headers=headers, data=body,
                                       allow_redirects=False, timeout=30)
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                # no kept-alive connection may outlive down()
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        server = http.server.ThreadingHTTPServer((self.host, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def down(self):
        """Stop listening: connections to the relay are refused."""
        self.server.shutdown()
        self.server.server_close()

    def up(self):
        self.server = self._serve(self.port)

    def close(self):
        try:
            self.down()
        except OSError:
            pass
