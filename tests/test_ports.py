"""Ports handed to child servers come from outside the kernel's ephemeral range, so an
outgoing connection cannot take one between the pick and the child's bind."""

import socket

from yizhan import ports
from yizhan.ports import _ephemeral_start, free_port


def test_ports_are_below_the_ephemeral_range_distinct_and_free():
    top = _ephemeral_start()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(1024 < p < top for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))


def test_a_port_someone_listens_on_is_passed_over():
    first = free_port()
    ahead = first + 1 if first + 1 < _ephemeral_start() else ports._LOWEST  # where the walk goes next
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", ahead))
        listening.listen()
        assert free_port() not in (ahead, first)
