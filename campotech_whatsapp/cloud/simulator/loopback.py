"""The background HTTP server the simulator, the webhook receiver and the
Pusher stand-in each run: one ThreadingHTTPServer in a daemon thread, with
its owner reachable from the handler as ``self.server.<OWNER_ATTR>``."""

import threading
from http.server import ThreadingHTTPServer


class LoopbackServer:
    """Lifecycle shared by the local HTTP stand-ins.

    A subclass names its request handler class in ``_handler_class()``,
    sets ``OWNER_ATTR`` (the server attribute the handler reads its owner
    from) and ``THREAD_NAME``, has ``host`` and ``_port`` attributes, and calls
    ``_serve()`` / ``_shutdown()`` from its own ``start()`` / ``stop()``.
    """

    OWNER_ATTR = "owner"
    THREAD_NAME = "loopback-http"
    host = "127.0.0.1"
    _port = 0
    _server = None
    _thread = None

    def _handler_class(self):
        raise NotImplementedError

    def _serve(self):
        if self._server is None:
            self._server = ThreadingHTTPServer((self.host, self._port), self._handler_class())
            self._server.daemon_threads = True
            setattr(self._server, self.OWNER_ATTR, self)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name=self.THREAD_NAME, daemon=True)
            self._thread.start()
        return self

    def _shutdown(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def start(self):
        return self._serve()

    def stop(self):
        self._shutdown()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
