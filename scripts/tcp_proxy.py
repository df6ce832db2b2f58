#!/usr/bin/env python3
"""A tiny TCP proxy that can cut every connection through it on demand.

The client tests put it between a gRPC client and the gateway to force a disconnect in
the middle of a WatchAttempt stream (standard library only, so it runs with any
python3):

    python3 scripts/tcp_proxy.py --target 127.0.0.1:50051 --ready-file /tmp/proxy.json

It listens on --listen (default 127.0.0.1:0) and forwards every connection to --target.
Once both sockets are bound it writes {"listen": "HOST:PORT", "control": "http://HOST:PORT"}
to --ready-file (atomically) and prints the same line. The control listener speaks just
enough HTTP:

    POST /drop   reset (TCP RST) every connection open now, both sides;
                 answers {"dropped": N}
    GET  /stats  {"accepted": N, "active": N, "dropped": N}

Tests find the proxy through IDV_GATEWAY_PROXY_ADDR (the listen address) and
IDV_GATEWAY_PROXY_CONTROL (the control URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import sys


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class Proxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.accepted = 0
        self.dropped = 0

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            reset(client_w)
            return
        for w in (client_w, up_w):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = (client_w, up_w)
        self.pairs.add(pair)
        try:
            await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))
        finally:
            self.pairs.discard(pair)
            for w in pair:
                if not w.is_closing():
                    w.close()

    def drop(self) -> int:
        pairs = list(self.pairs)
        for pair in pairs:
            for w in pair:
                reset(w)
        self.pairs.clear()
        self.dropped += len(pairs)
        return len(pairs)

    def stats(self) -> dict[str, int]:
        return {"accepted": self.accepted, "active": len(self.pairs), "dropped": self.dropped}

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            if method == "POST" and path == "/drop":
                code, body = 200, {"dropped": self.drop()}
            elif method == "GET" and path == "/stats":
                code, body = 200, self.stats()
            else:
                code, body = 404, {"error": f"no route {method} {path}"}
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, asyncio.LimitOverrunError):
            code, body = 400, {"error": "bad request"}
        data = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[code]
        writer.write(
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data
        )
        try:
            await writer.drain()
        finally:
            writer.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        # One side ended: end the other, so neither hangs half-open.
        if not writer.is_closing():
            writer.close()


def reset(writer: asyncio.StreamWriter) -> None:
    """Closes with an RST (SO_LINGER 0), as a crashed peer or middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to accept on")
    parser.add_argument("--control", default="127.0.0.1:0", help="HOST:PORT of the control API")
    parser.add_argument("--ready-file", help="where to write the bound addresses as JSON")
    args = parser.parse_args()

    proxy = Proxy(split_addr(args.target))
    server = await asyncio.start_server(proxy.handle, *split_addr(args.listen))
    control = await asyncio.start_server(proxy.control, *split_addr(args.control))
    lhost, lport = server.sockets[0].getsockname()[:2]
    chost, cport = control.sockets[0].getsockname()[:2]
    ready = json.dumps({"listen": f"{lhost}:{lport}", "control": f"http://{chost}:{cport}"})
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(ready)
        os.replace(tmp, args.ready_file)
    print(ready, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    control.close()
    proxy.drop()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
