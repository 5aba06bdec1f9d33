"""The admins' web administration: users, the org tree, categories and partner API keys (issue 20).

Views only: the rules live in each domain's services (accounts, orgs, tickets.categories, api).
"""
