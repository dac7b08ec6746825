"""quote_for: which retrieved text a reply quotes whole, rule by rule, and when the adapters answer."""

from __future__ import annotations

import dataclasses

import pytest

from app.knowledge.quotes import (
    ARTICLE_COVERED,
    ARTICLE_LEAD,
    MAX_COMPARISON_CHARS,
    MessageCues,
    comparison_quote,
    quote_for,
    quoted,
)
from app.knowledge.reply_facts import ReplyFacts
from app.knowledge.retrieval import Hit
from app.knowledge.unlisted import UNLISTED_LEAD
from tests.app.knowledge.test_comparison import AIR, PRO
from tests.app.knowledge.test_reply_facts import NOTE

PHONE = Hit("contact.phone", 1, "Support phone", "Call 0800 555 0142.", "contact", 1.2)
ARTICLE = Hit("article.lumo-bulb-pair", 1, "Pair a bulb", "1. Switch it off and on 5 times.", "article", 1.1)
BULB = Hit("product.lumo-smart-bulb", 1, "Lumo Smart Bulb", "Lumo Smart Bulb: $19, in stock.", "product", 1.0)


def test_the_quote_is_every_compared_entry_named_once() -> None:
    nameless = Hit("plan.shieldguard-premium", 1, "ShieldGuard Premium", "$79.99/year.", "plan", 1.0)
    assert quoted(nameless) == "ShieldGuard Premium: $79.99/year."
    assert quoted(AIR) == AIR.text  # already starts with its name
    assert comparison_quote((AIR, PRO)) == "Voltbook Air 13 laptop: $899. Voltbook Pro 15 laptop: $1,499."


def test_a_contact_first_wins_then_a_comparison() -> None:
    compare = MessageCues(frozenset({"air", "or", "pro"}), (AIR, PRO))
    assert quote_for((PHONE, AIR, PRO), compare) == PHONE.text
    assert quote_for((AIR, PRO), compare) == comparison_quote((AIR, PRO))
    assert quote_for((), compare) == ""


@pytest.mark.parametrize(
    ("article", "how_to", "expected"),
    [
        (dataclasses.replace(ARTICLE, named=True), True, True),  # "new lumo bulb wont show up"
        (dataclasses.replace(ARTICLE, coverage=ARTICLE_COVERED), True, True),  # most words found
        (dataclasses.replace(ARTICLE, coverage=ARTICLE_COVERED - 0.1), True, False),  # a weak match
        (dataclasses.replace(ARTICLE, named=True), False, False),  # not a how-to or fault message
    ],
)
def test_a_help_article_ranked_first_is_quoted_for_a_how_to(
    article: Hit, how_to: bool, expected: bool
) -> None:
    quote = quote_for((article, BULB), MessageCues(how_to=how_to))
    assert quote == (ARTICLE_LEAD + article.text if expected else "")


def test_a_named_product_ranked_first_is_quoted_when_this_message_names_it_or_nothing() -> None:
    named = dataclasses.replace(BULB, named=True)
    assert quote_for((named,), MessageCues(frozenset({"lumo", "bulb", "colour"}))) == BULB.text
    # A follow-up naming nothing ("tell me about the lumo bulb" / "how much is one?"): the card.
    assert quote_for((named,), MessageCues(frozenset({"how", "much", "is", "one"}))) == BULB.text
    assert quote_for((BULB,), MessageCues(frozenset({"lumo"}))) == ""  # found by its words alone


def test_a_follow_up_naming_another_entry_than_the_first_ranked_gets_no_card() -> None:
    family = Hit("plan.cloudkeep-family", 1, "CloudKeep Family", "Family: $9.99.", "plan", 2.0, True)
    personal = Hit("plan.cloudkeep-personal", 1, "CloudKeep Personal", "Personal: $3.99.", "plan", 1.9, True)
    assert quote_for((family, personal), MessageCues(frozenset({"and", "the", "personal", "one"}))) == ""


