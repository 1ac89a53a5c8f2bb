import { useWaStore } from "./wa_store_service";
import { Component, useRef, useState, useEffect } from "@odoo/owl";
import { useEmojiPicker } from "@web/core/emoji_picker/emoji_picker";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { getDataURLFromFile } from "@web/core/utils/urls";
import { WaLocationDialog } from "./location_dialog";

const TYPING_EVERY_MS = 8000;

/**
 * Writing to the customer: auto-growing text (Enter sends, Shift+Enter is a
 * new line), emoji, files, location, templates; the reason and the
 * template button instead when the 24 h window is closed.
 */
export class WaComposer extends Component {
    static template = "campotech_whatsapp.Composer";
    static props = {
        conversation: Object,
        replyTo: { type: [Object, { value: null }], optional: true },
        onCancelReply: { type: Function, optional: true },
        onSent: { type: Function, optional: true },
        origin: { type: [Object, { value: null }], optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.dialog = useService("dialog");
        this.action = useService("action");
        this.store = useWaStore();
        this.state = useState({ body: "", sending: false });
        this.textareaRef = useRef("textarea");
        this.emojiRef = useRef("emoji");
        this.fileRef = useRef("file");
        this.lastTyping = 0;
        useEmojiPicker(this.emojiRef, { onSelect: (emoji) => this.insert(emoji) });
        useEffect(
            () => this.autoGrow(),
            () => [this.state.body]
        );
        useEffect(
            () => {
                this.textareaRef.el?.focus();
            },
            () => [this.props.conversation.id, this.props.replyTo?.id]
        );
    }

    get windowOpen() {
        return this.props.conversation.window_open;
    }

    get placeholder() {
        return _t("Write a message");
    }

    get hint() {
        return _t("Enter sends, Shift+Enter adds a line");
    }

    autoGrow() {
        const el = this.textareaRef.el;
        if (el) {
            el.style.height = "auto";
            el.style.height = Math.min(el.scrollHeight, 160) + "px";
        }
    }

    insert(text) {
        const el = this.textareaRef.el;
        const start = el ? el.selectionStart : this.state.body.length;
        const end = el ? el.selectionEnd : this.state.body.length;
        this.state.body = this.state.body.slice(0, start) + text + this.state.body.slice(end);
        requestAnimationFrame(() => {
            if (el) {
                el.focus();
                el.selectionStart = el.selectionEnd = start + text.length;
            }
        });
    }

    onKeydown(ev) {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            this.sendText();
        } else if (ev.key === "Escape" && this.props.replyTo) {
            this.props.onCancelReply?.();
        }
    }

    onInput() {
        const now = Date.now();
        if (now - this.lastTyping > TYPING_EVERY_MS && this.state.body.trim()) {
            this.lastTyping = now;
            this.orm.silent
                .call("wa.conversation", "wa_typing", [[this.props.conversation.id]])
                .catch(() => {});
        }
    }

    get context() {
        const context = {};
        if (this.props.origin) {
            context.wa_res_model = this.props.origin.resModel;
            context.wa_res_id = this.props.origin.resId;
        }
        return context;
    }

    /**
     * Call a send method; a customer who opted out is asked about first
     * (the server refuses until the agent confirms).
     */
    async send(method, args, kwargs = {}) {
        const conversation = this.props.conversation;
        const context = { ...this.context };
        if (conversation.opt_out) {
            const confirmed = await new Promise((resolve) => {
                this.dialog.add(
                    ConfirmationDialog,
                    {
                        title: _t("The customer opted out"),
                        body: _t(
                            "%s asked not to receive WhatsApp messages. Send this message anyway?",
                            conversation.name
                        ),
                        confirmLabel: _t("Send anyway"),
                        confirm: () => resolve(true),
                        cancel: () => resolve(false),
                    },
                    { onClose: () => resolve(false) }
                );
            });
            if (!confirmed) {
                return false;
            }
            context.wa_opt_out_confirmed = true;
        }
        this.state.sending = true;
        try {
            await this.orm.call("wa.conversation", method, [[conversation.id], ...args], {
                ...kwargs,
                context,
            });
        } catch (error) {
            const message = error?.data?.message || error?.message || String(error);
            this.notification.add(message, { type: "danger", title: _t("Not sent") });
            return false;
        } finally {
            this.state.sending = false;
        }
        await this.store.catchUp(conversation.id);
        this.props.onSent?.();
        return true;
    }

    async sendText() {
        const body = this.state.body.trim();
        if (!body || this.state.sending || !this.windowOpen) {
            return;
        }
        const replyTo = this.props.replyTo;
        this.state.body = "";
        const sent = await this.send("send_text", [body], { reply_to_id: replyTo ? replyTo.id : false });
        if (!sent && !this.state.body) {
            this.state.body = body; // nothing lost: the text is back to retry
        }
        if (sent) {
            this.props.onCancelReply?.();
        }
    }

    onAttachClick() {
        this.fileRef.el.click();
    }

    async onFileChange(ev) {
        const file = ev.target.files[0];
        ev.target.value = "";
        if (!file) {
            return;
        }
        const dataUrl = await getDataURLFromFile(file);
        const [attachmentId] = await this.orm.create("ir.attachment", [
            {
                name: file.name,
                mimetype: file.type || "application/octet-stream",
                datas: dataUrl.split(",")[1],
                res_model: "wa.conversation",
                res_id: this.props.conversation.id,
            },
        ]);
        const caption = this.state.body.trim();
        const sent = await this.send("send_media", [attachmentId], { caption: caption || false });
        if (sent) {
            this.state.body = "";
        }
    }

    onLocationClick() {
        this.dialog.add(WaLocationDialog, {
            onConfirm: (values) =>
                this.send("send_location", [values.latitude, values.longitude], {
                    name: values.name || false,
                    address: values.address || false,
                }),
        });
    }

    async onTemplateClick() {
        const conversation = this.props.conversation;
        const context = {
            default_account_id: conversation.account_id,
            default_partner_id: conversation.partner ? conversation.partner.id : false,
            default_phone: conversation.partner ? false : conversation.e164 || false,
        };
        if (this.props.origin) {
            context.active_model = this.props.origin.resModel;
            context.active_id = this.props.origin.resId;
        }
        await this.action.doAction("campotech_whatsapp.wa_composer_action", {
            additionalContext: context,
            onClose: () => this.store.catchUp(conversation.id),
        });
    }
}
