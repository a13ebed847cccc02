"""A scripted resolver for tests: chosen names resolve to chosen addresses, in turn.

    resolver = ScriptedResolver.install(monkeypatch)
    resolver.script("llm.school.example", "93.184.216.34", "127.0.0.1")  # then rebinds

Each lookup of a scripted name takes the next answer; the last one repeats. Other names go
to the real resolver. `lookups` records every scripted name looked up, in order.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest


class ScriptedResolver:
    def __init__(self) -> None:
        self._answers: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> ScriptedResolver:
        resolver = cls()
        monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
        return resolver

    def script(self, name: str, *addresses: str) -> None:
        with self._lock:
            self._answers[name] = list(addresses)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        with self._lock:
            answers = self._answers.get(name)
            if answers is None:
                return self._real(host, port, *args, **kwargs)
            self.lookups.append(name)
            address = answers.pop(0) if len(answers) > 1 else answers[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr: tuple[Any, ...] = (
            (address, int(port), 0, 0)
            if ":" in address
            else (
                address,
                int(port),
            )
        )
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
