import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { WaChat } from "../core/chat";

/** The conversation form's messages as the chat, not as a table. */
export class WaChatField extends Component {
    static template = "campotech_whatsapp.ChatField";
    static components = { WaChat };
    static props = { ...standardFieldProps };
}

registry.category("fields").add("wa_chat", {
    component: WaChatField,
    supportedTypes: ["one2many"],
    relatedFields: [],
});
