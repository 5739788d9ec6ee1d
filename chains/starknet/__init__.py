"""Starknet: `starknet_call` JSON-RPC batches, felts, Cairo encodings."""
