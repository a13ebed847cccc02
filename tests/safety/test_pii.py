"""Names and contact details become placeholders before the provider, and come back after."""

from __future__ import annotations

import pytest

from tutoring.safety.pii import PiiMap, contains_personal_data, name_variants

ROSTER = ("Alice Anders", "Bob Brown", "Will Smith", "王小明")


def test_name_email_and_phone_are_replaced_and_restored():
    pii = PiiMap(names=ROSTER)
    text = "I'm Alice Anders, write to alice.anders@example.com or call 555-123-4567."
    redacted = pii.redact(text)
    assert redacted == "I'm [NAME_1], write to [EMAIL_1] or call [PHONE_1]."
    assert pii.restore("Hello [NAME_1]! I will not use [EMAIL_1].") == (
        "Hello Alice Anders! I will not use alice.anders@example.com."
    )


def test_the_same_value_gets_the_same_placeholder_across_turns():
    pii = PiiMap(names=ROSTER)
    assert pii.redact("bob said hi") == "[NAME_1] said hi"
    assert pii.redact("Bob? BOB!") == "[NAME_1]? [NAME_1]!"


def test_roster_names_match_case_insensitively_and_common_word_names_only_in_full():
    pii = PiiMap(names=ROSTER)
    assert pii.redact("will smith will help") == "[NAME_1] will help"
    assert pii.redact("You will see, Smith.") == "You will see, [NAME_2]."


def test_chinese_names_addresses_and_ids_are_replaced():
    pii = PiiMap(names=ROSTER)
    redacted = pii.redact(
        "我是王小明，小明住在南京路100号，身份证11010519491231002X，手机13800138000"
    )
    for value in ("王小明", "小明", "南京路100号", "11010519491231002X", "13800138000"):
        assert value not in redacted
    assert "[ADDRESS_1]" in redacted and "[ID_1]" in redacted and "[PHONE_1]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "What is 1234567 + 2?",
        "Simplify 3/5 + 1/5 = 4/5 and 2024-2025.",
        "There is 1 more way to do it, and 3 roads lead there.",
        "Compute 12 * 365 * 24.",
    ],
)
def test_maths_is_left_alone(text):
    assert PiiMap(names=ROSTER).redact(text) == text
    assert not contains_personal_data(text)


def test_street_addresses_ids_and_international_numbers_are_found():
    pii = PiiMap()
    redacted = pii.redact(
        "I live at 12 Oak Street, my student id is S12345, ring +44 20 7946 0958, SSN 123-45-6789"
    )
    assert redacted == (
        "I live at [ADDRESS_1], my student id is [ID_1], ring [PHONE_1], SSN [ID_2]"
    )


def test_a_switched_off_map_changes_nothing():
    pii = PiiMap(names=ROSTER, enabled=False)
    text = "Alice Anders, alice@example.com"
    assert pii.redact(text) == text


def test_name_variants_skip_short_and_common_parts():
    assert name_variants("Al Li") == {"Al Li"}
    assert name_variants("May Grace Zhou") == {"May Grace Zhou", "Zhou"}
    assert name_variants("王小明") == {"王小明", "小明"}
