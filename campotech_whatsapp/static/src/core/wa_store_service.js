import { reactive, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { user } from "@web/core/user";
import { debounce } from "@web/core/utils/timing";
import { mergeMessages } from "./chat_utils";

export const EVENTS = {
    NEW_MESSAGE: "campotech_whatsapp/new-message",
    STATUS: "campotech_whatsapp/status-update",
    CONVERSATION: "campotech_whatsapp/conversation-update",
    TYPING: "campotech_whatsapp/typing",
};
const TYPING_SHOWN_MS = 6000;
const PAGE = 40;

/** Whether a conversation belongs in an inbox tab (the server's _wa_inbox_domain). */
export function matchesTab(conversation, tab, uid) {
    const active = !["spam", "archived"].includes(conversation.status);
    switch (tab) {
        case "unread":
            return active && conversation.unread_count > 0;
        case "open":
            return conversation.status === "open";
        case "closed":
            return conversation.status === "closed";
        case "mine":
            return active && conversation.user?.id === uid;
    }
    return active;
}

/**
 * The WhatsApp screens' client state, shared by the inbox, the form panels
 * and the systray: conversations by id, each one's loaded messages, who is
 * typing, and the bus connection. Bus events and refetches go through
 * the same merge by id, so nothing is shown twice or missed.
 */
export class WaStore {
    constructor(env, { orm, bus_service }) {
        this.orm = orm;
        this.bus = bus_service;
        this.state = reactive({
            conversations: {},
            list: [],
            hasMore: false,
            tab: "all",
            search: "",
            counts: { unread: 0, mine: 0 },
            messages: {},
            typing: {},
            connected: true,
            systrayCount: 0,
        });
        // Conversations on screen now: what arrives there is read at once.
        this.openChats = new Map();
        this.refreshCounts = debounce(() => this.loadInbox({ keep: true }), 800);
        for (const [type, handler] of [
            [EVENTS.NEW_MESSAGE, (p) => this.onNewMessage(p)],
            [EVENTS.STATUS, (p) => this.onStatus(p)],
            [EVENTS.CONVERSATION, (p) => this.onConversation(p)],
            [EVENTS.TYPING, (p) => this.onTyping(p)],
        ]) {
            bus_service.subscribe(type, handler);
        }
        bus_service.addEventListener("disconnect", () => (this.state.connected = false));
        bus_service.addEventListener("reconnecting", () => (this.state.connected = false));
        bus_service.addEventListener("reconnect", () => this.onReconnect());
        bus_service.start();
    }

    get uid() {
        return user.userId;
    }

    // --- loading -----------------------------------------------------------

    async loadInbox({ keep = false, more = false } = {}) {
        const { tab, search } = this.state;
        const offset = more ? this.state.list.length : 0;
        const limit = keep ? Math.max(PAGE, this.state.list.length) : PAGE;
        const data = await this.orm.call("wa.conversation", "get_inbox_data", [], {
            tab,
            search,
            limit,
            offset,
        });
        if (tab !== this.state.tab || search !== this.state.search) {
            return; // a newer search is under way
        }
        for (const conversation of data.conversations) {
            this.upsertConversation(conversation);
        }
        const ids = data.conversations.map((c) => c.id);
        this.state.list = more ? [...new Set([...this.state.list, ...ids])] : ids;
        this.state.hasMore = data.has_more;
        this.state.counts = data.counts;
        this.state.systrayCount = data.counts.systray ?? data.counts.unread;
    }

    async loadSystray() {
        const counts = await this.orm.call("wa.conversation", "get_unread_counter", []);
        this.state.systrayCount = counts;
    }

    setFilter({ tab, search }) {
        if (tab !== undefined) {
            this.state.tab = tab;
        }
        if (search !== undefined) {
            this.state.search = search;
        }
        return this.loadInbox();
    }

    thread(conversationId) {
        return (this.state.messages[conversationId] ||= {
            list: [],
            hasMore: false,
            loaded: false,
            loading: false,
        });
    }

    async loadMessages(conversationId) {
        const thread = this.thread(conversationId);
        const data = await this.orm.call("wa.conversation", "wa_get_messages", [[conversationId]]);
        thread.list = mergeMessages(thread.list, data.messages);
        thread.hasMore = data.has_more;
        thread.loaded = true;
    }

    async loadOlder(conversationId) {
        const thread = this.thread(conversationId);
        if (!thread.hasMore || thread.loading || !thread.list.length) {
            return false;
        }
        thread.loading = true;
        try {
            const oldest = Math.min(...thread.list.map((m) => m.id));
            const data = await this.orm.call("wa.conversation", "wa_get_messages", [[conversationId]], {
                before_id: oldest,
            });
            thread.list = mergeMessages(thread.list, data.messages);
            thread.hasMore = data.has_more;
            return data.messages.length > 0;
        } finally {
            thread.loading = false;
        }
    }

    /** Everything from the oldest loaded message on: new ones and changed states. */
    async catchUp(conversationId) {
        const thread = this.thread(conversationId);
        if (!thread.loaded) {
            return;
        }
        if (!thread.list.length) {
            return this.loadMessages(conversationId);
        }
        const oldest = Math.min(...thread.list.map((m) => m.id));
        const data = await this.orm.call("wa.conversation", "wa_get_messages", [[conversationId]], {
            after_id: oldest - 1,
        });
        thread.list = mergeMessages(thread.list, data.messages);
    }

    async markRead(conversationId) {
        const conversation = this.state.conversations[conversationId];
        if (!conversation || !conversation.unread_count) {
            return;
        }
        conversation.unread_count = 0;
        const [summary] = await this.orm.call("wa.conversation", "wa_read", [[conversationId]]);
        if (summary) {
            this.upsertConversation(summary);
        }
        this.refreshCounts();
    }

    async loadConversation(conversationId) {
        const [summary] = await this.orm.call("wa.conversation", "wa_summary", [[conversationId]]);
        if (summary) {
            this.upsertConversation(summary);
        }
        return summary;
    }

    // --- bus events ----------------------------------------------------------

    upsertConversation(summary) {
        const known = this.state.conversations[summary.id];
        if (known) {
            Object.assign(known, summary);
        } else {
            this.state.conversations[summary.id] = summary;
        }
        this.placeInList(summary.id);
    }

    /** Keep the visible list in the tab's rule and newest-first order. */
    placeInList(id) {
        const conversation = this.state.conversations[id];
        const inList = this.state.list.includes(id);
        const fits = matchesTab(conversation, this.state.tab, this.uid) && !this.state.search;
        if (!inList && !fits) {
            return;
        }
        let list = this.state.list.filter((other) => other !== id);
        if (fits || (inList && this.state.search)) {
            list.push(id);
        }
        const at = (cid) => this.state.conversations[cid]?.last_message_at || "";
        list = list.sort((a, b) => at(b).localeCompare(at(a)) || b - a);
        this.state.list = list;
    }

    onNewMessage({ conversation, message }) {
        this.upsertConversation(conversation);
        const thread = this.state.messages[conversation.id];
        if (thread?.loaded) {
            thread.list = mergeMessages(thread.list, [message]);
        }
        if (message.direction === "inbound") {
            delete this.state.typing[conversation.id];
            if (this.openChats.get(conversation.id) && document.visibilityState === "visible") {
                this.markRead(conversation.id);
            }
        }
        this.refreshCounts();
    }

    /** A chat of this conversation is shown (true) or gone (false). */
    setOpen(conversationId, open) {
        const count = (this.openChats.get(conversationId) || 0) + (open ? 1 : -1);
        if (count > 0) {
            this.openChats.set(conversationId, count);
        } else {
            this.openChats.delete(conversationId);
        }
    }

    onStatus({ conversation_id, message }) {
        const thread = this.state.messages[conversation_id];
        if (thread?.loaded) {
            thread.list = mergeMessages(thread.list, [message]);
        }
    }

    onConversation({ conversation }) {
        this.upsertConversation(conversation);
        this.refreshCounts();
    }

    onTyping({ conversation_id, user_id, user_name }) {
        if (user_id === this.uid) {
            return;
        }
        const until = Date.now() + TYPING_SHOWN_MS;
        this.state.typing[conversation_id] = { name: user_name, until };
        setTimeout(() => {
            if (this.state.typing[conversation_id]?.until === until) {
                delete this.state.typing[conversation_id];
            }
        }, TYPING_SHOWN_MS);
    }

    async onReconnect() {
        this.state.connected = true;
        await this.loadInbox({ keep: true });
        await Promise.all(
            Object.keys(this.state.messages).map((id) => this.catchUp(parseInt(id)))
        );
    }
}

export const waStoreService = {
    dependencies: ["orm", "bus_service"],
    start(env, services) {
        return new WaStore(env, services);
    },
};

registry.category("services").add("campotech_whatsapp.store", waStoreService);

/**
 * The store as a component sees it: reading its state through this
 * subscribes the component, so it renders again when that state changes.
 */
export function useWaStore() {
    const store = useService("campotech_whatsapp.store");
    return Object.assign(Object.create(store), { state: useState(store.state) });
}
