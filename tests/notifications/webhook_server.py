"""A fake WeCom/DingTalk group robot on 127.0.0.1 for tests: strict about the payloads,
records every request, and can be told to fail the next N requests.

    server = FakeRobotServer(dingtalk_secret="SECabc")   # or the `webhook_server` fixture
    server.start()
    send_wecom(server.wecom_url, "text")
    server.requests[-1].body["text"]["content"]
    server.fail_next(2, status=500)                       # two 500s, then normal again
    server.fail_next(errcode=45009, errmsg="api freq out of limit")
    server.fail_next(delay=2.0)                           # slow answer (client timeout)
    server.stop()

It answers like the real robots: HTTP 200 with {"errcode": 0, "errmsg": "ok"}, or HTTP 200
with the robot's errcode when the request is wrong (WeCom 93000 bad key, 40008 bad msgtype,
40058 bad or too long content; DingTalk 300001 bad token, 310000 sign/timestamp/keyword,
400105 bad msgtype, 40035 bad parameters); unknown paths get an HTML 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
WECOM_TEXT_MAX_BYTES = 2048
WECOM_MARKDOWN_MAX_BYTES = 4096
# DingTalk refuses a signed request whose timestamp is more than an hour from its clock.
DINGTALK_TIMESTAMP_TOLERANCE_MS = 3600 * 1000
MOBILE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")


@dataclass
class RecordedRequest:
    kind: str  # "wecom", "dingtalk" or "unknown"
    method: str
    path: str
    query: dict[str, str]  # decoded, last value of each name
    raw_query: str  # as sent, still percent-encoded
    headers: dict[str, str]
    raw_body: bytes
    body: object  # the parsed JSON, or None when the body was not JSON
    answer: dict | None = None  # the JSON answered, when it was JSON
    status: int = 200
    received_at: float = field(default_factory=time.time)


@dataclass
class Scripted:
    status: int = 200
    errcode: int | None = None
    errmsg: str = ""
    delay: float = 0.0
    body: bytes | str | None = None
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class PayloadError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


class FakeRobotServer:
    def __init__(
        self,
        *,
        wecom_key: str = "693a91f6-7b2c-4bc4-97a0-0ec2f1fa5aaa",
        dingtalk_token: str = "566cc69da782ec7e5fa3c9b1e2d4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0",
        dingtalk_secret: str = "",
        dingtalk_keywords: tuple[str, ...] = (),
    ):
        self.wecom_key = wecom_key
        self.dingtalk_token = dingtalk_token
        self.dingtalk_secret = dingtalk_secret
        self.dingtalk_keywords = tuple(dingtalk_keywords)
        self.requests: list[RecordedRequest] = []
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeRobotServer:
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"robot": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-robot", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts short any scripted delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> FakeRobotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def wecom_url(self) -> str:
        return f"{self.base_url}{WECOM_PATH}?key={self.wecom_key}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.base_url}{DINGTALK_PATH}?access_token={self.dingtalk_token}"

    # --- scripting and inspection -----------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 200,
        errcode: int | None = None,
        errmsg: str = "",
        delay: float = 0.0,
        body: bytes | str | None = None,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `count` requests this way, then go back to normal. With only a
        delay the request is then handled normally (a slow robot); with an errcode the
        answer is that errcode as JSON (HTTP `status`); with a body, that body as is; else
        a non-200 status gets a short text body."""
        with self._lock:
            for _ in range(count):
                self._script.append(Scripted(status, errcode, errmsg, delay, body, content_type, dict(headers or {})))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def requests_for(self, kind: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.kind == kind]

    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def _next_script(self) -> Scripted | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, recorded: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(recorded)

    # --- the robots' rules ------------------------------------------------------------

    def check_wecom(self, query: dict[str, str], body: object) -> None:
        if query.get("key") != self.wecom_key:
            raise PayloadError(93000, "invalid webhook url, hint: [fake]")
        if not isinstance(body, dict):
            raise PayloadError(40058, "invalid Request Parameter: body is not a JSON object")
        msgtype = body.get("msgtype")
        if msgtype == "text":
            mentions = {"mentioned_list", "mentioned_mobile_list"}
            text = _expect_keys(body, "text", required={"content"}, optional=mentions)
            content = text["content"]
            if not isinstance(content, str) or not content:
                raise PayloadError(40058, "text.content is empty")
            if len(content.encode("utf-8")) > WECOM_TEXT_MAX_BYTES:
                raise PayloadError(40058, f"text.content exceed max length {WECOM_TEXT_MAX_BYTES}")
            mobiles = text.get("mentioned_mobile_list", [])
            if not isinstance(mobiles, list) or not all(
                isinstance(m, str) and (m == "@all" or MOBILE.match(m)) for m in mobiles
            ):
                raise PayloadError(40058, "text.mentioned_mobile_list must be a list of mobile numbers")
            if len(set(mobiles)) != len(mobiles):
                raise PayloadError(40058, "text.mentioned_mobile_list has duplicates")
            if not isinstance(text.get("mentioned_list", []), list):
                raise PayloadError(40058, "text.mentioned_list must be a list")
        elif msgtype == "markdown":
            markdown = _expect_keys(body, "markdown", required={"content"}, optional=set())
            content = markdown["content"]
            if not isinstance(content, str) or not content:
                raise PayloadError(40058, "markdown.content is empty")
            if len(content.encode("utf-8")) > WECOM_MARKDOWN_MAX_BYTES:
                raise PayloadError(40058, f"markdown.content exceed max length {WECOM_MARKDOWN_MAX_BYTES}")
        else:
            raise PayloadError(40008, f"invalid message type {msgtype!r}")
        if set(body) - {"msgtype", msgtype}:
            raise PayloadError(40058, f"unexpected keys {sorted(set(body) - {'msgtype', msgtype})}")

    def check_dingtalk(self, query: dict[str, str], body: object) -> None:
        if query.get("access_token") != self.dingtalk_token:
            raise PayloadError(300001, "token is not exist")
        if self.dingtalk_secret:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit():
                raise PayloadError(310000, "invalid timestamp")
            if abs(int(timestamp) - int(time.time() * 1000)) > DINGTALK_TIMESTAMP_TOLERANCE_MS:
                raise PayloadError(310000, "invalid timestamp, more: [https://open.dingtalk.com]")
            string_to_sign = f"{timestamp}\n{self.dingtalk_secret}".encode()
            expected = base64.b64encode(
                hmac.new(self.dingtalk_secret.encode(), string_to_sign, hashlib.sha256).digest()
            ).decode()
            if not hmac.compare_digest(sign, expected):
                raise PayloadError(
                    310000,
                    "description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中",
                )
        if not isinstance(body, dict):
            raise PayloadError(40035, "缺少参数 json")
        msgtype = body.get("msgtype")
        if msgtype == "text":
            text = _expect_keys(body, "text", required={"content"}, optional=set(), errcode=40035)
            content = text["content"]
            if not isinstance(content, str) or not content:
                raise PayloadError(40035, "缺少参数 content")
        elif msgtype == "markdown":
            markdown = _expect_keys(body, "markdown", required={"title", "text"}, optional=set(), errcode=40035)
            if not all(isinstance(markdown[k], str) and markdown[k] for k in ("title", "text")):
                raise PayloadError(40035, "缺少参数 title 或 text")
            content = markdown["title"] + "\n" + markdown["text"]
        else:
            raise PayloadError(400105, f"不支持的消息类型 {msgtype!r}")
        if set(body) - {"msgtype", msgtype, "at"}:
            raise PayloadError(40035, f"unexpected keys {sorted(set(body) - {'msgtype', msgtype, 'at'})}")
        at = body.get("at", {})
        if not isinstance(at, dict) or set(at) - {"atMobiles", "atUserIds", "isAtAll"}:
            raise PayloadError(40035, "at must be an object with atMobiles, atUserIds, isAtAll")
        mobiles = at.get("atMobiles", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) and MOBILE.match(m) for m in mobiles):
            raise PayloadError(40035, "at.atMobiles must be a list of mobile numbers")
        if len(set(mobiles)) != len(mobiles):
            raise PayloadError(40035, "at.atMobiles has duplicates")
        if not isinstance(at.get("isAtAll", False), bool):
            raise PayloadError(40035, "at.isAtAll must be a boolean")
        if self.dingtalk_keywords and not any(k in content for k in self.dingtalk_keywords):
            raise PayloadError(310000, "keywords not in content, more: [https://open.dingtalk.com]")


