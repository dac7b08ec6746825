"""Public intent sets mapped to the router's labels; each loader returns (text, label, source) rows.

The mapping decisions follow the store's meaning of the labels (README "Data"): general = orders,
delivery, returns, refunds, billing, invoices, the store account, warranty, policies, small talk;
tech_support = a product or app not working, setup, errors; sales = prices, plans, buying,
availability, recommendations; handoff = asks for a person; out_of_scope = anything else.
Source labels whose meaning differs here (bank transfers, fantasy-sport rules, mattress pin codes)
are left out rather than forced onto a label.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from app.router.training.labelled import Labelled

Row = tuple[str, str]  # (text, source label)

BITEXT_CSV = "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"
BITEXT = {
    "place_order": "sales",
    "check_payment_methods": "sales",
    "registration_problems": "tech_support",
    "contact_human_agent": "handoff",
}  # every other Bitext intent is general
# "I have to talk to customer service" asks for a person; "how do I contact customer service" asks for
# contact details (general).
_ASKS_PERSON = re.compile(
    r"\b(talk|speak|chat|agent|someone|somebody|person|human|operator|executive|representative|call)\b", re.I
)
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")

CLINC_OOS_DOMAINS = ("kitchen_and_dining", "home", "auto_and_commute", "travel", "utility", "work", "meta")
# Device-like CLINC intents would contradict tech_support; banking/credit-card domains contradict billing.
CLINC_SKIP = {
    "find_phone",
    "sync_device",
    "reset_settings",
    "smart_home",
    "make_call",
    "text",
    "order_status",
}

BANKING77 = {
    "request_refund": "general",
    "Refund_not_showing_up": "general",
    "terminate_account": "general",
    "edit_personal_details": "general",
    "transaction_charged_twice": "general",
    "card_payment_not_recognised": "general",
    "declined_card_payment": "general",
}
HINT3 = {
    "sofmattress": {
        **dict.fromkeys(
            ["MATTRESS_COST", "EMI", "OFFERS", "PRODUCT_VARIANTS", "WHAT_SIZE_TO_ORDER", "COMPARISON"],
            "sales",
        ),
        "100_NIGHT_TRIAL_OFFER": "sales",
        **dict.fromkeys(
            ["ORDER_STATUS", "DELAY_IN_DELIVERY", "CANCEL_ORDER", "RETURN_EXCHANGE", "WARRANTY"], "general"
        ),
    },
    "curekart": {
        "RECOMMEND_PRODUCT": "sales",
        "ORDER_TAKING": "sales",
        **dict.fromkeys(
            ["REFUNDS_RETURNS_REPLACEMENTS", "ORDER_STATUS", "DELAY_IN_PARCEL", "MODIFY_ADDRESS"], "general"
        ),
        **dict.fromkeys(["CANCEL_ORDER", "PAYMENT_AND_BILL", "INTERNATIONAL_SHIPPING"], "general"),
        "PORTAL_ISSUE": "tech_support",
        "CHAT_WITH_AGENT": "handoff",
    },
    "powerplay11": {
        "CHAT_WITH_AN_AGENT": "handoff",
        **dict.fromkeys(
            ["UPDATE_APP", "NO_EMAIL_CONFIRMATION", "VERIFY_EMAIL", "DOWNLOAD_POWERPLAY11"], "tech_support"
        ),
        **dict.fromkeys(["GREETINGS_DAY", "THANKS", "APPRECIATION", "CRITICISM", "FEEDBACK"], "general"),
        **dict.fromkeys(["CONTACT_NUMBER", "CHANGE_MOBILE_NUMBER"], "general"),
    },
}
NATCS = {
    "insurance_development": {
        **dict.fromkeys(["GetQuote", "EnrollInPlan", "ChangePlan"], "sales"),
        **dict.fromkeys(["PayBill", "ReportBillingIssue", "CheckPaymentStatus", "CancelPlan"], "general"),
        **dict.fromkeys(["UpdatePaymentPreference", "CancelAutomaticBilling", "ChangeAddress"], "general"),
        **dict.fromkeys(["CreateAccount", "ResetPassword"], "general"),
        "FindAgent": "handoff",
    },
    "banking": {
        **dict.fromkeys(
            ["DisputeCharge", "UpdatePhoneNumber", "UpdateEmail", "UpdateStreetAddress"], "general"
        ),
        "SetUpOnlineBanking": "tech_support",
    },
    "finance": {
        **dict.fromkeys(["UpdateEmail", "UpdatePhoneNumber", "UpdateStreetAddress"], "general"),
        "OnlineBankingInfo": "tech_support",
        "GetExchangeRate": "out_of_scope",
        "AskConsumerPriceIndex": "out_of_scope",
    },
}
SEBIS = {
    "AskUbuntuCorpus": {"Make Update": "tech_support", "Setup Printer": "tech_support"},
    "WebApplicationsCorpus": {
        **dict.fromkeys(["Filter Spam", "Sync Accounts", "Export Data"], "tech_support"),
        **dict.fromkeys(["Delete Account", "Change Password"], "general"),
    },
}
ABCD_FLOWS = {
    "product_defect": "general",
    "order_issue": "general",
    "shipping_issue": "general",
    "account_access": "general",
    "manage_account": "general",
    "subscription_inquiry": "general",
    "storewide_query": "sales",
    "single_item_query": "sales",
    "troubleshoot_site": "tech_support",
}


def _capped(rows: list[Row], cap: int, rng: random.Random) -> list[Row]:
    """At most ``cap`` rows per source label, so one big label does not drown its label's others."""
    by: dict[str, list[Row]] = {}
    for r in rows:
        by.setdefault(r[1], []).append(r)
    return [r for lab in sorted(by) for r in (by[lab] if len(by[lab]) <= cap else rng.sample(by[lab], cap))]


