"""Notification decisions: dedup keys, button replies, ratings, variable mappings."""

import pytest

from campotech_whatsapp.cloud import notifications as n


def test_same_event_same_record_same_marker_is_one_key():
    one = n.dedup_key(n.JOB_SCHEDULED, "project.task", 12, 7, "2026-12-15 14:30:00")
    assert one == n.dedup_key(n.JOB_SCHEDULED, "project.task", "12", 7, "2026-12-15 14:30:00")
    assert one != n.dedup_key(n.JOB_SCHEDULED, "project.task", 12, 7, "2026-12-16 14:30:00")
    assert one != n.dedup_key(n.JOB_SCHEDULED, "project.task", 13, 7, "2026-12-15 14:30:00")
    assert one != n.dedup_key(n.JOB_SCHEDULED, "project.task", 12, 8, "2026-12-15 14:30:00")
    assert one != n.dedup_key(n.JOB_COMPLETED, "project.task", 12, 7, "2026-12-15 14:30:00")


def test_long_markers_are_hashed_and_stay_distinct():
    a = n.dedup_key(n.CUSTOM, "res.partner", 1, None, "x" * 500)
    b = n.dedup_key(n.CUSTOM, "res.partner", 1, None, "x" * 499 + "y")
    assert a != b and len(a) < 120 and len(b) < 120


@pytest.mark.parametrize("said,action", [
    (("Confirmar",), n.CONFIRM), (("CONFIRM", "Sí"), n.CONFIRM), ((None, "confirmar"), n.CONFIRM),
    (("Reprogramar",), n.RESCHEDULE), (("reprogramar!",), n.RESCHEDULE),
    (("Cancelar",), n.CANCEL), (("", "cancelar"), n.CANCEL),
    (("Hola",), None), ((None, None), None), (("cancelar suscripcion",), None),
])
def test_button_reply_actions(said, action):
    assert n.reply_action(*said) == action


@pytest.mark.parametrize("said,score", [
    (("rating_4",), 4), ((None, "5 - Excelente"), 5), (("3",), 3), (("1/5",), 1),
    (("4 de 5",), 4), (("⭐⭐",), 2), (("2 estrellas",), 2),
    (("6",), None), (("0",), None), (("15",), None), (("3 horas después",), None),
    (("hola",), None), ((None,), None), (("⭐⭐⭐⭐⭐⭐",), None),
])
def test_rating_parsing(said, score):
    assert n.parse_rating(*said) == score


def test_rating_rows_fit_a_whatsapp_list():
    assert len(n.RATING_ROWS) == 5
    assert all(len(row["title"]) <= 24 and n.parse_rating(row["id"]) for row in n.RATING_ROWS)
    assert sorted(n.parse_rating(row["id"], row["title"]) for row in n.RATING_ROWS) == [1, 2, 3, 4, 5]


def test_mapping_fields_and_texts():
    mapping = n.parse_mapping("""
        # the technician
        tech_name = user_ids.name
        {{2}} = name
        company_name = "CampoTech SRL"
        note = 'sin cargo'
    """)
    assert mapping == {
        "tech_name": (n.FIELD, "user_ids.name"),
        "2": (n.FIELD, "name"),
        "company_name": (n.TEXT, "CampoTech SRL"),
        "note": (n.TEXT, "sin cargo"),
    }
    assert n.parse_mapping("") == {}
    assert n.parse_mapping(None) == {}


@pytest.mark.parametrize("text", ["tech_name", "= name", "x = user ids", "x = name;drop", "a b = name"])
def test_bad_mapping_names_the_line(text):
    with pytest.raises(n.MappingError, match="Line 1"):
        n.parse_mapping(text)
