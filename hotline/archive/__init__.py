"""The archive of closed tickets (issue 27.3): tickets closed more than N years ago leave the working tables,
kept whole and restorable, so the tables every page reads stay the size of the recent years."""
