import { Component } from "@odoo/owl";
import { avatarColor, initials } from "./chat_utils";

/** A customer's or agent's round picture, or their initials. */
export class WaAvatar extends Component {
    static template = "campotech_whatsapp.Avatar";
    static props = {
        name: { type: String, optional: true },
        model: { type: String, optional: true },
        resId: { type: [Number, Boolean], optional: true },
        size: { type: Number, optional: true },
    };
    static defaultProps = { size: 40 };

    get url() {
        return this.props.resId ? `/web/image/${this.props.model}/${this.props.resId}/avatar_128` : "";
    }

    get initials() {
        return initials(this.props.name);
    }

    get style() {
        const size = this.props.size;
        const box = `width:${size}px;height:${size}px;min-width:${size}px;font-size:${Math.round(size * 0.4)}px`;
        return this.url ? box : `${box};background:${avatarColor(this.props.name)}`;
    }
}
