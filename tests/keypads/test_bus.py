"""The bus master against the simulated bus over a pty pair."""

import subprocess
import sys

from kiosk.keypad_bus.protocol import EV_KEY, EV_RATING, Key
from tests.keypads.conftest import wait_for


def test_key_presses_reach_the_master_once(bus):
    sim, master, events = bus
    sim.device(2).press(Key.NEXT)
    wait_for(lambda: events, what="event")
    sim.device(3).press(Key.FINISH)
    wait_for(lambda: len(events) >= 2, what="second event")
    assert [(e.addr, e.type, e.code) for e in events] == [(2, EV_KEY, Key.NEXT), (3, EV_KEY, Key.FINISH)]
    wait_for(lambda: not sim.device(3).pending, what="ack")
    n = master.cycles
    wait_for(lambda: master.cycles > n + 3, what="more cycles")
    assert len(events) == 2  # acknowledged events are not delivered again


def test_collision_is_counted_and_both_presses_arrive(bus):
    sim, master, events = bus
    # callers 3 and 11 share ASK slot 3 (of 4) on their first try: their answers collide
    with sim.lock:  # both presses land before the same ASK
        sim.device(3).press(Key.RECALL)
        sim.device(11).prompt_ticket, sim.device(11).prompt_until = "A001", float("inf")
        sim.device(11).rate(5)
    wait_for(lambda: len(events) >= 2, what="both events")
    assert {(e.addr, e.code) for e in events} == {(3, Key.RECALL), (11, 5)}
    assert sim.collisions >= 1 and master.crc_errors >= 1


def test_caller_shows_the_number_and_keypad_asks_for_rating(bus):
    sim, master, events = bus
    master.show(1, "A012")
    master.prompt(11, "A012", 30)
    wait_for(lambda: sim.device(1).display == "A012", what="display")
    wait_for(lambda: sim.device(11).lit, what="keypad lit")
    assert sim.device(12).rate(4) is None  # a keypad that was not asked ignores presses
    sim.device(11).rate(2)
    ev = wait_for(lambda: [e for e in events if e.type == EV_RATING], what="rating")[0]
    assert (ev.addr, ev.code) == (11, 2)
    assert not sim.device(11).lit


def test_silent_device_goes_offline_is_polled_less_and_comes_back(bus):
    sim, master, events = bus
    sim.device(12).dead = True
    wait_for(lambda: not master.devices[12].online, timeout=30, what="offline")
    polls = master.devices[12].skipped
    wait_for(lambda: master.devices[12].skipped > polls + 4, timeout=30, what="skipped polls")
    sim.device(12).dead = False
    wait_for(lambda: master.devices[12].online, timeout=30, what="back online")
    assert all(d.online for d in master.devices.values())


def test_cable_pulled_and_replugged(bus, ptys):
    sim, master, events = bus
    wait_for(lambda: master.cycles >= 1 and sim.transport.is_open, what="bus running before the cable is pulled")
    ptys.unplug()
    sim.device(1).press(Key.NEXT)  # pressed while the cable is out
    ptys.replug()
    wait_for(lambda: [e for e in events if e.addr == 1], timeout=30, what="press after replug")
    assert master.transport.reopens >= 1 and sim.transport.reopens >= 1


def test_keypads_listen_prints_decoded_presses(ptys):
    from kiosk.keypad_bus.protocol import Kind
    from kiosk.keypad_bus.simulator import BusSimulator, SimDevice

    sim = BusSimulator(ptys.b, [SimDevice(4, Kind.CALLER)], 9600).start()
    try:
        sim.device(4).press(Key.SKIP)
        out = subprocess.run([sys.executable, "-m", "yizhan.cli", "devices", "keypads-listen", ptys.a,
                              "--poll", "4", "--seconds", "3"], capture_output=True, text=True, timeout=60)
    finally:
        sim.stop()
    assert out.returncode == 0, out.stderr
    assert "4 叫号器 skip" in out.stdout


def test_keypads_listen_decodes_a_running_bus_passively(ptys):
    """The technician's adapter sees both sides of a bus: the master's commands and the devices' events."""
    import serial

    from kiosk.keypad_bus.protocol import EV_RATING, Cmd, Event, Frame

    p = subprocess.Popen([sys.executable, "-m", "yizhan.cli", "devices", "keypads-listen", ptys.a, "--seconds", "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "正在监听" in p.stdout.readline()
        line = serial.serial_for_url(ptys.b, 9600)
        line.write(Frame(0, 1, Cmd.ASK, bytes([4, 16])).encode()
                   + Frame(5, 1, Cmd.EVENT, Event(5, 3, EV_KEY, Key.NEXT).payload()).encode()
                   + b"\x13\x37garbage"
                   + Frame(5, 2, Cmd.SHOW, b"B007").encode()
                   + Frame(11, 1, Cmd.EVENT, Event(11, 1, EV_RATING, 1).payload()).encode())
        line.flush()
        out, err = p.communicate(timeout=30)
        line.close()
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "5 叫号器 call-next" in out and "显示 / show B007" in out and "11 评价器 1 非常不满意" in out