def test_reply_facts_quote_as_the_whole_reply_unless_a_not_sold_note_answers() -> None:
    steering = ReplyFacts("air or pro?", (AIR, PRO), cues=MessageCues(compared=(AIR, PRO))).steering()
    assert steering.forced_opening == comparison_quote((AIR, PRO)) and steering.end_after_opening
    assert ReplyFacts("air or pro?", (AIR, PRO)).forced_opening() == ""  # nothing compared: no quote
    assert ReplyFacts("nova x3", (PHONE,), note=NOTE).forced_opening() == ""


def test_no_card_when_the_message_names_a_second_brand() -> None:
    nova = Hit("product.nova-x2", 1, "Nova X2", "Nova X2 smartphone: $699.", "product", 2.0, named=True)
    cell = Hit("product.powercell-20000", 1, "PowerCell", "PowerCell: charges a Nova X2.", "product", 1.9)
    words = frozenset("how many times will the powercell charge my nova x2".split())
    assert quote_for((nova, cell), MessageCues(words)) == ""
    family = Hit("product.nova-lite", 1, "Nova Lite", "Nova Lite phone: $349.", "product", 1.8)
    assert quote_for((nova, family), MessageCues(frozenset({"nova", "x2", "colours"}))) == nova.text


def test_a_long_comparison_keeps_each_entrys_first_two_sentences() -> None:
    tail = " Students get 10% off with a verified student email, and a free year of ShieldGuard Plus." * 3
    air = dataclasses.replace(AIR, text=f"Voltbook Air 13: $899, in stock. Weighs 1.2 kg. 2-year cover{tail}")
    pro = dataclasses.replace(PRO, text=f"Voltbook Pro 15: $1,499, in stock. 32 GB RAM. 2-year cover{tail}")
    assert len(quoted(air) + quoted(pro)) > MAX_COMPARISON_CHARS
    assert comparison_quote((air, pro)) == (
        "Voltbook Air 13: $899, in stock. Weighs 1.2 kg. Voltbook Pro 15: $1,499, in stock. 32 GB RAM."
    )


def test_a_word_shared_with_another_brands_key_does_not_name_that_brand() -> None:
    # "hw much is the pro 15": "pro" is in the EchoBuds Pro's key too, but the message names the
    # Voltbook's model, not the EchoBuds.
    pro = dataclasses.replace(PRO, named=True)
    buds = Hit("product.echobuds-pro", 1, "EchoBuds Pro", "EchoBuds Pro: $179.", "product", 7.0)
    assert quote_for((pro, buds), MessageCues(frozenset({"hw", "much", "pro", "15"}))) == PRO.text
    # Named by its brand, the second product stops the card.
    assert quote_for((pro, buds), MessageCues(frozenset({"pro", "15", "echobuds"}))) == ""


def test_the_policy_not_the_card_when_the_message_asks_a_policy_retrieved_beside_it() -> None:
    nova = Hit("product.nova-x2", 1, "Nova X2", "Nova X2 smartphone: $699.", "product", 2.0, named=True)
    warranty = Hit("policy.warranty", 1, "Warranty", "2-year warranty on defects.", "policy", 1.9)
    words = frozenset("my nova x2 cracked is that covered under the warranty".split())
    # Not the card: the policy it asks about, though the product's name ranked it second.
    assert quote_for((nova, warranty), MessageCues(words, asks_policy=True)) == quoted(warranty)
    assert quote_for((nova, warranty), MessageCues(words)) == nova.text  # no policy word: the card
    assert quote_for((nova,), MessageCues(words, asks_policy=True)) == nova.text  # no policy found


RETURNS = Hit("policy.returns", 1, "Returns policy", "Returns: within 30 days of delivery.", "policy", 0.74)
REFUNDS = Hit("policy.refunds", 1, "Refunds", "Refunds: within 5-7 business days.", "policy", 0.76)
WARRANTY = Hit("policy.warranty", 1, "Warranty", "Warranty: 2 years, not accidental damage.", "policy", 0.9)


