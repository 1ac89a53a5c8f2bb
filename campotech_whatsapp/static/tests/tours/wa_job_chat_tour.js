import { registry } from "@web/core/registry";

/**
 * A dispatcher on a job's form: the WhatsApp button opens the customer's
 * chat, their new message appears without a reload, the reply goes out
 * (the job is its origin) and its tick moves to read; then a 👍 on the
 * customer's message. The Python side (test_inbox_tour.py) plays the
 * customer and Meta.
 */
registry.category("web_tour.tours").add("campotech_whatsapp_job_chat", {
    steps: () => [
        {
            trigger: ".o_form_view button[name='action_open_wa_chat']",
            run: "click",
        },
        {
            trigger: ".modal .o_wa_chat .o_wa_message:contains('Hola, ¿vienen hoy?')",
        },
        {
            // Posted as a signed webhook once the chat is open: arrives over the bus.
            trigger: ".modal .o_wa_chat .o_wa_message.o_wa_inbound:contains('¿Llegan a las 10?')",
        },
        {
            trigger: ".modal textarea.o_wa_composer",
            run: "edit Sí, llegamos a las 10",
        },
        {
            trigger: ".modal textarea.o_wa_composer",
            run: "press Enter",
        },
        {
            trigger: ".modal .o_wa_message.o_wa_outbound:contains('Sí, llegamos a las 10') [data-tick]",
        },
        {
            trigger: ".modal .o_wa_message.o_wa_outbound[data-state='delivered']:contains('Sí, llegamos a las 10')",
        },
        {
            trigger: ".modal .o_wa_message.o_wa_outbound[data-state='read']:contains('Sí, llegamos a las 10') .o_wa_tick_read",
        },
        {
            trigger: ".modal .o_wa_message.o_wa_inbound:contains('¿Llegan a las 10?')",
            run: "hover && click .modal .o_wa_message.o_wa_inbound:contains('¿Llegan a las 10?') .o_wa_react_btn",
        },
        {
            trigger: ".o-EmojiPicker-search input",
            run: "edit thumbs up",
        },
        {
            trigger: ".o-EmojiPicker .o-Emoji:contains('👍')",
            run: "click",
        },
        {
            trigger: ".modal .o_wa_message.o_wa_inbound:contains('¿Llegan a las 10?') .o_wa_own_reaction:contains('👍')",
        },
    ],
});
