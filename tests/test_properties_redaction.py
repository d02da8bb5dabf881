"""Property tests of key redaction (agent/secrets.py): a key of any known shape, or any value of
a configured key, is gone from the text wherever it stands, and nothing else changes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.secrets import MIN_SECRET_LENGTH, REDACTED, redact_secrets

SETTINGS = settings(max_examples=200, deadline=None)
KEY_CHARS = string.ascii_letters + string.digits + "_-"
ALNUM = string.ascii_letters + string.digits


def tail(alphabet: str, min_size: int, max_size: int = 60) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


shaped_keys = st.one_of(
    st.builds("sk-{}".format, tail(KEY_CHARS, 16)),
    st.builds("sk-proj-{}".format, tail(KEY_CHARS, 16)),
    st.builds("key-{}".format, tail(ALNUM, 16)),
    st.builds("Bearer {}".format, tail(ALNUM + "._~+/=-", 8)),
    st.builds("hf_{}".format, tail(ALNUM, 20)),
    st.builds(
        "{}_{}".format, st.sampled_from(["ghp", "gho", "ghu", "ghs", "ghr"]), tail(ALNUM, 20)
    ),
    st.builds("AKIA{}".format, tail(string.ascii_uppercase + string.digits, 16, 16)),
    # partly masked, as error messages quote a key
    st.builds("sk-{}***{}".format, tail(ALNUM, 0, 8), tail(ALNUM, 0, 6)),
)
# What may stand right before a key: nothing, or anything ending in a non-word character.
before = st.one_of(
    st.just(""), st.builds("{}{}".format, st.text(max_size=30), st.sampled_from(" \n\t:=\"'(<,"))
)
# What may follow it: nothing, or anything starting with a character no key shape contains.
after = st.one_of(
    st.just(""), st.builds("{}{}".format, st.sampled_from(" \n\t\"')>,;!?"), st.text(max_size=30))
)


@SETTINGS
@given(prefix=before, key=shaped_keys, suffix=after)
def test_a_key_shaped_string_is_redacted_anywhere(prefix: str, key: str, suffix: str) -> None:
    redacted = redact_secrets(prefix + key + suffix, secrets=[])
    assert key not in redacted
    assert REDACTED in redacted


secret_values = st.text(alphabet=KEY_CHARS + ".:/", min_size=MIN_SECRET_LENGTH, max_size=40)


@SETTINGS
@given(secret=secret_values, pieces=st.lists(st.text(max_size=20), min_size=1, max_size=4))
def test_a_known_key_value_is_redacted_wherever_it_stands(secret: str, pieces: list[str]) -> None:
    """Inside words, at either end, several times: the value never survives."""
    text = secret.join(pieces)
    if secret not in text:
        text += secret
    assert secret not in redact_secrets(text, secrets=[secret])


@SETTINGS
@given(secret=secret_values, text=st.text(max_size=60))
def test_a_key_from_the_environment_is_redacted(secret: str, text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOME_SERVICE_API_KEY", secret)
        assert secret not in redact_secrets(f"{text}{secret}{text}")


@SETTINGS
@given(inner=secret_values, extra=tail(KEY_CHARS, 1, 10))
def test_a_longer_key_containing_a_shorter_one_leaves_no_tail(inner: str, extra: str) -> None:
    outer = inner + extra
    redacted = redact_secrets(f"key {outer} end", secrets=[inner, outer])
    assert redacted == f"key {REDACTED} end"


@SETTINGS
@given(text=st.text(alphabet=string.ascii_lowercase + " .,?!'", max_size=120))
def test_ordinary_chat_is_left_alone(text: str) -> None:
    assert redact_secrets(text, secrets=[]) == text


@SETTINGS
@given(short=st.text(alphabet=ALNUM, min_size=1, max_size=MIN_SECRET_LENGTH - 1))
def test_too_short_extra_values_are_ignored(short: str) -> None:
    text = f"well {short} and more"
    assert redact_secrets(text, secrets=[], extra=[short, None]) == text
