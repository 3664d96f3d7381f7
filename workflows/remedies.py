"""Did the remedy happen? The check-ins a group gets after its upheld claim's resolution is
recorded, as data: when they come, the answers the one question offers, and which answers say
the remedy is in place or open a follow-up for the admins."""

from __future__ import annotations

from workflows.words import N_

# The step after which the check-ins come (an upheld claim's resolution: upheld -> resolved).
CHECK_IN_AFTER = "record_resolution"
# Months after the resolution was recorded.
CHECK_IN_MONTHS: tuple[int, ...] = (3, 6, 12)
# A check-in not sent within this many days of its day (the service was down, or it came in
# after the next one was due) is skipped, never sent late.
CATCH_UP_DAYS = 92
# How long the link in a check-in's e-mail works, from the day it is sent.
LINK_DAYS = 92

QUESTION = N_("Is your initiative running now, and was the remedy put in place?")
# Each answer, and the words the group chooses it by.
ANSWERS: dict[str, str] = {
    "running_remedy_in_place": N_("Yes: the remedy is in place and our initiative is running"),
    "remedy_in_place_not_running": N_("The remedy is in place, but our initiative is not running now"),
    "remedy_not_in_place": N_("No: the remedy has not been put in place"),
}
# The answers that say the remedy is in place (counted on rule pages and in the register).
IN_PLACE: tuple[str, ...] = ("running_remedy_in_place", "remedy_in_place_not_running")
# The answers that open a follow-up for the admins, with a clock.
FOLLOW_UP: tuple[str, ...] = ("remedy_not_in_place",)
