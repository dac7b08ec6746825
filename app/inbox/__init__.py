"""The support desk's inbox: queue, assignment, resolve + CSAT, notes, labels, canned replies, hours."""
