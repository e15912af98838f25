"""How many followers one WeChat bridge serves: notices per second sent to the (fake) WeChat
API with 1,000 bound tickets.

Everything is real except WeChat: a Mosquitto started from the shipped config, `yizhan
server` (SQLite), `yizhan wechat`, 1,000 tickets issued through the API and bound through
signed /wechat/callback SCAN events; then each ticket gets two 'ahead' events (3 and 1
ahead) on its `ticket/<token>` topic, as the server publishes them, and we time the 2,000
notices arriving at the fake WeChat API. Each notice costs the bridge a claim on the server
(one database write) and one WeChat call.

    .venv/bin/python bench/wechat_bench.py [--tickets 1000] [--workers 32] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures_hall import start_server, yizhan, yizhan_env  # noqa: E402
from tests.fixtures_mqtt import USERS, hall_broker  # noqa: E402
from tests.wechat.conftest import CALLBACK_TOKEN, HALL_DIR, HALL_ID  # noqa: E402
from tests.wechat.fake_wechat import APP_SECRET, FakeWeChat, event_xml, sign_params  # noqa: E402
from yizhan.messaging import topics  # noqa: E402
from yizhan.messaging.mqtt import MqttMessenger  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--latency-ms", type=float, default=0, help="simulated WeChat round trip per API call")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wechat-bench-"))
    fake = FakeWeChat(latency_s=args.latency_ms / 1000).start()
    broker = hall_broker(work / "mqtt", hall=HALL_ID).start()
    env = yizhan_env(HALL_DIR, work / "state",
                     YIZHAN_MQTT_URL=f"mqtt://yizhan-server:{USERS['yizhan-server']}@127.0.0.1:{broker.port}",
                     YIZHAN_WECHAT_API=fake.url, YIZHAN_WECHAT_SECRET=APP_SECRET, YIZHAN_WECHAT_TOKEN=CALLBACK_TOKEN)
    server = start_server(env)
    bridge = None
    try:
        kiosk = yizhan("token", "--role", "kiosk", env=env)
        wechat = yizhan("token", "--role", "wechat", env=env)
        http = httpx.Client(timeout=30)

        def issue_and_bind(i: int) -> str:
            r = http.post(f"{server.url}/api/v1/tickets", headers={"Authorization": f"Bearer {kiosk}"},
                          json={"service": "SB001", "idempotency_key": f"bench-{i:06d}-{uuid.uuid4().hex[:8]}"})
            r.raise_for_status()
            token = r.json()["token"]
            b = http.post(f"{server.url}/wechat/callback", params=sign_params(CALLBACK_TOKEN),
                          content=event_xml(f"o{i:027d}", "SCAN", token))
            assert b.status_code == 200 and "已为您关注" in b.text, b.text
            return token

        t0 = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            tokens = list(pool.map(issue_and_bind, range(args.tickets)))
        setup_s = time.perf_counter() - t0

        log = open(work / "bridge.log", "ab")
        bridge = subprocess.Popen(
            [sys.executable, "-m", "yizhan.cli", "wechat", "--workers", str(args.workers)],
            env=env | {"YIZHAN_SERVER_URL": server.url, "YIZHAN_TOKEN": wechat, "YIZHAN_LOG_LEVEL": "WARNING",
                       "YIZHAN_MQTT_URL": f"mqtt://yizhan-wechat:{USERS['yizhan-wechat']}@127.0.0.1:{broker.port}"},
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        pub = MqttMessenger("127.0.0.1", broker.port, client_id="bench-publisher", username="yizhan-server",
                            password=USERS["yizhan-server"])
        pub.start()
        assert pub.wait_connected(10)
        # Wait until the bridge has subscribed: one probe event that must produce a notice.
        probe = tokens[0]
        for _attempt in range(15):
            pub.publish(topics.ticket(HALL_ID, probe), _event(probe, 3))
            try:
                fake.wait_for(lambda f: f.sent, timeout=2)
                break
            except AssertionError:
                continue
        else:
            raise SystemExit(f"the bridge did not start: {(work / 'bridge.log').read_text()[-2000:]}")
        base = len(fake.sent)
        expected = base + 2 * (len(tokens) - 1) + 1  # probe ticket already had ahead:3

        t1 = time.perf_counter()
        for ahead in (3, 1):
            for token in tokens:
                if token == probe and ahead == 3:
                    continue
                pub.publish(topics.ticket(HALL_ID, token), _event(token, ahead))
        publish_s = time.perf_counter() - t1
        fake.wait_for(lambda f: len(f.sent) >= expected, timeout=600, what="all notices")
        total_s = time.perf_counter() - t1
        pub.stop()
        sent = [s.at for s in fake.sent[base:]]
        span = sent[-1] - sent[0]
        n = len(sent)
        print(f"tickets bound: {len(tokens)} (issue + signed SCAN: {setup_s:.1f} s, {len(tokens) / setup_s:.0f}/s)")
        print(f"notices: {n} to {len(tokens)} followers, bridge workers: {args.workers}, simulated WeChat latency: {args.latency_ms:.0f} ms")
        print(f"events published in {publish_s:.2f} s; all notices delivered {total_s:.2f} s after the first event")
        print(f"throughput: {n / total_s:.0f} notices/s end to end; {n / span:.0f} notices/s first-to-last notice")
        print(f"problems reported by the fake WeChat API: {len(fake.problems)}; duplicates: {n - len({(s.openid, s.value('phrase2'), s.value('number3')) for s in fake.sent[base:]})}")
        return 0
    finally:
        if bridge is not None:
            bridge.send_signal(signal.SIGTERM)
            try:
                bridge.wait(30)
            except subprocess.TimeoutExpired:
                bridge.kill()
        server.stop()
        broker.stop()
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


def _event(token: str, ahead: int) -> bytes:
    from datetime import datetime, timezone

    at = datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")
    return json.dumps({"event_id": uuid.uuid4().hex, "hall": HALL_ID, "at": at, "type": "ahead", "ticket": "A0001", "ahead": ahead},
                      ensure_ascii=False).encode()


if __name__ == "__main__":
    raise SystemExit(main())
