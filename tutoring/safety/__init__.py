"""Safety, privacy and oversight of minors' data.

classifier.py  the local, transparent phrase rules (English + Simplified Chinese)
pii.py         names and contact details replaced by placeholders before the provider
moderation.py  verdicts: local rules or the provider's moderation endpoint, per school rules
rules.py       the school's safety settings (read and update)
review.py      the review queue: items, decisions, notifications of safety contacts
pipeline.py    the hooks called by the explanation pipeline (request side and worker side)
policy.py      the versioned AI-use policy, acceptance, guardian confirmation, the gate
data_rights.py export and deletion of a student's data, transcript retention
selectors.py   reads for pages and the API
"""
