"""EVM chains: Multicall3 reads, ABI encoding, EIP-55 addresses."""
