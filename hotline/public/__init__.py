"""The citizen portal: file an appeal, track it, rate the answer. No account needed."""
