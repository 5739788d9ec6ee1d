"""A small synchronous JSON-RPC client for driving an anvil devnet."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

import httpx
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from devnet.abi import constructor_types, decode_result, encode_call
from devnet.compiler import Artifact, compile_contracts
from devnet.errors import DevnetError, RpcError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["MULTICALL3_ADDRESS", "DevChain", "DevnetError", "RpcError"]

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
RECEIPT_TIMEOUT_S = 30.0


class DevChain:
    """Drive a devnet over JSON-RPC: deploy, transact, call, mine, snapshot.

    Transactions are sent with ``eth_sendTransaction`` from the node's unlocked
    accounts (anvil's dev accounts), account 0 unless ``sender`` is given.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        # trust_env=False: a devnet is local; never route it through an HTTP(S)_PROXY.
        self._client = httpx.Client(timeout=timeout, trust_env=False)
        self._ids = itertools.count(1)
        self._artifacts: dict[str, Artifact] | None = None
        self._default_sender: str | None = None

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> DevChain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def artifacts(self) -> dict[str, Artifact]:
        """The compiled devnet contracts (compiled lazily, cached)."""
        if self._artifacts is None:
            self._artifacts = compile_contracts()
        return self._artifacts

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """Make one JSON-RPC call; raise ``RpcError`` (a ``DevnetError``) on an error reply."""
        request_id = next(self._ids)
        payload = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}
        try:
            response = self._client.post(self.url, json=payload)
            response.raise_for_status()
            reply = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DevnetError(f"{method} to {self.url} failed: {exc}") from exc
        if not isinstance(reply, dict):
            raise DevnetError(f"{method}: malformed JSON-RPC reply {reply!r}")
        error = reply.get("error")
        if error is not None:
            code = int(error.get("code", 0))
            raise RpcError(method, code, str(error.get("message")), error.get("data"))
        return reply.get("result")

    def chain_id(self) -> int:
        """The chain id reported by ``eth_chainId``."""
        return int(self.rpc("eth_chainId"), 16)

    def accounts(self) -> list[str]:
        """The node's unlocked accounts, checksummed."""
        return [to_checksum_address(a) for a in self.rpc("eth_accounts")]

    def block_number(self) -> int:
        """The latest block number."""
        return int(self.rpc("eth_blockNumber"), 16)

    def get_balance(self, account: str, block: str = "latest") -> int:
        """Native balance of ``account`` in wei."""
        return int(self.rpc("eth_getBalance", [account, block]), 16)

    def get_code(self, address: str) -> bytes:
        """Runtime code at ``address``."""
        return bytes.fromhex(str(self.rpc("eth_getCode", [address, "latest"]))[2:])

    def set_balance(self, account: str, wei: int) -> None:
        """Set the native balance of ``account`` (``anvil_setBalance``)."""
        self.rpc("anvil_setBalance", [account, hex(wei)])

    def set_code(self, address: str, code: bytes) -> None:
        """Replace the code at ``address`` (``anvil_setCode``)."""
        self.rpc("anvil_setCode", [address, "0x" + code.hex()])

    def mine(self, n: int = 1) -> None:
        """Mine ``n`` blocks (``anvil_mine``)."""
        self.rpc("anvil_mine", [hex(n)])

    def snapshot(self) -> str:
        """Take an EVM snapshot and return its id."""
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> bool:
        """Revert to a snapshot taken with :meth:`snapshot` (snapshots are single-use)."""
        return bool(self.rpc("evm_revert", [snapshot_id]))

    def install_multicall3(self, address: str = MULTICALL3_ADDRESS) -> str:
        """Install the compiled Multicall3 runtime code at ``address``; returns it checksummed."""
        self.set_code(address, self.artifacts["Multicall3"].deployed_bytecode)
        return to_checksum_address(address)

    def deploy(
        self,
        artifact_name: str,
        *ctor_args: Any,
        types: list[str] | None = None,
        sender: str | None = None,
    ) -> str:
        """Deploy a compiled contract and return its checksummed address.

        Constructor argument types come from the ABI unless ``types`` is given.
        """
        try:
            artifact = self.artifacts[artifact_name]
        except KeyError:
            known = ", ".join(sorted(self.artifacts))
            raise DevnetError(f"unknown contract {artifact_name!r} (known: {known})") from None
        arg_types = types if types is not None else constructor_types(artifact.abi)
        if len(arg_types) != len(ctor_args):
            raise DevnetError(
                f"{artifact_name} constructor takes {len(arg_types)} argument(s), "
                f"got {len(ctor_args)}"
            )
        data = artifact.bytecode + encode(arg_types, list(ctor_args))
        receipt = self._send({"data": "0x" + data.hex()}, sender, f"deploy {artifact_name}")
        address = receipt.get("contractAddress")
        if not address:
            raise DevnetError(f"deploy {artifact_name}: receipt has no contractAddress")
        return to_checksum_address(address)

    def transact(
        self, to: str, signature: str, *args: Any, sender: str | None = None, value: int = 0
    ) -> dict[str, Any]:
        """Send a transaction calling ``signature`` on ``to``; returns the (successful) receipt."""
        tx: dict[str, Any] = {"to": to, "data": "0x" + encode_call(signature, *args).hex()}
        if value:
            tx["value"] = hex(value)
        return self._send(tx, sender, signature)

    def transfers_in_one_block(
        self, token: str, sender: str, receivers: list[str], amount: int = 1
    ) -> int:
        """`amount` of the ERC-20 `token` to each receiver, all mined in one block; its number."""
        data = [encode_call("transfer(address,uint256)", r, amount).hex() for r in receivers]
        self.rpc("evm_setAutomine", [False])
        try:
            for calldata in data:
                tx = {"from": sender, "to": token, "data": "0x" + calldata}
                self.rpc("eth_sendTransaction", [tx])
            self.mine(1)
        finally:
            self.rpc("evm_setAutomine", [True])
        return self.block_number()

    def send_value(self, to: str, value: int, *, sender: str | None = None) -> dict[str, Any]:
        """Send `value` wei to `to` (a plain transfer); returns the (successful) receipt."""
        return self._send({"to": to, "value": hex(value)}, sender, "transfer")

    def call(
        self, to: str, signature: str, *args: Any, returns: list[str], block: str = "latest"
    ) -> tuple[Any, ...]:
        """``eth_call`` ``signature`` on ``to`` and decode the result as ``returns``.

        A revert surfaces as ``RpcError``.
        """
        raw = self.call_raw(to, encode_call(signature, *args), block=block)
        return decode_result(returns, raw)

    def call_raw(self, to: str, data: bytes, *, block: str = "latest") -> bytes:
        """``eth_call`` with raw calldata; returns the raw return data."""
        result = self.rpc("eth_call", [{"to": to, "data": "0x" + data.hex()}, block])
        return bytes.fromhex(str(result)[2:])

    def _send(self, tx: dict[str, Any], sender: str | None, what: str) -> dict[str, Any]:
        if sender is None:
            if self._default_sender is None:
                self._default_sender = self.accounts()[0]
            sender = self._default_sender
        tx = {"from": sender, **tx}
        tx_hash = str(self.rpc("eth_sendTransaction", [tx]))
        receipt = self.wait_for_receipt(tx_hash)
        if int(receipt.get("status", "0x0"), 16) != 1:
            raise DevnetError(f"{what}: transaction {tx_hash} reverted")
        return receipt

    def wait_for_receipt(self, tx_hash: str, timeout: float = RECEIPT_TIMEOUT_S) -> dict[str, Any]:
        """Poll until ``tx_hash`` is mined and return its receipt."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
            if isinstance(receipt, dict):
                return receipt
            if time.monotonic() > deadline:
                raise DevnetError(f"transaction {tx_hash} not mined within {timeout:.0f}s")
            time.sleep(0.05)
