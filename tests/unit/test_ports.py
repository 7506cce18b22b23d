"""Free ports for a topology copy: each simulator its own."""

from __future__ import annotations

import socket

from meshcert.backends.ports import assign_free_ports, free_ports


def test_the_ports_of_one_call_are_all_different_and_free():
    ports = free_ports(["127.0.0.1"] * 64)
    assert len(set(ports)) == 64
    for port in ports:  # each can be listened on once the call returns
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))


def test_every_simulator_of_a_topology_gets_its_own_port_on_its_host():
    simulators = {f"sim{i}": {"host": "127.0.0.1", "port": 1} for i in range(20)}
    simulators["plain"] = {"port": 1}  # no host: 127.0.0.1
    assign_free_ports(simulators)
    ports = [spec["port"] for spec in simulators.values()]
    assert len(set(ports)) == len(ports) and 1 not in ports