def _expect_keys(body: dict, name: str, *, required: set[str], optional: set[str], errcode: int = 40058) -> dict:
    part = body.get(name)
    if not isinstance(part, dict):
        raise PayloadError(errcode, f"{name} must be an object")
    if missing := required - set(part):
        raise PayloadError(errcode, f"{name} lacks {sorted(missing)}")
    if extra := set(part) - required - optional:
        raise PayloadError(errcode, f"{name} has unexpected keys {sorted(extra)}")
    return part


class _Handler(BaseHTTPRequestHandler):
    robot: FakeRobotServer  # set on the subclass made in start()

    def log_message(self, format, *args):
        pass  # keep test output clean

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        robot = self.robot
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        kind = {WECOM_PATH: "wecom", DINGTALK_PATH: "dingtalk"}.get(split.path, "unknown")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        headers = dict(self.headers.items())
        recorded = RecordedRequest(kind, self.command, split.path, query, split.query, headers, raw, body)
        robot._record(recorded)

        script = robot._next_script()
        if script is not None:
            if script.delay:
                robot._stopping.wait(script.delay)
            if script.errcode is not None:
                return self._answer_json(recorded, {"errcode": script.errcode, "errmsg": script.errmsg}, script)
            if script.body is not None or script.status != 200:
                default = f"{script.status} fake robot says no".encode()
                raw_answer = script.body if script.body is not None else default
                return self._answer_raw(recorded, script.status, raw_answer, script.content_type, script.headers)

        if kind == "unknown":
            return self._answer_raw(recorded, 404, b"<html><body>404 Not Found</body></html>", "text/html", {})
        if self.command != "POST":
            return self._answer_raw(recorded, 405, b"method not allowed", "text/plain", {})
        if not self.headers.get("Content-Type", "").lower().startswith("application/json"):
            return self._answer_json(recorded, {"errcode": 40035, "errmsg": "Content-Type must be application/json"})
        try:
            if body is None:
                raise PayloadError(40035 if kind == "dingtalk" else 40058, "body is not UTF-8 JSON")
            (robot.check_wecom if kind == "wecom" else robot.check_dingtalk)(query, body)
        except PayloadError as exc:
            return self._answer_json(recorded, {"errcode": exc.errcode, "errmsg": exc.errmsg})
        self._answer_json(recorded, {"errcode": 0, "errmsg": "ok"})

    def _answer_json(self, recorded: RecordedRequest, answer: dict, script: Scripted | None = None):
        recorded.answer = answer
        status = script.status if script else 200
        headers = script.headers if script else {}
        self._answer_raw(recorded, status, json.dumps(answer, ensure_ascii=False).encode(), "application/json", headers)

    def _answer_raw(self, recorded: RecordedRequest, status: int, body, content_type: str, headers: dict):
        recorded.status = status
        payload = body.encode() if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (a timeout test)
