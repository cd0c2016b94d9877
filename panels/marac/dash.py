"""The SafeLives DASH risk identification checklist: 24 questions answered yes, no or not known."""
from __future__ import annotations

ANSWERS = {"yes": "Yes", "no": "No", "unknown": "Not known"}
#: Stored as one character per question, in order.
CODES = {"yes": "Y", "no": "N", "unknown": "U"}
FROM_CODE = {v: k for k, v in CODES.items()}

#: Question wording paraphrased (reference/domain-workflows.md section 1).
QUESTIONS = (
    "Has the current incident resulted in injury?",
    "Is the victim very frightened?",
    "Is the victim afraid of further injury, of being killed, or for the children?",
    "Does the victim feel isolated from family or friends?",
    "Is the victim feeling depressed or having suicidal thoughts?",
    "Has the victim separated, or tried to separate, from the abuser in the past year?",
    "Is there conflict over child contact?",
    "Does the abuser constantly text, call, contact, follow, stalk or harass the victim?",
    "Is the victim pregnant or have they had a baby in the last 18 months?",
    "Is the abuse happening more often?",
    "Is the abuse getting worse?",
    "Does the abuser try to control everything the victim does, or are they excessively jealous?",
    "Has the abuser ever used weapons or objects to hurt the victim?",
    "Has the abuser ever threatened to kill the victim or someone else, and the victim believed them?",
    "Has the abuser ever attempted to strangle, choke, suffocate or drown the victim?",
    "Does the abuser do or say things of a sexual nature that make the victim feel bad or physically hurt?",
    "Is there any other person who has threatened the victim or whom the victim is afraid of?",
    "Does the victim know if the abuser has hurt anyone else?",
    "Has the abuser ever mistreated an animal or the family pet?",
    "Are there any financial issues, such as dependence on the abuser or recent loss of a job?",
    "Has the abuser had problems with drugs, alcohol or mental health in the past year?",
    "Has the abuser ever threatened or attempted suicide?",
    "Has the abuser ever breached bail, an injunction or a formal agreement about contact or the victim?",
    "Does the abuser have a criminal history?",
)
KEYS = tuple(f"q{i}" for i in range(1, len(QUESTIONS) + 1))


def encode(answers: dict[str, str]) -> str:
    return "".join(CODES[answers[k]] for k in KEYS)


def decode(code: str) -> dict[str, str]:
    return {k: FROM_CODE[c] for k, c in zip(KEYS, code, strict=True)}


def score(answers: dict[str, str]) -> int:
    """Return the number of yes answers (0 to 24)."""
    return sum(1 for k in KEYS if answers.get(k) == "yes")