def bitext(root: Path) -> Iterator[Labelled]:
    """Bitext customer-support instructions; placeholders such as {{Order Number}} become 'my order'."""
    with (root / BITEXT_CSV).open(newline="") as fh:
        for row in csv.DictReader(fh):
            text = " ".join(_PLACEHOLDER.sub("it", row["instruction"]).split())
            intent = row["intent"]
            label = BITEXT.get(intent, "general")
            if intent == "contact_customer_service" and _ASKS_PERSON.search(text):
                label = "handoff"
            yield Labelled(text, label, f"bitext:{intent}")


def clinc150(root: Path, rng: random.Random, per_intent: int = 20) -> Iterator[Labelled]:
    """CLINC150 small talk (general), other-domain intents and `oos` (out_of_scope)."""
    data = json.loads((root / "clinc150/data_full.json").read_text())
    domains = json.loads((root / "clinc150/domains.json").read_text())
    label_of = dict.fromkeys(domains["small_talk"], "general")
    label_of.update({i: "out_of_scope" for d in CLINC_OOS_DOMAINS for i in domains[d] if i not in CLINC_SKIP})
    rows = [(t, i) for split in ("train", "val", "test") for t, i in data[split] if i in label_of]
    for text, intent in _capped(rows, per_intent, rng):
        yield Labelled(text, label_of[intent], f"clinc150:{intent}")
    for text, _ in data["oos_train"] + data["oos_val"]:
        yield Labelled(text, "out_of_scope", "clinc150:oos")


def banking77(root: Path, rng: random.Random, per_intent: int = 40) -> Iterator[Labelled]:
    """BANKING77 refund, account and unknown/double-charge intents (general)."""
    with (root / "banking77/train.csv").open(newline="") as fh:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(fh) if r["category"] in BANKING77]
    for text, cat in _capped(rows, per_intent, rng):
        yield Labelled(text, BANKING77[cat], f"banking77:{cat}")


def hint3(root: Path) -> Iterator[Labelled]:
    """HINT3 SOFMattress, Curekart and Powerplay11 queries whose labels mean the same here."""
    for bot, mapping in HINT3.items():
        for split in ("train", "test"):
            with (root / f"hint3/{bot}_{split}.csv").open(newline="") as fh:
                for row in csv.DictReader(fh):
                    label = mapping.get(row["label"])
                    # The bots' agent labels also hold what their users asked before giving up
                    # ("my transaction is wrong"): only messages that ask for a person are hand-off.
                    if label == "handoff" and not _ASKS_PERSON.search(row["sentence"]):
                        continue
                    if label:
                        yield Labelled(row["sentence"].strip(), label, f"hint3:{bot}")


def natcs(root: Path, rng: random.Random, per_intent: int = 30) -> Iterator[Labelled]:
    """NatCS (DSTC11) insurance / banking / finance customer turns with a store-like meaning."""
    for name, mapping in NATCS.items():
        lines = (root / f"natcs_dstc11_intents/{name}_test-utterances.jsonl").read_text().splitlines()
        rows = [(r["utterance"], r["intent"]) for r in map(json.loads, lines) if r["intent"] in mapping]
        for text, intent in _capped(rows, per_intent, rng):
            yield Labelled(text, mapping[intent], f"natcs:{intent}")


def sebis(root: Path) -> Iterator[Labelled]:
    """AskUbuntu / WebApplications questions (Stack Exchange): updates, printers, sync, accounts."""
    for corpus, mapping in SEBIS.items():
        data = json.loads((root / f"sebis_nlu_askubuntu_webapps/{corpus}.json").read_text())
        for s in data["sentences"]:
            if s["intent"] in mapping:
                # CC BY-SA: every row names its Stack Exchange author and question.
                source = f"sebis:{corpus}:{s.get('author', 'unknown author')}:{s.get('url', 'no url')}"
                yield Labelled(s["text"].strip(), mapping[s["intent"]], source)


def abcd(root: Path) -> Iterator[Labelled]:
    """ABCD sample dialogues: the customer's first turns that say what they want, labelled by flow."""
    for convo in json.loads((root / "abcd_sample/abcd_sample.json").read_text()):
        label = ABCD_FLOWS.get(convo["scenario"]["flow"])
        turns = [t for speaker, t in convo["original"] if speaker == "customer" and len(t.split()) >= 4]
        if label:
            for text in turns[:2]:
                yield Labelled(text, label, f"abcd:{convo['scenario']['subflow']}")


def all_public(root: Path, seed: int = 0) -> list[Labelled]:
    """Every public set that fits, in a fixed order (sampling is seeded)."""
    if not (root / BITEXT_CSV).is_file():
        raise ValueError(f"public data not found under {root} (expected {BITEXT_CSV})")
    rng = random.Random(seed)
    return [
        *bitext(root),
        *clinc150(root, rng),
        *banking77(root, rng),
        *hint3(root),
        *natcs(root, rng),
        *sebis(root),
        *abcd(root),
    ]
