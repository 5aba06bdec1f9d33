"""Policy knowledge base (政策解读): articles, their review, the public FAQ and their use in answers."""
