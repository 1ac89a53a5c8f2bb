"""STOP/START words: whole messages only, whatever the accents, case or punctuation."""

import pytest

from campotech_whatsapp.cloud import consent


@pytest.mark.parametrize("text", [
    "BAJA", "baja", "Baja.", "  baja!! ", "STOP", "stop", "No más", "NO MAS", "no  mas",
    "¡No más!", "Cancelar suscripción", "CANCELAR SUSCRIPCION", "cancelar-suscripción",
    "unsubscribe",
])
def test_stop_words_opt_out(text):
    assert consent.command(text) == consent.OPT_OUT


@pytest.mark.parametrize("text", ["ALTA", "alta", "Alta!", "START", "start."])
def test_start_words_opt_in(text):
    assert consent.command(text) == consent.OPT_IN


@pytest.mark.parametrize("text", [
    "", None, "Hola", "quiero darme de baja del curso", "no más de dos días por favor",
    "Cancelar", "stop the technician", "Gracias", "altas", "😀",
])
def test_ordinary_messages_change_nothing(text):
    assert consent.command(text) is None


def test_configured_words_replace_the_defaults():
    stop = consent.parse_words("Desuscribir, basta\nNO QUIERO MAS")
    assert stop == ("DESUSCRIBIR", "BASTA", "NO QUIERO MAS")
    assert consent.command("¡Basta!", stop_words=stop) == consent.OPT_OUT
    assert consent.command("No quiero más", stop_words=stop) == consent.OPT_OUT
    assert consent.command("BAJA", stop_words=stop) is None


def test_empty_setting_keeps_the_defaults():
    assert consent.parse_words("  ", consent.DEFAULT_STOP_WORDS) == consent.DEFAULT_STOP_WORDS
    assert consent.parse_words(None, consent.DEFAULT_START_WORDS) == consent.DEFAULT_START_WORDS


def test_normalize_strips_accents_case_and_punctuation():
    assert consent.normalize("¡Cancelar   SUSCRIPCIÓN!") == "CANCELAR SUSCRIPCION"
    assert consent.normalize("no_más") == "NO MAS"


def test_a_second_stop_is_not_a_change():
    assert consent.transition(False, consent.OPT_OUT) is True
    assert consent.transition(True, consent.OPT_OUT) is False
    assert consent.transition(True, consent.OPT_IN) is True
    assert consent.transition(False, consent.OPT_IN) is False
    assert consent.transition(True, None) is False
