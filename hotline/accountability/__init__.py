"""责任追究: accountability cases against a unit after a red card, an unsatisfied redo or a supervision order."""
