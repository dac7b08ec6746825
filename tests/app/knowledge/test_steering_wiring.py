"""The chat path hands the engine its facts' steering: the copy bias's texts, the refusal openings
the reply may not use when the entry found first answers the question (inference/opening_ban.py),
and a contact entry's text to open with (inference/forced_opening.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.chat.conversations import create_conversation
from app.generation.backend import GenerationJob
from app.knowledge.reply_facts import REFUSAL_OPENINGS
from tests.app.knowledge.test_number_guard_wiring import ScriptedBackend, ignore_frame, seeded_service


async def _job(pg_url: str, db: Session, text: str) -> GenerationJob:
    backend = ScriptedBackend("ok")
    service = seeded_service(pg_url, db, backend)
    job_id = await service.send(create_conversation(db).id, text, None, ignore_frame)
    assert job_id is not None
    await service.recorder.wait(job_id)
    return backend.jobs[-1]


async def test_a_named_product_bans_the_refusals_and_carries_its_fact(pg_url: str, db: Session) -> None:
    job = await _job(pg_url, db, "Lumo smart bulb price?")
    assert job.banned_openings == list(REFUSAL_OPENINGS)
    assert job.copy_from and "$19" in job.copy_from[0]
    assert GenerationJob.from_dict(job.to_dict()) == job  # plain data on the Redis queue


@pytest.mark.parametrize(
    # No policy word ("shipping to an island, how long?" quotes the shipping policy: quotes rule 5).
    "text", ["can i pay with bitcoin", "how much is the Voltbook Pro 17?"]
)
async def test_no_named_or_covering_entry_or_a_not_sold_model_leaves_every_opening(
    pg_url: str, db: Session, text: str
) -> None:
    job = await _job(pg_url, db, text)
    assert job.banned_openings == [] and job.copy_from and job.forced_opening == ""
    assert not job.end_after_opening


async def test_a_contact_question_quotes_the_contact_entry(pg_url: str, db: Session) -> None:
    job = await _job(pg_url, db, "whats ur phone number")
    assert job.forced_opening.startswith("Voltline support phone: 0800 555 0142")
    assert job.end_after_opening  # the quote is the whole reply
    assert job.banned_openings == list(REFUSAL_OPENINGS)  # every word of it found in that entry


async def test_a_comparison_of_two_named_products_quotes_both_entries(pg_url: str, db: Session) -> None:
    job = await _job(pg_url, db, "echobuds or echomax, which one lasts longer on a single charge")
    assert job.forced_opening.count("$") == 2  # both products' prices, from their entries
    assert "EchoBuds Pro" in job.forced_opening and "EchoMax ANC" in job.forced_opening
    assert job.end_after_opening


async def test_a_fault_message_quotes_the_help_article_ranked_first(pg_url: str, db: Session) -> None:
    job = await _job(pg_url, db, "new lumo bulb wont show up when i try to add it")
    assert job.forced_opening.startswith("Here's how: 1.") and job.end_after_opening
    assert "5 times" in job.forced_opening  # the bulb-pairing article's reset step


async def test_a_named_product_ranked_first_quotes_its_catalogue_card(pg_url: str, db: Session) -> None:
    job = await _job(pg_url, db, "does the homecam 2k have night vision")
    assert job.forced_opening.startswith("HomeCam 2K") and "night vision" in job.forced_opening
    assert job.end_after_opening
