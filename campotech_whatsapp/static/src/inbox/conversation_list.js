import { useWaStore } from "../core/wa_store_service";
import { Component, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { debounce } from "@web/core/utils/timing";
import { relativeTime, windowLeft } from "../core/chat_utils";
import { WaAvatar } from "../core/avatar";

/**
 * A tab's label. The web client's translations are one table for all
 * modules, where Discuss's "Open" ("Abierto") and "All" ("Todos") win over
 * ours; the tabs speak of conversations ("Abiertas", "Todas"), so their
 * terms are our own, and untranslated they read without the prefix.
 */
export function tabLabel(translated) {
    const text = String(translated);
    return text.startsWith("Inbox tab: ") ? text.slice("Inbox tab: ".length) : text;
}

/** The inbox's left column: search, tabs and the conversations, newest first. */
export class WaConversationList extends Component {
    static template = "campotech_whatsapp.ConversationList";
    static components = { WaAvatar };
    static props = {
        selectedId: { type: [Number, { value: null }], optional: true },
        onSelect: Function,
        onNew: Function,
    };

    setup() {
        this.store = useWaStore();
        this.state = useState({ search: this.store.state.search });
        this.search = debounce(() => this.store.setFilter({ search: this.state.search }), 300);
        this.tabs = [
            { id: "all", label: tabLabel(_t("Inbox tab: All")) },
            { id: "unread", label: tabLabel(_t("Inbox tab: Unread")), count: "unread" },
            { id: "open", label: tabLabel(_t("Inbox tab: Open")) },
            { id: "closed", label: tabLabel(_t("Inbox tab: Closed")) },
            { id: "mine", label: tabLabel(_t("Inbox tab: Mine")), count: "mine" },
        ];
        // Relative times ("hace 5 min") move on without any event.
        this.clock = useState({ now: luxon.DateTime.now() });
        const timer = setInterval(() => (this.clock.now = luxon.DateTime.now()), 30000);
        onWillUnmount(() => clearInterval(timer));
    }

    get conversations() {
        return this.store.state.list.map((id) => this.store.state.conversations[id]).filter(Boolean);
    }

    time(conversation) {
        return relativeTime(conversation.last_message_at, this.clock.now);
    }

    windowLabel(conversation) {
        return conversation.window_open ? windowLeft(conversation.window_expires_at, this.clock.now) : "";
    }

    typing(conversation) {
        return this.store.state.typing[conversation.id];
    }

    setTab(tab) {
        this.store.setFilter({ tab });
    }

    onScroll(ev) {
        const el = ev.target;
        if (this.store.state.hasMore && el.scrollHeight - el.scrollTop - el.clientHeight < 80 && !this.loadingMore) {
            this.loadingMore = true;
            this.store.loadInbox({ more: true }).finally(() => (this.loadingMore = false));
        }
    }
}