def test_a_policy_asked_about_is_quoted_with_a_tied_second_one() -> None:
    asked = MessageCues(frozenset({"return", "long"}), asks_policy=True)
    assert quote_for((REFUNDS, RETURNS), asked) == f"{REFUNDS.text} {RETURNS.text}"  # within POLICY_TIE
    assert quote_for((WARRANTY, RETURNS), asked) == WARRANTY.text  # 0.16 behind: not tied
    assert quote_for((WARRANTY, BULB, REFUNDS), asked) == WARRANTY.text  # a tie counts policies only


def test_a_policy_is_not_quoted_unasked_or_for_the_customers_own_case() -> None:
    assert quote_for((WARRANTY,), MessageCues(frozenset({"nova"}))) == ""  # no policy word
    lookup = MessageCues(frozenset({"refund"}), asks_policy=True, lookup=True)
    assert quote_for((REFUNDS,), lookup) == ""  # "has my refund gone through?": the chat's notice


def test_a_lookup_gets_the_policy_that_answers_it_in_general_for_its_notice() -> None:
    from app.knowledge.quotes import policy_quote as lookup_policy

    lookup = MessageCues(frozenset({"refund"}), asks_policy=True, lookup=True)
    assert lookup_policy((REFUNDS,), lookup) == REFUNDS.text
    assert lookup_policy((REFUNDS, RETURNS), lookup) == f"{REFUNDS.text} {RETURNS.text}"  # tied
    assert lookup_policy((BULB, REFUNDS), lookup) == ""  # a policy must rank first
    assert lookup_policy((REFUNDS,), MessageCues(frozenset({"order"}), lookup=True)) == ""  # unasked
    assert lookup_policy((), lookup) == ""


def test_the_cues_mark_a_lookup_of_the_customers_own_case() -> None:
    from app.knowledge.quotes import cues_of

    assert cues_of("has my refund gone through yet?", (REFUNDS,), frozenset()).lookup
    cues = cues_of("can i return stuff? how long do i have", (REFUNDS, RETURNS), frozenset())
    assert cues.asks_policy and not cues.lookup


BUNDLE = Hit("offer.voltbook-sg", 1, "Free ShieldGuard", "Bundle offer: code in the email.", "offer", 1.60)
PLUS = Hit("plan.shieldguard-plus", 1, "ShieldGuard Plus", "ShieldGuard Plus: 30-day trial.", "plan", 1.58)
GUIDE = Hit("article.shieldguard-install", 1, "Install ShieldGuard", "1. Open the app.", "article", 1.59)


def test_an_offer_asked_about_is_quoted_with_a_tied_catalogue_entry_but_not_an_article() -> None:
    free = MessageCues(frozenset({"try", "shieldguard", "free"}))
    assert quote_for((BUNDLE, PLUS), free) == f"Free ShieldGuard: {BUNDLE.text} {PLUS.text}"
    assert quote_for((BUNDLE, GUIDE), free) == f"Free ShieldGuard: {BUNDLE.text}"  # guides never tie
    assert quote_for((BUNDLE, PLUS), MessageCues(frozenset({"shieldguard", "trade"}))) == ""  # no deal word
    assert quote_for((BUNDLE,), dataclasses.replace(free, lookup=True)) == ""


def test_a_policy_holding_most_of_the_message_is_quoted_without_a_policy_word() -> None:
    privacy = Hit("policy.privacy", 1, "Privacy", "Privacy: we never sell data.", "policy", 0.7, False, 0.67)
    assert quote_for((privacy,), MessageCues(frozenset({"sell", "data", "advertisers"}))) == privacy.text
    half = dataclasses.replace(privacy, coverage=0.5)  # "do you sell iphones": iphones is the question
    assert quote_for((half,), MessageCues(frozenset({"sell", "iphones"}))) == ""


