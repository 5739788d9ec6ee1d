"""Deploy a deterministic set of sample tokens onto a devnet, for tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from eth_utils.address import to_checksum_address

from devnet.abi import encode_call

if TYPE_CHECKING:
    from devnet.chain import DevChain

SAMPLE_LIST_NAME = "Balance Graph Devnet"
MintKind = Literal["string", "bytes32"]


@dataclass(frozen=True)
class SampleToken:
    """One deployed sample token; ``metadata`` says whether name/symbol are string or bytes32."""

    address: str
    name: str
    symbol: str
    decimals: int
    metadata: MintKind = "string"

    def to_token_list_entry(self, chain_id: int) -> dict[str, Any]:
        """This token as a Uniswap token-list entry."""
        return {
            "chainId": chain_id,
            "address": self.address,
            "name": self.name,
            "symbol": self.symbol,
            "decimals": self.decimals,
        }


@dataclass(frozen=True)
class _TokenSpec:
    name: str
    symbol: str
    decimals: int
    metadata: MintKind
    unit_per_holder: int  # raw amount minted to holder 0; holder i gets (i + 1) times this


# holder i gets (i + 1) * 1234.5 USDC, (i + 1) * 0.75 WETH and (i + 1) * 3.25 MKR.
SAMPLE_TOKENS: tuple[_TokenSpec, ...] = (
    _TokenSpec("USD Coin", "USDC", 6, "string", 1_234_500_000),
    _TokenSpec("Wrapped Ether", "WETH", 18, "string", 75 * 10**16),
    _TokenSpec("Maker", "MKR", 18, "bytes32", 325 * 10**16),
)


@dataclass(frozen=True)
class SampleDeployment:
    """Addresses of the sample deployment and the raw amounts minted.

    ``minted`` is keyed by ``(holder, token_address)``, both checksummed.
    """

    chain_id: int
    multicall3: str
    tokens: tuple[SampleToken, ...]
    holders: tuple[str, ...]
    minted: dict[tuple[str, str], int] = field(default_factory=dict)

    def token(self, symbol: str) -> SampleToken:
        """The sample token with ``symbol`` (e.g. ``"USDC"``)."""
        for token in self.tokens:
            if token.symbol == symbol:
                return token
        raise KeyError(symbol)

    def balance(self, holder: str, symbol: str) -> int:
        """Raw amount of ``symbol`` minted to ``holder`` (0 if none)."""
        key = (to_checksum_address(holder), self.token(symbol).address)
        return self.minted.get(key, 0)

    def token_list(
        self, chain_id: int | None = None, *, timestamp: str | None = None
    ) -> dict[str, Any]:
        """A Uniswap token-list JSON document for the sample tokens."""
        when = timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        cid = self.chain_id if chain_id is None else chain_id
        return {
            "name": SAMPLE_LIST_NAME,
            "timestamp": when,
            "version": {"major": 1, "minor": 0, "patch": 0},
            "tokens": [token.to_token_list_entry(cid) for token in self.tokens],
        }


def deploy_sample_tokens(chain: DevChain, holders: list[str]) -> SampleDeployment:
    """Install Multicall3, deploy USDC/WETH (ERC-20) and MKR (bytes32 metadata), mint to holders.

    Amounts are deterministic: holder ``i`` gets ``(i + 1)`` times each token's unit
    (1234.5 USDC, 0.75 WETH, 3.25 MKR).
    """
    checksummed = tuple(to_checksum_address(h) for h in holders)
    multicall3 = chain.install_multicall3()
    tokens: list[SampleToken] = []
    minted: dict[tuple[str, str], int] = {}
    for spec in SAMPLE_TOKENS:
        if spec.metadata == "bytes32":
            address = chain.deploy(
                "Bytes32Token", _bytes32(spec.name), _bytes32(spec.symbol), spec.decimals
            )
        else:
            address = chain.deploy("TestToken", spec.name, spec.symbol, spec.decimals)
        tokens.append(SampleToken(address, spec.name, spec.symbol, spec.decimals, spec.metadata))
        for index, holder in enumerate(checksummed):
            amount = (index + 1) * spec.unit_per_holder
            chain.transact(address, "mint(address,uint256)", holder, amount)
            minted[(holder, address)] = minted.get((holder, address), 0) + amount
    return SampleDeployment(
        chain_id=chain.chain_id(),
        multicall3=multicall3,
        tokens=tuple(tokens),
        holders=checksummed,
        minted=minted,
    )


def _bytes32(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 32:
        raise ValueError(f"{text!r} does not fit in bytes32")
    return raw.ljust(32, b"\0")


DAY = 86_400


def play_a_week(chain: DevChain, deployment: SampleDeployment, start: int) -> list[int]:
    """A week of USDC moving between the first two holders, one block a day from `start`
    (unix seconds, after the chain's newest block), then a block at the present: history
    with real movement. Returns the days' block numbers."""
    usdc = deployment.token("USDC").address
    first, second = deployment.holders[:2]
    unit = 10**6
    moves = [(first, second, 100), (second, first, 40), (first, second, 250), (second, first, 5)]
    blocks: list[int] = []
    for day, (sender, receiver, amount) in enumerate(moves * 2, start=1):
        chain.rpc("evm_setNextBlockTimestamp", [start + day * DAY])
        receipt = chain.transact(
            usdc, "transfer(address,uint256)", receiver, amount * unit, sender=sender
        )
        blocks.append(int(receipt["blockNumber"], 16))
    now = int(datetime.now(UTC).timestamp())
    chain.rpc("evm_setNextBlockTimestamp", [max(now, start + (len(blocks) + 1) * DAY)])
    chain.mine(1)
    return blocks


@dataclass(frozen=True)
class Unlisted:
    """Tokens on no list that the first holder received, for discovery to find."""

    gold: str
    """An ERC-20 the holder keeps (42 DGLD)."""
    art: str
    """An ERC-721 collection the holder owns id 7 of."""
    sold: str
    """An ERC-20 received and sent away entirely: a zero row."""
    spam: str
    """An airdrop whose name advertises a claim site: flagged as spam, hidden by default."""


def deploy_unlisted_tokens(chain: DevChain, holders: tuple[str, ...]) -> Unlisted:
    """Deploy and hand out `Unlisted`'s tokens (the second holder takes the sold ones)."""
    first, second = holders[0], holders[1]
    gold = chain.deploy("TestToken", "Demo Gold", "DGLD", 18)
    chain.transact(gold, "mint(address,uint256)", first, 42 * 10**18)
    art = chain.deploy("TestNFT", "Demo Art", "DART")
    chain.transact(art, "mint(address,uint256)", first, 7)
    sold = chain.deploy("TestToken", "Sold Out", "SOLD", 18)
    chain.transact(sold, "mint(address,uint256)", first, 5 * 10**18)
    chain.transact(sold, "transfer(address,uint256)", second, 5 * 10**18, sender=first)
    spam = chain.deploy("TestToken", "Claim your airdrop at www.free-drop.xyz", "CLAIM", 18)
    chain.transact(spam, "mint(address,uint256)", first, 10**24)
    return Unlisted(gold, art, sold, spam)


def crowd_blocks(
    chain: DevChain, token: str, sender: str, recipients: dict[str, int], blocks: int
) -> None:
    """`blocks` blocks in a row, each with `recipients[r]` transfers of one unit from `sender`
    (who holds enough) to each recipient `r`: a dense stretch of Transfer logs, each block's
    transactions sent before it is mined (no receipt waited for one by one)."""
    chain.rpc("evm_setAutomine", [False])
    try:
        for _ in range(blocks):
            for recipient, count in recipients.items():
                call = "0x" + encode_call("transfer(address,uint256)", recipient, 1).hex()
                tx = {"from": sender, "to": token, "data": call, "gas": hex(100_000)}
                for _ in range(count):
                    chain.rpc("eth_sendTransaction", [tx])
            chain.mine(1)
    finally:
        chain.rpc("evm_setAutomine", [True])
