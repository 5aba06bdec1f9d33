"""Tickets (工单): intake, the workflow, assignments, replies and history."""