NOVA = Hit("product.nova-x2", 1, "Nova X2 smartphone", "Nova X2 smartphone: $699.", "product", 1.9, True)
POWERCELL = Hit(
    "product.powercell-20000", 1, "PowerCell 20000 power bank",
    "PowerCell 20000 power bank: $49. Charges a Nova X2 about 4 times.", "product", 0.8, True,
)  # fmt: skip


def test_of_two_named_products_the_card_naming_the_other_is_quoted() -> None:
    from app.knowledge.quotes import covering_card

    words = frozenset({"times", "power", "bank", "fill", "nova", "x2"})
    assert covering_card((NOVA, POWERCELL)) == POWERCELL
    assert quote_for((NOVA, POWERCELL), MessageCues(words)) == POWERCELL.text
    assert covering_card((NOVA, dataclasses.replace(POWERCELL, named=False))) is None  # one named
    assert covering_card((AIR, dataclasses.replace(PRO, named=True))) is None  # one brand, two models
    assert covering_card((BULB, NOVA, POWERCELL)) is None  # the first-ranked is neither


def test_a_property_the_named_card_lists_is_quoted_when_a_guide_ranked_first() -> None:
    cam = Hit("product.homecam-2k", 1, "HomeCam 2K", "HomeCam 2K: $59. Night vision.", "product", 1.5, True)
    guide = Hit("article.homecam-setup", 1, "Set up HomeCam", "1. Plug it in.", "article", 1.6, True)
    night = MessageCues(frozenset({"homecam", "see", "lights", "off"}), properties=("night vision",))
    assert quote_for((guide, cam), night) == cam.text
    assert quote_for((guide, cam), MessageCues(frozenset({"homecam", "see"}))) == ""  # no property named


def test_an_asked_word_the_named_card_states_is_quoted_when_a_guide_ranked_first() -> None:
    basic = Hit(
        "plan.shieldguard-basic", 1, "ShieldGuard Basic plan",
        "ShieldGuard Basic: $29.99/year. No VPN or password manager.", "plan", 2.0, True,
    )
    guide = Hit("article.shieldguard-vpn", 1, "Turn on the VPN", "1. Open ShieldGuard.", "article", 2.1, True)
    vpn = MessageCues(frozenset({"basic", "shieldguard", "vpn"}), asked=("basic", "vpn"))
    assert quote_for((guide, basic), vpn) == basic.text
    # Asking only by the card's own name words is no property it states: the adapters answer.
    assert quote_for((guide, basic), MessageCues(frozenset({"basic"}), asked=("basic",))) == ""



def test_a_deal_asked_beside_a_named_product_quotes_the_offer_not_the_card() -> None:
    x2 = Hit("product.nova-x2", 1, "Nova X2 phone", "Nova X2 smartphone: $699.", "product", 2.0, True)
    student = Hit("offer.student", 1, "Student discount", "10% off laptops.", "offer", 1.9)
    deal = MessageCues(frozenset({"student", "discount", "nova", "x2"}))
    assert quote_for((x2, student), deal) == "Student discount: 10% off laptops."
    assert quote_for((x2, student), MessageCues(frozenset({"nova", "x2", "price"}))) == x2.text


def test_a_property_no_card_lists_leads_when_an_offer_ranked_first() -> None:
    yearly = Hit("offer.cloudkeep-yearly", 1, "Pay yearly", "Two months free yearly.", "offer", 1.4, True)
    personal = Hit("plan.cloudkeep-personal", 1, "CloudKeep Personal", "$3.99/month.", "plan", 1.3, True)
    encrypted = MessageCues(frozenset({"cloudkeep", "encrypted"}), properties=("encryption",))
    assert quote_for((yearly, personal), encrypted) == UNLISTED_LEAD + "CloudKeep Personal: $3.99/month."
    assert quote_for((yearly, personal), MessageCues(frozenset({"cloudkeep"}))) == ""
