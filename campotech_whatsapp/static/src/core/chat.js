import { useWaStore } from "./wa_store_service";
import { Component, onWillStart, onWillUnmount, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { windowLeft } from "./chat_utils";
import { WaAvatar } from "./avatar";
import { WaChatThread } from "./chat_thread";
import { WaComposer } from "./composer";

/** One conversation: header, messages and composer. Used by the inbox and on forms. */
export class WaChat extends Component {
    static template = "campotech_whatsapp.Chat";
    static components = { WaAvatar, WaChatThread, WaComposer };
    static props = {
        conversationId: Number,
        origin: { type: [Object, { value: null }], optional: true },
        onTogglePanel: { type: Function, optional: true },
        onBack: { type: Function, optional: true },
        panelOpen: { type: Boolean, optional: true },
    };

    setup() {
        this.store = useWaStore();
        this.orm = useService("orm");
        this.state = useState({ replyTo: null });
        onWillStart(() => this.open(this.props.conversationId));
        onWillUpdateProps(async (next) => {
            if (next.conversationId !== this.props.conversationId) {
                this.state.replyTo = null;
                this.store.setOpen(this.props.conversationId, false);
                await this.open(next.conversationId);
            }
        });
        onWillUnmount(() => this.store.setOpen(this.props.conversationId, false));
    }

    async open(conversationId) {
        this.store.setOpen(conversationId, true);
        if (!this.store.state.conversations[conversationId]) {
            await this.store.loadConversation(conversationId);
        }
        const thread = this.store.thread(conversationId);
        if (!thread.loaded) {
            await this.store.loadMessages(conversationId);
        }
        this.store.markRead(conversationId);
    }

    get conversation() {
        return this.store.state.conversations[this.props.conversationId];
    }

    get windowText() {
        const c = this.conversation;
        if (!c.window_open) {
            return _t("24 h window closed");
        }
        return _t("24 h window: %s", windowLeft(c.window_expires_at));
    }

    get typing() {
        return this.store.state.typing[this.props.conversationId];
    }

    onReply(message) {
        this.state.replyTo = message;
    }

    cancelReply() {
        this.state.replyTo = null;
    }
}
