import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from campotech_whatsapp.cloud.crypto import (
    CryptoError, DecryptError, KeyMissingError, TokenCipher, generate_key, is_encrypted,
    load_keys,
)
from campotech_whatsapp.cloud.errors import CloudError

ROOT = Path(__file__).resolve().parent.parent
SECRET = "EAAG-access-token-ñandú-12345"
OLD_KEY = generate_key()
NEW_KEY = generate_key()


def test_round_trip():
    cipher = TokenCipher(NEW_KEY)
    token = cipher.encrypt(SECRET)
    assert isinstance(token, str)
    assert SECRET not in token
    assert cipher.decrypt(token) == SECRET


def test_same_plaintext_encrypts_differently_each_time():
    cipher = TokenCipher(NEW_KEY)
    assert cipher.encrypt(SECRET) != cipher.encrypt(SECRET)


def test_empty_text_round_trips():
    cipher = TokenCipher([NEW_KEY])
    assert cipher.decrypt(cipher.encrypt("")) == ""


def test_bytes_key_and_bytes_token_are_accepted():
    cipher = TokenCipher(NEW_KEY.encode())
    assert cipher.decrypt(cipher.encrypt(SECRET).encode()) == SECRET


def test_old_token_decrypts_after_adding_a_new_key():
    old_token = TokenCipher(OLD_KEY).encrypt(SECRET)
    assert TokenCipher([NEW_KEY, OLD_KEY]).decrypt(old_token) == SECRET


def test_new_tokens_use_the_first_key():
    token = TokenCipher([NEW_KEY, OLD_KEY]).encrypt(SECRET)
    assert TokenCipher(NEW_KEY).decrypt(token) == SECRET
    with pytest.raises(DecryptError):
        TokenCipher(OLD_KEY).decrypt(token)


def test_rotate_re_encrypts_with_the_newest_key():
    old_token = TokenCipher(OLD_KEY).encrypt(SECRET)
    rotated = TokenCipher([NEW_KEY, OLD_KEY]).rotate(old_token)
    assert rotated != old_token
    # The old key can be dropped once every token has been rotated.
    assert TokenCipher(NEW_KEY).decrypt(rotated) == SECRET


def test_wrong_key_raises_decrypt_error_without_secrets_in_message():
    token = TokenCipher(OLD_KEY).encrypt(SECRET)
    with pytest.raises(DecryptError) as info:
        TokenCipher(NEW_KEY).decrypt(token)
    text = str(info.value) + repr(info.value)
    assert "campotech_whatsapp_key" in text
    for secret in (SECRET, OLD_KEY, NEW_KEY, token):
        assert secret not in text
    # No chained cryptography exception to leak through a traceback.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_tampered_token_raises_decrypt_error():
    cipher = TokenCipher(NEW_KEY)
    token = cipher.encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(DecryptError):
        cipher.decrypt(tampered)


@pytest.mark.parametrize("bad", ["", "plain-text-token", None, 42, "gAAAAAñ"])
def test_non_tokens_raise_decrypt_error(bad):
    with pytest.raises(DecryptError):
        TokenCipher(NEW_KEY).decrypt(bad)


def test_rotate_of_a_foreign_token_raises_decrypt_error():
    with pytest.raises(DecryptError):
        TokenCipher(NEW_KEY).rotate(TokenCipher(OLD_KEY).encrypt(SECRET))


def test_encrypt_takes_text_only():
    with pytest.raises(TypeError):
        TokenCipher(NEW_KEY).encrypt(b"bytes")


def test_errors_are_cloud_errors():
    assert issubclass(DecryptError, CryptoError)
    assert issubclass(KeyMissingError, CryptoError)
    assert issubclass(CryptoError, CloudError)


def test_repr_does_not_show_keys():
    text = repr(TokenCipher([NEW_KEY, OLD_KEY]))
    assert NEW_KEY not in text and OLD_KEY not in text
    assert "2 key" in text


def test_cipher_without_keys_raises_key_missing():
    with pytest.raises(KeyMissingError):
        TokenCipher([])


def test_invalid_key_names_its_position_not_its_value():
    bad = "not-a-fernet-key-but-secret-looking"
    with pytest.raises(CryptoError) as info:
        TokenCipher([NEW_KEY, bad])
    assert "key 2 of 2" in str(info.value)
    assert bad not in str(info.value) and NEW_KEY not in str(info.value)


def test_is_encrypted_recognises_fernet_tokens():
    token = TokenCipher(NEW_KEY).encrypt(SECRET)
    assert is_encrypted(token)
    assert is_encrypted(token.encode())
    assert TokenCipher.is_encrypted(token)


@pytest.mark.parametrize("value", [
    "", None, 12, SECRET, "EAAGm0PX4ZCpsBA", "gAAAAA", "gAAAAAbad!base64",
    "gAAAAA" + "A" * 94,  # right prefix and length, wrong block structure
])
def test_is_encrypted_rejects_plain_values(value):
    assert not is_encrypted(value)


def test_generate_key_gives_a_usable_fernet_key():
    key = generate_key()
    assert isinstance(key, str) and len(key) == 44
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert generate_key() != key


def test_load_keys_from_config_value():
    assert load_keys("%s, %s" % (NEW_KEY, OLD_KEY), environ={}) == [NEW_KEY, OLD_KEY]


def test_load_keys_from_environment():
    env = {"CAMPOTECH_WHATSAPP_KEY": " %s ,%s," % (NEW_KEY, OLD_KEY)}
    assert load_keys(None, environ=env) == [NEW_KEY, OLD_KEY]


def test_load_keys_config_wins_over_environment():
    assert load_keys(NEW_KEY, environ={"CAMPOTECH_WHATSAPP_KEY": OLD_KEY}) == [NEW_KEY]


def test_load_keys_from_a_custom_env_var():
    assert load_keys(environ={"MY_KEY": NEW_KEY}, env_var="MY_KEY") == [NEW_KEY]


def test_load_keys_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("CAMPOTECH_WHATSAPP_KEY", NEW_KEY)
    assert load_keys() == [NEW_KEY]


@pytest.mark.parametrize("config_value, env", [
    (None, {}), ("", {}), (False, {}), (None, {"CAMPOTECH_WHATSAPP_KEY": " , "}),
])
def test_missing_key_explains_how_to_set_and_generate_one(config_value, env):
    with pytest.raises(KeyMissingError) as info:
        load_keys(config_value, environ=env)
    text = str(info.value)
    assert "campotech_whatsapp_key = " in text
    assert "odoo.conf" in text
    assert "CAMPOTECH_WHATSAPP_KEY" in text
    assert "python -m campotech_whatsapp.cloud.crypto" in text


def test_load_keys_names_the_invalid_position_and_source():
    bad = "short-secretish"
    with pytest.raises(CryptoError) as info:
        load_keys("%s,%s" % (NEW_KEY, bad), environ={})
    text = str(info.value)
    assert "key 2 of 2" in text and "odoo.conf" in text
    assert bad not in text and NEW_KEY not in text
    with pytest.raises(CryptoError, match="environment variable CAMPOTECH_WHATSAPP_KEY"):
        load_keys(None, environ={"CAMPOTECH_WHATSAPP_KEY": bad})


def test_loaded_keys_make_a_working_cipher():
    cipher = TokenCipher(load_keys(NEW_KEY, environ={}))
    assert cipher.decrypt(cipher.encrypt(SECRET)) == SECRET


def test_module_main_prints_a_new_key():
    result = subprocess.run(
        [sys.executable, "-m", "campotech_whatsapp.cloud.crypto"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    key = result.stdout.strip()
    assert load_keys(key, environ={}) == [key]
