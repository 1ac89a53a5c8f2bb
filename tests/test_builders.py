import pytest

from campotech_whatsapp.cloud import builders as B
from campotech_whatsapp.cloud.errors import PayloadError

TO = "5491123456789"
WAMID = "wamid.HBgNNTQ5MTEyMzQ1Njc4ORUCABIYFjNFQjBDRDRBQTQ1"


def head(kind, to=TO):
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": kind}


def rows(n, prefix="r"):
    return [{"id": "%s%d" % (prefix, i), "title": "Row %d" % i} for i in range(n)]


# --- recipient, reply context, callback data ------------------------------------

def test_leading_plus_is_dropped_from_recipient():
    assert B.text("+" + TO, "hola")["to"] == TO


@pytest.mark.parametrize("to", ["", "   ", None, "+54 9 11 2345-6789", "54911abc", "+",
                                "1234567890123456"])
def test_recipient_that_is_not_a_wa_id_is_refused(to):
    with pytest.raises(PayloadError, match="recipient 'to'"):
        B.text(to, "hola")


def test_reply_to_adds_top_level_context():
    payload = B.text(TO, "sí, confirmado", reply_to=WAMID)
    assert payload["context"] == {"message_id": WAMID}
    assert "context" not in payload["text"]


def test_reply_context_works_on_media_and_interactive_and_template():
    for payload in (B.media(TO, "image", media_id="1", reply_to=WAMID),
                    B.buttons(TO, "¿Confirmás?", [("si", "Sí")], reply_to=WAMID),
                    B.template(TO, "turno", "es_AR", reply_to=WAMID)):
        assert payload["context"] == {"message_id": WAMID}


def test_empty_reply_to_is_refused_rather_than_silently_dropped():
    with pytest.raises(PayloadError, match="reply_to"):
        B.text(TO, "hola", reply_to="")


def test_biz_opaque_callback_data_is_passed_at_top_level():
    payload = B.template(TO, "turno", "es_AR", biz_opaque_callback_data="task:42")
    assert payload["biz_opaque_callback_data"] == "task:42"


def test_biz_opaque_callback_data_over_512_characters_is_refused():
    B.text(TO, "hola", biz_opaque_callback_data="x" * 512)
    with pytest.raises(PayloadError, match="biz_opaque_callback_data is 513 characters; "
                                           "WhatsApp allows at most 512"):
        B.text(TO, "hola", biz_opaque_callback_data="x" * 513)


# --- text -----------------------------------------------------------------------

def test_text_payload():
    assert B.text(TO, "Hola Ana", preview_url=True) == dict(
        head("text"), text={"body": "Hola Ana", "preview_url": True})


def test_text_of_exactly_4096_characters_is_accepted():
    assert len(B.text(TO, "a" * 4096)["text"]["body"]) == 4096


def test_text_over_4096_characters_names_length_and_limit():
    with pytest.raises(PayloadError) as exc:
        B.text(TO, "a" * 4101)
    assert str(exc.value) == "text body is 4101 characters; WhatsApp allows at most 4096"


def test_text_length_counts_characters_not_bytes():
    # 4096 two-byte characters are 8192 bytes but still within the limit.
    assert B.text(TO, "ñ" * 4096)["text"]["body"] == "ñ" * 4096


@pytest.mark.parametrize("body", ["", "  \n ", None])
def test_empty_text_is_refused(body):
    with pytest.raises(PayloadError, match="text body"):
        B.text(TO, body)


# --- media ------------------------------------------------------------------------

def test_image_by_id_with_caption():
    assert B.media(TO, "image", media_id="1013", caption="Tu factura") == dict(
        head("image"), image={"id": "1013", "caption": "Tu factura"})


def test_document_by_link_with_filename_and_caption():
    assert B.media(TO, "document", link="https://x.test/f.pdf", caption="Factura",
                   filename="factura.pdf") == dict(
        head("document"),
        document={"link": "https://x.test/f.pdf", "caption": "Factura", "filename": "factura.pdf"})


def test_audio_and_sticker_by_id():
    assert B.media(TO, "audio", media_id="7") == dict(head("audio"), audio={"id": "7"})
    assert B.media(TO, "sticker", media_id="8") == dict(head("sticker"), sticker={"id": "8"})


