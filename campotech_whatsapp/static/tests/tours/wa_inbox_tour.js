import { registry } from "@web/core/registry";

/**
 * A dispatcher in the inbox: the customer's new message appears without a
 * reload, the reply goes out from the composer, and its tick moves from
 * pending to sent, delivered and read as WhatsApp reports it.
 * The Python side (test_inbox_tour.py) plays the customer and Meta.
 */
registry.category("web_tour.tours").add("campotech_whatsapp_inbox", {
    steps: () => [
        {
            trigger: ".o_wa_conversation:contains('Juana Tour')",
            run: "click",
        },
        {
            trigger: ".o_wa_chat .o_wa_message:contains('Hola, ¿vienen hoy?')",
        },
        {
            // Posted as a signed webhook once the chat is open: arrives over the bus.
            trigger: ".o_wa_chat .o_wa_message.o_wa_inbound:contains('¿Llegan a las 10?')",
        },
        {
            trigger: ".o_wa_conversation:contains('Juana Tour') .o_wa_preview:contains('¿Llegan a las 10?')",
        },
        {
            trigger: "textarea.o_wa_composer",
            run: "edit Sí, llegamos a las 10",
        },
        {
            trigger: "textarea.o_wa_composer",
            run: "press Enter",
        },
        {
            trigger: ".o_wa_message.o_wa_outbound:contains('Sí, llegamos a las 10') [data-tick]",
        },
        {
            trigger: ".o_wa_message.o_wa_outbound[data-state='sent']:contains('Sí, llegamos a las 10')",
        },
        {
            trigger: ".o_wa_message.o_wa_outbound[data-state='delivered']:contains('Sí, llegamos a las 10')",
        },
        {
            trigger: ".o_wa_message.o_wa_outbound[data-state='read']:contains('Sí, llegamos a las 10') .o_wa_tick_read",
        },
    ],
});
