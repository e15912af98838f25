"""Choosing the broker from the settings (DESIGN.md, "Configuration")."""

from __future__ import annotations

import pytest

from yizhan.messaging.factory import MessagingConfigError, broker_address, parse_mqtt_url
from yizhan.settings import load_settings


def test_url_with_user_and_percent_encoded_password():
    a = parse_mqtt_url("mqtt://yizhan-server:p%40ss%3Aw0rd@10.0.0.5:1884", {})
    assert (a.host, a.port, a.username, a.password, a.tls) == ("10.0.0.5", 1884, "yizhan-server", "p@ss:w0rd", False)
    assert "p@ss" not in str(a)  # the printable form never shows the password


def test_tls_url_defaults_to_8883():
    a = parse_mqtt_url("mqtts://central.example.gov.cn", {})
    assert (a.port, a.tls, a.username) == (8883, True, None)


def test_password_from_the_environment_or_a_systemd_credential(tmp_path):
    assert parse_mqtt_url("mqtt://tv-1@h", {"YIZHAN_MQTT_PASSWORD": "s3"}).password == "s3"
    (tmp_path / "mqtt_password").write_text("from-credential\n")
    assert parse_mqtt_url("mqtt://tv-1@h", {"CREDENTIALS_DIRECTORY": str(tmp_path)}).password == "from-credential"


@pytest.mark.parametrize("url,fragment", [
    ("http://h:1883", "mqtt://"), ("mqtt://", "主机名"), ("mqtt://h:99999", "端口无效"),
])
def test_bad_urls_get_a_chinese_message_with_the_fix(url, fragment):
    with pytest.raises(MessagingConfigError) as err:
        parse_mqtt_url(url, {})
    assert fragment in str(err.value) and " / " in str(err.value)


def test_without_a_url_clients_use_the_embedded_broker(tmp_path):
    s = load_settings({"YIZHAN_STATE_DIR": str(tmp_path)})
    a = broker_address(s, {})
    assert (a.host, a.port, a.embedded) == ("127.0.0.1", 1883, True)
    s0 = load_settings({"YIZHAN_STATE_DIR": str(tmp_path), "YIZHAN_MQTT_PORT": "0"})
    with pytest.raises(MessagingConfigError, match="yizhan server"):
        broker_address(s0, {})
    (tmp_path / "mqtt.port").write_text("45123\n")
    assert broker_address(s0, {}).port == 45123
