import { Component, useRef } from "@odoo/owl";
import { useEmojiPicker } from "@web/core/emoji_picker/emoji_picker";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { canReact, ownReaction, reactionToSend, tickOf, toDateTime } from "./chat_utils";

/** One message as a chat bubble: its content by type, the time and the tick. */
export class WaMessageBubble extends Component {
    static template = "campotech_whatsapp.MessageBubble";
    static props = {
        message: Object,
        reactions: { type: Array, optional: true },
        onReply: { type: Function, optional: true },
        onQuoteClick: { type: Function, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.store = useService("campotech_whatsapp.store");
        this.reactRef = useRef("react");
        useEmojiPicker(this.reactRef, { onSelect: (emoji) => this.react(emoji) });
    }

    get canReact() {
        return canReact(this.message);
    }

    get ownReaction() {
        return ownReaction(this.props.reactions);
    }

    /**
     * React to the customer's message (through the outbound queue, like any
     * send); picking the emoji already there, or clicking it, takes it back.
     */
    async react(emoji) {
        const message = this.message;
        try {
            await this.orm.call("wa.conversation", "send_reaction", [
                [message.conversation_id],
                message.id,
                reactionToSend(this.ownReaction, emoji),
            ]);
        } catch (error) {
            this.notification.add(error?.data?.message || String(error), {
                type: "danger",
                title: _t("Not sent"),
            });
            return;
        }
        await this.store.catchUp(message.conversation_id);
    }

    onReactionClick(reaction) {
        if (reaction.direction === "outbound") {
            this.react(reaction.emoji);
        }
    }

    async onRetry() {
        try {
            await this.orm.call("wa.message", "action_retry_send", [[this.message.id]]);
            this.notification.add(_t("Sending again…"), { type: "info" });
        } catch (error) {
            this.notification.add(error?.data?.message || String(error), { type: "danger" });
        }
    }

    labels = {
        location: _t("Location"),
        contact: _t("Contact"),
        template: _t("Template"),
        customer: _t("Customer"),
        you: _t("You"),
        removeReaction: _t("Your reaction: click to take it back"),
    };

    get quoteAuthor() {
        return this.props.message.reply_to.direction === "outbound" ? this.labels.you : this.labels.customer;
    }

    get message() {
        return this.props.message;
    }

    get tick() {
        return tickOf(this.message);
    }

    get time() {
        const dt = toDateTime(this.message.message_at);
        return dt ? dt.toFormat("HH:mm") : "";
    }

    get attachmentUrl() {
        const attachment = this.message.attachment;
        return attachment ? `/web/content/${attachment.id}` : "";
    }

    get imageUrl() {
        const attachment = this.message.attachment;
        return attachment ? `/web/image/${attachment.id}` : "";
    }

    get downloadUrl() {
        const attachment = this.message.attachment;
        return attachment ? `/web/content/${attachment.id}?download=true` : "";
    }

    get isMedia() {
        return ["image", "sticker", "video", "audio", "document"].includes(this.message.type);
    }

    /** The caption of a media message: Meta's body is the caption or the file name. */
    get caption() {
        const { body, filename, type } = this.message;
        if (type === "document" && body === filename) {
            return "";
        }
        return body;
    }

    get mediaMissingText() {
        if (this.message.media_state === "failed") {
            return _t("The file could not be downloaded from WhatsApp.");
        }
        if (this.message.media_state === "pending") {
            return _t("Downloading the file…");
        }
        return _t("File not available.");
    }

    get typeIcon() {
        return (
            {
                image: "fa-picture-o",
                sticker: "fa-smile-o",
                video: "fa-video-camera",
                audio: "fa-microphone",
                document: "fa-file-o",
            }[this.message.type] || "fa-paperclip"
        );
    }

    get interactiveText() {
        const data = this.message.interactive || {};
        return data.title || data.text || data.payload || this.message.body;
    }

    get authorLabel() {
        return this.message.direction === "outbound" ? this.message.author : "";
    }

    contactPhones(card) {
        return (card.phones || []).map((p) => p.phone || p.wa_id).filter(Boolean);
    }

    onReply() {
        this.props.onReply?.(this.message);
    }

    onQuoteClick() {
        this.props.onQuoteClick?.(this.message.reply_to.id);
    }
}
