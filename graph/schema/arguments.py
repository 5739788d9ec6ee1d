"""Arguments shared by several fields, declared once with their descriptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from graph.schema.enums import BalanceOrder
from graph.schema.scalars import BigInt

ChainId = Annotated[str, strawberry.argument(description="Chain id, e.g. `ethereum`.")]
ChainIds = Annotated[
    list[str] | None,
    strawberry.argument(description="Chain ids (default: every chain the address fits)."),
]
TokenAddress = Annotated[str, strawberry.argument(description="Token address, or `native`.")]
TokenAddresses = Annotated[
    list[str] | None,
    strawberry.argument(
        description="Tokens (addresses or `native`) to read on each chain, not its list."
    ),
]
IncludeZero = Annotated[
    bool | None, strawberry.argument(description="Also return rows whose balance is zero.")
]
Discover = Annotated[
    bool | None,
    strawberry.argument(
        description=(
            "Also read every token discovery finds the account holds or held (from the "
            "chain's own transfer events, or a configured indexer), not only the token list. "
            "Null: as each chain is configured. Ignored with `tokens`."
        )
    ),
]
OrderBy = Annotated[
    BalanceOrder | None,
    strawberry.argument(
        description=(
            "How to order the rows (applied after the filters, over the whole filtered set). "
            "Omitted: the order they were read in, chain by chain; a paged call (`first` or "
            "`after`) without it is ordered by CHAIN."
        )
    ),
]
First = Annotated[
    int | None,
    strawberry.argument(
        description="At most this many rows (1 to 500, `[limits] max_balances_page`)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Rows after this cursor (`pageInfo.endCursor` of the previous page): a position "
            "in the ordering, so rows appearing or vanishing elsewhere never shift a page."
        )
    ),
]
WalletAddress = Annotated[str, strawberry.argument(description="Wallet address (any case).")]
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
AtBlock = Annotated[
    BigInt | None,
    strawberry.argument(
        description=(
            "Read as of the end of this block (on every chain read). Beyond a chain's head: "
            "BAD_USER_INPUT for that chain. Old state may need an archive node "
            "(ARCHIVE_NODE_REQUIRED). Not with atTime."
        )
    ),
]
AtTime = Annotated[
    datetime | None,
    strawberry.argument(
        description=(
            "Read as of this instant: on each chain, the last block at or before it (each row's "
            "blockNumber says which). USD values use the price at that block's time. Not with "
            "atBlock."
        )
    ),
]
