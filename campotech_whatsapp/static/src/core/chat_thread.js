import { useWaStore } from "./wa_store_service";
import { Component, onMounted, onPatched, onWillUpdateProps, useRef } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { groupByDay, reactionsByMessage } from "./chat_utils";
import { WaMessageBubble } from "./message_bubble";

/**
 * A conversation's messages, grouped by day, newest at the bottom. Stays
 * at the bottom as messages arrive (unless the agent scrolled up to
 * read), and loads older messages when scrolled to the top.
 */
export class WaChatThread extends Component {
    static template = "campotech_whatsapp.ChatThread";
    static components = { WaMessageBubble };
    static props = {
        conversationId: Number,
        onReply: { type: Function, optional: true },
    };

    setup() {
        this.store = useWaStore();
        this.scrollRef = useRef("scroll");
        this.stickToBottom = true;
        this.restoreFrom = null;
        onMounted(() => this.scrollToBottom());
        onWillUpdateProps((next) => {
            if (next.conversationId !== this.props.conversationId) {
                this.stickToBottom = true;
            }
        });
        onPatched(() => {
            const el = this.scrollRef.el;
            if (this.restoreFrom !== null && el) {
                // Older messages were added on top: keep the same message in view.
                el.scrollTop = el.scrollHeight - this.restoreFrom;
                this.restoreFrom = null;
            } else if (this.stickToBottom) {
                this.scrollToBottom();
            }
        });
    }

    get thread() {
        return this.store.thread(this.props.conversationId);
    }

    get groups() {
        return groupByDay(this.thread.list);
    }

    get reactions() {
        return reactionsByMessage(this.thread.list);
    }

    get typing() {
        return this.store.state.typing[this.props.conversationId];
    }

    scrollToBottom() {
        const el = this.scrollRef.el;
        if (el) {
            el.scrollTop = el.scrollHeight;
        }
    }

    async onScroll() {
        const el = this.scrollRef.el;
        this.stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        if (el.scrollTop < 60 && this.thread.hasMore && !this.thread.loading) {
            const fromBottom = el.scrollHeight - el.scrollTop;
            this.restoreFrom = fromBottom;
            const added = await this.store.loadOlder(this.props.conversationId);
            if (!added) {
                this.restoreFrom = null;
            }
        }
    }

    onQuoteClick(messageId) {
        const target = this.scrollRef.el?.querySelector(`.o_wa_message[data-id="${messageId}"]`);
        if (target) {
            target.scrollIntoView({ block: "center", behavior: "smooth" });
            target.classList.add("o_wa_highlight");
            setTimeout(() => target.classList.remove("o_wa_highlight"), 1500);
        }
    }
}