def test_media_needs_exactly_one_of_id_and_link():
    with pytest.raises(PayloadError, match="exactly one"):
        B.media(TO, "image")
    with pytest.raises(PayloadError, match="exactly one"):
        B.media(TO, "image", media_id="1", link="https://x.test/a.png")


def test_media_link_must_be_http():
    with pytest.raises(PayloadError, match="http"):
        B.media(TO, "image", link="ftp://x.test/a.png")
    with pytest.raises(PayloadError, match="http"):
        B.media(TO, "image", link="/local/a.png")


def test_unknown_media_kind_is_refused():
    with pytest.raises(PayloadError, match="'gif'"):
        B.media(TO, "gif", media_id="1")


@pytest.mark.parametrize("kind", ["audio", "sticker"])
def test_caption_on_audio_or_sticker_is_refused(kind):
    with pytest.raises(PayloadError, match="cannot have a caption"):
        B.media(TO, kind, media_id="1", caption="hola")


def test_filename_only_on_documents():
    with pytest.raises(PayloadError, match="cannot have a filename"):
        B.media(TO, "image", media_id="1", filename="a.png")


def test_caption_over_1024_characters_is_refused():
    B.media(TO, "video", media_id="1", caption="c" * 1024)
    with pytest.raises(PayloadError, match="video caption is 1025 characters; "
                                           "WhatsApp allows at most 1024"):
        B.media(TO, "video", media_id="1", caption="c" * 1025)


# --- location, contacts, reaction ------------------------------------------------------

def test_location_payload():
    assert B.location(TO, -34.6037, -58.3816, name="Obelisco", address="Av. 9 de Julio") == dict(
        head("location"), location={"latitude": -34.6037, "longitude": -58.3816,
                                    "name": "Obelisco", "address": "Av. 9 de Julio"})


def test_location_without_name_has_only_coordinates():
    assert B.location(TO, 0, 0)["location"] == {"latitude": 0, "longitude": 0}


@pytest.mark.parametrize("lat, lon, field", [(90.1, 0, "latitude"), (-91, 0, "latitude"),
                                             (0, 180.5, "longitude"), (0, -181, "longitude"),
                                             ("-34.6", 0, "latitude"), (True, 0, "latitude")])
def test_location_out_of_range_or_not_a_number_is_refused(lat, lon, field):
    with pytest.raises(PayloadError, match=field):
        B.location(TO, lat, lon)


def test_contacts_payload():
    card = {"name": {"formatted_name": "Ana Pérez", "first_name": "Ana"},
            "phones": [{"phone": "+54 9 11 2345-6789", "type": "CELL", "wa_id": TO}],
            "emails": [{"email": "ana@example.com", "type": "WORK"}]}
    assert B.contacts(TO, [card]) == dict(head("contacts"), contacts=[card])


def test_contacts_payload_does_not_share_the_callers_dicts():
    card = {"name": {"formatted_name": "Ana"}, "phones": [{"phone": "1"}]}
    payload = B.contacts(TO, [card])
    payload["contacts"][0]["phones"][0]["phone"] = "2"
    assert card["phones"][0]["phone"] == "1"


@pytest.mark.parametrize("cards", [[], [{"name": {}}], [{"name": {"formatted_name": " "}}],
                                   [{"phones": []}], ["Ana"]])
def test_contact_without_formatted_name_is_refused(cards):
    with pytest.raises(PayloadError, match="contact"):
        B.contacts(TO, cards)


def test_reaction_payload():
    assert B.reaction(TO, WAMID, "👍") == dict(
        head("reaction"), reaction={"message_id": WAMID, "emoji": "👍"})


def test_empty_emoji_removes_a_reaction():
    assert B.reaction(TO, WAMID, "")["reaction"]["emoji"] == ""


def test_reaction_needs_a_message_id():
    with pytest.raises(PayloadError, match="message_id"):
        B.reaction(TO, "", "👍")


# --- template -------------------------------------------------------------------------

def test_template_payload_with_components():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    assert B.template(TO, "turno", "es_AR", components) == dict(
        head("template"),
        template={"name": "turno", "language": {"code": "es_AR"}, "components": components})


def test_template_without_components_omits_the_key():
    assert B.template(TO, "hello_world", "en_US")["template"] == {
        "name": "hello_world", "language": {"code": "en_US"}}


