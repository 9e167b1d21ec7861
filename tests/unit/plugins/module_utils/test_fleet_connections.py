"""fleet over a real socket: a watch closed before the server ends it never lends its connection to the next request.

A small HTTP/1.1 server on the loopback streams a watch (one event, then nothing for a while, as an API server
does between changes) and answers PATCH and GET. The kubernetes client's own connection pool carries the
requests, as it does to Karmada: had the watch's connection gone back to the pool mid-reply, the PATCH after it
would be sent on it and its answer never read.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kubernetes
import pytest

from ansible_collections.multicluster.canary.plugins.module_utils import fleet

ROLLOUT = fleet.kind("Rollout")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []  # (method, client port, path), shared with the test
    hold = threading.Event()  # set when the test ends: the open watch replies end

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.seen.append(("GET", self.client_address[1], self.path))
        if "watch=true" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            line = (json.dumps({"type": "ADDED", "object": {"metadata": {"resourceVersion": "5"}}}) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            self.hold.wait(20)  # the watch stays open, with nothing to say
            try:
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client closed it
            return
        self._answer({"metadata": {"resourceVersion": "6"}})

    def do_PATCH(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(("PATCH", self.client_address[1], self.path))
        self._answer({"metadata": {"resourceVersion": "7"}})

    def _answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    Handler.seen = []
    Handler.hold = threading.Event()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    Handler.hold.set()
    srv.shutdown()
    srv.server_close()


def test_a_patch_after_a_watch_closed_early_goes_on_a_connection_of_its_own(server):
    cfg = kubernetes.client.Configuration()
    cfg.host = "http://127.0.0.1:{0}".format(server.server_port)
    member = fleet.Endpoint("beijing", kubernetes.client.ApiClient(cfg))
    events = member.watch(ROLLOUT, "ns", "app", None, 15)
    assert next(events) == ("ADDED", {"metadata": {"resourceVersion": "5"}})
    time.sleep(0.2)  # the watch is idle: nothing waits on its socket, so the pool would take it as reusable
    events.close()
    started = time.monotonic()
    patched = member.patch(ROLLOUT, "ns", "app", {"status": {"pauseConditions": None}}, subresource="status")
    assert patched == {"metadata": {"resourceVersion": "7"}}
    assert member.get(ROLLOUT, "ns", "app") == {"metadata": {"resourceVersion": "6"}}
    assert time.monotonic() - started < 5  # answered, not left to a timeout
    watch_port = Handler.seen[0][1]
    assert [m for m, _p, _path in Handler.seen] == ["GET", "PATCH", "GET"]  # the patch sent once
    assert Handler.seen[1][1] != watch_port and Handler.seen[2][1] != watch_port, Handler.seen
