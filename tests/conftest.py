"""Shared fixtures: a Meta Cloud API simulator on loopback, and a webhook receiver.

``sim_factory(**kwargs)`` starts a Simulator on 127.0.0.1 with a free port in
a background thread (kwargs as ``Simulator``); every simulator it started is
stopped after the test. ``simulator`` is one with the defaults; ``wired_sim``
delivers its webhooks to ``webhook_receiver``. ``frozen_clock`` is a clock
that only moves when told to, for deterministic rate limits and windows.
"""

import pytest

from campotech_whatsapp.cloud.simulator import DEFAULTS, Simulator
from campotech_whatsapp.cloud.simulator.receiver import WebhookReceiver


class FrozenClock:
    """Epoch seconds that stand still until advance() is called."""

    def __init__(self, start=1_790_000_000.0):
        self.now = float(start)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def frozen_clock():
    return FrozenClock()


@pytest.fixture
def sim_factory():
    started = []

    def make(**kwargs):
        sim = Simulator(host="127.0.0.1", port=0, **kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(sim_factory):
    return sim_factory()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(DEFAULTS["app_secret"], verify_token=DEFAULTS["verify_token"]).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def wired_sim(sim_factory, webhook_receiver):
    return sim_factory(webhook_url=webhook_receiver.url)
