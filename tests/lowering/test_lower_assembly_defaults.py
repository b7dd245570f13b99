"""An attribute the block leaves out takes the spec model's default, and the spec models agree
with the defaults the groupings registry declares (what `ccaic check` and the docs show)."""

from __future__ import annotations

from pathlib import Path

from ccaic.check.checker import check_paths
from ccaic.lowering.assembly import AssemblySpec, GroupsSpec, StabilitySpec
from ccaic.lowering.lower_assembly import lower_assemblies
from ccaic.registry.groupings import GROUPINGS


def _lower(tmp_path: Path, body: str) -> AssemblySpec:
    path = tmp_path / "spec.ccai"
    path.write_text(f'assembly "a" {{\n  source polis {{ path = "data" }}\n{body}}}\n',
                    encoding="utf-8")
    programs, diags = check_paths([str(path)])
    assert [d for d in diags if d.is_error] == []
    (spec,), more = lower_assemblies(programs[0], {})
    assert more == []
    return spec


def test_absent_blocks_and_attributes_take_the_spec_defaults(tmp_path: Path) -> None:
    bare = _lower(tmp_path, "")
    fields = AssemblySpec.model_fields
    assert bare.description == fields["description"].default
    assert bare.consensus == fields["consensus"].default  # threshold 0.5 without a block
    assert bare.groups == GroupsSpec() and bare.stability == StabilitySpec()
    given = _lower(tmp_path, "  groups kmeans { k = 3 }\n  stability { bootstrap = 4 }\n"
                   "  consensus gac { top_k = 5 }\n")
    assert given.groups.model_dump(exclude={"span"}) == GroupsSpec(
        kind="kmeans", k_min=3, k_max=3).model_dump(exclude={"span"})
    assert (given.stability.bootstrap, given.stability.seed, given.stability.groupings) == (
        4, 0, [])
    assert (given.consensus.threshold, given.consensus.top_k) == (None, 5)


def test_the_groups_spec_defaults_are_the_registrys() -> None:
    attrs = GROUPINGS.block_attrs()
    spec = GroupsSpec()
    assert (spec.k_min, spec.k_max) == attrs["k"].default
    assert spec.seed == attrs["seed"].default and spec.min_votes == attrs["min_votes"].default
    assert spec.column == attrs["column"].default
    assert spec.participant_column == attrs["participant_column"].default
