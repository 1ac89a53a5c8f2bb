"""Crash safety and a Meta outage, with real processes.

- The webhook processor (a real odoo-bin process running the cron code) is
  SIGKILLed while one log is in progress: what it committed stays, the log
  in progress leaves nothing behind, and the next pass completes it.
- Meta (the simulator) is down, connection refused: the queue backs off per
  the retry policy, gives nothing up, and sends everything on recovery in
  order per customer. The outage lasts CAMPOTECH_OUTAGE_SECONDS (20 in CI;
  300 for the full five minutes, see the README).
"""

import logging
import os
import re

from odoo.tests import tagged

from ..cloud.retry import RetryPolicy
from .processes_common import ProcessCase, free_port, post

_logger = logging.getLogger(__name__)

PROCESS_LOGS = """
env["wa.webhook.log"]._cron_process()
env.cr.commit()
"""
# A cron-like worker: a queue pass every half second, for `seconds`, or
# (until_sent) until the account has nothing pending left.
QUEUE_WORKER = """
deadline = time.time() + %(seconds)s
passes = 0
while True:
    env["wa.outbound.queue"]._process_queue()
    env.cr.commit()
    passes += 1
    pending = env["wa.outbound.queue"].search_count([
        ("account_id", "=", %(account)s), ("state", "in", ("pending", "processing"))])
    if time.time() >= deadline or (%(until_sent)s and not pending):
        break
    time.sleep(0.5)
result(passes)
"""
OUTAGE_SECONDS = float(os.environ.get("CAMPOTECH_OUTAGE_SECONDS") or 20)
# The queue's policy (wa.outbound.queue._attempt_failed): the bounds of the
# delay after attempt n, jitter included.
QUEUE_POLICY = RetryPolicy()


def delay_bounds(attempt):
    base = QUEUE_POLICY.base_delay * QUEUE_POLICY.factor ** (attempt - 1)
    base = min(QUEUE_POLICY.max_delay, base)
    return base * (1 - QUEUE_POLICY.jitter), base * (1 + QUEUE_POLICY.jitter)


@tagged("post_install", "-at_install")
class TestWebhookProcessorKilled(ProcessCase):

    def test_a_processor_killed_mid_log_leaves_it_whole_for_the_next_pass(self):
        numbers = ["54911555%05d" % i for i in range(8)]
        # The fifth customer's conversation exists: the test locks its row,
        # so the processor blocks inside that log's transaction, after the
        # logs before it were committed, deterministically.
        locked_conversation = self.create_conversations([numbers[4]])[0]
        server = self.server()
        wamids = []
        for position, number in enumerate(numbers):
            raw, wamid = self.inbound(number, "mensaje %s" % position)
            self.assertEqual(post(server.url("/whatsapp/webhook"), raw), 200)
            wamids.append(wamid)
        server.stop()
        self.assertEqual(self.log_states(), ["pending"] * 8, "stored by the controller, unprocessed")

        with self.registry.cursor() as lock_cr:
            lock_cr.execute("SELECT id FROM wa_conversation WHERE id = %s FOR UPDATE",
                            [locked_conversation])
            lock_cr.execute("SELECT pg_backend_pid()")
            holder = lock_cr.fetchone()[0]
            processor = self.shell(PROCESS_LOGS)

            def blocked():
                rows = self.sql("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                                [holder])
                return rows[0][0] if rows else None
            self.assertTrue(self.wait_for(blocked, timeout=120),
                            "the processor reached the locked customer's log:\n%s" % processor.text())
            backend = blocked()
            processor.kill()
            lock_cr.rollback()
        self.assertEqual(processor.proc.returncode, -9)
        # Its PostgreSQL backend notices the dead client and rolls back.
        self.assertTrue(self.wait_for(lambda: not self.sql(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]), timeout=60))

        states = self.log_states()
        done = [wamid for wamid, state in zip(wamids, states) if state == "done"]
        self.assertNotIn(wamids[4], done, "the log in progress was not committed")
        self.assertIn("pending", states)
        self.assertEqual(sorted(self.stored_wamids()), sorted(done),
                         "exactly the committed logs' messages are stored, nothing of the rest")

        self.run_shell(PROCESS_LOGS)
        self.assertEqual(self.log_states(), ["done"] * 8)
        self.assertEqual(sorted(self.stored_wamids()), sorted(wamids), "every message stored once")
        conversations = self.sql("""
            SELECT wa_id, unread_count FROM wa_conversation WHERE account_id = %s ORDER BY wa_id""",
                                 [self.account_id])
        self.assertEqual(conversations, [(number, 1) for number in numbers],
                         "one conversation per customer, each message counted once")


