import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";

/** Ask for a point to send: coordinates (pasted from a map) and an optional name and address. */
export class WaLocationDialog extends Component {
    static template = "campotech_whatsapp.LocationDialog";
    static components = { Dialog };
    static props = { close: Function, onConfirm: Function };

    setup() {
        this.state = useState({ coordinates: "", name: "", address: "", error: "" });
        this.title = _t("Send a location");
    }

    /** "-34.6037, -58.3816" as pasted from a map, or two numbers. */
    parse() {
        const parts = this.state.coordinates.split(/[,;\s]+/).filter(Boolean).map(Number);
        if (parts.length !== 2 || parts.some((n) => Number.isNaN(n))) {
            return null;
        }
        const [latitude, longitude] = parts;
        if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
            return null;
        }
        return { latitude, longitude };
    }

    async confirm() {
        const point = this.parse();
        if (!point) {
            this.state.error = _t("Write the latitude and longitude, e.g. -34.6037, -58.3816");
            return;
        }
        await this.props.onConfirm({ ...point, name: this.state.name, address: this.state.address });
        this.props.close();
    }
}
