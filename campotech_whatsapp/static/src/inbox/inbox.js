import { useWaStore } from "../core/wa_store_service";
import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { WaChat } from "../core/chat";
import { WaContactPanel } from "../core/contact_panel";
import { WaConversationList } from "./conversation_list";
import { WaNewConversationDialog } from "./new_conversation_dialog";

/** WhatsApp → Inbox: conversations, the chat, and the customer. */
export class WaInbox extends Component {
    static template = "campotech_whatsapp.Inbox";
    static components = { WaChat, WaContactPanel, WaConversationList };
    static props = { ...standardActionServiceProps };

    setup() {
        this.store = useWaStore();
        this.dialog = useService("dialog");
        this.action = useService("action");
        const initial = this.props.action.params?.conversation_id || null;
        this.state = useState({ selectedId: initial, panelOpen: window.innerWidth >= 1200 });
        onWillStart(() => this.store.loadInbox());
    }

    get connected() {
        return this.store.state.connected;
    }

    select(conversationId) {
        this.state.selectedId = conversationId;
    }

    back() {
        this.state.selectedId = null;
    }

    togglePanel() {
        this.state.panelOpen = !this.state.panelOpen;
    }

    newConversation() {
        this.dialog.add(WaNewConversationDialog, {
            onOpened: async (summary) => {
                this.store.upsertConversation(summary);
                this.state.selectedId = summary.id;
            },
        });
    }
}

registry.category("actions").add("campotech_whatsapp.inbox", WaInbox);
