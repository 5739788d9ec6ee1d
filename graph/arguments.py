"""Arguments shared by several fields, declared once with their descriptions."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

MaxAge = Annotated[
    int | None,
    strawberry.argument(
        description=(
            "Accept a cached value only if it was read from the chain at most this many seconds "
            "ago (default 300). 0 always reads the chain."
        )
    ),
]
MinValueUsd = Annotated[
    Decimal | None,
    strawberry.argument(
        description=(
            "Dust filter. Omitted: hide non-native tokens that are unpriced or worth zero; 0: "
            "keep everything; N > 0: drop tokens worth less than N USD. The native asset is "
            "always kept."
        )
    ),
]
IncludeSpam = Annotated[
    bool | None,
    strawberry.argument(description="Also return tokens flagged as spam (`Token.isSpam`)."),
]
ForceRefresh = Annotated[
    bool | None,
    strawberry.argument(description="Read from the chain, ignoring any cached value."),
]
