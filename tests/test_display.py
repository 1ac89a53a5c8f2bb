from campotech_whatsapp.cloud import display


def test_argentine_mobile_is_grouped_as_argentines_write_it():
    assert display.format_phone("+5491155550101") == "+54 9 11 5555-0101"


def test_wa_id_without_plus_is_formatted_too():
    assert display.format_phone("5491155550101") == "+54 9 11 5555-0101"


def test_garbage_and_empty_stay_as_they_are():
    assert display.format_phone("hola") == "hola"
    assert display.format_phone("+12") == "+12"
    assert display.format_phone(False) == ""
    assert display.format_phone(None) == ""


def test_map_url_points_at_the_coordinates():
    url = display.map_url(-34.6037, -58.3816)
    assert "mlat=-34.6037" in url and "mlon=-58.3816" in url
    assert display.map_url(None, 1) is None
