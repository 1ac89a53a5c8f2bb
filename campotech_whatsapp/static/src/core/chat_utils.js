import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime } from "@web/core/l10n/dates";

const { DateTime } = luxon;

/** Server datetimes ("YYYY-MM-DD HH:MM:SS", UTC) as local luxon DateTimes. */
export function toDateTime(value) {
    return value ? deserializeDateTime(value) : null;
}

/**
 * How long ago, as a dispatcher reads it at a glance: "hace 5 min",
 * "hace 3 h", "ayer", a weekday within a week, else the date.
 */
export function relativeTime(value, now = DateTime.now()) {
    const dt = typeof value === "string" ? toDateTime(value) : value;
    if (!dt) {
        return "";
    }
    const minutes = Math.floor(now.diff(dt, "minutes").minutes);
    if (minutes < 1) {
        return _t("now");
    }
    if (minutes < 60) {
        return _t("%s min ago", minutes);
    }
    if (dt.hasSame(now, "day")) {
        return _t("%s h ago", Math.floor(minutes / 60));
    }
    if (dt.hasSame(now.minus({ days: 1 }), "day")) {
        return _t("yesterday");
    }
    if (now.diff(dt, "days").days < 7) {
        return dt.toLocaleString({ weekday: "long" });
    }
    return dt.toLocaleString(DateTime.DATE_SHORT);
}

/** The label of a day separator: "Hoy", "Ayer" or "lunes, 30 de noviembre". */
export function dayLabel(dt, now = DateTime.now()) {
    if (dt.hasSame(now, "day")) {
        return _t("Today");
    }
    if (dt.hasSame(now.minus({ days: 1 }), "day")) {
        return _t("Yesterday");
    }
    const options = { weekday: "long", day: "numeric", month: "long" };
    if (!dt.hasSame(now, "year")) {
        options.year = "numeric";
    }
    return dt.toLocaleString(options);
}

/**
 * Messages to show as bubbles, grouped by local day, oldest first.
 * Reactions are not bubbles: they decorate the message they react to.
 * Returns [{ key, label, messages }].
 */
export function groupByDay(messages, now = DateTime.now()) {
    const groups = [];
    let current = null;
    for (const message of sortMessages(messages)) {
        if (message.type === "reaction" && message.reply_to) {
            continue;
        }
        const dt = toDateTime(message.message_at) || now;
        const key = dt.toISODate();
        if (!current || current.key !== key) {
            current = { key, label: dayLabel(dt, now), messages: [] };
            groups.push(current);
        }
        current.messages.push(message);
    }
    return groups;
}

/** Oldest first by time, then by id (two messages in one second keep their order). */
export function sortMessages(messages) {
    return [...messages].sort(
        (a, b) => (a.message_at || "").localeCompare(b.message_at || "") || a.id - b.id
    );
}

/**
 * The reactions on each message: the latest emoji of each side wins, and
 * an empty (removed) one takes it back. Returns {messageId: [{emoji, direction}]}.
 */
export function reactionsByMessage(messages) {
    const latest = {};
    for (const message of sortMessages(messages)) {
        if (message.type !== "reaction" || !message.reply_to) {
            continue;
        }
        const target = (latest[message.reply_to.id] ||= {});
        target[message.direction] = message.removed ? "" : message.body;
    }
    const result = {};
    for (const [id, sides] of Object.entries(latest)) {
        const list = Object.entries(sides)
            .filter(([, emoji]) => emoji)
            .map(([direction, emoji]) => ({ direction, emoji }));
        if (list.length) {
            result[id] = list;
        }
    }
    return result;
}

/**
 * The delivery tick of an outbound message: pending ◷, sent ✓, delivered
 * ✓✓, read blue ✓✓, failed red with Meta's reason. Inbound messages have none.
 */
export function tickOf(message) {
    if (message.direction !== "outbound") {
        return null;
    }
    switch (message.state) {
        case "pending":
            return { icon: "fa-clock-o", double: false, className: "text-muted", title: _t("Sending") };
        case "sent":
            return { icon: "fa-check", double: false, className: "text-muted", title: _t("Sent") };
        case "delivered":
            return { icon: "fa-check", double: true, className: "text-muted", title: _t("Delivered") };
        case "read":
            return { icon: "fa-check", double: true, className: "o_wa_tick_read", title: _t("Read") };
        case "failed": {
            const reason = [message.error_message, message.error_hint].filter(Boolean).join("\n");
            return {
                icon: "fa-exclamation-circle",
                double: false,
                className: "text-danger",
                title: reason || _t("Not delivered"),
            };
        }
    }
    return null;
}

/**
 * Merge messages into a list by id: a message pushed twice (by the bus and
 * by a refetch after a reconnection) is one bubble with the latest data.
 */
export function mergeMessages(existing, incoming) {
    const byId = new Map(existing.map((message) => [message.id, message]));
    for (const message of incoming) {
        byId.set(message.id, { ...(byId.get(message.id) || {}), ...message });
    }
    return sortMessages([...byId.values()]);
}

/** The 24 h window's remaining time, "quedan 3 h", or "" once closed. */
export function windowLeft(expiresAt, now = DateTime.now()) {
    const dt = typeof expiresAt === "string" ? toDateTime(expiresAt) : expiresAt;
    if (!dt || dt <= now) {
        return "";
    }
    const minutes = Math.floor(dt.diff(now, "minutes").minutes);
    if (minutes < 60) {
        return _t("%s min left", minutes);
    }
    return _t("%s h left", Math.floor(minutes / 60));
}

/** Initials for an avatar without a picture. */
export function initials(name) {
    return (name || "?")
        .split(/\s+/)
        .filter(Boolean)
        .slice(0, 2)
        .map((word) => word[0].toUpperCase())
        .join("");
}

/**
 * Whether the agent can react to a message: a customer's message, once
 * WhatsApp has it (a reaction points at its wamid), and not a reaction itself.
 */
export function canReact(message) {
    return (
        message.direction === "inbound" &&
        !["reaction", "unknown"].includes(message.type) &&
        message.state !== "failed"
    );
}

/** The agents' current reaction on a message ("" for none), from reactionsByMessage's list. */
export function ownReaction(reactions) {
    return (reactions || []).find((reaction) => reaction.direction === "outbound")?.emoji || "";
}

/** The emoji to send when the agent picks ``chosen``: the same one again takes it back. */
export function reactionToSend(current, chosen) {
    return chosen === current ? "" : chosen;
}

/**
 * A steady colour for a customer without a picture, from their name, so
 * rows of a list tell apart at a glance (light enough for dark initials).
 */
export function avatarColor(name) {
    let hash = 0;
    for (const char of name || "") {
        hash = (hash * 31 + char.codePointAt(0)) % 360;
    }
    return `hsl(${hash}, 45%, 82%)`;
}
