"""Voice: what is said, both engines, and the one queue that never drops or overlaps."""

from __future__ import annotations

import logging
import wave
from datetime import datetime

import numpy as np
import pytest

from display_board.announcements import AnnouncementLog, read_log
from display_board.model import Call
from display_board.voice import audio
from display_board.voice.announcer import Announcer
from display_board.voice.engines import EspeakClips, Voice, VoiceUnavailable, WavPackClips
from display_board.voice.make_pack import make_pack
from display_board.voice.phrases import TemplateError, check_template, phrases, speak_window, spell_ticket
from display_board.voice.player import CommandPlayer, PlayerError, WavFiles
from tests.display.helpers import wait_for
from yizhan.clock import ManualClock

TEMPLATE = "请{number}号到{window}办理"


def clock():
    return ManualClock(datetime.fromisoformat("2026-11-23T09:30:00+08:00"))


def call(ticket: str, window: str = "05", recall: int = 0, n: int = 0) -> Call:
    return Call(event_id=f"{ticket}-{recall}-{n}", ticket=ticket, window=window, window_name=f"{int(window)}号窗口",
                window_spoken=f"{int(window)}号窗口", text="", recall=recall)


def test_ticket_digits_are_spelled_and_windows_read_as_numbers():
    assert spell_ticket("A012") == ["A", "零", "一", "二"]
    assert speak_window("12号窗口") == "十二号窗口" and speak_window("05号窗口") == "五号窗口"
    assert speak_window("20号窗口") == "二十号窗口" and speak_window("P1号窗口") == "P一号窗口"
    assert phrases(TEMPLATE, "B105", "3号窗口") == ["请", "B", "一", "零", "五", "号到", "三号窗口", "办理"]
    with pytest.raises(TemplateError):
        check_template("请{ticket}号")
    with pytest.raises(TemplateError):
        check_template("请到{window}")


def test_espeak_says_a_call_and_renders_each_phrase_once():
    source = EspeakClips("cmn-latn-pinyin")
    voice = Voice(source, TEMPLATE, repeat=2, chime=True)
    first = voice.render("A012", "5号窗口")
    rendered = source.rendered
    again = voice.render("A012", "5号窗口")
    assert source.rendered == rendered  # everything came from the phrase cache
    assert np.array_equal(first, again)
    # chime + two sayings: several seconds of real sound, not silence
    assert audio.duration(first) > 4 and np.abs(first).max() > 8000
    once = Voice(source, TEMPLATE, repeat=1, chime=False).render("A012", "5号窗口")
    assert audio.duration(first) > 2 * audio.duration(once)


def test_wav_pack_engine_assembles_calls_from_clips(tmp_path):
    make_pack(tmp_path / "pack")
    source = WavPackClips(tmp_path / "pack")
    source.check()
    assert source.split("号到十二号窗口") == ["号", "到", "十", "二", "号窗口"]
    samples = Voice(source, TEMPLATE, repeat=1).render("C120", "12号窗口")
    assert audio.duration(samples) > 2 and np.abs(samples).max() > 8000


def test_wav_pack_names_its_missing_clips(tmp_path):
    make_pack(tmp_path / "pack")
    (tmp_path / "pack" / "办理.wav").unlink()
    (tmp_path / "pack" / "理.wav").unlink(missing_ok=True)
    source = WavPackClips(tmp_path / "pack")
    with pytest.raises(VoiceUnavailable, match="缺少片段：办、理"):
        Voice(source, TEMPLATE).render("A001", "1号窗口")
    with pytest.raises(VoiceUnavailable, match="语音包目录不存在"):
        WavPackClips(tmp_path / "nowhere").check()


def test_missing_espeak_program_is_a_clear_error():
    with pytest.raises(VoiceUnavailable, match="找不到语音程序"):
        EspeakClips(program="espeak-ng-not-installed").check()


def test_burst_is_spoken_in_order_each_once_and_a_recall_again(tmp_path):
    log = AnnouncementLog(tmp_path, clock(), "tv-1")
    out = WavFiles(tmp_path / "voice")
    announcer = Announcer(Voice(EspeakClips(), TEMPLATE, repeat=1), out, log)
    announcer.start()
    tickets = [f"A{i:03d}" for i in range(1, 21)]
    for t in tickets:
        announcer.put(call(t))
    announcer.put(call("A003", recall=1))
    wait_for(announcer.idle, what="the announcement queue to drain")
    announcer.stop()
    spoken = [(r["ticket"], r["recall"]) for r in read_log(tmp_path) if r["output"] == "voice"]
    assert spoken == [(t, 0) for t in tickets] + [("A003", 1)]
    files = sorted((tmp_path / "voice").glob("*.wav"))
    assert [f.name.split("-")[1][:-4] for f in files] == tickets + ["A003"]
    with wave.open(str(files[0])) as fh:
        assert fh.getnframes() / fh.getframerate() > 2


def test_a_broken_speaker_is_logged_once_and_the_queue_goes_on(tmp_path, caplog):
    log = AnnouncementLog(tmp_path, clock(), "tv-1")
    player = CommandPlayer("false {path}", tmp_path)  # a sound card that refuses every clip
    announcer = Announcer(Voice(EspeakClips(), TEMPLATE, repeat=1), player, log)
    announcer.start()
    with caplog.at_level(logging.ERROR, logger="display_board.voice.announcer"):
        for t in ("A001", "A002", "A003"):
            announcer.put(call(t))
        wait_for(announcer.idle, what="the queue to drain")
    announcer.stop()
    assert not announcer.healthy and "播放失败" in announcer.problem
    assert len([r for r in caplog.records if "voice:" in r.getMessage()]) == 1
    assert [r["ticket"] for r in read_log(tmp_path) if r["output"] == "voice_failed"] == ["A001", "A002", "A003"]


def test_no_player_program_is_reported():
    with pytest.raises(PlayerError, match="找不到播放程序"):
        CommandPlayer("no-such-player {path}", "/tmp").check()
