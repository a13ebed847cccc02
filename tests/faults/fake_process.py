"""The recording fake OpenAI server in a process of its own, for the fault scenarios.

Run in-process, the fake's handler threads would share the test process's GIL with the
threads that play the web, and the model would look slow for reasons that have nothing to
do with the pipeline. As a subprocess it answers like a separate service. It is driven
over stdin, one JSON command per line, each answered with `ok` on stdout:

    {"cmd": "configure", "latency": 0.1, "chaos": "429=0.2,hang=0.05", "seed": 1,
     "retry_after": 1.5, "hang_seconds": 6, "completion_tokens": 700}
        forget the request log and behave like this from now on (defaults otherwise)
    {"cmd": "log", "path": "/tmp/log.jsonl"}
        write the chat requests so far, one JSON line each: `received_at` (monotonic
        seconds), `outcome` ("reply", "429", "500", "hang", "malformed"), `retry_after`,
        and the question's `[marker]`

    python -m tests.faults.fake_process --reply "..."    # prints `listening <base_url>`
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import Action, Reply, _parse_chaos
from tests.faults.processes import ROOT, RecordingFakeOpenAI

MARKER = re.compile(r"\[([A-Za-z0-9_.-]+)\]")


class _Fake(RecordingFakeOpenAI):
    """Answers with a fixed completion token count when told to (the budget scenario)."""

    completion_tokens: int | None = None

    def _next_chat_action(self) -> tuple[Action, float, float]:
        action, latency, chunk_delay = super()._next_chat_action()
        if isinstance(action, Reply) and self.completion_tokens is not None:
            action = Reply(action.text, completion_tokens=self.completion_tokens)
        return action, latency, chunk_delay

    def configure(self, options: dict[str, Any]) -> None:
        self.reset()
        self.completion_tokens = options.get("completion_tokens")
        self.set_default(latency=float(options.get("latency", 0.2)))
        if options.get("chaos"):
            self.set_chaos(
                _parse_chaos(options["chaos"]),
                seed=options.get("seed"),
                hang_seconds=float(options.get("hang_seconds", 120.0)),
                retry_after=options.get("retry_after", 1.0),
            )

    def chat_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "received_at": entry["received_at"],
                    "outcome": entry.get("outcome", ""),
                    "retry_after": entry.get("retry_after"),
                    "marker": _marker(entry["json"]),
                }
                for entry in self.requests
                if entry["path"].endswith("/chat/completions")
            ]


def _marker(body: object) -> str:
    if not isinstance(body, dict):
        return ""
    for message in reversed(body.get("messages") or []):
        content = str(message.get("content", "")) if isinstance(message, dict) else ""
        found = MARKER.search(content)
        if found:
            return found.group(1)
    return ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reply", default="default reply")
    args = parser.parse_args()
    fake = _Fake(reply=args.reply)
    fake.configure({})
    fake.start()
    print(f"listening {fake.base_url}", flush=True)
    for line in sys.stdin:  # until the test process closes stdin
        command = json.loads(line)
        if command["cmd"] == "configure":
            fake.configure(command)
        elif command["cmd"] == "log":
            entries = fake.chat_log()
            Path(command["path"]).write_text("".join(json.dumps(e) + "\n" for e in entries))
        print("ok", flush=True)
    fake.stop(timeout=2)


class FakeProcess:
    """Starts `python -m tests.faults.fake_process` and talks to it over its stdin."""

    def __init__(self, logdir: Path, *, reply: str) -> None:
        self.log = logdir / "fake-openai.jsonl"
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.faults.fake_process", "--reply", reply],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self._read()
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"fake OpenAI server did not start: {line!r}")
        self.base_url = line.split(" ", 1)[1].strip()

    def _read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def _send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if answer.strip() != "ok":
            raise RuntimeError(f"fake OpenAI server answered {answer!r} to {command}")

    def configure(self, **options: Any) -> None:
        """Forget the request log; behave as told (latency, chaos, seed, retry_after,
        hang_seconds, completion_tokens) from the next request on."""
        self._send({"cmd": "configure", **options})

    def chat_requests(self) -> list[dict[str, Any]]:
        """The chat requests received since the last `configure`."""
        self._send({"cmd": "log", "path": str(self.log)})
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


if __name__ == "__main__":
    main()
