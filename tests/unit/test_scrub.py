"""The privacy boundary's scrubber: every kind of personal data it promises, typed
placeholders, and manual text left alone."""

from __future__ import annotations

import pytest

from finetune_data.scrub import shared_scrubber


@pytest.fixture(scope="module")
def scrub():
    return shared_scrubber()


@pytest.mark.parametrize(
    ("text", "value", "placeholder"),
    [
        ("Mail jo.smith@example.co.uk today", "jo.smith@example.co.uk", "[email]"),
        ("Call +44 20 7946 0958 please", "+44 20 7946 0958", "[phone]"),
        ("Landline 020 7946 0018, evenings", "020 7946 0018", "[phone]"),
        ("Call (212) 555-0187 now", "(212) 555-0187", "[phone]"),
        ("Card 4111 1111 1111 1111 was charged", "4111 1111 1111 1111", "[card number]"),
        ("Card 5500-0000-0000-0004 was charged", "5500-0000-0000-0004", "[card number]"),
        ("IBAN GB82 WEST 1234 5698 7654 32 for refunds", "GB82 WEST 1234 5698 7654 32", "[IBAN]"),
        ("From 81.2.69.142 it fails", "81.2.69.142", "[IP address]"),
        ("Via 2606:4700:4700::1111 it fails", "2606:4700:4700::1111", "[IP address]"),
        ("MAC 00:1A:2B:3C:4D:5E is blocked", "00:1A:2B:3C:4D:5E", "[MAC address]"),
        ("key AKIA2OGYBAH6RZQ4XKVM in use", "AKIA2OGYBAH6RZQ4XKVM", "[secret]"),
        (
            "aws_secret_access_key=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",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZQ4XKVMABC",
            "[secret]",
        ),
        (
            "token ghp_8f3kD9sLq2Wm4Xz7Vb1Nc6Ty0Ru5Ea3Hj2Gk here",
            "ghp_8f3kD9sLq2Wm4Xz7Vb1Nc6Ty0Ru5Ea3Hj2Gk",
            "[secret]",
        ),
        ("gitlab glpat-xY7zQ2mN9pL4kR8sT1vW ok", "glpat-xY7zQ2mN9pL4kR8sT1vW", "[secret]"),
        (
            "slack xoxb-2048-1234567890-AbCdEfGhIjKl",
            "xoxb-2048-1234567890-AbCdEfGhIjKl",
            "[secret]",
        ),
        ("openai sk-proj-Zx81LmQp44RtVv90KsYw", "sk-proj-Zx81LmQp44RtVv90KsYw", "[secret]"),
        (
            "api key 9fK2xQ7mZ4pL8vR1sT6wY3bN5cH0jD2e set",
            "9fK2xQ7mZ4pL8vR1sT6wY3bN5cH0jD2e",
            "[secret]",
        ),
        (
            "Send it to 742 Evergreen Terrace, Springfield.",
            "742 Evergreen Terrace, Springfield",
            "[address]",
        ),
        ("Returns: Hauptstraße 12, Berlin", "Hauptstraße 12", "[address]"),
        ("I was born on 14/03/1985, is that ok", "14/03/1985", "[date of birth]"),
        ("date of birth is March 3, 1979.", "March 3, 1979", "[date of birth]"),
        ("My SSN: 457-55-5462 was asked", "457-55-5462", "[id number]"),
        ("NI number JG 10 37 42 A on file", "JG 10 37 42 A", "[id number]"),
        ("my wifi password is Sunshine2024 and", "Sunshine2024", "[password]"),
        ("the PIN is 4921, right?", "4921", "[password]"),
        ("My name is Priya Patel and", "Priya Patel", "[name]"),
        ("I'm Tomasz, the light is red", "Tomasz", "[name]"),
        ("Hold it.\nThanks, Maria Lopez", "Maria Lopez", "[name]"),
        ("Dear Sven Larsson, thanks", "Sven Larsson", "[name]"),
        ("<@U024BE7LH> said so", "<@U024BE7LH>", "[user]"),
    ],
)
def test_each_kind_is_replaced_by_its_typed_placeholder(scrub, text, value, placeholder) -> None:
    scrubbed = scrub(text)
    assert value not in scrubbed
    assert scrubbed == text.replace(value, placeholder), "only the value changes"


@pytest.mark.parametrize(
    "text",
    [
        "Hold the Reset button for 15 seconds. Go to Settings > General > Reset.",
        "I'm unable to connect to 192.168.0.1 (the router's own address).",
        "The password is case-sensitive. Enter the PIN shown on the TV.",
        "Contact Samsung's Call Center or visit samsung.com/support.",
        "Write to support@example.com for help.",  # a team's role mailbox identifies no one
        "Model QN65Q80TAFXZA supports 2.4 GHz and 5 GHz Wi-Fi.",
    ],
)
def test_manual_and_product_text_is_left_alone(scrub, text: str) -> None:
    assert scrub(text) == text


def test_values_given_in_one_text_are_removed_where_another_echoes_them(scrub) -> None:
    question, answer = scrub.together(
        ["My name is Priya Patel, born on 14/03/1985.", "Hello Priya Patel (14/03/1985)!"]
    )
    assert question == "My name is [name], born on [date of birth]."
    assert answer == "Hello [name] ([date of birth])!"


def test_find_reports_kinds_and_places_never_values(scrub) -> None:
    findings = scrub.find("card 4111 1111 1111 1111, mail a@b.io")
    assert [f.kind for f in findings] == ["[card number]", "[email]"]
    assert all(isinstance(f.start, int) for f in findings)
    assert scrub.find("") == []
