import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { WaChat } from "../core/chat";

/**
 * The customer's chat opened from a partner, job or invoice form (in a
 * dialog): what is sent from here keeps that record as its origin.
 */
export class WaChatAction extends Component {
    static template = "campotech_whatsapp.ChatAction";
    static components = { WaChat };
    static props = { ...standardActionServiceProps };

    get params() {
        return this.props.action.params || {};
    }

    get origin() {
        const { res_model, res_id } = this.params;
        return res_model && res_id ? { resModel: res_model, resId: res_id } : null;
    }
}

registry.category("actions").add("campotech_whatsapp.chat", WaChatAction);
