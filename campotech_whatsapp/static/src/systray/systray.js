import { useWaStore } from "../core/wa_store_service";
import { Component, onWillStart } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { session } from "@web/session";
import { useService } from "@web/core/utils/hooks";

/** The WhatsApp icon in the top bar, with the conversations waiting for this agent. */
export class WaSystray extends Component {
    static template = "campotech_whatsapp.Systray";
    static props = {};

    setup() {
        this.store = useWaStore();
        this.action = useService("action");
        onWillStart(() => this.store.loadSystray());
    }

    get count() {
        return this.store.state.systrayCount;
    }

    open() {
        this.action.doAction("campotech_whatsapp.action_wa_inbox");
    }
}

registry.category("systray").add(
    "campotech_whatsapp.systray",
    {
        Component: WaSystray,
        isDisplayed: () => Boolean(session.campotech_whatsapp_user),
    },
    { sequence: 30 }
);
