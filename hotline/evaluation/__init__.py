"""社会监督评议: yearly questionnaires in which citizens and invited evaluators (人大代表, 政协委员) rate units."""