@tagged("post_install", "-at_install")
class TestMetaOutage(ProcessCase):

    simulator_port = free_port()  # the same port again when "Meta" comes back

    def items(self):
        return self.sql("""
            SELECT q.id, q.phone, q.state, q.attempts, q.scheduled_at, q.last_attempt_at,
                   m.body, q.error_message
              FROM wa_outbound_queue q JOIN wa_message m ON m.id = q.message_id
             WHERE q.account_id = %s ORDER BY q.id""", [self.account_id])

    def fast_forward(self):
        """The backoff's wait elapses: every pending item due now, keeping
        their order in time (all shifted by the same amount)."""
        self.sql("""
            UPDATE wa_outbound_queue SET scheduled_at = scheduled_at - (
                   SELECT max(scheduled_at) FROM wa_outbound_queue
                    WHERE account_id = %(account)s AND state = 'pending')
                   + (now() at time zone 'UTC') - interval '1 second'
             WHERE account_id = %(account)s AND state = 'pending'
         RETURNING id""", {"account": self.account_id})

    def worker(self, seconds=0, until_sent=False, timeout=600):
        process = self.run_shell(QUEUE_WORKER % {
            "seconds": seconds, "account": self.account_id, "until_sent": until_sent},
            timeout=timeout)
        return process.results()[-1]

    def assert_backed_off(self, items):
        for _id, _phone, state, attempts, _at, _last, body, reason in items:
            self.assertEqual(state, "pending", "%s: a connection error gives nothing up" % body)
            if attempts:
                low, high = delay_bounds(attempts)
                planned = float(re.search(r"retry \d+ of \d+ in (\d+) s", reason).group(1))
                self.assertTrue(low - 1 <= planned <= high + 1, "%s: attempt %s, next in %.0f s, "
                                "the policy says %.0f-%.0f s" % (body, attempts, planned, low, high))

    def test_meta_down_backs_off_loses_nothing_and_sends_in_order_on_recovery(self):
        numbers = ["54911666%05d" % i for i in range(3)]
        conversations = self.create_conversations(numbers)
        texts = [(conversations[c], "cliente %s mensaje %s" % (c, n))
                 for n in range(3) for c in range(3)]  # interleaved, as a morning's batch
        self.send(texts)
        self.simulator.stop()  # connection refused from here on
        try:
            passes = self.worker(seconds=OUTAGE_SECONDS)
            items = self.items()
            self.assert_backed_off(items)
            attempts = [item[3] for item in items]
            # At most one attempt per backoff step that fits in the outage,
            # however many passes ran (no tight loop).
            steps, elapsed = 1, delay_bounds(1)[0]
            while elapsed <= OUTAGE_SECONDS:
                steps += 1
                elapsed += delay_bounds(steps)[0]
            self.assertGreater(passes, 2 * steps, "the worker kept polling")
            self.assertTrue(all(1 <= a <= steps for a in attempts if a), attempts)
            self.assertGreaterEqual(sum(attempts), len(numbers), "every customer's first message tried")
            _logger.info("Meta down %.0f s: %d queue passes, attempts per item %s (measured)",
                         OUTAGE_SECONDS, passes, attempts)
            # The waits grow: two more steps of the policy, without waiting for them.
            for _step in range(2):
                before = max(attempts)
                self.fast_forward()
                self.worker()
                items = self.items()
                self.assert_backed_off(items)
                attempts = [item[3] for item in items]
                self.assertEqual(max(attempts), before + 1)
        finally:
            self.simulator.start()
        self.fast_forward()
        self.worker(seconds=300, until_sent=True)
        items = self.items()
        self.assertEqual({item[2] for item in items}, {"done"}, "all sent after the outage")
        sent = self.simulator.state()["messages"]
        self.assertEqual(sorted(m["body"]["text"]["body"] for m in sent),
                         sorted(text for _c, text in texts), "each message exactly once")
        for c, number in enumerate(numbers):
            bodies = [m["body"]["text"]["body"] for m in sent if m["to"] == number]
            self.assertEqual(bodies, ["cliente %s mensaje %s" % (c, n) for n in range(3)],
                             "in order for customer %s" % number)

