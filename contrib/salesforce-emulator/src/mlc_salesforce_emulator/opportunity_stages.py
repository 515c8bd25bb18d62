"""Opportunity stages: ``OpportunityStage`` records, and what an opportunity takes from its stage.

A real org keeps its stages as records (set up in Setup, read-only over the API), each with
``IsClosed``, ``IsWon``, ``DefaultProbability`` and a forecast category. An opportunity's
``IsClosed``/``IsWon`` follow its stage record, never the stage's name; ``Probability`` and
``ForecastCategoryName`` take the stage's defaults unless the same write sets them; a stage
that is not an active stage is refused as a bad restricted picklist value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dml import DmlError

if TYPE_CHECKING:
    from .org_state import OrgState

FORECAST_NAMES = {"Omitted": "Omitted", "Pipeline": "Pipeline", "BestCase": "Best Case",
                  "Forecast": "Commit", "Closed": "Closed"}
# the stages of a new org's default sales process: label, probability, forecast, closed, won
STANDARD_STAGES = (
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Pipeline", False, False),
    ("Proposal/Price Quote", 75, "Pipeline", False, False),
    ("Negotiation/Review", 90, "Pipeline", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
)
STAGE_KEYS = {"MasterLabel", "ApiName", "IsActive", "SortOrder", "IsClosed", "IsWon",
              "DefaultProbability", "ForecastCategory", "Description"}


def stages(org: OrgState, active_only: bool = True) -> list[dict]:
    found = [s for s in org.store.live("OpportunityStage")
             if s.get("IsActive") or not active_only]
    return sorted(found, key=lambda s: (s.get("SortOrder") or 0, s["MasterLabel"]))


def stage_by_label(org: OrgState, label) -> dict | None:
    return next((s for s in stages(org) if s["MasterLabel"] == label), None)


def put_stage(org: OrgState, spec: dict, user_id: str) -> str:
    """Create or change (matched by ``MasterLabel``) a stage record, as Setup would."""
    unknown = set(spec) - STAGE_KEYS
    if unknown or not isinstance(spec.get("MasterLabel"), str) or not spec["MasterLabel"]:
        raise ValueError(f"a stage needs a MasterLabel and only the keys {sorted(STAGE_KEYS)}")
    existing = next((s for s in stages(org, active_only=False)
                     if s["MasterLabel"] == spec["MasterLabel"]), None)
    if existing is not None:  # a partial spec changes only what it names
        spec = {**{k: existing[k] for k in STAGE_KEYS if existing.get(k) is not None}, **spec}
    closed, won = bool(spec.get("IsClosed", False)), bool(spec.get("IsWon", False))
    if won and not closed:
        raise ValueError(f"stage {spec['MasterLabel']!r}: a won stage is also closed")
    forecast = spec.get("ForecastCategory", "Closed" if won else "Omitted" if closed
                        else "Pipeline")
    if forecast not in FORECAST_NAMES:
        raise ValueError(f"stage {spec['MasterLabel']!r}: ForecastCategory is one of "
                         f"{sorted(FORECAST_NAMES)}")
    now = org.clock.now_ms()
    if existing is None:
        rid = org.store.next_id("01J")
        rec = {"Id": rid, "IsDeleted": False, "CreatedDate": now, "CreatedById": user_id,
               "SortOrder": len(stages(org, active_only=False)) + 1, "Description": None}
    else:
        rid, rec = existing["Id"], dict(existing)
    rec.update(MasterLabel=spec["MasterLabel"], ApiName=spec.get("ApiName", spec["MasterLabel"]),
               IsActive=bool(spec.get("IsActive", True)), IsClosed=closed, IsWon=won,
               DefaultProbability=float(spec.get("DefaultProbability",
                                                 100 if won else 0 if closed else 10)),
               ForecastCategory=forecast, ForecastCategoryName=FORECAST_NAMES[forecast],
               LastModifiedDate=now, LastModifiedById=user_id, SystemModstamp=now)
    for key in ("SortOrder", "Description"):
        if key in spec:
            rec[key] = spec[key]
    org.store.put("OpportunityStage", rec, rid)
    refresh_stage_picklist(org)
    return rid


def ensure_standard_stages(org: OrgState, user_id: str) -> None:
    if any(org.store.live("OpportunityStage")):
        return
    for order, (label, probability, forecast, closed, won) in enumerate(STANDARD_STAGES, 1):
        put_stage(org, {"MasterLabel": label, "DefaultProbability": probability,
                        "ForecastCategory": forecast, "IsClosed": closed, "IsWon": won,
                        "SortOrder": order}, user_id)


def refresh_stage_picklist(org: OrgState) -> None:
    """Describe lists the active stages as the values of ``Opportunity.StageName``."""
    opp = org.catalog.get("Opportunity")
    labels = tuple(s["MasterLabel"] for s in stages(org))
    if opp is not None and labels:
        opp.fields["StageName"].picklist = labels


def derive_opportunity_stage(org: OrgState, rec: dict, given: dict, old: dict | None) -> None:
    if rec.get("StageName") is None:
        return  # REQUIRED_FIELD_MISSING follows
    if old is not None and rec["StageName"] == old.get("StageName"):
        return
    stage = stage_by_label(org, rec["StageName"])
    if stage is None:
        raise DmlError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                       f"Stage: bad value for restricted picklist field: {rec['StageName']}",
                       ["StageName"])
    rec["IsClosed"], rec["IsWon"] = stage["IsClosed"], stage["IsWon"]
    if given.get("Probability") is None:
        rec["Probability"] = stage["DefaultProbability"]
    if given.get("ForecastCategoryName") is None:
        rec["ForecastCategoryName"] = stage["ForecastCategoryName"]
