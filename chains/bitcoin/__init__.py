"""Bitcoin: Esplora REST reads and address validation (Base58Check, bech32/m)."""
