"""A key file or sign-in file of the wrong shape: one sentence saying what is wrong, never a
traceback, and never a key derivation of absurd cost."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicdesk.errors import StoreError, WrongPassword
from clinicdesk.services.access import sign_in
from clinicdesk.store.keyslots import SLOTS_FILE, KeySlotFile
from clinicdesk.store.signin_guard import GUARD_FILE
from tests.conftest import ADMIN_PASSWORD
from tests.faults.cli_runner import assert_refused_with_a_sentence, run_cli


def _with(document: dict, change) -> object:
    changed = copy.deepcopy(document)
    return change(changed)


def _set(path: str, value):
    """A change that sets one field, ``slots.0.kdf.time_cost`` style, and returns the document."""

    def change(doc):
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return doc

    return change


def _drop(path: str):
    def change(doc):
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]
        return doc

    return change


SHAPES = {
    "a list": lambda doc: [doc],
    "null": lambda doc: None,
    "a number": lambda doc: 7,
    "no clinic id": _drop("clinic_id"),
    "a clinic id that is a number": _set("clinic_id", 12),
    "an empty slot list": _set("slots", []),
    "slots that are not a list": _set("slots", {"0": 1}),
    "a slot that is text": _set("slots.0", "admin"),
    "a slot of an unknown kind": _set("slots.0.kind", "root"),
    "a user slot without a user name": _drop("slots.0.username"),
    "text where a number belongs": _set("slots.0.kdf.time_cost", "3"),
    "a fraction where a number belongs": _set("slots.0.kdf.memory_kib", 65536.5),
    "true where a number belongs": _set("slots.0.kdf.parallelism", True),
    "no key derivation settings": _drop("slots.0.kdf"),
    "a bad salt": _set("slots.0.salt", "not base64!"),
    "a salt of the wrong length": _set("slots.0.salt", "AAAA"),
    "a sealed key that is a number": _set("slots.0.sealed_key", 5),
    "a cut private key": _set("slots.0.wrapped_private", "AAAAAAAA"),
    "a public key of the wrong length": _set("slots.0.public_key", "AAAA"),
    "no sealed key": _drop("slots.0.sealed_key"),
    "a cut format 1 wrapped key": _set("slots.0.wrapped_key", "AAAAAAAA"),
    "a generation of zero": _set("generation", 0),
    "older keys that are not a list": _set("history", {}),
    "an unfinished key change without keys": _set("next", {"generation": 2}),
    "zero passes": _set("slots.0.kdf.time_cost", 0),
    "a million passes": _set("slots.0.kdf.time_cost", 1_000_000),
    "no memory": _set("slots.0.kdf.memory_kib", 0),
    "a terabyte of memory": _set("slots.0.kdf.memory_kib", 1 << 30),
    "zero lanes": _set("slots.0.kdf.parallelism", 0),
    "a clinic name that is a list": _set("clinic_name", ["x"]),
}


@pytest.fixture
def key_document(clinic_dir) -> dict:
    return json.loads((clinic_dir[0] / SLOTS_FILE).read_text())


@pytest.mark.parametrize("shape", SHAPES)
def test_a_key_file_of_the_wrong_shape_is_a_sentence_and_exit_code_2(
    clinic_dir, key_document, monkeypatch, capsys, shape
):
    folder = clinic_dir[0]
    text = json.dumps(_with(key_document, SHAPES[shape]))
    (folder / SLOTS_FILE).write_text(text)
    with pytest.raises(StoreError) as caught:
        sign_in(folder, "admin", ADMIN_PASSWORD)
    assert str(folder / SLOTS_FILE) in caught.value.message
    assert caught.value.message.endswith("restored from a backup.")
    for command in ("backup", "audit-verify"):
        extra = [str(folder.parent / "out")] if command == "backup" else []
        ran = run_cli(
            monkeypatch,
            capsys,
            command,
            *extra,
            "--data-dir",
            str(folder),
            stdin=ADMIN_PASSWORD + "\n",
        )
        assert_refused_with_a_sentence(ran, "key file", "damaged")
    assert (folder / SLOTS_FILE).read_text() == text  # nothing rewrote it


def test_reset_password_with_a_damaged_key_file_is_a_sentence(
    clinic_dir, key_document, monkeypatch, capsys
):
    folder, setup = clinic_dir
    (folder / SLOTS_FILE).write_text(json.dumps(_set("slots.1.kdf.memory_kib", -1)(key_document)))
    ran = run_cli(
        monkeypatch,
        capsys,
        "reset-password",
        "--user",
        "admin",
        "--data-dir",
        str(folder),
        stdin=f"{setup.recovery_key}\nnew password 12345\n",
    )
    assert_refused_with_a_sentence(ran, "key slot 2", "memory")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "format",
    "clinic_id",
    "clinic_name",
    "slots",
    "slots.0",
    "slots.0.kind",
    "slots.0.slot_id",
    "slots.0.user_id",
    "slots.0.username",
    "slots.0.salt",
    "slots.0.nonce",
    "slots.0.wrapped_key",
    "slots.0.public_key",
    "slots.0.wrapped_private",
    "slots.0.sealed_key",
    "slots.0.sealed_signing",
    "generation",
    "history",
    "next",
    "slots.0.kdf",
    "slots.0.kdf.time_cost",
    "slots.0.kdf.memory_kib",
    "slots.0.kdf.parallelism",
    "slots.1.kdf",
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(whole=JSON, field=st.sampled_from(FIELDS), value=JSON)
def test_any_json_in_the_key_file_reads_or_is_refused_in_words(
    key_document, tmp_path: Path, whole, field, value
):
    for document in (whole, _with(key_document, _set(field, value))):
        (tmp_path / SLOTS_FILE).write_text(json.dumps(document))
        try:
            slots = KeySlotFile.load(tmp_path)
        except StoreError as refused:
            assert refused.message.endswith(".")
            continue
        for slot in slots.slots:  # what a read file holds is what sign-in may rely on
            assert 1 <= slot.kdf.time_cost <= 32 and slot.kdf.memory_kib <= 2 * 1024 * 1024
            assert slot.kind in ("user", "recovery")
        assert slots.user_slot("admin") is None or slots.user_slot("admin").username


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "null",
        "12",
        '{"admin": 5}',
        '{"admin": {"failures": "x"}}',
        '{"admin": {"failures": 9, "locked_until": "tomorrow"}}',
        '{"admin": {"failures": 99999999999999999999}}',
        "{",
    ],
)
def test_a_damaged_signin_file_never_stops_the_right_password(clinic_dir, content):
    folder = clinic_dir[0]
    (folder / GUARD_FILE).write_text(content)
    sign_in(folder, "admin", ADMIN_PASSWORD).close()
    with pytest.raises(WrongPassword):
        sign_in(folder, "admin", "wrong password")
