import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { debounce } from "@web/core/utils/timing";

/** Start a conversation: pick a customer, or type a number. */
export class WaNewConversationDialog extends Component {
    static template = "campotech_whatsapp.NewConversationDialog";
    static components = { Dialog };
    static props = { close: Function, onOpened: Function };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.state = useState({ query: "", partners: [], busy: false });
        this.title = _t("New conversation");
        this.searchPartners = debounce(async () => {
            const query = this.state.query.trim();
            this.state.partners = query
                ? await this.orm.call("res.partner", "name_search", [], { name: query, limit: 8 })
                : [];
        }, 250);
    }

    get looksLikeNumber() {
        return (this.state.query.match(/\d/g) || []).length >= 8;
    }

    async open(kwargs) {
        this.state.busy = true;
        try {
            const summary = await this.orm.call("wa.conversation", "wa_open_for", [], kwargs);
            this.props.close();
            await this.props.onOpened(summary);
        } catch (error) {
            this.notification.add(error?.data?.message || String(error), { type: "danger" });
        } finally {
            this.state.busy = false;
        }
    }
}
