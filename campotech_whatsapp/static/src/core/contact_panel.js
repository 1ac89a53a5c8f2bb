import { useWaStore } from "./wa_store_service";
import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatMonetary } from "@web/views/fields/formatters";
import { AutoComplete } from "@web/core/autocomplete/autocomplete";
import { useService } from "@web/core/utils/hooks";
import { user } from "@web/core/user";
import { toDateTime } from "./chat_utils";
import { WaAvatar } from "./avatar";

/** Who the customer is, their open jobs and unpaid invoices, and what to do with the conversation. */
export class WaContactPanel extends Component {
    static template = "campotech_whatsapp.ContactPanel";
    static components = { AutoComplete, WaAvatar };
    static props = { conversationId: Number, onClose: { type: Function, optional: true } };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.store = useWaStore();
        this.state = useState({ data: null, note: "", users: [], linking: false });
        this.partnerSources = [
            {
                placeholder: _t("Searching…"),
                options: (request) => this.searchPartners(request),
            },
        ];
        onWillStart(() => this.load(this.props.conversationId));
        onWillUpdateProps((next) => next.conversationId !== this.props.conversationId && this.load(next.conversationId));
    }

    async load(conversationId) {
        const [data, users] = await Promise.all([
            this.orm.call("wa.conversation", "wa_contact_panel", [[conversationId]]),
            this.orm.call("wa.conversation", "wa_assignable_users", [[conversationId]]),
        ]);
        this.state.data = data;
        this.state.note = data.note;
        this.state.users = users;
        this.state.linking = false;
    }

    get conversation() {
        return this.store.state.conversations[this.props.conversationId];
    }

    get address() {
        const partner = this.state.data.partner;
        return [partner.street, partner.city].filter(Boolean).join(", ");
    }

    get linkPlaceholder() {
        return _t("Search a contact by name");
    }

    /** The company's WhatsApp users, and the current assignee even if no longer one of them. */
    get assignees() {
        const users = this.state.users;
        const current = this.conversation.user;
        return current && !users.some((u) => u.id === current.id) ? [current, ...users] : users;
    }

    get isMine() {
        return this.conversation.user?.id === user.userId;
    }

    amount(invoice) {
        return formatMonetary(invoice.amount, { currencyId: invoice.currency_id });
    }

    date(value) {
        const dt = value && (value.length > 10 ? toDateTime(value) : luxon.DateTime.fromISO(value));
        return dt ? dt.toLocaleString(luxon.DateTime.DATE_SHORT) : "";
    }

    open(resModel, resId) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: resModel,
            res_id: resId,
            views: [[false, "form"]],
            target: "current",
        });
    }

    /** Call a conversation method; false (and the server's reason shown) when it was refused. */
    async run(method, args = []) {
        try {
            const result = await this.orm.call("wa.conversation", method, [[this.props.conversationId], ...args]);
            if (Array.isArray(result) && result[0]?.id) {
                this.store.upsertConversation(result[0]);
            } else {
                await this.store.loadConversation(this.props.conversationId);
            }
            return true;
        } catch (error) {
            this.notification.add(error?.data?.message || String(error), { type: "danger" });
            return false;
        }
    }

    async assignToMe() {
        await this.run("wa_assign", [user.userId]);
    }

    /** Hand the conversation to another agent; the others see it at once (conversation-update). */
    async onAssigneeChange(ev) {
        const userId = parseInt(ev.target.value) || false;
        const current = this.conversation.user?.id || false;
        if (userId !== current && !(await this.run("wa_assign", [userId]))) {
            ev.target.value = current || ""; // refused: show who still has it
        }
    }

    toggleLinking() {
        this.state.linking = !this.state.linking;
    }

    async searchPartners(request) {
        const records = await this.orm.call("res.partner", "name_search", [], {
            name: request.trim(),
            limit: 8,
        });
        const current = this.state.data.partner?.id;
        const options = records
            .filter(([id]) => id !== current)
            .map(([id, name]) => ({ label: name, partnerId: id }));
        return options.length ? options : [{ label: _t("No contact found"), unselectable: true }];
    }

    /** The number belongs to a contact we already have: link it (the number moves to that contact). */
    async linkPartner(option) {
        if (!option.partnerId) {
            return;
        }
        if (await this.run("wa_link_partner", [option.partnerId])) {
            await this.load(this.props.conversationId);
            this.notification.add(_t("Linked to %s", option.label), { type: "success" });
        }
    }

    async createPartner() {
        await this.run("wa_link_partner", []);
        await this.load(this.props.conversationId);
    }

    async saveNote() {
        if (this.state.note === (this.state.data.note || "")) {
            return;
        }
        await this.orm.call("wa.conversation", "wa_save_note", [[this.props.conversationId], this.state.note]);
        this.state.data.note = this.state.note;
        this.notification.add(_t("Note saved"), { type: "success" });
    }
}
