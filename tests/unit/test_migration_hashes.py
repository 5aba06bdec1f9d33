"""A migration that has landed is never edited: databases already upgraded past it would never see the edit
(the initial schema was edited once, in 47bb988, and such databases drifted). Change the schema with a new revision."""

import hashlib
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"

# sha256 of every landed revision file. A new migration adds its line here once it lands.
LANDED = {
    "03efb80e2226_canned_answers.py": "a177b90aaa3a7f26b1462da83ac24ab1a9a0686b4d0814fbd71d373d5c9ced5e",
    "1362e0f016fc_sla_clock_supervision_overdue_.py": "2ce5bee7914c7ac50806ae3332624d2f46c05498cb292dfba2a2bacb3ecfce8b",
    "24994b330944_api_keys.py": "14c51cd594efa021226e2dfe5fd644156a3c88ac8d6480e5ffa235e4646471dc",
    "5d090aef1185_audit_history.py": "3aade88ae7b36326ade6f584411c5d739d46db5808b9265d7088b80a9e40cff3",
    "6fb10209029b_search_index_routing_model_knowledge_.py": "7644c103ac2c2dd85bd973bec0a25758ff9911c5586bf167f69a2bc60fd0cde3",
    "8041b1cc3f9f_dashboard_snapshots_board_and_open_.py": "255368f5292b37ebb28a12161109ed1d84279b76305b90d7f6292b9a7aa08f6c",
    "8379aaebaae1_initial_schema.py": "abffbdd66b92bb4311d37cf12c1c7e95755b3f6bfa85502f82e6e7815990a22d",
    "a7f4f84be1d1_dashboard_rollups_projects_exports.py": "57e4e99ef6c08f03b0131a070953b24fd08df0ef1a14f6e70461a05723612ea7",
    "a9c3e7d1f2b4_idempotency_keys.py": "b63474305dc9257f3fc55df102ba9953e8052661ad948d1aa9dd20cc7d070f4d",
    "b3f1c2d4e5a6_search_recency_brin.py": "600b4f50442e13e4ebebeafe94e1b3ff1d79ecc56f7fe7f7349484a6d3abfd68",
    "b8d4f0a2c6e1_supervision_order_ladder_round.py": "e74d2e5abbd29fc410c324d309eece5d3196737c82ad316cce8631cf81268f8c",
    "c3a7e2f9d1b5_telephony_calls.py": "0406e3df054da6d4e5238ed46050ea35132988e58587338d148e7cce4602d5e5",
    "c7d2e9f1a3b4_duplicate_address_index.py": "75c8718e6e9f45888bf93a1dbd5257e5301a7a19a43169e9a623e6f28c90149a",
    "d7b2e4a9c1f3_two_way_sms.py": "6a08b7cfb77cb65af65bff045ad8ac9583b9795b072efba77281deef626501be",
    "d4e8a1b2c3f5_dispatch_desk_indexes.py": "e464b61439522a12bb43ce01e32d7d0dc0fc15248c47e24179cbe68bec292acc",
    "e5f9b3c4d6a7_ticket_list_index.py": "7f9575095c2c7e7b4dba7064adc2d2c60c684a70b3837299882f85f03b240416",
    "f1a2b3c4d5e6_admin_sessions_usage.py": "e177c4cc6c8d09ec8991c521fccc0da088adea2702f4cfd6527f626f335059c2",
    "a8c4e6f2b9d1_call_wrap_up.py": "cfd9a65809e2e2510ffb02f93a0b67873f1fad36beadcf875ee8492da1bdad11",
    "b6e1f3a5c7d9_ticket_rated_at_index.py": "3840d9996bb7dc3c8603cf5565286b2493f4f998a6a0af8a64d03266ab216fb2",
    "e1a2c3d4b5f6_unit_assessment.py": "b0eda1f214860cd5e0fd25cf84d575551d87b86490b9e0c01c36a3cc84e3a28b",
    "e2b3d4c5a6f7_accountability_cases.py": "ae188a013e8184560828125add490940fa9ace8c948e1761ed39ba544d1e9f54",
    "e5f6a7b8c9d0_public_evaluation.py": "50cbe2f44af5e321ae5bab2ca4913feb7c4d765cb37fa1326204c84bf5fb18fe",
    "e3c4d5e6b7a8_opinion_cases.py": "0df0d467edf599545c453fdea9f86d7e91b5afcf181bfa11c2c1df392203b0f2",
    "e4d5e6f7c8b9_interviews.py": "f73aaabf466e6d6aceee1cff88a01daefc4091d8ac7ce70257ba7a29795a58af",
    "f6a7b8c9d0e1_ticket_archive.py": "77edcf3e63ac270269e1811985c8ecf215e8ba46fae7e8107a315552de2c607c",
    "a1b2c3d4e5f7_flat_counts.py": "cb740d5bc09d877a4625fc5bd2dafa9bb31735319321e15e47107f539621a5a2",
    "c4d5e6f7a8b9_search_partitions.py": "f90ebb2ccc842f75957b13af888eca5bae47911bb97dff1b4b3c3c8200cee29a",
    "c4d6e8f0a2b3_archived_appeals_of_an_account.py": "52ff99ec63de74a501462abb9837024bae0345693bd84564c7a1ab3822a6f177",
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_landed_migrations_are_never_edited():
    edited = [
        name for name, digest in LANDED.items() if (VERSIONS / name).exists() and _digest(VERSIONS / name) != digest
    ]
    assert not edited, (
        f"landed migrations were edited: {edited}; revert the edit and write a new revision "
        "(flask --app wsgi db revision) for the change"
    )


def test_landed_migrations_are_never_deleted():
    missing = [name for name in LANDED if not (VERSIONS / name).exists()]
    assert not missing, f"landed migrations were deleted or renamed: {missing}"


def test_every_migration_is_recorded():
    unrecorded = sorted(p.name for p in VERSIONS.glob("*.py") if p.name not in LANDED)
    assert not unrecorded, (
        f"new migrations {unrecorded}: add their sha256 to LANDED in this file (sha256sum migrations/versions/FILE)"
    )
