"""Computer-telephony integration (CTI): the call centre's telephony reports calls; the answering operator's
console pops the caller up; the ticket keeps its calls."""