def test_template_needs_name_and_language():
    with pytest.raises(PayloadError, match="template name"):
        B.template(TO, "", "es_AR")
    with pytest.raises(PayloadError, match="template language"):
        B.template(TO, "turno", "")


def test_template_components_must_be_component_dicts():
    with pytest.raises(PayloadError, match="components"):
        B.template(TO, "turno", "es_AR", [{"parameters": []}])


# --- reply buttons ------------------------------------------------------------------------

def test_buttons_payload_from_pairs_and_dicts():
    payload = B.buttons(TO, "¿Confirmás el turno?", [("si", "Sí"), {"id": "no", "title": "No"}],
                        header="Turno", footer="CampoTech")
    assert payload == dict(head("interactive"), interactive={
        "type": "button",
        "header": {"type": "text", "text": "Turno"},
        "body": {"text": "¿Confirmás el turno?"},
        "footer": {"text": "CampoTech"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "si", "title": "Sí"}},
                               {"type": "reply", "reply": {"id": "no", "title": "No"}}]},
    })


def test_buttons_without_header_or_footer_omit_them():
    interactive = B.buttons(TO, "¿Ok?", [("ok", "Ok")])["interactive"]
    assert set(interactive) == {"type", "body", "action"}


def test_more_than_three_buttons_is_refused():
    with pytest.raises(PayloadError, match="4 given; WhatsApp allows at most 3"):
        B.buttons(TO, "Elegí", [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")])


def test_no_buttons_is_refused():
    with pytest.raises(PayloadError, match="at least 1"):
        B.buttons(TO, "Elegí", [])


def test_button_title_over_20_characters_is_refused():
    B.buttons(TO, "Elegí", [("a", "t" * 20)])
    with pytest.raises(PayloadError, match="button 1 title is 21 characters; "
                                           "WhatsApp allows at most 20"):
        B.buttons(TO, "Elegí", [("a", "t" * 21)])


def test_button_id_over_256_characters_is_refused():
    B.buttons(TO, "Elegí", [("i" * 256, "A")])
    with pytest.raises(PayloadError, match="button 1 id is 257 characters"):
        B.buttons(TO, "Elegí", [("i" * 257, "A")])


def test_repeated_button_ids_or_titles_are_refused():
    with pytest.raises(PayloadError, match="button ids must be unique; repeated: 'a'"):
        B.buttons(TO, "Elegí", [("a", "Uno"), ("a", "Dos")])
    with pytest.raises(PayloadError, match="button titles must be unique; repeated: 'Sí'"):
        B.buttons(TO, "Elegí", [("a", "Sí"), ("b", "Sí")])


def test_interactive_body_header_footer_limits():
    with pytest.raises(PayloadError, match="button body is 1025 characters; "
                                           "WhatsApp allows at most 1024"):
        B.buttons(TO, "b" * 1025, [("a", "A")])
    with pytest.raises(PayloadError, match="button header is 61 characters"):
        B.buttons(TO, "b", [("a", "A")], header="h" * 61)
    with pytest.raises(PayloadError, match="button footer is 61 characters"):
        B.buttons(TO, "b", [("a", "A")], footer="f" * 61)


# --- list ------------------------------------------------------------------------------------

def test_list_payload():
    sections = [{"title": "Mañana", "rows": [{"id": "m9", "title": "9:00",
                                              "description": "Con Juan"}]},
                {"title": "Tarde", "rows": [{"id": "t15", "title": "15:00"}]}]
    assert B.list_message(TO, "Elegí un horario", "Horarios", sections,
                          header="Turnos", footer="CampoTech") == dict(
        head("interactive"), interactive={
            "type": "list",
            "header": {"type": "text", "text": "Turnos"},
            "body": {"text": "Elegí un horario"},
            "footer": {"text": "CampoTech"},
            "action": {"button": "Horarios", "sections": sections},
        })


def test_single_section_list_may_omit_section_title():
    payload = B.list_message(TO, "Elegí", "Ver", [{"rows": rows(2)}])
    assert payload["interactive"]["action"]["sections"] == [{"rows": rows(2)}]


def test_section_title_is_required_with_more_than_one_section():
    with pytest.raises(PayloadError, match="list section 2 title"):
        B.list_message(TO, "Elegí", "Ver", [{"title": "A", "rows": rows(1, "a")},
                                            {"rows": rows(1, "b")}])


def test_more_than_ten_rows_in_total_is_refused():
    B.list_message(TO, "Elegí", "Ver", [{"title": "A", "rows": rows(5, "a")},
                                        {"title": "B", "rows": rows(5, "b")}])
    with pytest.raises(PayloadError, match="11 rows in total; WhatsApp allows at most 10"):
        B.list_message(TO, "Elegí", "Ver", [{"title": "A", "rows": rows(5, "a")},
                                            {"title": "B", "rows": rows(6, "b")}])


def test_more_than_ten_sections_is_refused():
    sections = [{"title": "S%d" % i, "rows": rows(1, "s%d_" % i)} for i in range(11)]
    with pytest.raises(PayloadError, match="11 sections given; WhatsApp allows at most 10"):
        B.list_message(TO, "Elegí", "Ver", sections)


def test_row_ids_must_be_unique_across_sections():
    with pytest.raises(PayloadError, match="list row ids must be unique; repeated: 'r0'"):
        B.list_message(TO, "Elegí", "Ver", [{"title": "A", "rows": rows(1)},
                                            {"title": "B", "rows": rows(1)}])


@pytest.mark.parametrize("row, message", [
    ({"id": "a", "title": "t" * 25}, "row 1 title is 25 characters; WhatsApp allows at most 24"),
    ({"id": "a", "title": "t", "description": "d" * 73},
     "row 1 description is 73 characters; WhatsApp allows at most 72"),
    ({"id": "i" * 201, "title": "t"}, "row 1 id is 201 characters; WhatsApp allows at most 200"),
    ({"title": "t"}, "row 1 id"),
])
def test_list_row_limits(row, message):
    with pytest.raises(PayloadError, match=message):
        B.list_message(TO, "Elegí", "Ver", [{"rows": [row]}])


def test_list_button_label_and_section_title_limits():
    with pytest.raises(PayloadError, match="list button label is 21 characters; "
                                           "WhatsApp allows at most 20"):
        B.list_message(TO, "Elegí", "b" * 21, [{"rows": rows(1)}])
    with pytest.raises(PayloadError, match="list section 1 title is 25 characters; "
                                           "WhatsApp allows at most 24"):
        B.list_message(TO, "Elegí", "Ver", [{"title": "s" * 25, "rows": rows(1)}])


def test_list_section_without_rows_is_refused():
    with pytest.raises(PayloadError, match="list section 1 has no rows"):
        B.list_message(TO, "Elegí", "Ver", [{"title": "A", "rows": []}])


# --- cta_url ----------------------------------------------------------------------------------

def test_cta_url_payload():
    assert B.cta_url(TO, "Tu factura está lista", "Ver factura", "https://x.test/inv/7",
                     footer="CampoTech") == dict(head("interactive"), interactive={
        "type": "cta_url",
        "body": {"text": "Tu factura está lista"},
        "footer": {"text": "CampoTech"},
        "action": {"name": "cta_url",
                   "parameters": {"display_text": "Ver factura", "url": "https://x.test/inv/7"}},
    })


def test_cta_url_display_text_over_20_characters_is_refused():
    with pytest.raises(PayloadError, match="display_text is 21 characters; "
                                           "WhatsApp allows at most 20"):
        B.cta_url(TO, "b", "d" * 21, "https://x.test")


def test_cta_url_needs_http_url():
    with pytest.raises(PayloadError, match="cta_url url must be an http"):
        B.cta_url(TO, "b", "Ver", "javascript:alert(1)")


# --- mark_read / typing ----------------------------------------------------------------------------

def test_mark_read_payload():
    assert B.mark_read(WAMID) == {"messaging_product": "whatsapp", "status": "read",
                                  "message_id": WAMID}


def test_mark_read_with_typing_adds_typing_indicator():
    expected = {"messaging_product": "whatsapp", "status": "read", "message_id": WAMID,
                "typing_indicator": {"type": "text"}}
    assert B.mark_read(WAMID, typing=True) == expected
    assert B.typing_indicator(WAMID) == expected


def test_mark_read_needs_a_message_id():
    with pytest.raises(PayloadError, match="message_id"):
        B.mark_read("")
