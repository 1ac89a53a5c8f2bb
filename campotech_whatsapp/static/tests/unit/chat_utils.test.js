import { beforeEach, describe, expect, test } from "@odoo/hoot";
import { mockDate } from "@odoo/hoot-mock";
import { patchTranslations } from "@web/../tests/web_test_helpers";
import {
    avatarColor,
    canReact,
    groupByDay,
    mergeMessages,
    ownReaction,
    reactionToSend,
    reactionsByMessage,
    relativeTime,
    tickOf,
} from "@campotech_whatsapp/core/chat_utils";
import { matchesTab } from "@campotech_whatsapp/core/wa_store_service";
import { tabLabel } from "@campotech_whatsapp/inbox/conversation_list";

const { DateTime } = luxon;

function message(id, at, values = {}) {
    return { id, message_at: at, direction: "inbound", type: "text", body: `m${id}`, ...values };
}

describe("campotech_whatsapp chat", () => {
    // Untranslated: the labels are the English source strings.
    beforeEach(() => patchTranslations());

    test("groups messages by day, oldest first, and keeps reactions off the bubbles", () => {
        mockDate("2026-12-01 15:00:00", 0);
        const groups = groupByDay([
            message(3, "2026-12-01 10:00:00"),
            message(1, "2026-11-30 09:00:00"),
            message(2, "2026-11-30 09:00:00"),
            message(4, "2026-12-01 10:01:00", { type: "reaction", body: "👍", reply_to: { id: 3 } }),
            message(5, "2026-11-20 08:00:00"),
        ]);
        expect(groups.map((g) => g.messages.map((m) => m.id))).toEqual([[5], [1, 2], [3]]);
        expect(String(groups[1].label)).toBe("Yesterday");
        expect(String(groups[2].label)).toBe("Today");
    });

    test("the latest reaction of each side wins; a removed one disappears", () => {
        const reactions = reactionsByMessage([
            message(10, "2026-12-01 10:00:00", { direction: "outbound" }),
            message(11, "2026-12-01 10:01:00", { type: "reaction", body: "👍", reply_to: { id: 10 } }),
            message(12, "2026-12-01 10:02:00", { type: "reaction", body: "❤️", reply_to: { id: 10 } }),
            message(13, "2026-12-01 10:03:00", {
                type: "reaction", direction: "outbound", body: "😂", reply_to: { id: 10 },
            }),
            message(14, "2026-12-01 10:04:00", {
                type: "reaction", direction: "outbound", body: "", removed: true, reply_to: { id: 10 },
            }),
        ]);
        expect(reactions).toEqual({ 10: [{ direction: "inbound", emoji: "❤️" }] });
    });

    test("ticks follow the delivery state of outbound messages only", () => {
        const out = (state, extra = {}) => tickOf({ direction: "outbound", state, ...extra });
        expect(out("pending").icon).toBe("fa-clock-o");
        expect([out("sent").icon, out("sent").double]).toEqual(["fa-check", false]);
        expect([out("delivered").double, out("delivered").className]).toEqual([true, "text-muted"]);
        expect([out("read").double, out("read").className]).toEqual([true, "o_wa_tick_read"]);
        const failed = out("failed", { error_message: "Re-engagement message", error_hint: "Send a template" });
        expect(failed.className).toBe("text-danger");
        expect(String(failed.title)).toBe("Re-engagement message\nSend a template");
        expect(tickOf({ direction: "inbound", state: "delivered" })).toBe(null);
    });

    test("a message received twice is one bubble with the latest state", () => {
        const merged = mergeMessages(
            [message(1, "2026-12-01 10:00:00"), message(2, "2026-12-01 10:01:00", { state: "sent" })],
            [message(2, "2026-12-01 10:01:00", { state: "read" }), message(3, "2026-12-01 10:02:00")]
        );
        expect(merged.map((m) => [m.id, m.state])).toEqual([[1, undefined], [2, "read"], [3, undefined]]);
    });

    test("relative times read at a glance", () => {
        const now = DateTime.fromISO("2026-12-01T15:00:00");
        expect(String(relativeTime(now.minus({ seconds: 20 }), now))).toBe("now");
        expect(String(relativeTime(now.minus({ minutes: 5 }), now))).toBe("5 min ago");
        expect(String(relativeTime(now.minus({ hours: 3 }), now))).toBe("3 h ago");
        expect(String(relativeTime(now.minus({ days: 1 }), now))).toBe("yesterday");
    });

    test("tabs keep what the server's domains keep", () => {
        const c = { status: "open", unread_count: 2, user: { id: 7 } };
        expect(matchesTab(c, "unread", 7)).toBe(true);
        expect(matchesTab(c, "mine", 8)).toBe(false);
        expect(matchesTab({ ...c, status: "spam" }, "all", 7)).toBe(false);
        expect(matchesTab({ ...c, status: "closed" }, "closed", 7)).toBe(true);
    });

    test("the agent reacts to the customer's messages; the same emoji again takes it back", () => {
        expect(canReact(message(1, "2026-12-01 10:00:00"))).toBe(true);
        expect(canReact(message(2, "2026-12-01 10:00:00", { type: "image" }))).toBe(true);
        expect(canReact(message(3, "2026-12-01 10:00:00", { direction: "outbound" }))).toBe(false);
        expect(canReact(message(4, "2026-12-01 10:00:00", { type: "reaction" }))).toBe(false);
        expect(canReact(message(5, "2026-12-01 10:00:00", { type: "unknown" }))).toBe(false);
        const reactions = reactionsByMessage([
            message(10, "2026-12-01 10:00:00"),
            message(11, "2026-12-01 10:01:00", { type: "reaction", body: "❤️", reply_to: { id: 10 } }),
            message(12, "2026-12-01 10:02:00", {
                type: "reaction", direction: "outbound", body: "👍", reply_to: { id: 10 },
            }),
        ])[10];
        expect(ownReaction(reactions)).toBe("👍");
        expect(ownReaction(undefined)).toBe("");
        expect(reactionToSend("👍", "👍")).toBe("");
        expect(reactionToSend("👍", "🙏")).toBe("🙏");
        expect(reactionToSend("", "👍")).toBe("👍");
    });

    test("tab labels: our own terms, read without their prefix when untranslated", () => {
        expect(tabLabel("Inbox tab: Open")).toBe("Open");
        expect(tabLabel("Abiertas")).toBe("Abiertas");
    });

    test("a customer without a picture keeps one colour, and two customers differ", () => {
        expect(avatarColor("Marta Sosa")).toBe(avatarColor("Marta Sosa"));
        expect(avatarColor("Marta Sosa")).not.toBe(avatarColor("Carlos Gómez"));
        expect(avatarColor("")).toMatch(/^hsl\(\d+, 45%, 82%\)$/);
    });
});
