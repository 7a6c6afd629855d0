"""Commitments and turn intent read from a message's text (conversations/detection.py).

Every promise below must be found with exactly its deadline and every non-promise must yield
nothing: precision first. Written on Wednesday 18 November 2026 at 15:00 in London unless
a test says otherwise.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conversations.detection import TurnIntent, suggest_commitments, turn_intent

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = dt.datetime(2026, 11, 18, 15, 0, tzinfo=LONDON)


def day(month: int, date: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, date)


def promises(text, written_at=WEDNESDAY, tz=LONDON, from_us=True):
    return suggest_commitments(text, written_at=written_at, tz=tz, from_us=from_us)


# fmt: off
PROMISES = [
    pytest.param("I'll send the pricing by Friday.", day(11, 20), id="by-friday-is-this-weeks-friday"),
    pytest.param("We will get back to you next week.", day(11, 27), id="next-week-is-its-friday"),
    pytest.param("I'll send the revised proposal by end of day.", day(11, 18), id="end-of-day-is-today"),
    pytest.param("We'll have the contract ready by EOD.", day(11, 18), id="eod-is-today"),
    pytest.param("I'll call you tomorrow.", day(11, 19), id="tomorrow"),
    pytest.param("I'll confirm the dates by EOW.", day(11, 20), id="eow-is-this-friday"),
    pytest.param("I will share the slides by the end of the week.", day(11, 20), id="end-of-the-week-is-this-friday"),
    pytest.param("We'll send the invoice at the end of the month.", day(11, 30), id="end-of-month-is-its-last-day"),
    pytest.param("I'll get you the numbers by the 3rd.", day(12, 3), id="the-3rd-is-next-months-when-past"),
    pytest.param("We shall send the documents by the 25th.", day(11, 25), id="the-25th-is-this-months-when-ahead"),
    pytest.param("I'll send the signed copy by 3 March.", day(3, 3, 2027), id="3-march-is-next-year"),
    pytest.param("I'll pay the invoice by 30 November.", day(11, 30), id="30-november-is-this-year"),
    pytest.param("I'll send it on the 1st of December.", day(12, 1), id="the-1st-of-december"),
    pytest.param("We'll deliver on December 15th.", day(12, 15), id="month-before-day"),
    pytest.param("I'll send the report on 2026-12-07.", day(12, 7), id="iso-date"),
    pytest.param("I'll ring you on Monday.", day(11, 23), id="on-monday-across-the-weekend"),
    pytest.param("I'll send it over on Wednesday.", day(11, 25), id="same-weekday-is-next-weeks"),
    pytest.param("I'm going to send the draft on Thursday.", day(11, 19), id="im-going-to"),
    pytest.param("We are going to deploy the fix this Friday.", day(11, 20), id="we-are-going-to-this-friday"),
    pytest.param("We’re going to release the update next month.", day(12, 31), id="next-month-is-its-last-day"),
    pytest.param("I'll send the agenda next Friday.", day(11, 27), id="next-friday-is-next-weeks-friday"),
    pytest.param("I'll send the case study Friday week.", day(11, 27), id="friday-week"),
    pytest.param("I'll call you Monday next week.", day(11, 23), id="monday-next-week"),
    pytest.param("I'll put together a proposal by Tue.", day(11, 24), id="abbreviated-weekday"),
    pytest.param("I'll send the NDA by Friday 27 November.", day(11, 27), id="exact-date-after-weekday-wins"),
    pytest.param("We will be in touch early next week.", day(11, 24), id="early-next-week-is-tuesday"),
    pytest.param("I'll organise a call for mid next week.", day(11, 25), id="mid-next-week-is-wednesday"),
    pytest.param("I'll have the report to you by the end of next week.", day(11, 27), id="end-of-next-week"),
    pytest.param("I'll circle back the week after next.", day(12, 4), id="week-after-next"),
    pytest.param("We'll send the renewal quote by the end of next month.", day(12, 31), id="end-of-next-month"),
    pytest.param("I'll sign it by the end of this month.", day(11, 30), id="end-of-this-month"),
    pytest.param("We'll finalise the terms by the end of the quarter.", day(12, 31), id="end-of-quarter"),
    pytest.param("I'll send the contract by the end of the year.", day(12, 31), id="end-of-year"),
    pytest.param("I'll review the contract within 3 business days.", day(11, 23), id="business-days-skip-the-weekend"),
    pytest.param("I'll process the refund within 5 working days.", day(11, 25), id="working-days"),
    pytest.param("We will refund the difference within 10 business days.", day(12, 2), id="business-days-across-month-end"),
    pytest.param("We'll ship the replacement within 2 days.", day(11, 20), id="within-2-days"),
    pytest.param("I'll follow up in two weeks.", day(12, 2), id="in-two-weeks-across-month-end"),
    pytest.param("We'll send the onboarding pack within a week.", day(11, 25), id="within-a-week"),
    pytest.param("I'll look into it and get back to you in 3 days.", day(11, 21), id="in-3-days-lands-on-saturday"),
    pytest.param("I'll send the figures in a couple of days.", day(11, 20), id="a-couple-of-days"),
    pytest.param("I'll send the pricing in the next few days.", day(11, 21), id="a-few-days-is-three"),
    pytest.param("I'll send it in 2 days' time.", day(11, 20), id="days-time"),
    pytest.param("We'll deliver the hardware in 2 months.", day(1, 18, 2027), id="in-2-months"),
    pytest.param("We'll get back to you within 24 hours.", day(11, 19), id="within-24-hours"),
    pytest.param("I'll upload the files this afternoon.", day(11, 18), id="this-afternoon"),
    pytest.param("I'll email you tonight.", day(11, 18), id="tonight"),
    pytest.param("I'll fix the login issue today.", day(11, 18), id="today"),
    pytest.param("I'll update the ticket ASAP.", day(11, 18), id="asap-is-today"),
    pytest.param("I'll make sure the team sends you the logs by close of business.", day(11, 18), id="close-of-business"),
    pytest.param("I'll reply properly by the end of today.", day(11, 18), id="end-of-today"),
    pytest.param("I'll call you first thing tomorrow morning.", day(11, 19), id="tomorrow-morning"),
    pytest.param("I'll send it by 5pm.", day(11, 18), id="a-time-still-ahead-is-today"),
    pytest.param("I'll call you at 10am.", day(11, 19), id="a-time-already-past-is-tomorrow"),
    pytest.param("I'll send the summary by noon tomorrow.", day(11, 19), id="a-day-beats-a-time"),
    pytest.param("I'll get you an answer by the end of the day Friday.", day(11, 20), id="end-of-the-day-friday-is-friday"),
    pytest.param("I'll send the pricing EOD tomorrow.", day(11, 19), id="eod-tomorrow-is-tomorrow"),
    pytest.param("I'll come back to you with a proposal by mid-December.", day(12, 15), id="mid-december"),
    pytest.param("We'll send the SOW by the end of November.", day(11, 30), id="end-of-november"),
    pytest.param("We will make the changes and resend the contract early next week.", day(11, 24), id="two-actions-one-deadline"),
    pytest.param("By Friday, I'll send the final version.", day(11, 20), id="deadline-before-the-promise"),
    pytest.param("We'll get it sorted by the weekend.", day(11, 20), id="by-the-weekend-is-friday"),
    pytest.param("I'll send the updated deck over the weekend.", day(11, 22), id="over-the-weekend-is-sunday"),
    pytest.param("I'll chase finance and get back to you this week.", day(11, 20), id="this-week"),
    pytest.param("i'll send the deck tmrw", day(11, 19), id="lowercase-and-shorthand"),
    pytest.param("I’ll send the quote by Friday.", day(11, 20), id="curly-apostrophe"),
    pytest.param("I will also forward the security questionnaire to our CISO by Thursday.", day(11, 19), id="i-will-also"),
    pytest.param("I promise to send it today.", day(11, 18), id="i-promise-to"),
    pytest.param("Let me check and come back to you by Monday.", day(11, 23), id="let-me-check-and-come-back"),
    pytest.param("Last Friday I promised the deck; I'll send it by Friday.", day(11, 20), id="last-friday-is-not-the-deadline"),
    pytest.param("Once I'm back in the office I'll send the invoice on Monday.", day(11, 23), id="a-condition-on-ourselves-is-kept"),
    pytest.param("I'll send the revised pricing and the updated terms to you and the whole team\nby Friday at the latest.", day(11, 20), id="a-wrapped-line-continues"),
    pytest.param("Hi Anna,\nThanks for your time today. We'll send the proposal by Monday.\n\nBest,\nTom", day(11, 23), id="inside-a-whole-email"),
    pytest.param("Will send the deck tomorrow.", day(11, 19), id="will-without-i-opening-a-sentence"),
    pytest.param("Sure, I'll resend it now.", day(11, 18), id="now-is-today"),
    pytest.param("I'll circulate the minutes after lunch.", day(11, 18), id="after-lunch-is-today"),
    pytest.param("Next week I'll walk your team through the new dashboard.", day(11, 27), id="deadline-opening-the-sentence"),
    pytest.param("I'll send it by the 0th.", None, id="a-day-that-does-not-exist-is-no-deadline"),
    pytest.param("I'll send it on 30 February.", None, id="february-30-is-no-deadline"),
    pytest.param("I'll keep you posted.", None, id="keep-you-posted-no-deadline"),
    pytest.param("We'll be in touch.", None, id="be-in-touch-no-deadline"),
    pytest.param("I'll forward this to our finance team.", None, id="forward-no-deadline"),
    pytest.param("Let me find out and get back to you.", None, id="let-me-find-out-no-deadline"),
    pytest.param("I'll take a look at the logs.", None, id="take-a-look-no-deadline"),
    pytest.param("Following Monday's call, I'll send the notes.", None, id="a-past-days-call-is-not-a-deadline"),
    pytest.param("I'm away in a week, so I'm going to send the draft.", None, id="a-date-in-an-earlier-clause-is-not-the-deadline"),
]
# fmt: on


@pytest.mark.parametrize(("text", "due"), PROMISES)
def test_it_suggests_the_promise_with_its_deadline(text, due):
    [found] = promises(text)
    assert (found.owed_by, found.due_on) == ("us", due)
    assert found.text in " ".join(text.split())


# fmt: off
NOT_PROMISES = [
    pytest.param("Could you send the pricing by Friday?", id="request-could-you"),
    pytest.param("Can you get back to me next week?", id="request-can-you"),
    pytest.param("Please send the signed contract by Friday.", id="request-please"),
    pytest.param("Will you send the PO by Monday?", id="question-will-you"),
    pytest.param("Shall I send the deck tomorrow?", id="question-shall-i"),
    pytest.param("Do you want me to send it tomorrow?", id="question-want-me-to"),
    pytest.param("I'll send the pricing by Friday, OK?", id="promise-waiting-for-a-yes"),
    pytest.param("Let me know by Friday.", id="let-me-know-is-a-request"),
    pytest.param("If you sign today, I'll send the hardware on Monday.", id="conditional-if"),
    pytest.param("I'll send it Friday if that works for you.", id="conditional-if-after"),
    pytest.param("Once you confirm, we'll ship within 2 days.", id="conditional-once-you"),
    pytest.param("When you're ready, I'll send the contract.", id="conditional-when-you"),
    pytest.param("Unless something comes up, I'll call you tomorrow.", id="conditional-unless"),
    pytest.param("Assuming legal approves, we'll sign by the 3rd.", id="conditional-assuming"),
    pytest.param("Whether we'll ship by Friday depends on stock.", id="conditional-whether"),
    pytest.param("I might send the deck tomorrow.", id="hedge-might"),
    pytest.param("Maybe I'll call you next week.", id="hedge-maybe"),
    pytest.param("I'll try to send it by Friday.", id="hedge-try-to"),
    pytest.param("Hopefully we'll have the numbers ready by EOD.", id="hedge-hopefully"),
    pytest.param("I'll probably get back to you next week.", id="hedge-probably"),
    pytest.param("I think I'll send it on Monday.", id="hedge-i-think"),
    pytest.param("We'll aim to deliver by the end of the month.", id="hedge-aim"),
    pytest.param("I hope to send it by Friday.", id="hedge-hope"),
    pytest.param("I'm not sure we'll get it done this week.", id="hedge-not-sure"),
    pytest.param("I'll do my best to send it today.", id="hedge-do-my-best"),
    pytest.param("No promises, but I'll take a look tomorrow.", id="hedge-no-promises"),
    pytest.param("Sometime next week I'll send it over.", id="hedge-sometime"),
    pytest.param("We may send it next week.", id="hedge-may"),
    pytest.param("I would send it tomorrow but the file is too big.", id="hedge-would"),
    pytest.param("I sent the pricing yesterday.", id="past-sent"),
    pytest.param("We sent you the contract on Monday.", id="past-we-sent"),
    pytest.param("I was going to call you on Friday.", id="past-was-going-to"),
    pytest.param("I already forwarded it to legal.", id="past-forwarded"),
    pytest.param("We've shipped the replacement.", id="past-perfect"),
    pytest.param("I won't be able to send it by Friday.", id="negation-wont"),
    pytest.param("We will not ship before Monday.", id="negation-will-not"),
    pytest.param("I'll never get this done in time.", id="negation-never"),
    pytest.param("I'll be out of the office until Monday.", id="state-out-of-office"),
    pytest.param("We'll be closed on Friday for the holiday.", id="state-closed"),
    pytest.param("I'll need the purchase order by Friday.", id="request-ill-need"),
    pytest.param("We'll need your sign-off next week.", id="request-well-need"),
    pytest.param("I can send it by Friday.", id="offer-can"),
    pytest.param("I'd be happy to send it over.", id="offer-id-be-happy"),
    pytest.param("I'll be happy to help.", id="offer-ill-be-happy"),
    pytest.param("> I'll send the pricing by Friday.", id="quoted-line"),
    pytest.param("You said we'll get the invoice by Friday.", id="reported-their-words"),
    pytest.param('"We\'ll ship it next week," said the CEO of Acme.', id="quoted-speech"),
    pytest.param("John will send it tomorrow.", id="third-party"),
    pytest.param("They'll get back to you next week.", id="third-party-they"),
    pytest.param("I'll see you on Tuesday.", id="not-an-action-see-you"),
    pytest.param("I'll let you decide.", id="not-an-action-let-you-decide"),
    pytest.param("It'll be ready by Friday.", id="no-person-it-will"),
    pytest.param("We'll talk soon.", id="not-an-action-talk-soon"),
    pytest.param("Will do.", id="will-do-has-no-promise-text"),
    pytest.param("Will be great to see you Friday.", id="will-be-is-not-an-action"),
    pytest.param("I'll see what I can do.", id="see-what-i-can-do"),
    pytest.param("I'll be honest, the price is a problem.", id="ill-be-honest"),
    pytest.param("Thanks for sending the pricing on Friday.", id="thanks-for-past-action"),
    pytest.param("I really think I'll give it a go on Monday.", id="hedge-i-really-think"),
    pytest.param("But I'll get lucky eventually.", id="not-an-action-get-lucky"),
]
# fmt: on


@pytest.mark.parametrize("text", NOT_PROMISES)
def test_it_suggests_nothing_for(text):
    assert promises(text) == []


def test_the_customers_promises_are_owed_by_them():
    [found] = promises("I'll send the PO by Friday.", from_us=False)
    assert (found.owed_by, found.due_on) == ("them", day(11, 20))


def test_each_promise_is_a_suggestion_pointing_at_its_sentence():
    text = (
        "Hi Sam,\n\nGreat call. I'll send the deck tomorrow. We'll book the demo by Friday.\n\nTom"
    )
    found = promises(text)
    assert [(f.text, f.due_on) for f in found] == [
        ("I'll send the deck tomorrow.", day(11, 19)),
        ("We'll book the demo by Friday.", day(11, 20)),
    ]
    assert [text[start:end] for start, end in (f.span for f in found)] == [f.text for f in found]


def test_only_the_new_text_counts_not_quotes_or_the_signature():
    text = (
        "Sure.\n> I'll send the pricing by Friday.\nI'll call you tomorrow.\n"
        "-- \nAcme Ltd. We'll get back to you within 2 business days."
    )
    assert [f.text for f in promises(text)] == ["I'll call you tomorrow."]


def test_the_promise_text_is_cut_to_500_characters():
    [found] = promises("I'll send " + "the deck and " * 60 + "the pricing by Friday.")
    assert len(found.text) == 500 and found.due_on == day(11, 20)


FRIDAY, SATURDAY, SUNDAY = (dt.datetime(2026, 11, d, 9, 0, tzinfo=LONDON) for d in (20, 21, 22))
MONTH_END = dt.datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
YEAR_END = dt.datetime(2026, 12, 30, 9, 0, tzinfo=LONDON)
JANUARY_END = dt.datetime(2027, 1, 31, 9, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("written_at", "phrase", "due"),
    [
        pytest.param(
            FRIDAY, "by Friday", day(11, 27), id="by-friday-written-on-friday-is-next-friday"
        ),
        pytest.param(
            FRIDAY, "this Friday", day(11, 20), id="this-friday-written-on-friday-is-today"
        ),
        pytest.param(FRIDAY, "by end of week", day(11, 20), id="eow-written-on-friday-is-today"),
        pytest.param(FRIDAY, "tomorrow", day(11, 21), id="tomorrow-can-be-saturday"),
        pytest.param(
            FRIDAY,
            "within 1 business day",
            day(11, 23),
            id="one-business-day-from-friday-is-monday",
        ),
        pytest.param(
            SATURDAY, "by end of week", day(11, 27), id="eow-written-on-saturday-is-next-friday"
        ),
        pytest.param(
            SUNDAY, "next week", day(11, 27), id="next-week-written-on-sunday-is-the-coming-week"
        ),
        pytest.param(SUNDAY, "on Monday", day(11, 23), id="monday-written-on-sunday-is-tomorrow"),
        pytest.param(
            MONTH_END,
            "by the end of the month",
            day(11, 30),
            id="end-of-month-on-its-last-day-is-today",
        ),
        pytest.param(MONTH_END, "by the 1st", day(12, 1), id="the-1st-written-on-the-30th"),
        pytest.param(MONTH_END, "within 2 days", day(12, 2), id="days-across-month-end"),
        pytest.param(YEAR_END, "next week", day(1, 8, 2027), id="next-week-across-year-end"),
        pytest.param(
            YEAR_END, "by 5 January", day(1, 5, 2027), id="a-january-date-written-in-december"
        ),
        pytest.param(
            YEAR_END, "by the end of next month", day(1, 31, 2027), id="next-month-across-year-end"
        ),
        pytest.param(
            JANUARY_END, "in a month", day(2, 28, 2027), id="a-month-from-the-31st-is-february-28"
        ),
        pytest.param(JANUARY_END, "by the 30th", day(3, 30, 2027), id="the-30th-skips-february"),
    ],
)
def test_deadlines_count_from_the_day_of_writing(written_at, phrase, due):
    [found] = promises(f"I'll send the pricing {phrase}.", written_at=written_at)
    assert found.due_on == due


def test_the_day_of_writing_is_the_organisations_day():
    late_in_london = dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.UTC)  # Thursday in Auckland
    auckland = ZoneInfo("Pacific/Auckland")
    [found] = promises("I'll call you tomorrow.", written_at=late_in_london, tz=auckland)
    assert found.due_on == day(11, 20)
    [found] = promises("I'll call you tomorrow.", written_at=late_in_london)
    assert found.due_on == day(11, 19)


def test_a_writing_time_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        promises("I'll call you tomorrow.", written_at=dt.datetime(2026, 11, 18, 15, 0))  # noqa: DTZ001


ASKS, SETTLES, STATES = TurnIntent.ASKS, TurnIntent.SETTLES, TurnIntent.STATES


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        pytest.param("Thanks!", SETTLES, id="thanks"),
        pytest.param("Thank you so much!", SETTLES, id="thank-you-so-much"),
        pytest.param("Great, thank you", SETTLES, id="great-thank-you"),
        pytest.param("Got it", SETTLES, id="got-it"),
        pytest.param("Perfect, talk soon", SETTLES, id="perfect-talk-soon"),
        pytest.param("Cheers", SETTLES, id="cheers"),
        pytest.param("Sounds good", SETTLES, id="sounds-good"),
        pytest.param("Will do", SETTLES, id="will-do"),
        pytest.param("Noted.", SETTLES, id="noted"),
        pytest.param("👍", SETTLES, id="thumbs-up"),
        pytest.param("Thanks! 🙏", SETTLES, id="thanks-and-emoji"),
        pytest.param("Many thanks, Anna", SETTLES, id="thanks-and-a-name"),
        pytest.param("Great, thanks for the update.", SETTLES, id="thanks-for-the-update"),
        pytest.param(
            "Thanks so much for sending the contract over, really appreciate it!",
            SETTLES,
            id="thanks-for-sending",
        ),
        pytest.param("Perfect, that works for me.", SETTLES, id="that-works-for-me"),
        pytest.param("Ok, no worries.", SETTLES, id="no-worries"),
        pytest.param("Received, thanks.", SETTLES, id="received"),
        pytest.param("Understood, thanks :)", SETTLES, id="understood-smiley"),
        pytest.param("Thanks, that's really helpful!", SETTLES, id="thats-helpful"),
        pytest.param("Thanks Jo, all sorted now.", SETTLES, id="all-sorted"),
        pytest.param("Great - speak Thursday.", SETTLES, id="speak-on-a-day"),
        pytest.param("Cheers mate", SETTLES, id="cheers-mate"),
        pytest.param(
            "Brilliant, that's everything I needed. Thanks!", SETTLES, id="thats-everything"
        ),
        pytest.param("Thanks for your feedback!", SETTLES, id="thanks-for-your-feedback"),
        pytest.param("Thanks, I'd appreciate it.", SETTLES, id="id-appreciate-it"),
        pytest.param("Thanks!\nTom", SETTLES, id="signed-with-a-name"),
        pytest.param("Much appreciated, speak soon.", SETTLES, id="much-appreciated"),
        pytest.param(
            "Looking forward to it. Have a great weekend!", SETTLES, id="looking-forward-to-it"
        ),
        pytest.param(
            "Hi Tom,\n\nThanks for the call!\n\nBest regards,\nAnna",
            SETTLES,
            id="greeting-thanks-sign-off",
        ),
        pytest.param(
            "Hi Anna, how are you? Thanks for the pricing!\n\nBest,\nTom",
            SETTLES,
            id="small-talk-question-is-not-an-ask",
        ),
        pytest.param(
            "Thanks! Let me know if you have any questions.",
            SETTLES,
            id="boilerplate-offer-is-a-closing",
        ),
        pytest.param(
            "Thanks, and if you need anything else please don't hesitate to get in touch.",
            SETTLES,
            id="dont-hesitate-is-a-closing",
        ),
        pytest.param("Thanks, but can you resend it?", ASKS, id="thanks-but-can-you"),
        pytest.param("Could you send the signed copy", ASKS, id="could-you-without-question-mark"),
        pytest.param("Can you confirm the delivery address", ASKS, id="can-you"),
        pytest.param("Let me know what you think.", ASKS, id="let-me-know"),
        pytest.param("Please confirm receipt.", ASKS, id="please-confirm"),
        pytest.param("Please send the signed contract by Friday.", ASKS, id="please-send"),
        pytest.param("What do you think?", ASKS, id="what-do-you-think"),
        pytest.param("Does Tuesday at 10 work for you", ASKS, id="does-tuesday-work"),
        pytest.param("Shall we meet Tuesday", ASKS, id="shall-we-proposal"),
        pytest.param("Let's meet on Tuesday at 10.", ASKS, id="lets-meet-proposal"),
        pytest.param("How about Thursday afternoon", ASKS, id="how-about"),
        pytest.param("Any update on the PO", ASKS, id="any-update"),
        pytest.param("Looking forward to hearing from you.", ASKS, id="looking-forward-to-hearing"),
        pytest.param(
            "I'd appreciate your feedback on the draft.", ASKS, id="id-appreciate-feedback"
        ),
        pytest.param("Are you available next week", ASKS, id="are-you-available"),
        pytest.param("I'd love to hear your thoughts.", ASKS, id="hear-your-thoughts"),
        pytest.param("Thoughts?", ASKS, id="one-word-question"),
        pytest.param(
            "Is the onboarding included in the price", ASKS, id="is-the-without-question-mark"
        ),
        pytest.param(
            "How does Tuesday 2pm look for you", ASKS, id="how-does-without-question-mark"
        ),
        pytest.param(
            "Is there any flexibility on price", ASKS, id="inverted-question-without-mark"
        ),
        pytest.param(
            "Good morning! Quick question: do you support SSO", ASKS, id="question-after-a-colon"
        ),
        pytest.param("Would Tuesday or Wednesday suit better", ASKS, id="which-day-suits"),
        pytest.param("Just checking in on the proposal.", ASKS, id="checking-in-nudge"),
        pytest.param(
            "Great, thank you! One more thing: is the price per seat or per account?",
            ASKS,
            id="thanks-then-a-question",
        ),
        pytest.param(
            "Hi Tom,\n\nThanks for the call today. Attached is the proposal. Could you confirm the delivery address?\n\nBest,\nAnna",
            ASKS,
            id="long-message-with-a-question",
        ),
        pytest.param(
            "Here's the deck. Let me know if you have any questions.",
            STATES,
            id="information-with-boilerplate-offer",
        ),
        pytest.param(
            "Thanks for the pricing. The board meets on Tuesday and will decide then.",
            STATES,
            id="thanks-and-information",
        ),
        pytest.param("Thanks, I'll send it Friday.", STATES, id="thanks-and-a-promise"),
        pytest.param("Attached is the signed contract.", STATES, id="attachment-note"),
        pytest.param(
            "Hi Anna,\n\nPlease find attached the report for October.\n\nBest,\nTom",
            STATES,
            id="please-find-attached-is-not-an-ask",
        ),
        pytest.param("We have decided to go with another vendor.", STATES, id="a-decision"),
        pytest.param("Which is why we chose you.", STATES, id="which-is-why-is-not-a-question"),
        pytest.param("We need to talk.", STATES, id="need-to-talk-is-not-a-closing"),
        pytest.param(
            "Good news, we have signed the order form.", STATES, id="news-is-not-settling"
        ),
        pytest.param("Yes please", STATES, id="yes-please-needs-action"),
        pytest.param("Declined.", STATES, id="a-capitalised-word-alone-is-not-a-name"),
        pytest.param("https://example.com/pricing", STATES, id="a-link-is-information"),
        pytest.param(
            "The report is at https://example.com/r?id=4", STATES, id="question-mark-in-a-link"
        ),
        pytest.param("> Could you send it?", STATES, id="only-quoted-text"),
        pytest.param("", STATES, id="empty"),
    ],
)
def test_turn_intent(text, intent):
    assert turn_intent(text) == intent


def test_the_whole_text_check_never_drops_a_promise_the_sentences_hold(monkeypatch):
    """Most mail is skipped by one search over its whole text before it is split into
    sentences; whatever the sentence-by-sentence reading finds must still be found."""
    import csv
    import re
    from pathlib import Path

    from conversations import detection

    fixture = Path(__file__).parent / "fixtures" / "commitment_sentences.tsv"
    with fixture.open(newline="") as rows:
        sentences = [row["text"] for row in csv.DictReader(rows, delimiter="\t")]
    texts = [
        *sentences,
        *(f"Hi Ann,\n\n{s} Thanks.\n\n-- \nBob" for s in sentences),
        *(" ".join(sentences[n : n + 5]) for n in range(0, len(sentences), 5)),
        *("\n".join(s.lower() for s in sentences[n : n + 3]) for n in range(len(sentences))),
        "Will send it on Friday.",
        "Thanks,\nwill call you tomorrow.",
        "  will send it over shortly",
    ]
    checked = [promises(text) for text in texts]
    assert sum(map(bool, checked)) > len(sentences) / 3  # a real share of them are promises
    monkeypatch.setattr(detection, "_PROMISE_WORDS", ("",))  # every text read in sentences
    monkeypatch.setattr(detection, "_MAYBE_PROMISE", re.compile(""))
    assert [promises(text) for text in texts] == checked
