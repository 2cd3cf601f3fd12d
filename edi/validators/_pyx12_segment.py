"""pyx12's element checks of one segment, kept from raising on too many components.

`segment_if.is_valid_errors` (pyx12 4.0, `map_if/_segment.py`) raises IndexError on a
composite with more components than the guide defines: it reads the name for its
message from one child past the composite's last. Both implementation-guide paths
(pyx12's walk and the compiled guide's exact check) call it through `segment_errors`,
which checks such a composite with its extra components cut and puts back, where
pyx12 means to report them, the two errors it would have reported: too many
sub-elements, once for the segment and once for the composite (both code 3 with no
map node, so both paths file them as a segment error, IK304 8). Found by the fuzz
run (a byte flip turning an element separator into a component separator).

`validation.IsValidDataType` (pyx12 4.0, `validation.py`) raises ValueError on a date
range (RD8) with more than one ``-``: it unpacks the value's split into two dates.
`valid_data_type` answers False there instead, as pyx12 answers for a range with no
``-`` at all, and stands in for pyx12's function, so pyx12's own element checks report
the invalid date (IK403 8, its own sentence, the value as sent) in their own order on
both paths; on every other value it is pyx12's function, whose answer it returns.
Found by the fuzz run (seed 1130, case 37358: a repeated DTP*472 given a byte flip,
``RD8*2005031--20050325``), where it was an engine fault that rejected the set with
no IK4 saying why.
"""

from __future__ import annotations

import copy
from typing import Any

from pyx12 import validation
from pyx12.error_item import EleError
from pyx12.map_if import composite_if

_is_valid_data_type = validation.IsValidDataType


def valid_data_type(value: str, data_type: str, charset: str = "B",
                    icvn: str = "00401") -> bool:
    """pyx12's `IsValidDataType`, but False, not ValueError, for a date range with more
    than one ``-`` (the module's docstring)."""
    if data_type == "RD8" and isinstance(value, str) and value.count("-") > 1:
        return False
    return bool(_is_valid_data_type(value, data_type, charset, icvn))


# pyx12's element checks look the function up in its module on each call (and so does
# its own RD8 branch, for each of the range's two dates)
validation.IsValidDataType = valid_data_type


def segment_errors(node: Any, seg: Any) -> list[Any]:
    """``node.is_valid_errors(seg)``'s errors, also for a composite with too many
    components."""
    over = _overfull(node, seg)
    if not over:
        return list(node.is_valid_errors(seg)[1])
    cut = copy.deepcopy(seg)
    for index, composite in over:
        cut.elements[index].elements = cut.elements[index].elements[
            :composite.get_child_count()]
    found = list(node.is_valid_errors(cut)[1])
    too_many_elements = f"{node.get_child_count() + 1:02d}"
    keyed: list[tuple[tuple[int, int, int], Any]] = []
    for order, error in enumerate(found):
        position = _position(error)
        if position is None:  # too many elements (before all) or a syntax rule (after)
            first = error.err_cde == "3" and error.refdes == too_many_elements
            keyed.append(((-1 if first else 10_000, 0, order), error))
        else:
            keyed.append(((position, 1, order), error))
    for index, composite in over:
        ref_des = f"{index + 1:02d}"
        keyed.append(((index + 1, 0, 0), EleError(
            err_cde="3", err_str=f"Too many sub-elements in composite ({ref_des})",
            err_val=seg.get_value(ref_des), refdes=ref_des)))
        keyed.append(((index + 1, 0, 1), EleError(
            err_cde="3", err_str=f"Too many sub-elements in composite ({composite.refdes})",
            refdes=composite.refdes)))
    return [error for _key, error in sorted(keyed, key=lambda pair: pair[0])]


def _overfull(node: Any, seg: Any) -> list[tuple[int, Any]]:
    """(element index, composite node) of each used composite with too many components."""
    found = []
    for index in range(min(len(seg), node.get_child_count())):
        child = node.get_child_node_by_idx(index)
        if isinstance(child, composite_if) and child.usage != "N" \
                and len(seg.elements[index]) > child.get_child_count():
            found.append((index, child))
    return found


def _position(error: Any) -> int | None:
    """The element position (1-based) an error belongs to, None for a segment error."""
    map_node = error.map_node
    if map_node is None:
        return None
    parent = map_node.parent
    return int(parent.seq if parent is not None and parent.is_composite() else map_node.seq)
